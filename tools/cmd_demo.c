/*
 * `sma demo`: gridr's scaling pattern, end to end.
 *
 * The parent creates a synthetic float32 raster and an output array in
 * shared memory (registered for cleanup), splits the rows into one tile
 * per worker, and starts worker processes, each given descriptors on argv:
 * its input rows plus the halo its kernel needs, its output rows, and its
 * slot of a shared progress array. Each worker loads its slices, applies
 * the kernel in place and closes them. The parent shows progress, checks
 * the result bit for bit against a single-process computation, reports
 * time, throughput and speedup over one worker, optionally writes a PGM,
 * and unlinks every segment — also when a worker dies or on Ctrl-C.
 */
#include "blur.h"
#include "cli.h"
#include "process_services.h"
#include "sma.h"
#include "values.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORKERS = 256 };

/* ---- worker -------------------------------------------------------------- */

/* Whether the progress descriptor's view can take the counter: the
 * counter is stored at the view's first element, so that element must be
 * a whole uint64 of the view itself (its size and alignment). The size of
 * the array the view was cut from says nothing: a view of its last byte
 * lies in an array of any size. */
static int progress_fits(const sma_view_t *vp) {
  return vp->dtype == SMA_UINT64 && vp->itemsize == sizeof(blur_progress_t) &&
         sma_view_size(vp) >= 1;
}

/* Whether the worker's arguments describe rows it may touch: 2-d float32
 * views of one width; output rows row0.. inside the image of `height`
 * rows; every input row the kernel reads (clamped to the image) inside the
 * input view that starts at image row in_row0; a progress view that holds
 * the counter. A bad argument is an error, never an access out of
 * bounds: every address the worker writes or reads is one of the views'
 * own elements, whatever the arrays around them. */
static int rows_fit(const blur_kernel_t *k, const sma_view_t *vi, const sma_view_t *vo,
                    const sma_view_t *vp, size_t in_row0, size_t row0, size_t height) {
  if (vi->ndim != 2 || vo->ndim != 2 || vi->dtype != SMA_FLOAT32 || vo->dtype != SMA_FLOAT32 ||
      vi->shape[1] != vo->shape[1] || vo->shape[1] == 0 ||
      vi->strides[1] != (ptrdiff_t)sizeof(float) || vo->strides[1] != (ptrdiff_t)sizeof(float) ||
      !progress_fits(vp))
    return 0;
  size_t rows = vo->shape[0], r = (size_t)k->radius;
  if (rows == 0) return 1;
  if (row0 > height || rows > height - row0) return 0;
  /* Unsigned throughout: any size_t is a row number (above LONG_MAX, above
   * 2^31 on 32-bit systems), and no sum below can wrap: row0 + rows <=
   * height, and the radius is added only when it stays below height. */
  size_t last_out = row0 + rows - 1;
  size_t first = row0 > r ? row0 - r : 0;
  size_t last = height - 1 - last_out > r ? last_out + r : height - 1;
  return in_row0 <= first && last - in_row0 < vi->shape[0];
}

/* argv: kernel in-descriptor out-descriptor progress-descriptor
 *       first-input-row first-output-row height delay-ms */
