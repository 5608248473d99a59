/*
 * sma_bench: libsma against the floor (the backend's bare OS calls),
 * malloc + memset, a pipe, and Python's multiprocessing.shared_memory.
 * Each figure is a ratio measured side by side in one run: the two sides
 * alternate, several repetitions, the median of each is reported. Prints
 * one markdown table; exits non-zero only when something fails to run,
 * never on a missed goal.
 *
 *   sma_bench [--quick] [--reps N] [--iters N] [--touch-mb N]
 *             [--handoff-mb N] [--demo-size N] [--python PATH] [--sma PATH]
 * --quick shrinks every size and count (ctest's smoke run).
 */
#include "../tools/proc.h"
#include "sma.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(SMA_BACKEND_sysv)
#include <sys/ipc.h>
#include <sys/shm.h>
#endif
#endif

typedef struct config {
  int reps, iters;
  size_t touch_bytes, handoff_bytes, demo_size;
  const char *python, *sma, *self;
} config_t;

enum { MAX_REPS = 64 };

/* ---- measuring ------------------------------------------------------------ */

typedef double (*side_fn)(const config_t *c, void *ctx); /* seconds per op */

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
static int compare(const config_t *c, side_fn fa, void *ca, side_fn fb, void *cb,
                   double *a, double *b) {
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

static void row(const char *what, double lib, double base, const char *unit,
                double goal, const char *note) {
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

static int fail(const char *what, int rc) {
  fprintf(stderr, "sma_bench: %s: %s\n", what, rc < 0 ? sma_strerror(rc) : "failed");
  return 1;
}

/* ---- 1. lifecycle ----------------------------------------------------------- */

enum { LIFE_BYTES = 1 << 20 };

typedef struct life_ctx {
  const char *name;
  unsigned flags;
} life_ctx_t;

static double life_sma(const config_t *c, void *ctx) {
  const life_ctx_t *l = ctx;
  const char *name = l->name;
  size_t shape[1] = {LIFE_BYTES};
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    sma_t *a;
    if (sma_new(&a, name, 1, shape, SMA_UINT8, NULL, 0) != 0 || sma_create(a, l->flags) != 0)
      return -1;
    ((volatile unsigned char *)sma_data(a))[0] = 1;
    sma_free(a);
    if (sma_unlink(name) != 0) return -1;
  }
  return (proc_now() - t0) / c->iters;
}

/* The same loop on the bare OS calls of the backend. For POSIX, ctx
 * chooses the floor: 1 reserves the memory as libsma does
 * (posix_fallocate), 0 only sets the size (ftruncate). The raw segment is
 * sized like libsma's (array + record, page-rounded). */
typedef struct raw_ctx {
  const char *name;
  int reserve;
} raw_ctx_t;

#if defined(SMA_BACKEND_posix)
static double life_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  char path[300];
  snprintf(path, sizeof path, "/%s", r->name);
  size_t size = LIFE_BYTES + 4096;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
#if defined(__linux__)
    int e = r->reserve ? posix_fallocate(fd, 0, (off_t)size) : ftruncate(fd, (off_t)size);
#else
    int e = ftruncate(fd, (off_t)size);
#endif
    void *p = e == 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED) return -1;
    ((volatile unsigned char *)p)[0] = 1;
    munmap(p, size);
    close(fd);
    shm_unlink(path);
  }
  return (proc_now() - t0) / c->iters;
}
#elif defined(SMA_BACKEND_sysv)
static double life_raw(const config_t *c, void *ctx) {
  (void)ctx;
  size_t size = LIFE_BYTES + 4096;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    int id = shmget((key_t)(0x5a000000 + (getpid() & 0xffff)), size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) return -1;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) return -1;
    ((volatile unsigned char *)p)[0] = 1;
    shmdt(p);
    shmctl(id, IPC_RMID, NULL);
  }
  return (proc_now() - t0) / c->iters;
}
#else
static double life_raw(const config_t *c, void *ctx) {
  raw_ctx_t *r = ctx;
  wchar_t wname[300];
  swprintf(wname, 300, L"Local\\%hs", r->name);
  size_t size = LIFE_BYTES + 4096;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT, 0,
                                  (DWORD)size, wname);
    if (h == NULL) return -1;
    void *p = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (p == NULL) return -1;
    ((volatile unsigned char *)p)[0] = 1;
    UnmapViewOfFile(p);
    CloseHandle(h);
  }
  return (proc_now() - t0) / c->iters;
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
  if (sma_new(&a, t->name, 1, shape, SMA_UINT8, NULL, 0) != 0 || sma_create(a, t->flags) != 0)
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
  if (sma_new(&a, name, 1, shape, SMA_UINT8, NULL, 0) != 0) return 0;
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
  if (sma_parse(&a, desc, NULL) != 0 || sma_load(a) != 0) return 1;
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

