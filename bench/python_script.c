/*
 * The Python side of the rows that compare with Python: the programs are
 * bench/NAME.py, found in the source directory CMake passes in
 * (SMA_BENCH_SCRIPTS), each started with c->python and its arguments and
 * read for the numbers it prints. Apart from the sections so that they
 * say only which program with what, and the programs stay plain Python.
 */
#include "bench.h"

#include <stdio.h>

enum { MAX_ARGS = 16 };

int python_numbers(const config_t *c, const char *script, const char *const *args, double *out,
                   int n) {
  char path[1024], cmd[4096];
  if (snprintf(path, sizeof path, "%s/%s", SMA_BENCH_SCRIPTS, script) >= (int)sizeof path)
    return -1;
  FILE *program = fopen(path, "r");
  if (program == NULL) { /* say which file: Python's own message goes by in the table */
    fprintf(stderr, "sma_bench: %s: cannot be read (the Python programs stay in bench/)\n", path);
    return -1;
  }
  fclose(program);
  const char *argv[MAX_ARGS + 3] = {c->python, path};
  size_t k = 0;
  for (; args[k] != NULL; k++) {
    if (k == MAX_ARGS) return -1;
    argv[k + 2] = args[k];
  }
  argv[k + 2] = NULL;
  if (shell_command(cmd, sizeof cmd, argv) != 0) return -1;
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int got = 0;
  while (got < n && fscanf(p, "%lf", &out[got]) == 1) got++;
  return pclose(p) == 0 && got == n ? 0 : -1;
}