int demo_worker_main(int argc, char **argv) {
  if (argc != 8) return 2;
  const blur_kernel_t *k = blur_find_kernel(argv[0]);
  if (k == NULL) return 2;
  sma_t *in = NULL, *out = NULL, *prog = NULL;
  const char *bad;
  int rc = sma_parse(&in, &bad, argv[1]);
  if (rc == 0) rc = sma_parse(&out, &bad, argv[2]);
  if (rc == 0) rc = sma_parse(&prog, &bad, argv[3]);
  if (rc == 0) rc = sma_load(in);
  if (rc == 0) rc = sma_load(out);
  if (rc == 0) rc = sma_load(prog);
  if (rc != 0) {
    fprintf(stderr, "sma demo worker: %s\n", sma_strerror(rc));
    sma_free(in), sma_free(out), sma_free(prog);
    return 1;
  }
  const sma_view_t *vi = sma_view_get(in), *vo = sma_view_get(out);
  size_t in_row0, row0, height, delay;
  if (!value_parse_size(argv[4], &in_row0) || !value_parse_size(argv[5], &row0) ||
      !value_parse_size(argv[6], &height) || !value_parse_size(argv[7], &delay) ||
      !rows_fit(k, vi, vo, sma_view_get(prog), in_row0, row0, height)) {
    fprintf(stderr, "sma demo worker: arguments do not describe rows of these arrays\n");
    sma_free(in), sma_free(out), sma_free(prog);
    return 2;
  }
  if (delay > 0) proc_sleep_ms((int)(delay > 600000 ? 600000 : delay)); /* tests interrupt */
  float *tmp = malloc(vo->shape[1] * sizeof *tmp);
  int status = tmp == NULL ? 1 : 0;
  if (tmp != NULL && blur_rows(k, vi->data, in_row0, vi->shape[0], vi->strides[0], vo->data,
                               vo->strides[0], row0, row0 + vo->shape[0], height, vo->shape[1], tmp,
                               (blur_progress_t *)sma_data(prog)) != 0) {
    /* rows_fit() admits no such row: a second line of defence. */
    fprintf(stderr, "sma demo worker: an input row lies outside the input view\n");
    status = 2;
  }
  free(tmp);
  sma_free(in);
  sma_free(out);
  sma_free(prog);
  return status;
}

/* ---- parent -------------------------------------------------------------- */

typedef struct options {
  size_t size;
  int workers;
  const blur_kernel_t *kernel;
  const char *output;
  const char *prefix;
  int baseline;
  int verbose;
  int delay_ms;
} options_t;

static volatile int interrupted;

static int usage(FILE *f, int code) {
  fprintf(f, "usage: sma demo [--size N] [--workers N] [--kernel gauss5|box3]\n"
             "                [--output FILE.pgm] [--no-baseline] [--prefix P]\n"
             "                [--verbose] [--worker-delay-ms MS]\n"
             "Blurs a synthetic N x N float32 raster (default 4096) in shared\n"
             "memory with N worker processes (default: the number of cores),\n"
             "checks the result bit for bit against one process, and prints\n"
             "wall time, throughput and speedup over one worker. Every segment\n"
             "is unlinked at the end, also on failure or Ctrl-C.\n"
             "--verbose prints each worker's pid; --worker-delay-ms makes each\n"
             "worker wait before computing (for testing interruption).\n"
             "Exit status: 0 verified, 1 error or mismatch, 2 usage, 130 interrupted.\n");
  return code;
}

/* A whole decimal number up to max in text, nothing else ("12abc", "-1",
 * "" are refused): 1 with *out, else 0. */
static int parse_int_upto(const char *text, int max, int *out) {
  size_t n;
  if (!value_parse_size(text, &n) || n > (size_t)max) return 0;
  *out = (int)n;
  return 1;
}

static int parse_options(int argc, char **argv, options_t *o) {
  *o = (options_t){4096, proc_cpu_count(), blur_find_kernel("gauss5"), NULL, "smademo", 1, 0, 0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(stdout, 0) - 1;
    if (strcmp(a, "--no-baseline") == 0) {
      o->baseline = 0;
      continue;
    }
    if (strcmp(a, "--verbose") == 0) {
      o->verbose = 1;
      continue;
    }
    if (v == NULL) return usage(stderr, 2);
    i++;
    int number_ok = 1;
    if (strcmp(a, "--size") == 0)
      number_ok = value_parse_size(v, &o->size);
    else if (strcmp(a, "--workers") == 0)
      number_ok = parse_int_upto(v, MAX_WORKERS, &o->workers);
    else if (strcmp(a, "--kernel") == 0)
      o->kernel = blur_find_kernel(v);
    else if (strcmp(a, "--output") == 0)
      o->output = v;
    else if (strcmp(a, "--prefix") == 0)
      o->prefix = v;
    else if (strcmp(a, "--worker-delay-ms") == 0)
      number_ok = parse_int_upto(v, 3600 * 1000, &o->delay_ms);
    else
      return usage(stderr, 2);
    if (!number_ok) return usage(stderr, 2);
  }
  if (o->size < 8 || o->size > 65536 || o->workers < 1 || o->workers > MAX_WORKERS ||
      (size_t)o->workers > o->size || o->kernel == NULL)
    return usage(stderr, 2);
  return 0;
}

