/*
 * sma_bench section "attach": sma_load (which reads and checks the
 * record) + sma_close of an existing 1 MiB array, against the backend's
 * floor: open, size, map, unmap, close by hand (floor.h).
 */
#include "bench.h"
#include "floor.h"

static double attach_sma(const config_t *c, void *ctx) {
  sma_t *a = ctx;
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    if (sma_load(a) != 0) return -1;
    sma_close(a);
  }
  return (proc_now() - t0) / c->iters;
}

static double attach_floor(const config_t *c, void *ctx) { return floor_attach(ctx, c->iters); }

int bench_attach(const config_t *c, const char *name) {
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
  floor_object_t object;
  double a, b;
  rc = floor_find(&object, att, name) != 0
           ? -1
           : compare(c, attach_sma, att2, attach_floor, &object, &a, &b);
  sma_free(att2);
  sma_free(att);
  sma_unlink(name);
  if (rc != 0) return fail("attach", 0);
  row("attach: load (record checked) + close, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "open+size+map+unmap+close");
  return 0;
}
