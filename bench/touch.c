/*
 * sma_bench sections "touch" and "huge": the first write to a new array's
 * memory. "touch": writing a fresh array with and without
 * SMA_CREATE_PREFAULT against malloc + memset; "huge": the whole cost of
 * a large array with SMA_CREATE_HUGEPAGES, where /dev/shm offers them.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int bench_touch(const config_t *c, const char *name) {
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
int bench_huge(const config_t *c, const char *name) {
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