typedef struct job {
  const options_t *o;
  const char *self;
  sma_t *in, *out, *progress;
} job_t;

static void show_progress(const job_t *job, int workers, double t0) {
  const blur_progress_t *done = sma_data(job->progress);
  uint64_t rows = 0;
  for (int k = 0; k < workers; k++) rows += done[k];
  int pct = (int)(100 * rows / job->o->size), bar = pct / 4;
  printf("\r  %2d worker%s [%.*s%*s] %3d%% %6.2fs", workers, workers > 1 ? "s" : " ", bar,
         "#########################", 25 - bar, "", pct, proc_now() - t0);
  fflush(stdout);
}

/* Runs the job on `workers` processes; returns 0, or 1 if a worker failed,
 * 130 if interrupted. *seconds gets the wall time. */
static int run_workers(const job_t *job, int workers, double *seconds) {
  const options_t *o = job->o;
  size_t h = o->size, r = (size_t)o->kernel->radius;
  proc_t procs[MAX_WORKERS];
  int running[MAX_WORKERS] = {0}, failed = 0, live = 0;
  memset(sma_data(job->progress), 0, sizeof(uint64_t) * (size_t)o->workers);
  double t0 = proc_now();
  for (int k = 0; k < workers && !failed; k++) {
    size_t row0 = h * (size_t)k / (size_t)workers, row1 = h * (size_t)(k + 1) / (size_t)workers;
    size_t in0 = row0 >= r ? row0 - r : 0, in1 = row1 + r <= h ? row1 + r : h;
    sma_t *ti = NULL, *to = NULL, *tp = NULL;
    sma_override_t ov = {.set = SMA_SET_SLICE, .nslice = 1};
    sma_slice_t s_in = {(int64_t)in0, (int64_t)in1, SMA_NONE},
                s_out = {(int64_t)row0, (int64_t)row1, SMA_NONE}, s_prog = {k, k + 1, SMA_NONE};
    char d_in[512], d_out[512], d_prog[512], a_in0[24], a_row0[24], a_h[24], a_delay[24];
    ov.slice = &s_in;
    int rc = sma_clone(&ti, job->in, &ov);
    ov.slice = &s_out;
    if (rc == 0) rc = sma_clone(&to, job->out, &ov);
    ov.slice = &s_prog;
    if (rc == 0) rc = sma_clone(&tp, job->progress, &ov);
    if (rc == 0) rc = sma_describe(ti, d_in, &(size_t){sizeof d_in});
    if (rc == 0) rc = sma_describe(to, d_out, &(size_t){sizeof d_out});
    if (rc == 0) rc = sma_describe(tp, d_prog, &(size_t){sizeof d_prog});
    sma_free(ti), sma_free(to), sma_free(tp);
    snprintf(a_in0, sizeof a_in0, "%zu", in0);
    snprintf(a_row0, sizeof a_row0, "%zu", row0);
    snprintf(a_h, sizeof a_h, "%zu", h);
    snprintf(a_delay, sizeof a_delay, "%d", o->delay_ms);
    const char *argv[] = {job->self, "__demo-worker", o->kernel->name, d_in, d_out,
                          d_prog,    a_in0,           a_row0,          a_h,  a_delay,
                          NULL};
    const char *emulated[16];
    if (rc != 0 ||
        proc_spawn(&procs[k], proc_argv(argv, emulated, sizeof emulated / sizeof *emulated), -1) !=
            0) {
      fprintf(stderr, "sma demo: cannot start worker %d: %s\n", k,
              rc ? sma_strerror(rc) : "spawn failed");
      failed = 1;
      break;
    }
    running[k] = 1;
    live++;
    if (o->verbose)
      printf("worker %d pid %llu rows %zu:%zu\n", k, (unsigned long long)procs[k].pid, row0, row1);
  }
  if (o->verbose) fflush(stdout);
  int tty = proc_stdout_is_tty();
  double last_draw = 0;
  /* Poll every millisecond so the measured time ends within 1 ms of the
   * last worker's exit; redraw the progress bar every 50 ms. */
  while (live > 0) {
    for (int k = 0; k < workers; k++) {
      int code;
      char how[64];
      if (!running[k] || !proc_poll(&procs[k], &code, how, sizeof how)) continue;
      running[k] = 0;
      live--;
      if (code != 0) {
        fprintf(stderr, "%ssma demo: worker %d (pid %llu) failed: %s\n", tty ? "\n" : "", k,
                (unsigned long long)procs[k].pid, how);
        failed = 1;
      }
    }
    if ((failed || interrupted) && live > 0) {
      for (int k = 0; k < workers; k++)
        if (running[k]) proc_kill(&procs[k]), running[k] = 0;
      live = 0;
    }
    if (tty && (live == 0 || proc_now() - last_draw > 0.05)) {
      show_progress(job, workers, t0);
      last_draw = proc_now();
    }
    if (live > 0) proc_sleep_ms(1);
  }
  *seconds = proc_now() - t0;
  if (tty) printf("\n");
  return interrupted ? 130 : failed ? 1 : 0;
}