/* Runs `sma demo` with k workers, returns its wall time for the k-worker
 * pass, or -1. */
static double demo_time(const config_t *c, int workers) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "\"%s\" demo --size %zu --workers %d --no-baseline --prefix smabench",
           c->sma, c->demo_size, workers);
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

/* Seconds per lifecycle op in Python, one batch of c->iters. */
static double life_python(const config_t *c, void *ctx) {
  const char *name = ctx;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "\"%s\" -c \"import time; from multiprocessing import shared_memory as s\n"
           "n=%d; t=time.perf_counter()\n"
           "for i in range(n):\n"
           "  m=s.SharedMemory('%s', create=True, size=%d); m.buf[0]=1; m.close(); m.unlink()\n"
           "print((time.perf_counter()-t)/n)\"",
           c->python, c->iters, name, LIFE_BYTES);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  double t = -1;
  if (fscanf(p, "%lf", &t) != 1) t = -1;
  return pclose(p) == 0 ? t : -1;
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
  fprintf(stderr, "usage: sma_bench [--quick] [--reps N] [--iters N] [--touch-mb N] "
                  "[--handoff-mb N] [--demo-size N] [--python PATH] [--sma PATH]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child-load") == 0) return child_load(argv[2]);
  if (argc == 3 && strcmp(argv[1], "--child-pipe") == 0)
    return child_pipe((size_t)strtoull(argv[2], NULL, 10));
