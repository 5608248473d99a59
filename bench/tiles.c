/*
 * sma_bench section "tiles": gridr's chains. Each task loads its tile of
 * a large shared float32 array as a slice, sums it, closes it. Two worker
 * processes (sma_bench --child-tiles; main.c) share the tiles; each times
 * its own loop and writes the seconds into a result array (a libsma
 * segment too). Mode "sum" maps the array once and sums every tile
 * through the same view arithmetic, so load-mode time minus sum-mode time
 * is the per-tile cost of loading and closing. The baseline is the same
 * in Python (tiles.py). The tile loop itself serves maps.c too.
 */
#include "bench.h"
#include "process_services.h"

#include <stdio.h>

enum { TILE_WORKERS = 2 };

double sum_tile(const sma_view_t *v, size_t r0, size_t c0) {
  double sum = 0;
  for (size_t i = 0; i < TILE; i++) {
    const float *row = sma_view_at2(v, r0 + i, c0);
    for (size_t j = 0; j < TILE; j++) sum += row[j];
  }
  return sum;
}

double tile_loop(const char *name, const sma_t *whole, size_t first, size_t last, int load_each) {
  size_t per_row = sma_shape(whole)[0] / TILE;
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
    if (sma_open(&tile, name, box, 2) != 0) return -1;
    total += sum_tile(sma_view_get(tile), 0, 0);
    sma_free(tile);
  }
  double seconds = proc_now() - t0;
  return total == (double)(last - first) * TILE * TILE ? seconds : -1; /* every element is 1 */
}

/* A run too short to see the overhead (--quick: a few tiles) can measure
 * it below zero; that is reported as 0. */
double tile_overhead(double summing, double loading, size_t tiles) {
  if (summing < 0 || loading < 0) return -1;
  return loading > summing ? (loading - summing) / (double)tiles : 0;
}

int tiles_child(const char *name, const char *result_desc, int worker, int load_each) {
  sma_t *whole, *result;
  worker %= TILE_WORKERS;
  if (sma_open(&whole, name, NULL, 0) != 0) return 1;
  size_t per_row = sma_shape(whole)[0] / TILE, tiles = per_row * per_row;
  size_t first = tiles * (size_t)worker / TILE_WORKERS,
         last = tiles * (size_t)(worker + 1) / TILE_WORKERS;
  double seconds = tile_loop(name, whole, first, last, load_each);
  sma_free(whole);
  if (sma_parse(&result, NULL, result_desc) != 0 || sma_load(result) != 0) return 1;
  ((double *)sma_data(result))[worker] = seconds;
  sma_free(result);
  return seconds >= 0 ? 0 : 1;
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

static double tiles_sma(const config_t *c, void *ctx) {
  const tiles_ctx_t *t = ctx;
  double summing = tiles_run(c, t, 0), loading = tiles_run(c, t, 1);
  return tile_overhead(summing, loading, t->tiles);
}

/* The same in Python (tiles.py), as gridr's SharedMemoryArray.load()
 * does it. */
static double tiles_python(const config_t *c, void *ctx) {
  const tiles_ctx_t *t = ctx;
  char tile[16], workers[16], side[32];
  snprintf(tile, sizeof tile, "%d", TILE);
  snprintf(workers, sizeof workers, "%d", TILE_WORKERS);
  snprintf(side, sizeof side, "%zu", c->tile_side);
  const char *args[] = {tile, workers, side, t->name, NULL};
  double times[2];
  if (python_numbers(c, "tiles.py", args, times, 2) != 0) return -1;
  return tile_overhead(times[0], times[1], t->tiles);
}

int bench_tiles(const config_t *c, const char *name, const char *raw_name) {
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
