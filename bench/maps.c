/*
 * sma_bench section "maps": the mapping cache (src/map_cache.c). Loads of
 * a segment this process already maps share that mapping; these rows
 * measure what such a load costs, how loads in threads scale, and gridr's
 * tile pattern in one process against Python's.
 */
#include "bench.h"
#include "floor.h"

#include <stdio.h>
#include <string.h>

#if !defined(_WIN32)
#  include <pthread.h>
#  include <unistd.h>
#endif

typedef struct held {
  const char *name;
  size_t side;  /* the array is side x side float32, all ones */
  size_t tiles; /* (side / TILE)^2 */
} held_t;

#if !defined(_WIN32)
/* Loads and closes one tile-sliced object again and again. */
static double load_held(const config_t *c, void *ctx) {
  const held_t *h = ctx;
  sma_slice_t box[2] = {{0, TILE, 1}, {0, TILE, 1}};
  size_t shape[2] = {h->side, h->side};
  sma_t *tile;
  if (sma_new(&tile, &(sma_array_desc_t){.name = h->name,
                                         .ndim = 2,
                                         .shape = shape,
                                         .dtype = SMA_FLOAT32,
                                         .slice = box,
                                         .nslice = 2}) != 0)
    return -1;
  int n = c->iters * 10;
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    if (sma_load(tile) != 0) return -1;
    sma_close(tile);
  }
  double t = (proc_now() - t0) / n;
  sma_free(tile);
  return t;
}

/* Five bare system calls (getppid, which no C library caches): a load +
 * close of a mapped segment makes five (geteuid, getpid twice, fstatat,
 * pread), so this row says how much of its time is the calls' entry and
 * exit on this machine, whatever the load. */
static double five_system_calls(const config_t *c, void *ctx) {
  (void)ctx;
  int n = c->iters * 10;
  double t0 = proc_now();
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 5; k++) (void)getppid();
  return (proc_now() - t0) / n;
}

/* The floor of a cold attach, as attach.c's row (floor.h). */
static double attach_floor(const config_t *c, void *ctx) {
  return floor_attach(ctx, c->iters * 10);
}
#endif

/* gridr's tile loop in this process (tiles.c): every tile loaded as a
 * slice, summed, closed (load_each), or summed through one view; seconds
 * for all. */
static double tiles_here(const held_t *h, int load_each) {
  sma_t *whole;
  if (sma_open(&whole, h->name, NULL, 0) != 0) return -1;
  double t = tile_loop(h->name, whole, 0, h->tiles, load_each);
  sma_free(whole);
  return t;
}

static double tiles_here_sma(const config_t *c, void *ctx) {
  (void)c;
  const held_t *h = ctx;
  double summing = tiles_here(h, 0), loading = tiles_here(h, 1);
  return tile_overhead(summing, loading, h->tiles);
}

/* The same in Python (tiles_one_process.py). */
static double tiles_here_python(const config_t *c, void *ctx) {
  const held_t *h = ctx;
  char tile[16], side[32];
  snprintf(tile, sizeof tile, "%d", TILE);
  snprintf(side, sizeof side, "%zu", h->side);
  const char *args[] = {tile, side, h->name, NULL};
  double t[2];
  if (python_numbers(c, "tiles_one_process.py", args, t, 2) != 0) return -1;
  return tile_overhead(t[0], t[1], h->tiles);
}

#if !defined(_WIN32)
typedef struct threads_ctx {
  const held_t *held;
  int threads;
  size_t loads;  /* in all, split between the threads */
  int load_each; /* 0: the control, the same sums over the held mapping, no load or close */
} threads_ctx_t;

typedef struct worker {
  const held_t *held;
  const sma_t *whole;
  size_t first, count;
  int load_each;
  int failed;
} worker_t;

static void *thread_tiles(void *arg) {
  worker_t *w = arg;
  size_t per_row = w->held->side / TILE;
  for (size_t i = 0; i < w->count; i++) {
    size_t t = (w->first + i) % w->held->tiles, r0 = t / per_row * TILE, c0 = t % per_row * TILE;
    if (!w->load_each) {
      w->failed |= sum_tile(sma_view_get(w->whole), r0, c0) != TILE * TILE;
      continue;
    }
    sma_slice_t box[2] = {{(int64_t)r0, (int64_t)(r0 + TILE), 1},
                          {(int64_t)c0, (int64_t)(c0 + TILE), 1}};
    sma_t *tile;
    if (sma_open(&tile, w->held->name, box, 2) != 0) {
      w->failed = 1;
      return NULL;
    }
    w->failed |= sum_tile(sma_view_get(tile), 0, 0) != TILE * TILE;
    sma_free(tile);
  }
  return NULL;
}

