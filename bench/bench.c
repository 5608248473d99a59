/*
 * sma_bench: libsma against the floor (the backend's bare OS calls),
 * malloc + memset, a pipe, and Python's multiprocessing.shared_memory.
 * Each figure is a ratio measured side by side in one run: the two sides
 * alternate, several repetitions, the median of each is reported. Prints
 * one markdown table; exits non-zero only when something fails to run,
 * never on a missed goal.
 *
 *   sma_bench [--quick] [--reps N] [--iters N] [--touch-mb N]
 *             [--handoff-mb N] [--demo-size N] [--tile-side N]
 *             [--only SECTION] [--python PATH] [--sma PATH]
 * --quick shrinks every size and count (ctest's smoke run). Sections in
 * their own files: maps (maps.c), peers (peers.cpp), files (files.c),
 * listing (listing.c).
 */
#include "process_services.h"
#include "sma.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#  include <malloc.h>
#endif

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <sys/utsname.h>
#  include <unistd.h>
#  if defined(SMA_BACKEND_sysv)
#    include <sys/ipc.h>
#    include <sys/shm.h>
#  endif
#endif

#include "bench.h"

enum { MAX_REPS = 64 };

/* ---- measuring ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs the two sides alternately c->reps times; medians in *a, *b.
 * A side returning a negative time failed. */
int compare(const config_t *c, side_fn fa, void *ca, side_fn fb, void *cb, double *a, double *b) {
  double ta[MAX_REPS], tb[MAX_REPS];
  for (int r = 0; r < c->reps; r++) {
    /* Alternate which side goes first, so neither always runs warm. */
    if (r % 2 == 0) {
      ta[r] = fa(c, ca);
      tb[r] = fb(c, cb);
    } else {
      tb[r] = fb(c, cb);
      ta[r] = fa(c, ca);
    }
    if (ta[r] < 0 || tb[r] < 0) return -1;
  }
  *a = median(ta, c->reps);
  *b = median(tb, c->reps);
  return 0;
}

/* A readable number: no exponents, 3 significant digits or so. */
static const char *num(char *buf, size_t cap, double v) {
  snprintf(buf, cap, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3g", v);
  return buf;
}

void row(const char *what, double lib, double base, const char *unit, double goal,
         const char *note) {
  char goal_text[32] = "—", verdict[32] = "", l[32], b[32], r[32];
  double ratio = lib / base;
  if (goal > 0) {
    snprintf(goal_text, sizeof goal_text, "≤ %.2f×", goal);
    snprintf(verdict, sizeof verdict, "%s", ratio <= goal ? "met" : "missed");
  } else if (goal < 0) {
    snprintf(goal_text, sizeof goal_text, "≥ %.2f×", -goal);
    snprintf(verdict, sizeof verdict, "%s", ratio >= -goal ? "met" : "missed");
  }
  printf("| %s | %s %s | %s %s | %s× | %s %s | %s |\n", what, num(l, sizeof l, lib), unit,
         num(b, sizeof b, base), unit, num(r, sizeof r, ratio), goal_text, verdict, note);
  fflush(stdout);
}

int fail(const char *what, int rc) {
  fprintf(stderr, "sma_bench: %s: %s\n", what, rc < 0 ? sma_strerror(rc) : "failed");
  return 1;
}

/* ---- 1. lifecycle ----------------------------------------------------------- */

enum { LIFE_BYTES = 1 << 20 };

/* What one lifecycle iteration does with the array between create and
 * close: touch its first byte, or fill every float32 element (the work a
 * user actually does with a new array). */
typedef struct life_ctx {
  const char *name;
  unsigned flags;
  size_t bytes; /* array bytes, a multiple of 4 */
  int fill;
} life_ctx_t;

void use_array(void *p, size_t bytes, int fill) {
  if (!fill) {
    ((volatile unsigned char *)p)[0] = 1;
    return;
  }
  float *f = p;
  for (size_t i = 0; i < bytes / sizeof *f; i++) f[i] = 1.0f;
  ((volatile float *)f)[0] = 1.0f; /* the loop's stores are not dead */
}

/* Iterations for one timed batch: c->iters for 1 MiB and less, fewer for
 * larger arrays so that a batch stays near the same length. */
static int iters_for(const config_t *c, size_t bytes) {
  double scaled = (double)c->iters * LIFE_BYTES / (double)bytes;
  return scaled >= c->iters ? c->iters : scaled < 3 ? 3 : (int)scaled;
}

static double life_sma(const config_t *c, void *ctx) {
  const life_ctx_t *l = ctx;
  size_t shape[1] = {l->bytes / sizeof(float)};
  int n = iters_for(c, l->bytes);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    sma_t *a;
    if (sma_new(&a,
                &(sma_array_desc_t){
                    .name = l->name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0 ||
        sma_create(a, l->flags) != 0)
      return -1;
    use_array(sma_data(a), l->bytes, l->fill);
    sma_free(a);
    if (sma_unlink(l->name) != 0) return -1;
  }
  return (proc_now() - t0) / n;
}

/* The same loop on the bare OS calls of the backend. For POSIX, ctx
 * chooses the floor: 1 reserves the memory as libsma does
 * (posix_fallocate), 0 only sets the size (ftruncate). The raw segment is
 * sized like libsma's (array + record, page-rounded). */
typedef struct raw_ctx {
  const char *name;
  int reserve;
  size_t bytes; /* array bytes; the segment adds a page for the record */
  int fill;
} raw_ctx_t;

#if defined(SMA_BACKEND_posix)
static double life_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  char path[300];
  snprintf(path, sizeof path, "/%s", r->name);
  size_t size = r->bytes + 4096;
  int n = iters_for(c, r->bytes);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
#  if defined(__linux__)
    int e = r->reserve ? posix_fallocate(fd, 0, (off_t)size) : ftruncate(fd, (off_t)size);
#  else
    int e = ftruncate(fd, (off_t)size);
#  endif
    void *p = e == 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED) return -1;
    use_array(p, r->bytes, r->fill);
    munmap(p, size);
    close(fd);
    shm_unlink(path);
  }
  return (proc_now() - t0) / n;
}
#elif defined(SMA_BACKEND_sysv)
static double life_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  size_t size = r->bytes + 4096;
  int n = iters_for(c, r->bytes);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int id = shmget((key_t)(0x5a000000 + (getpid() & 0xffff)), size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) return -1;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) return -1;
    use_array(p, r->bytes, r->fill);
    shmdt(p);
    shmctl(id, IPC_RMID, NULL);
  }
  return (proc_now() - t0) / n;
}
#else
static double life_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  wchar_t wname[300];
  swprintf(wname, 300, L"Local\\%hs", r->name);
  size_t size = r->bytes + 4096;
  int n = iters_for(c, r->bytes);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT, 0,
                                  (DWORD)size, wname);
    if (h == NULL) return -1;
    void *p = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (p == NULL) return -1;
    use_array(p, r->bytes, r->fill);
    UnmapViewOfFile(p);
    CloseHandle(h);
  }
  return (proc_now() - t0) / n;
}
#endif