static int write_pgm(const char *path, const float *img, size_t h, size_t w) {
  float lo = img[0], hi = img[0];
  for (size_t i = 0; i < h * w; i++) lo = img[i] < lo ? img[i] : lo, hi = img[i] > hi ? img[i] : hi;
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  fprintf(f, "P5\n%zu %zu\n255\n", w, h);
  for (size_t i = 0; i < h * w; i++)
    fputc((int)(255.f * (img[i] - lo) / (hi > lo ? hi - lo : 1.f)), f);
  return fclose(f) == 0 ? 0 : -1;
}

static int verify(const job_t *job, const float *ref, const char *what) {
  size_t n = job->o->size * job->o->size;
  if (memcmp(sma_data(job->out), ref, n * sizeof(float)) == 0) return 0;
  fprintf(stderr, "sma demo: %s result differs from the single-process one\n", what);
  return 1;
}

static int run_job(job_t *job, const float *ref, double t_ref) {
  const options_t *o = job->o;
  double mpix = (double)o->size * (double)o->size / 1e6, t1 = 0, tn = 0;
  int rc = 0;
  printf("sma demo: %s %zux%zu float32, kernel %s, backend %s, %d worker%s\n", "blurring", o->size,
         o->size, o->kernel->name, sma_backend(), o->workers, o->workers > 1 ? "s" : "");
  printf("  single process (reference): %8.3f s  %8.1f Mpixel/s\n", t_ref, mpix / t_ref);
  /* Every run starts from an output the parent has written once, so the
   * first run does not pay the first writes to fresh pages alone. */
  memset(sma_data(job->out), 0, o->size * o->size * sizeof(float));
  if (o->baseline && o->workers > 1) {
    if ((rc = run_workers(job, 1, &t1)) != 0 || (rc = verify(job, ref, "1-worker")) != 0) return rc;
    printf("  1 worker:                   %8.3f s  %8.1f Mpixel/s\n", t1, mpix / t1);
    memset(sma_data(job->out), 0, o->size * o->size * sizeof(float));
  }
  if ((rc = run_workers(job, o->workers, &tn)) != 0 || (rc = verify(job, ref, "parallel")) != 0)
    return rc;
  printf("  %d worker%s:%*s%8.3f s  %8.1f Mpixel/s", o->workers, o->workers > 1 ? "s" : " ",
         o->workers >= 10 ? 17 : 18, "", tn, mpix / tn);
  if (t1 > 0) printf("  speedup %.2fx", t1 / tn);
  printf("\n  verified: bit-identical to the single-process result\n");
  if (o->output && write_pgm(o->output, sma_data(job->out), o->size, o->size) != 0) {
    fprintf(stderr, "sma demo: cannot write %s\n", o->output);
    return 1;
  }
  if (o->output) printf("  wrote %s\n", o->output);
  return 0;
}

