/*
 * sma_bench: libsma against the floor (the backend's bare OS calls),
 * malloc + memset, a pipe, Python's multiprocessing.shared_memory and
 * Boost.Interprocess. Each figure is a ratio measured side by side in one
 * run (harness.c). Prints one markdown table; exits non-zero only when
 * something fails to run, never on a missed goal.
 *
 *   sma_bench [--quick] [--reps N] [--iters N] [--touch-mb N]
 *             [--handoff-mb N] [--demo-size N] [--tile-side N]
 *             [--only SECTION] [--python PATH] [--sma PATH]
 * --quick shrinks every size and count (ctest's smoke run).
 *
 * This file owns the command line, the sizes, the machine line and the
 * order of the sections; each section is a file of its own (bench.h),
 * and sma_bench is also the child process some of them start.
 */
#include "bench.h"
#include "process_services.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#  include <malloc.h>
#endif
#if !defined(_WIN32)
#  include <sys/utsname.h>
#endif

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
  unsigned version = sma_version(); /* MAJOR*10000 + MINOR*100 + PATCH */
  printf("; libsma %u.%u.%u, %s backend\n\n", version / 10000, version / 100 % 100, version % 100,
         sma_backend());
}

/* A whole number in [1, max], nothing after it; 0 for anything else
 * (then the usage message). */
static size_t count_arg(const char *v, size_t max) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n == 0 || n > max) return 0;
  return (size_t)n;
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

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child-load") == 0) return handoff_child_load(argv[2]);
  if (argc == 3 && strcmp(argv[1], "--child-pipe") == 0)
    return handoff_child_pipe((size_t)strtoull(argv[2], NULL, 10));
  if (argc == 6 && strcmp(argv[1], "--child-tiles") == 0)
    return tiles_child(argv[2], argv[3], atoi(argv[4]), strcmp(argv[5], "load") == 0);
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
      c.reps = (int)count_arg(v, MAX_REPS);
    else if (strcmp(argv[i - 1], "--iters") == 0)
      c.iters = (int)count_arg(v, 1000000);
    else if (strcmp(argv[i - 1], "--touch-mb") == 0)
      c.touch_bytes = count_arg(v, SIZE_MAX >> 21) << 20;
    else if (strcmp(argv[i - 1], "--handoff-mb") == 0)
      c.handoff_bytes = count_arg(v, SIZE_MAX >> 21) << 20;
    else if (strcmp(argv[i - 1], "--demo-size") == 0)
      c.demo_size = count_arg(v, 1 << 20);
    else if (strcmp(argv[i - 1], "--tile-side") == 0)
      c.tile_side = count_arg(v, 1 << 20);
    else if (strcmp(argv[i - 1], "--only") == 0)
      c.only = v;
    else if (strcmp(argv[i - 1], "--python") == 0)
      c.python = v;
    else if (strcmp(argv[i - 1], "--sma") == 0)
      c.sma = v;
    else
      return usage();
  }
  if (c.reps < 1 || c.iters < 1 || c.touch_bytes == 0 || c.handoff_bytes == 0 || c.demo_size == 0 ||
      c.tile_side < TILE || c.tile_side % TILE != 0)
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