/* ---- 2. attach ------------------------------------------------------------------ */

static double attach_sma(const config_t *c, void *ctx) {
  sma_t *a = ctx;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    if (sma_load(a) != 0) return -1;
    sma_close(a);
  }
  return (proc_now() - t0) / c->iters;
}

#if defined(SMA_BACKEND_posix)
static double attach_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  char path[300];
  snprintf(path, sizeof path, "/%s", r->name);
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return -1;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -1;
    munmap(p, (size_t)st.st_size);
    close(fd);
  }
  return (proc_now() - t0) / c->iters;
}
#elif defined(SMA_BACKEND_sysv)
static double attach_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    int id = shmget((key_t)r->reserve, 0, 0); /* reserve holds the key here */
    struct shmid_ds ds;
    if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0) return -1;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) return -1;
    shmdt(p);
  }
  return (proc_now() - t0) / c->iters;
}
#else
static double attach_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  wchar_t wname[300];
  swprintf(wname, 300, L"Local\\%hs", r->name);
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
    void *p = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    if (p == NULL) return -1;
    MEMORY_BASIC_INFORMATION mbi;
    VirtualQuery(p, &mbi, sizeof mbi);
    UnmapViewOfFile(p);
    CloseHandle(h);
  }
  return (proc_now() - t0) / c->iters;
}
#endif

/* ---- 3. first touch ------------------------------------------------------------------- */

typedef struct touch_ctx {
  const char *name;
  unsigned flags;
  int phase; /* 0: time the writing only, 1: time create + write */
} touch_ctx_t;

static double touch_malloc(const config_t *c, void *ctx) {
  (void)ctx;
  double t0 = proc_now();
  unsigned char *p = malloc(c->touch_bytes);
  if (p == NULL) return -1;
  memset(p, 0x5a, c->touch_bytes);
  double t = proc_now() - t0;
  if (((volatile unsigned char *)p)[c->touch_bytes - 1] != 0x5a) t = -1;
  free(p);
  return t;
}

