/*
 * sma_bench section "scaling": the whole `sma demo` program with two
 * workers (and with every core, where there are more) against one: the
 * speedup a real multi-process user of libsma sees. The command is this
 * build's (--sma), started under the build's emulator if it has one.
 */
#include "bench.h"
#include "process_services.h"

#include <stdio.h>

/* Runs `sma demo` with k workers, returns its wall time for the k-worker
 * pass, or -1. */
static double demo_time(const config_t *c, int workers) {
  char size[32], count[16], cmd[2048];
  snprintf(size, sizeof size, "%zu", c->demo_size);
  snprintf(count, sizeof count, "%d", workers);
  const char *argv[] = {c->sma, "demo",          "--size",   size,       "--workers",
                        count,  "--no-baseline", "--prefix", "smabench", NULL};
  const char *emulated[16];
  if (shell_command(cmd, sizeof cmd,
                    proc_argv(argv, emulated, sizeof emulated / sizeof *emulated)) != 0)
    return -1;
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

int bench_scaling(const config_t *c) {
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
