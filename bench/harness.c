/*
 * sma_bench's harness: how a figure is measured (the two sides of a row
 * alternate, c->reps times, the median of each is taken) and how it is
 * printed (one markdown table row, the ratio and its goal). Apart from the
 * sections, which only say what each side does and what the row is.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A side returning a negative time failed; c->reps is at most MAX_REPS. */
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

/* --only SECTION runs one section (lifecycle, attach, touch, huge, maps, peers, files,
 * listing, handoff, scaling, python, fill, tiles); all by default. */
int wanted(const config_t *c, const char *section) {
  return c->only == NULL || strcmp(c->only, section) == 0;
}