static double touch_sma(const config_t *c, void *ctx) {
  touch_ctx_t *t = ctx;
  size_t shape[1] = {c->touch_bytes};
  sma_t *a;
  double t0 = proc_now();
  if (sma_new(&a,
              &(sma_array_desc_t){
                  .name = t->name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0 ||
      sma_create(a, t->flags) != 0)
    return -1;
  double t1 = proc_now();
  memset(sma_data(a), 0x5a, c->touch_bytes);
  double t2 = proc_now();
  sma_free(a);
  sma_unlink(t->name);
  return t->phase == 0 ? t2 - t1 : t2 - t0;
}

/* The floor for huge pages: a memset of memory already touched. */
static double touch_pretouched(const config_t *c, void *ctx) {
  unsigned char *p = ctx;
  double t0 = proc_now();
  memset(p, 0x5b, c->touch_bytes);
  double t = proc_now() - t0;
  return ((volatile unsigned char *)p)[c->touch_bytes - 1] == 0x5b ? t : -1;
}

/* Whether SMA_CREATE_HUGEPAGES takes effect for this size here. */
static int huge_pages_offered(const config_t *c, const char *name) {
  size_t shape[1] = {c->touch_bytes};
  sma_t *a;
  if (sma_new(&a, &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
    return 0;
  int ok = sma_create(a, SMA_CREATE_HUGEPAGES) == 0 &&
           (sma_effective_flags(a) & SMA_CREATE_HUGEPAGES) != 0;
  sma_free(a);
  sma_unlink(name);
  return ok;
}

/* ---- 4. hand-off ------------------------------------------------------------------------ */

#if !defined(_WIN32)
/* Starts one of this build's programs (under the build's emulator, if any). */
static int spawn_self(proc_t *p, const char *const *argv, int stdin_fd) {
  const char *emulated[8];
  return proc_spawn(p, proc_argv(argv, emulated, sizeof emulated / sizeof *emulated), stdin_fd);
}

static double handoff_sma(const config_t *c, void *ctx) {
  const char *desc = ctx;
  const char *argv[] = {c->self, "--child-load", desc, NULL};
  proc_t p;
  double t0 = proc_now();
  if (spawn_self(&p, argv, -1) != 0 || proc_wait(&p) != 0) return -1;
  return proc_now() - t0;
}

static double handoff_pipe(const config_t *c, void *ctx) {
  const unsigned char *bytes = ctx;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  /* The child must not inherit the write end, or it never sees EOF. */
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  char size[32];
  snprintf(size, sizeof size, "%zu", c->handoff_bytes);
  const char *argv[] = {c->self, "--child-pipe", size, NULL};
  proc_t p;
  double t0 = proc_now();
  int started = spawn_self(&p, argv, fds[0]) == 0;
  close(fds[0]);
  if (!started) {
    close(fds[1]);
    return -1;
  }
  size_t done = 0;
  while (done < c->handoff_bytes) {
    ssize_t n = write(fds[1], bytes + done, c->handoff_bytes - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  close(fds[1]);
  int code = proc_wait(&p);
  double t = proc_now() - t0;
  return done == c->handoff_bytes && code == 0 ? t : -1;
}
#endif

static int child_load(const char *desc) {
  sma_t *a;
  if (sma_parse(&a, NULL, desc) != 0 || sma_load(a) != 0) return 1;
  int ok = ((volatile unsigned char *)sma_data(a))[sma_nbytes(a) - 1] == 0x5a;
  sma_free(a);
  return ok ? 0 : 1;
}

static int child_pipe(size_t bytes) {
#if defined(_WIN32)
  (void)bytes;
  return 1;
#else
  static unsigned char buf[1 << 16];
  size_t got = 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) got += (size_t)n;
  return got == bytes ? 0 : 1;
#endif
}

/* ---- 5. scaling ------------------------------------------------------------------------------ */

static void append(char *buf, size_t cap, size_t *len, const char *text) {
  for (; *text != '\0'; text++, (*len)++)
    if (*len + 1 < cap) buf[*len] = *text;
}

/* The shell's text for a program of this build (under the build's
 * emulator, if any: a cross build run by qemu-user) with argv, each
 * argument single-quoted for sh; for Windows' cmd.exe, which knows no
 * single quotes, the arguments (plain words here) are left bare. 0, or
 * -1 if it does not fit. */
static int shell_command(char *buf, size_t cap, const char *const *argv) {
  const char *emulated[16];
  const char *const *full = proc_argv(argv, emulated, sizeof emulated / sizeof *emulated);
  size_t len = 0;
#if defined(_WIN32)
  const char *quote = "";
#else
  const char *quote = "'";
#endif
  for (size_t i = 0; full[i] != NULL; i++) {
    if (i) append(buf, cap, &len, " ");
    append(buf, cap, &len, quote);
    for (const char *p = full[i]; *p != '\0'; p++) {
      char one[2] = {*p, '\0'};
      append(buf, cap, &len, *p == '\'' && *quote ? "'\\''" : one); /* ' closes, escapes, reopens */
    }
    append(buf, cap, &len, quote);
  }
  if (len + 1 > cap) return -1;
  buf[len] = '\0';
  return 0;
}

/* Runs `sma demo` with k workers, returns its wall time for the k-worker
 * pass, or -1. */
static double demo_time(const config_t *c, int workers) {
  char size[32], count[16], cmd[2048];
  snprintf(size, sizeof size, "%zu", c->demo_size);
  snprintf(count, sizeof count, "%d", workers);
  const char *argv[] = {c->sma, "demo",          "--size",   size,       "--workers",
                        count,  "--no-baseline", "--prefix", "smabench", NULL};
  if (shell_command(cmd, sizeof cmd, argv) != 0) return -1;
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  char line[512];
  double t = -1;
  while (fgets(line, sizeof line, p) != NULL) {
    int k;
    double s;
    if (sscanf(line, " %d worker%*[s]: %lf s", &k, &s) == 2 ||
        sscanf(line, " %d worker : %lf s", &k, &s) == 2)
      if (k == workers) t = s;
  }
  return pclose(p) == 0 ? t : -1;
}

static double scale_side(const config_t *c, void *ctx) { return demo_time(c, *(int *)ctx); }

/* ---- 6. Python ------------------------------------------------------------------------------- */

/* Runs a Python script (no double quotes, dollars, backquotes or
 * backslashes: it is passed in double quotes through the shell) that
 * prints n numbers into out. 0, or -1 if it failed. */
int python_numbers(const config_t *c, const char *script, double *out, int n) {
  char cmd[4096];
  if (snprintf(cmd, sizeof cmd, "\"%s\" -c \"%s\"", c->python, script) >= (int)sizeof cmd)
    return -1;
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int got = 0;
  while (got < n && fscanf(p, "%lf", &out[got]) == 1) got++;
  return pclose(p) == 0 && got == n ? 0 : -1;
}

static double python_number(const config_t *c, const char *script) {
  double t;
  return python_numbers(c, script, &t, 1) == 0 ? t : -1;
}

/* Seconds per lifecycle op in Python: SharedMemory create, then touch one
 * byte, or fill every float32 element through NumPy (ctx: a life_ctx_t). */
static double life_python(const config_t *c, void *ctx) {
  const life_ctx_t *l = ctx;
  char script[2048];
  snprintf(script, sizeof script,
           "import time, numpy as np\n"
           "from multiprocessing import shared_memory as s\n"
           "n=%d; nb=%zu; t=time.perf_counter()\n"
           "for i in range(n):\n"
           "  m=s.SharedMemory('%s', create=True, size=nb)\n"
           "  if %d:\n"
           "    a=np.ndarray((nb//4,), np.float32, buffer=m.buf); a.fill(1.0); del a\n"
           "  else:\n"
           "    m.buf[0]=1\n"
           "  m.close(); m.unlink()\n"
           "print((time.perf_counter()-t)/n)",
           iters_for(c, l->bytes), l->bytes, l->name, l->fill);
  return python_number(c, script);
}

/* ---- 7. many tiles ----------------------------------------------------------------------------
 */

/* gridr's chains: each task loads its tile of a large shared float32
 * array as a slice, sums it, closes it. Two workers share the tiles; each
 * times its own loop and writes the seconds into a result array (a libsma
 * segment too). Mode "sum" maps the array once and sums every tile
 * through the same view arithmetic, so load-mode time minus sum-mode time
 * is the per-tile cost of loading and closing. */
enum { TILE_WORKERS = 2 };

double sum_tile(const sma_view_t *v, size_t r0, size_t c0) {
  double sum = 0;
  for (size_t i = 0; i < TILE; i++) {
    const float *row = sma_view_at2(v, r0 + i, c0);
    for (size_t j = 0; j < TILE; j++) sum += row[j];
  }
  return sum;
}

static int child_tiles(const char *name, const char *result_desc, int worker, int load_each) {
  sma_t *whole, *result;
  if (sma_open(&whole, name, NULL, 0) != 0) return 1;
  size_t side = sma_shape(whole)[0], per_row = side / TILE, tiles = per_row * per_row;
  size_t first = tiles * (size_t)worker / TILE_WORKERS,
         last = tiles * (size_t)(worker + 1) / TILE_WORKERS;
  double total = 0, t0 = proc_now();
  for (size_t t = first; t < last; t++) {
    size_t r0 = t / per_row * TILE, c0 = t % per_row * TILE;
    if (!load_each) {
      total += sum_tile(sma_view_get(whole), r0, c0);
      continue;
    }
    sma_slice_t box[2] = {{(int64_t)r0, (int64_t)(r0 + TILE), 1},
                          {(int64_t)c0, (int64_t)(c0 + TILE), 1}};
    sma_t *tile;
    if (sma_open(&tile, name, box, 2) != 0) return 1;
    total += sum_tile(sma_view_get(tile), 0, 0);
    sma_free(tile);
  }
  double seconds = proc_now() - t0;
  int ok = total == (double)(last - first) * TILE * TILE; /* every element is 1 */
  sma_free(whole);
  if (sma_parse(&result, NULL, result_desc) != 0 || sma_load(result) != 0) return 1;
  ((double *)sma_data(result))[worker] = seconds;
  sma_free(result);
  return ok ? 0 : 1;
}

typedef struct tiles_ctx {
  const char *name;   /* the shared side x side float32 array, all ones */
  const char *result; /* descriptor of the float64 result array, one per worker */
  double *seconds;    /* its data */
  size_t tiles;
} tiles_ctx_t;

/* Both workers' seconds added up, for one mode. */
static double tiles_run(const config_t *c, const tiles_ctx_t *t, int load_each) {
  proc_t w[TILE_WORKERS];
  char index[TILE_WORKERS][8];
  int started = 0, failed = 0;
  for (int k = 0; k < TILE_WORKERS; k++) {
    snprintf(index[k], sizeof index[k], "%d", k);
    const char *argv[] = {
        c->self, "--child-tiles", t->name, t->result, index[k], load_each ? "load" : "sum", NULL};
    const char *emulated[12];
    if (proc_spawn(&w[k], proc_argv(argv, emulated, sizeof emulated / sizeof *emulated), -1) != 0)
      break;
    started++;
  }
  for (int k = 0; k < started; k++) failed |= proc_wait(&w[k]) != 0;
  if (started < TILE_WORKERS || failed) return -1;
  double sum = 0;
  for (int k = 0; k < TILE_WORKERS; k++) sum += t->seconds[k];
  return sum;
}

/* Seconds of overhead per tile: load-and-close minus summing alone, or -1
 * if a side failed. A run too short to see the overhead (--quick: a few
 * tiles) can measure it below zero; that is reported as 0. */
static double per_tile(double summing, double loading, size_t tiles) {
  if (summing < 0 || loading < 0) return -1;
  return loading > summing ? (loading - summing) / (double)tiles : 0;
}

static double tiles_sma(const config_t *c, void *ctx) {
  const tiles_ctx_t *t = ctx;
  double summing = tiles_run(c, t, 0), loading = tiles_run(c, t, 1);
  return per_tile(summing, loading, t->tiles);
}

/* The same in Python, as gridr's SharedMemoryArray.load() does it:
 * SharedMemory(name), np.ndarray over its buffer, the slice; close. The
 * parent makes its own array of ones with SharedMemory, as gridr's parent
 * does (libsma's may be a System V segment Python cannot open). The
 * forked workers share the parent's resource tracker, where an attach's
 * registration (Python < 3.13) repeats the parent's and the parent's
 * unlink clears it. */
static double tiles_python(const config_t *c, void *ctx) {
  const tiles_ctx_t *t = ctx;
  char script[3072];
  snprintf(script, sizeof script,
           "import time, numpy as np, multiprocessing as mp\n"
           "from multiprocessing import shared_memory as s\n"
           "T=%d; W=%d; side=%zu; per=side//T; tiles=per*per\n"
           "own=s.SharedMemory('%s-py', create=True, size=side*side*4); name=own.name\n"
           "np.ndarray((side, side), np.float32, buffer=own.buf).fill(1.0)\n"
           "def attach():\n"
           "  return s.SharedMemory(name)\n"
           "def work(k, load):\n"
           "  first=tiles*k//W; last=tiles*(k+1)//W; total=0.0\n"
           "  if not load:\n"
           "    m=attach(); a=np.ndarray((side, side), np.float32, buffer=m.buf)\n"
           "  t0=time.perf_counter()\n"
           "  for t in range(first, last):\n"
           "    r=t//per*T; c=t%%per*T\n"
           "    if load:\n"
           "      m=attach(); v=np.ndarray((side, side), np.float32, buffer=m.buf)[r:r+T, c:c+T]\n"
           "      total+=float(v.sum()); del v; m.close()\n"
           "    else:\n"
           "      total+=float(a[r:r+T, c:c+T].sum())\n"
           "  dt=time.perf_counter()-t0\n"
           "  if not load:\n"
           "    del a; m.close()\n"
           "  assert total == (last-first)*T*T\n"
           "  return dt\n"
           "try:\n"
           "  with mp.get_context('fork').Pool(W) as pool:\n"
           "    summing=sum(pool.starmap(work, [(k, False) for k in range(W)]))\n"
           "    loading=sum(pool.starmap(work, [(k, True) for k in range(W)]))\n"
           "finally:\n"
           "  own.close(); own.unlink()\n"
           "print(summing, loading)",
           TILE, TILE_WORKERS, c->tile_side, t->name);
  double times[2];
  if (python_numbers(c, script, times, 2) != 0) return -1;
  return per_tile(times[0], times[1], t->tiles);
}

/* ---- main ------------------------------------------------------------------------------------ */

static void machine(void) {
  char cpu[256] = "unknown CPU";
#if defined(__linux__)
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
      cpu[strcspn(cpu, "\n")] = '\0';
      break;
    }
  if (f) fclose(f);
#endif
  printf("machine: %s, %d cores", cpu, proc_cpu_count());
#if !defined(_WIN32)
  struct utsname u;
  if (uname(&u) == 0) printf(", %s %s", u.sysname, u.release);
#endif
  printf("; libsma %u, %s backend\n\n", sma_version(), sma_backend());
}

static int usage(void) {
  fprintf(stderr,
          "usage: sma_bench [--quick] [--reps N] [--iters N] [--touch-mb N] "
          "[--handoff-mb N] [--demo-size N] [--tile-side N] [--only SECTION] [--python PATH] "
          "[--sma PATH]\n");
  return 2;
}

/* Where the OS caps one segment (System V's shmmax: 4 MiB by default on
 * macOS), the sizes shrink to half the cap so that each row still runs,
 * as `sma demo` scales down; the row labels show the sizes used. */
static size_t fit(size_t want, uint64_t cap) {
  if (cap == 0 || want <= cap / 2) return want;
  size_t half = (size_t)(cap / 2), whole_mib = half & ~(size_t)0xfffff;
  return whole_mib != 0 ? whole_mib : half & ~(size_t)0xfff;
}

static void fit_to_limit(config_t *c) {
  sma_caps_t caps;
  sma_caps_get(&caps);
  c->touch_bytes = fit(c->touch_bytes, caps.max_segment);
  c->handoff_bytes = fit(c->handoff_bytes, caps.max_segment);
  for (int k = 0; k < 3; k++) c->fill_bytes[k] = fit(c->fill_bytes[k], caps.max_segment);
  while (caps.max_segment != 0 && c->tile_side > TILE &&
         (uint64_t)c->tile_side * c->tile_side * sizeof(float) > caps.max_segment / 2)
    c->tile_side -= TILE;
  if (caps.max_segment != 0)
    printf("(one segment is capped at %llu bytes here: sizes fit half of it)\n\n",
           (unsigned long long)caps.max_segment);
}

/* --only SECTION runs one section (lifecycle, attach, touch, huge, maps, peers, files,
 * listing, handoff, scaling, python, fill, tiles); all by default. */
int wanted(const config_t *c, const char *section) {
  return c->only == NULL || strcmp(c->only, section) == 0;
}

/* Each section prints its rows; 0, or non-zero after saying what failed. */

static int bench_lifecycle(const config_t *c, const char *name, const char *raw_name) {
  raw_ctx_t reserve = {raw_name, 1, LIFE_BYTES, 0}, lazy = {raw_name, 0, LIFE_BYTES, 0};
  life_ctx_t life = {name, 0, LIFE_BYTES, 0},
             life_lazy = {name, SMA_CREATE_NORESERVE, LIFE_BYTES, 0};
  double a, b;
  if (compare(c, life_sma, &life, life_raw, &reserve, &a, &b) != 0) return fail("lifecycle", 0);
  row("lifecycle: create+map+touch+close+unlink, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "same calls on the OS, memory reserved as libsma does");
#if defined(SMA_BACKEND_posix) && defined(__linux__)
  if (compare(c, life_sma, &life_lazy, life_raw, &lazy, &a, &b) != 0) return fail("lifecycle", 0);
  row("lifecycle with SMA_CREATE_NORESERVE, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "shm_open+ftruncate+mmap (no reservation)");
#else
  (void)lazy;
  (void)life_lazy;
#endif
  return 0;
}

static int bench_attach(const config_t *c, const char *name) {
  size_t shape[1] = {LIFE_BYTES};
  sma_t *att, *att2;
  int rc;
  if ((rc = sma_new(&att,
                    &(sma_array_desc_t){
                        .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8})) != 0 ||
      (rc = sma_create(att, 0)) != 0 ||
      (rc = sma_new(&att2, &(sma_array_desc_t){
                               .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8})) != 0)
    return fail("attach setup", rc);
  raw_ctx_t att_raw = {name, 0, LIFE_BYTES, 0};
#if defined(SMA_BACKEND_sysv)
  att_raw.reserve = (int)0; /* find the key libsma used */
  {
    struct shmid_ds ds;
    if (shmctl((int)sma_os_handle(att), IPC_STAT, &ds) == 0)
      att_raw.reserve = (int)ds.shm_perm.__key;
  }
#endif
  double a, b;
  rc = compare(c, attach_sma, att2, attach_raw, &att_raw, &a, &b);
  sma_free(att2);
  sma_free(att);
  sma_unlink(name);
  if (rc != 0) return fail("attach", 0);
  row("attach: load (record checked) + close, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "open+size+map+unmap+close");
  return 0;
}

static int bench_touch(const config_t *c, const char *name) {
  char mib[64], what[128];
  snprintf(mib, sizeof mib, "%zu MiB", c->touch_bytes >> 20);
  touch_ctx_t plain = {name, 0, 0}, pre = {name, SMA_CREATE_PREFAULT, 0},
              pre_total = {name, SMA_CREATE_PREFAULT, 1};
  double a, b;
  if (compare(c, touch_sma, &plain, touch_malloc, NULL, &a, &b) != 0) return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: write %s, no prefault", mib);
  row(what, a * 1e3, b * 1e3, "ms", 0, "malloc+memset");
  if (compare(c, touch_sma, &pre, touch_malloc, NULL, &a, &b) != 0) return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: write %s, SMA_CREATE_PREFAULT", mib);
  row(what, a * 1e3, b * 1e3, "ms", 1.2, "malloc+memset");
  if (compare(c, touch_sma, &pre_total, touch_malloc, NULL, &a, &b) != 0)
    return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: create+prefault+write %s", mib);
  row(what, a * 1e3, b * 1e3, "ms", 0, "malloc+memset");
  return 0;
}

/* Huge pages: the whole cost of a large array, create + first write. */
static int bench_huge(const config_t *c, const char *name) {
  char what[128];
  if (!huge_pages_offered(c, name)) {
    printf("| huge pages: create+write %zu MiB | — | — | — | — | not offered here: mount /dev/shm "
           "with huge=advise (docs/performance.md) |\n",
           c->touch_bytes >> 20);
    return 0;
  }
  touch_ctx_t huge_total = {name, SMA_CREATE_HUGEPAGES, 1}, plain_total = {name, 0, 1};
  double a, b;
  if (compare(c, touch_sma, &huge_total, touch_sma, &plain_total, &a, &b) != 0)
    return fail("huge pages", 0);
  snprintf(what, sizeof what, "huge pages: create+write %zu MiB, SMA_CREATE_HUGEPAGES",
           c->touch_bytes >> 20);
  row(what, a * 1e3, b * 1e3, "ms", 0.25, "the same without the flag (4 KiB pages)");
  unsigned char *warm = malloc(c->touch_bytes);
  if (warm == NULL) return fail("huge pages buffer", 0);
  memset(warm, 1, c->touch_bytes);
  int rc = compare(c, touch_sma, &huge_total, touch_pretouched, warm, &a, &b);
  free(warm);
  if (rc != 0) return fail("huge pages", 0);
  snprintf(what, sizeof what, "huge pages: create+write %zu MiB vs memset of touched memory",
           c->touch_bytes >> 20);
  row(what, a * 1e3, b * 1e3, "ms", 1.5, "memset of malloc'd memory already touched");
  return 0;
}

static int bench_handoff(const config_t *c, const char *name) {
#if defined(_WIN32)
  (void)c;
  (void)name;
#else
  size_t hshape[1] = {c->handoff_bytes};
  sma_t *h;
  char desc[512], what[128];
  unsigned char *bytes = malloc(c->handoff_bytes);
  if (bytes == NULL) return fail("hand-off buffer", 0);
  memset(bytes, 0x5a, c->handoff_bytes);
  int rc;
  if ((rc = sma_new(&h,
                    &(sma_array_desc_t){
                        .name = name, .ndim = 1, .shape = hshape, .dtype = SMA_UINT8})) != 0 ||
      (rc = sma_create(h, SMA_CREATE_PREFAULT)) != 0 ||
      (rc = sma_describe(h, desc, &(size_t){sizeof desc})) != 0) {
    free(bytes);
    return fail("hand-off setup", rc);
  }
  memset(sma_data(h), 0x5a, c->handoff_bytes);
  double a, b;
  rc = compare(c, handoff_sma, desc, handoff_pipe, bytes, &a, &b);
  sma_free(h);
  sma_unlink(name);
  free(bytes);
  if (rc != 0) return fail("hand-off", 0);
  snprintf(what, sizeof what, "hand-off of %zu MiB to a child (descriptor: %zu bytes)",
           c->handoff_bytes >> 20, strlen(desc));
  row(what, a * 1e3, b * 1e3, "ms", 0, "the bytes through a pipe");
#endif
  return 0;
}

static int bench_scaling(const config_t *c) {
  if (c->sma[0] == '\0') return 0;
  char what[128];
  int one = 1, two = 2, n = proc_cpu_count();
  double a, b;
  if (compare(c, scale_side, &one, scale_side, &two, &a, &b) != 0) return fail("scaling", 0);
  snprintf(what, sizeof what, "scaling: sma demo %zux%zu, 2 workers vs 1 (speedup)", c->demo_size,
           c->demo_size);
  row(what, a, b, "s", -1.8, "time with 1 worker / time with 2");
  if (n > 2) {
    if (compare(c, scale_side, &one, scale_side, &n, &a, &b) != 0) return fail("scaling", 0);
    snprintf(what, sizeof what, "scaling: %d workers vs 1 (speedup)", n);
    row(what, a, b, "s", 0, "time with 1 worker / time with N");
  }
  return 0;
}

static int bench_python_lifecycle(const config_t *c, const char *name) {
  life_ctx_t life = {name, 0, LIFE_BYTES, 0},
             life_lazy = {name, SMA_CREATE_NORESERVE, LIFE_BYTES, 0};
  double a, b;
  if (compare(c, life_sma, &life_lazy, life_python, &life_lazy, &a, &b) != 0)
    return fail("python", 0);
  row("lifecycle (NORESERVE, as Python sizes) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
      "multiprocessing.shared_memory, same loop");
  if (compare(c, life_sma, &life, life_python, &life_lazy, &a, &b) != 0) return fail("python", 0);
  row("lifecycle (default: reserved) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
      "multiprocessing.shared_memory, same loop");
  return 0;
}

/* The whole cost of a new array: create + fill every element + close +
 * unlink, at three sizes, each side by side with its floor and Python. */
static int bench_fill(const config_t *c, const char *name, const char *raw_name) {
  const size_t sizes[3] = {c->fill_bytes[0], c->fill_bytes[1], c->fill_bytes[2]};
  for (int k = 0; k < 3; k++) {
    size_t n = sizes[k];
    char size[32], what[160];
    snprintf(size, sizeof size, n >= (1u << 20) ? "%zu MiB" : "%zu KiB",
             n >= (1u << 20) ? n >> 20 : n >> 10);
    life_ctx_t def = {name, 0, n, 1}, lazy = {name, SMA_CREATE_NORESERVE, n, 1};
    raw_ctx_t raw_reserved = {raw_name, 1, n, 1}, raw_lazy = {raw_name, 0, n, 1};
    double a, b;
    if (compare(c, life_sma, &def, life_raw, &raw_reserved, &a, &b) != 0)
      return fail("create+fill", 0);
    snprintf(what, sizeof what, "create+fill+close+unlink %s float32, default (reserved)", size);
    row(what, a * 1e6, b * 1e6, "µs", 0, "the same OS calls by hand, reserved");
#if defined(SMA_BACKEND_posix) && defined(__linux__)
    if (compare(c, life_sma, &lazy, life_raw, &raw_lazy, &a, &b) != 0)
      return fail("create+fill", 0);
    snprintf(what, sizeof what, "create+fill+close+unlink %s float32, NORESERVE", size);
    row(what, a * 1e6, b * 1e6, "µs", 0, "shm_open+ftruncate+mmap by hand");
#else
    (void)raw_lazy;
#endif
    if (compare(c, life_sma, &def, life_sma, &lazy, &a, &b) != 0) return fail("create+fill", 0);
    snprintf(what, sizeof what, "create+fill+close+unlink %s float32, default vs NORESERVE", size);
    row(what, a * 1e6, b * 1e6, "µs", n >= LIFE_BYTES ? 1.15 : 0,
        "libsma with SMA_CREATE_NORESERVE");
    if (c->python[0] == '\0') continue;
    life_ctx_t *sides[2] = {&def, &lazy};
    for (int s = 0; s < 2; s++) {
      if (compare(c, life_sma, sides[s], life_python, &def, &a, &b) != 0)
        return fail("create+fill python", 0);
      snprintf(what, sizeof what, "create+fill+close+unlink %s float32, %s vs Python", size,
               s == 0 ? "default" : "NORESERVE");
      row(what, a * 1e6, b * 1e6, "µs", 1.0, "SharedMemory + np.ndarray.fill, same loop");
    }
  }
  return 0;
}

static int bench_tiles(const config_t *c, const char *name, const char *raw_name) {
  if (c->python[0] == '\0') {
    printf("| many tiles vs Python | — | — | — | — | no python3 found |\n");
    return 0;
  }
  size_t shape[2] = {c->tile_side, c->tile_side}, rshape[1] = {TILE_WORKERS};
  sma_t *array = NULL, *result = NULL;
  char result_desc[SMA_DESCRIPTOR_MAX];
  int rc;
  if ((rc = sma_new(&array,
                    &(sma_array_desc_t){
                        .name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32})) == 0 &&
      (rc = sma_create(array, 0)) == 0 &&
      (rc = sma_new(&result,
                    &(sma_array_desc_t){
                        .name = raw_name, .ndim = 1, .shape = rshape, .dtype = SMA_FLOAT64})) ==
          0 &&
      (rc = sma_create(result, 0)) == 0)
    rc = sma_describe(result, result_desc, &(size_t){sizeof result_desc});
  double a = 0, b = 0;
  if (rc == 0) {
    use_array(sma_data(array), sma_nbytes(array), 1);
    size_t per_row = c->tile_side / TILE;
    tiles_ctx_t t = {name, result_desc, sma_data(result), per_row * per_row};
    rc = compare(c, tiles_sma, &t, tiles_python, &t, &a, &b) != 0 ? -1 : 0;
  }
  if (result != NULL && sma_data(result) != NULL) sma_unlink(raw_name);
  if (array != NULL && sma_data(array) != NULL) sma_unlink(name);
  sma_free(result);
  sma_free(array);
  if (rc != 0) return fail("many tiles", rc);
  char what[160];
  snprintf(what, sizeof what,
           "many tiles: %zux%zu float32, %zu tiles of %dx%d, %d workers: "
           "overhead per tile (load with slice + close)",
           c->tile_side, c->tile_side, (c->tile_side / TILE) * (c->tile_side / TILE), TILE, TILE,
           TILE_WORKERS);
  row(what, a * 1e6, b * 1e6, "µs", 0.05,
      "Python: SharedMemory + np.ndarray + slice, as gridr's load()");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child-load") == 0) return child_load(argv[2]);
  if (argc == 3 && strcmp(argv[1], "--child-pipe") == 0)
    return child_pipe((size_t)strtoull(argv[2], NULL, 10));
  if (argc == 6 && strcmp(argv[1], "--child-tiles") == 0)
    return child_tiles(argv[2], argv[3], atoi(argv[4]) % TILE_WORKERS,
                       strcmp(argv[5], "load") == 0);
#if defined(__GLIBC__)
  /* A fixed mmap threshold: every large malloc gets fresh pages, as the
   * first-touch baseline intends (glibc otherwise raises the threshold
   * after a free and serves later blocks from already-touched heap). */
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  config_t c = {7,
                300,
                (size_t)1 << 30,
                (size_t)1 << 30,
                4096,
                4096,
                {(size_t)64 << 10, (size_t)1 << 20, (size_t)64 << 20},
                SMA_BENCH_PYTHON,
                SMA_BENCH_SMA,
                NULL,
                NULL,
                0};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--quick") == 0) {
      c.reps = 3, c.iters = 5, c.touch_bytes = 8u << 20, c.handoff_bytes = 8u << 20,
      c.demo_size = 256;
      c.tile_side = 256, c.fill_bytes[2] = (size_t)4 << 20, c.quick = 1;
      continue;
    }
    if (v == NULL) return usage();
    i++;
    if (strcmp(argv[i - 1], "--reps") == 0)
      c.reps = atoi(v);
    else if (strcmp(argv[i - 1], "--iters") == 0)
      c.iters = atoi(v);
    else if (strcmp(argv[i - 1], "--touch-mb") == 0)
      c.touch_bytes = (size_t)atoi(v) << 20;
    else if (strcmp(argv[i - 1], "--handoff-mb") == 0)
      c.handoff_bytes = (size_t)atoi(v) << 20;
    else if (strcmp(argv[i - 1], "--demo-size") == 0)
      c.demo_size = (size_t)atoi(v);
    else if (strcmp(argv[i - 1], "--tile-side") == 0)
      c.tile_side = (size_t)atoi(v);
    else if (strcmp(argv[i - 1], "--only") == 0)
      c.only = v;
    else if (strcmp(argv[i - 1], "--python") == 0)
      c.python = v;
    else if (strcmp(argv[i - 1], "--sma") == 0)
      c.sma = v;
    else
      return usage();
  }
  if (c.reps < 1 || c.reps > MAX_REPS || c.iters < 1 || c.touch_bytes == 0 || c.tile_side < TILE ||
      c.tile_side % TILE != 0)
    return usage();
  char self[4096];
  if (proc_self_path(self, sizeof self, argv[0]) != 0) return fail("own path", 0);
  c.self = self;

  /* Names short enough for every OS's own limit (macOS: 30 bytes; the
   * short form fits), so that a baseline's raw OS call names the very
   * object libsma made: a longer name's object is a digest of it. */
  char name[SMA_NAME_BUF], raw_name[SMA_NAME_BUF];
  int rc = sma_build_name("bench", name, &(size_t){31});
  if (rc == 0) rc = sma_build_name("benchraw", raw_name, &(size_t){31});
  if (rc != 0) return fail("names", rc);
  machine();
  fit_to_limit(&c);
  printf("| benchmark | libsma | baseline | ratio | goal | baseline is |\n");
  printf("| --- | --- | --- | --- | --- | --- |\n");
  rc = 0;
  if (rc == 0 && wanted(&c, "lifecycle")) rc = bench_lifecycle(&c, name, raw_name);
  if (rc == 0 && wanted(&c, "attach")) rc = bench_attach(&c, name);
  if (rc == 0 && wanted(&c, "touch")) rc = bench_touch(&c, name);
  if (rc == 0 && wanted(&c, "huge")) rc = bench_huge(&c, name);
  if (rc == 0 && wanted(&c, "handoff")) rc = bench_handoff(&c, name);
  if (rc == 0 && wanted(&c, "scaling")) rc = bench_scaling(&c);
  if (rc == 0 && wanted(&c, "python") && c.python[0] != '\0') rc = bench_python_lifecycle(&c, name);
  if (rc == 0 && wanted(&c, "fill")) rc = bench_fill(&c, name, raw_name);
  if (rc == 0 && wanted(&c, "tiles")) rc = bench_tiles(&c, name, raw_name);
  if (rc == 0) rc = bench_maps(&c, name);
  if (rc == 0) rc = bench_peers(&c, name);
  if (rc == 0) rc = bench_files(&c, name);
  if (rc == 0) rc = bench_listing(&c, name);
  if (rc == 0 && c.python[0] == '\0')
    printf("| lifecycle vs Python | — | — | — | — | no python3 found |\n");
  if (rc == 0) printf("\nsma_bench: every section ran\n"); /* what ctest's smoke runs look for */
  return rc;
}