/* After a create refused for a System V limit: which one, and how to
 * raise it (or shrink the job). */
static void limit_hint(int rc, size_t size) {
  if (rc != SMA_ETOOBIG && rc != SMA_ELIMIT) return;
  sma_caps_t caps;
  sma_caps_get(&caps);
  if (caps.max_segment == 0) return;
  unsigned long long need = (unsigned long long)size * size * sizeof(float);
  fprintf(stderr,
          "sma demo: each array needs %llu bytes; the largest segment allowed is %llu "
          "(shmmax), and all segments together are bounded by shmall (pages).\n"
          "Raise them (Linux: sysctl -w kernel.shmmax=BYTES kernel.shmall=PAGES; macOS: "
          "sysctl -w kern.sysv.shmmax=BYTES kern.sysv.shmall=PAGES) or use a smaller "
          "--size.\n",
          need, (unsigned long long)caps.max_segment);
}

int demo_main(int argc, char **argv, const char *self) {
  options_t o;
  int rc = parse_options(argc, argv, &o);
  if (rc != 0) return rc < 0 ? 0 : rc;
  proc_catch_interrupt(&interrupted);
  size_t shape[2] = {o.size, o.size}, pshape[1] = {(size_t)o.workers};
  sma_registry_t *reg = NULL;
  job_t job = {&o, self, NULL, NULL, NULL};
  float *ref = NULL, *tmp = NULL;
  rc = sma_registry_new(&reg);
  if (rc == 0)
    rc = sma_create_and_register(
        &job.in, reg,
        &(sma_array_desc_t){.name = o.prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 0);
  if (rc == 0)
    rc = sma_create_and_register(
        &job.out, reg,
        &(sma_array_desc_t){.name = o.prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 0);
  if (rc == 0)
    rc = sma_create_and_register(
        &job.progress, reg,
        &(sma_array_desc_t){.name = o.prefix, .ndim = 1, .shape = pshape, .dtype = SMA_UINT64}, 0);
  int status = 1;
  if (rc != 0) {
    fprintf(stderr, "sma demo: cannot create the arrays: %s\n", sma_strerror(rc));
    limit_hint(rc, o.size);
  } else if ((ref = malloc(o.size * o.size * sizeof *ref)) == NULL ||
             (tmp = malloc(o.size * sizeof *tmp)) == NULL) {
    fprintf(stderr, "sma demo: out of memory\n");
  } else {
    blur_synthesize(sma_data(job.in), 0, o.size, o.size, o.size);
    double t0 = proc_now();
    blur_rows(o.kernel, sma_data(job.in), 0, o.size, (ptrdiff_t)(o.size * sizeof(float)),
              (char *)ref, (ptrdiff_t)(o.size * sizeof(float)), 0, o.size, o.size, o.size, tmp,
              NULL);
    status = run_job(&job, ref, proc_now() - t0);
  }
  free(ref);
  free(tmp);
  sma_free(job.in);
  sma_free(job.out);
  sma_free(job.progress);
  if (reg != NULL && (rc = sma_registry_clear(reg)) != 0) {
    fprintf(stderr, "sma demo: cleanup: %s\n", sma_strerror(rc));
    status = status ? status : 1;
  }
  sma_registry_free(reg);
  if (status == 130) fprintf(stderr, "sma demo: interrupted; every segment removed\n");
  return status;
}