#if defined(__GLIBC__)
  /* A fixed mmap threshold: every large malloc gets fresh pages, as the
   * first-touch baseline intends (glibc otherwise raises the threshold
   * after a free and serves later blocks from already-touched heap). */
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  config_t c = {7, 300, (size_t)1 << 30, (size_t)1 << 30, 4096, SMA_BENCH_PYTHON, SMA_BENCH_SMA, NULL};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--quick") == 0) {
      c.reps = 3, c.iters = 5, c.touch_bytes = 8u << 20, c.handoff_bytes = 8u << 20, c.demo_size = 256;
      continue;
    }
    if (v == NULL) return usage();
    i++;
    if (strcmp(argv[i - 1], "--reps") == 0) c.reps = atoi(v);
    else if (strcmp(argv[i - 1], "--iters") == 0) c.iters = atoi(v);
    else if (strcmp(argv[i - 1], "--touch-mb") == 0) c.touch_bytes = (size_t)atoi(v) << 20;
    else if (strcmp(argv[i - 1], "--handoff-mb") == 0) c.handoff_bytes = (size_t)atoi(v) << 20;
    else if (strcmp(argv[i - 1], "--demo-size") == 0) c.demo_size = (size_t)atoi(v);
    else if (strcmp(argv[i - 1], "--python") == 0) c.python = v;
    else if (strcmp(argv[i - 1], "--sma") == 0) c.sma = v;
    else return usage();
  }
  if (c.reps < 1 || c.reps > MAX_REPS || c.iters < 1 || c.touch_bytes == 0) return usage();
  char self[4096];
  if (proc_self_path(self, sizeof self, argv[0]) != 0) return fail("own path", 0);
  c.self = self;

  char name[SMA_NAME_BUF], raw_name[SMA_NAME_BUF];
  int rc = sma_build_name(name, &(size_t){sizeof name}, "bench");
  if (rc == 0) rc = sma_build_name(raw_name, &(size_t){sizeof raw_name}, "benchraw");
  if (rc != 0) return fail("names", rc);
  machine();
  printf("| benchmark | libsma | baseline | ratio | goal | baseline is |\n");
  printf("| --- | --- | --- | --- | --- | --- |\n");
  double a, b;

  /* 1. lifecycle */
  raw_ctx_t reserve = {raw_name, 1}, lazy = {raw_name, 0};
  life_ctx_t life = {name, 0}, life_lazy = {name, SMA_CREATE_NORESERVE};
  if (compare(&c, life_sma, &life, life_raw, &reserve, &a, &b) != 0) return fail("lifecycle", 0);
  row("lifecycle: create+map+touch+close+unlink, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "same calls on the OS, memory reserved as libsma does");
#if defined(SMA_BACKEND_posix) && defined(__linux__)
  if (compare(&c, life_sma, &life_lazy, life_raw, &lazy, &a, &b) != 0) return fail("lifecycle", 0);
  row("lifecycle with SMA_CREATE_NORESERVE, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "shm_open+ftruncate+mmap (no reservation)");
#else
  (void)lazy;
  (void)life_lazy;
#endif

  /* 2. attach */
  size_t shape[1] = {LIFE_BYTES};
  sma_t *att, *att2;
  if ((rc = sma_new(&att, name, 1, shape, SMA_UINT8, NULL, 0)) != 0 || (rc = sma_create(att, 0)) != 0 ||
      (rc = sma_new(&att2, name, 1, shape, SMA_UINT8, NULL, 0)) != 0)
    return fail("attach setup", rc);
  raw_ctx_t att_raw = {name, 0};
#if defined(SMA_BACKEND_sysv)
  att_raw.reserve = (int)0; /* find the key libsma used */
  {
    struct shmid_ds ds;
    if (shmctl((int)sma_os_handle(att), IPC_STAT, &ds) == 0) att_raw.reserve = (int)ds.shm_perm.__key;
  }
#endif
  if (compare(&c, attach_sma, att2, attach_raw, &att_raw, &a, &b) != 0) return fail("attach", 0);
  row("attach: load (record checked) + close, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "open+size+map+unmap+close");
  sma_free(att2);
  sma_free(att);
  sma_unlink(name);

  /* 3. first touch */
  char mib[64];
  snprintf(mib, sizeof mib, "%zu MiB", c.touch_bytes >> 20);
  touch_ctx_t plain = {name, 0, 0}, pre = {name, SMA_CREATE_PREFAULT, 0},
              pre_total = {name, SMA_CREATE_PREFAULT, 1};
  char what[128];
  if (compare(&c, touch_sma, &plain, touch_malloc, NULL, &a, &b) != 0) return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: write %s, no prefault", mib);
  row(what, a * 1e3, b * 1e3, "ms", 0, "malloc+memset");
  if (compare(&c, touch_sma, &pre, touch_malloc, NULL, &a, &b) != 0) return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: write %s, SMA_CREATE_PREFAULT", mib);
  row(what, a * 1e3, b * 1e3, "ms", 1.2, "malloc+memset");
  if (compare(&c, touch_sma, &pre_total, touch_malloc, NULL, &a, &b) != 0) return fail("first touch", 0);
  snprintf(what, sizeof what, "first touch: create+prefault+write %s", mib);
  row(what, a * 1e3, b * 1e3, "ms", 0, "malloc+memset");

  /* 3b. huge pages: the whole cost of a large array, create + first write */
  if (huge_pages_offered(&c, name)) {
    touch_ctx_t huge_total = {name, SMA_CREATE_HUGEPAGES, 1}, plain_total = {name, 0, 1};
    if (compare(&c, touch_sma, &huge_total, touch_sma, &plain_total, &a, &b) != 0)
      return fail("huge pages", 0);
    snprintf(what, sizeof what, "huge pages: create+write %s, SMA_CREATE_HUGEPAGES", mib);
    row(what, a * 1e3, b * 1e3, "ms", 0.25, "the same without the flag (4 KiB pages)");
    unsigned char *warm = malloc(c.touch_bytes);
    if (warm == NULL) return fail("huge pages buffer", 0);
    memset(warm, 1, c.touch_bytes);
    if (compare(&c, touch_sma, &huge_total, touch_pretouched, warm, &a, &b) != 0)
      return fail("huge pages", 0);
    free(warm);
    snprintf(what, sizeof what, "huge pages: create+write %s vs memset of touched memory", mib);
    row(what, a * 1e3, b * 1e3, "ms", 1.5, "memset of malloc'd memory already touched");
  } else {
    printf("| huge pages: create+write %s | — | — | — | — | not offered here: mount /dev/shm "
           "with huge=advise (README) |\n", mib);
  }

  /* 4. hand-off */
#if !defined(_WIN32)
  {
    size_t hshape[1] = {c.handoff_bytes};
    sma_t *h;
    char desc[512];
    unsigned char *bytes = malloc(c.handoff_bytes);
    if (bytes == NULL) return fail("hand-off buffer", 0);
    memset(bytes, 0x5a, c.handoff_bytes);
    if ((rc = sma_new(&h, name, 1, hshape, SMA_UINT8, NULL, 0)) != 0 ||
        (rc = sma_create(h, SMA_CREATE_PREFAULT)) != 0 || (rc = sma_describe(h, desc, &(size_t){sizeof desc})) != 0)
      return fail("hand-off setup", rc);
    memset(sma_data(h), 0x5a, c.handoff_bytes);
    if (compare(&c, handoff_sma, desc, handoff_pipe, bytes, &a, &b) != 0) {
      sma_free(h);
      sma_unlink(name);
      free(bytes);
      return fail("hand-off", 0);
    }
    snprintf(what, sizeof what, "hand-off of %zu MiB to a child (descriptor: %zu bytes)",
             c.handoff_bytes >> 20, strlen(desc));
    row(what, a * 1e3, b * 1e3, "ms", 0, "the bytes through a pipe");
    sma_free(h);
    sma_unlink(name);
    free(bytes);
  }
#endif

  /* 5. scaling */
  if (c.sma[0] != '\0') {
    int one = 1, two = 2, n = proc_cpu_count();
    if (compare(&c, scale_side, &one, scale_side, &two, &a, &b) != 0) return fail("scaling", 0);
    snprintf(what, sizeof what, "scaling: sma demo %zux%zu, 2 workers vs 1 (speedup)", c.demo_size,
             c.demo_size);
    row(what, a, b, "s", -1.8, "time with 1 worker / time with 2");
    if (n > 2) {
      if (compare(&c, scale_side, &one, scale_side, &n, &a, &b) != 0) return fail("scaling", 0);
      snprintf(what, sizeof what, "scaling: %d workers vs 1 (speedup)", n);
      row(what, a, b, "s", 0, "time with 1 worker / time with N");
    }
  }

  /* 6. Python */
  if (c.python[0] != '\0') {
    if (compare(&c, life_sma, &life_lazy, life_python, name, &a, &b) != 0) return fail("python", 0);
    row("lifecycle (NORESERVE, as Python sizes) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
        "multiprocessing.shared_memory, same loop");
    if (compare(&c, life_sma, &life, life_python, name, &a, &b) != 0) return fail("python", 0);
    row("lifecycle (default: reserved) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
        "multiprocessing.shared_memory, same loop");
  } else {
    printf("| lifecycle vs Python | — | — | — | — | no python3 found |\n");
  }
  return 0;
}