/* Seconds for ctx->loads tile loads (slice + sum + close) shared by
 * ctx->threads threads, the segment held loaded meanwhile. */
static double tiles_threads(const config_t *c, void *ctx) {
  (void)c;
  const threads_ctx_t *t = ctx;
  enum { MAX = 8 };
  pthread_t th[MAX];
  worker_t w[MAX];
  sma_t *whole;
  if (t->threads > MAX || sma_open(&whole, t->held->name, NULL, 0) != 0) return -1;
  double t0 = proc_now();
  int started = 0, failed = 0;
  for (int k = 0; k < t->threads; k++, started++) {
    w[k] = (worker_t){t->held,
                      whole,
                      t->loads * (size_t)k / (size_t)t->threads,
                      t->loads / (size_t)t->threads,
                      t->load_each,
                      0};
    if (pthread_create(&th[k], NULL, thread_tiles, &w[k]) != 0) break;
  }
  for (int k = 0; k < started; k++) {
    pthread_join(th[k], NULL);
    failed |= w[k].failed;
  }
  double s = proc_now() - t0;
  sma_free(whole);
  return started < t->threads || failed ? -1 : s;
}
#endif

int bench_maps(const config_t *c, const char *name) {
  if (!wanted(c, "maps")) return 0;
  size_t side = c->tile_side, shape[2] = {side, side};
  sma_t *array;
  int rc;
  if ((rc = sma_new(&array,
                    &(sma_array_desc_t){
                        .name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32})) != 0 ||
      (rc = sma_create(array, 0)) != 0)
    return fail("maps setup", rc);
  use_array(sma_data(array), sma_nbytes(array), 1);
  held_t h = {name, side, (side / TILE) * (side / TILE)};
  sma_t *holder = NULL;
  double a = 0, b = 0;
  char what[200];
  rc = sma_open(&holder, name, NULL, 0);
#if !defined(_WIN32)
  if (rc == 0 && strcmp(sma_backend(), "posix") == 0) {
    char note[160];
    floor_object_t object;
    rc = floor_find(&object, array, name) != 0
             ? -1
             : compare(c, load_held, &h, attach_floor, &object, &a, &b);
    if (rc == 0) {
      snprintf(what, sizeof what,
               "load+close of a mapped segment (a %dx%d slice of %zux%zu float32)", TILE, TILE,
               side, side);
      snprintf(note, sizeof note, "cold attach floor (open+size+map+unmap+close); goal ≤ 2 µs: %s",
               a * 1e6 <= 2 ? "met" : "missed");
      row(what, a * 1e6, b * 1e6, "µs", 0, note);
      rc = compare(c, load_held, &h, five_system_calls, NULL, &a, &b);
    }
    if (rc == 0)
      row("load+close of a mapped segment vs five bare system calls (getppid)", a * 1e6, b * 1e6,
          "µs", 0, "as many system calls as the load + close makes, doing nothing");
  }
  /* The control row is the machine's own scaling of the same sums: where
   * it is far below 2 (no second free core), so is the row above it. */
  for (int load_each = 1; rc == 0 && load_each >= 0; load_each--) {
    size_t loads = (size_t)c->iters * 40 * (load_each ? 1 : 8);
    threads_ctx_t one = {&h, 1, loads, load_each}, two = {&h, 2, loads, load_each};
    rc = compare(c, tiles_threads, &one, tiles_threads, &two, &a, &b);
    if (rc == 0 && load_each)
      row("threads: tile load+sum+close of one mapped segment, 2 threads vs 1 (speedup)", a, b, "s",
          -1.8, "time with 1 thread / time with 2");
    else if (rc == 0)
      row("threads, control: the same sums without load or close, 2 threads vs 1 (speedup)", a, b,
          "s", 0, "the machine's own scaling: time with 1 thread / time with 2");
  }
#endif
  sma_free(holder);
  if (rc == 0 && c->python[0] != '\0') {
    rc = compare(c, tiles_here_sma, &h, tiles_here_python, &h, &a, &b);
    if (rc == 0) {
      snprintf(what, sizeof what,
               "many tiles, one process: %zux%zu float32, %zu tiles of %dx%d: "
               "overhead per tile (load with slice + close)",
               side, side, h.tiles, TILE, TILE);
      row(what, a * 1e6, b * 1e6, "µs", 0.05,
          "Python: SharedMemory + np.ndarray + slice, same loop");
    }
  }
  sma_free(array);
  sma_unlink(name);
  return rc != 0 ? fail("maps", rc) : 0;
}
