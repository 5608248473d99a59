// sma_bench section "peers": Boost.Interprocess beside libsma, the same
// work on each side: the lifecycle (create, map, touch, close, remove),
// a cold attach (open, map, unmap, close) and gridr's tile loop in one
// process. Built only where CMake finds a C++ compiler and Boost's
// headers (bench/peers_none.c stands in elsewhere); the library stays C.
#include "bench.h"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cstdio>
#include <cstring>

namespace bip = boost::interprocess;

namespace {

enum { LIFE = 1 << 20 };

struct peer_ctx {
  const char *name;
  size_t side;
};

double life_sma(const config_t *c, void *ctx) {
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  size_t shape[1] = {LIFE / sizeof(float)};
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    sma_t *a;
    sma_array_desc_t desc = {};
    desc.name = p->name;
    desc.ndim = 1;
    desc.shape = shape;
    desc.dtype = SMA_FLOAT32;
    if (sma_new(&a, &desc) != 0 || sma_create(a, SMA_CREATE_NORESERVE) != 0) return -1;
    use_array(sma_data(a), LIFE, 0);
    sma_free(a);
    if (sma_unlink(p->name) != 0) return -1;
  }
  return (proc_now() - t0) / c->iters;
}

double life_boost(const config_t *c, void *ctx) {
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  double t0 = proc_now();
  try {
    for (int i = 0; i < c->iters; i++) {
      {
        bip::shared_memory_object shm(bip::create_only, p->name, bip::read_write);
        shm.truncate(LIFE + 4096); // the same size as libsma's (array + record page)
        bip::mapped_region region(shm, bip::read_write);
        use_array(region.get_address(), LIFE, 0);
      }
      bip::shared_memory_object::remove(p->name);
    }
  } catch (const bip::interprocess_exception &) {
    return -1;
  }
  return (proc_now() - t0) / c->iters;
}

double attach_sma(const config_t *c, void *ctx) {
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  double t0 = proc_now();
  for (int i = 0; i < c->iters; i++) {
    sma_t *a;
    if (sma_open(&a, p->name, nullptr, 0) != 0) return -1;
    sma_free(a);
  }
  return (proc_now() - t0) / c->iters;
}

double attach_boost(const config_t *c, void *ctx) {
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  double t0 = proc_now();
  try {
    for (int i = 0; i < c->iters; i++) {
      bip::shared_memory_object shm(bip::open_only, p->name, bip::read_write);
      bip::mapped_region region(shm, bip::read_write);
      if (region.get_size() == 0) return -1;
    }
  } catch (const bip::interprocess_exception &) {
    return -1;
  }
  return (proc_now() - t0) / c->iters;
}

// gridr's tile loop, one process: per tile, attach + view the slice + sum
// + detach, minus summing through one mapping.
double tile_sum(const float *base, size_t side, size_t r0, size_t c0) {
  double sum = 0;
  for (size_t i = 0; i < TILE; i++)
    for (size_t j = 0; j < TILE; j++) sum += base[(r0 + i) * side + c0 + j];
  return sum;
}

double tiles_boost(const config_t *c, void *ctx) {
  (void)c;
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  size_t per = p->side / TILE, tiles = per * per;
  double summing, loading, total = 0;
  try {
    bip::shared_memory_object shm(bip::open_only, p->name, bip::read_write);
    bip::mapped_region whole(shm, bip::read_write);
    double t0 = proc_now();
    for (size_t t = 0; t < tiles; t++)
      total += tile_sum(static_cast<const float *>(whole.get_address()), p->side, t / per * TILE,
                        t % per * TILE);
    summing = proc_now() - t0;
    t0 = proc_now();
    for (size_t t = 0; t < tiles; t++) {
      bip::shared_memory_object one(bip::open_only, p->name, bip::read_write);
      bip::mapped_region region(one, bip::read_write);
      total += tile_sum(static_cast<const float *>(region.get_address()), p->side, t / per * TILE,
                        t % per * TILE);
    }
    loading = proc_now() - t0;
  } catch (const bip::interprocess_exception &) {
    return -1;
  }
  if (total != 2.0 * (double)tiles * TILE * TILE) return -1;
  return tile_overhead(summing, loading, tiles);
}

double tiles_sma(const config_t *c, void *ctx) {
  (void)c;
  const peer_ctx *p = static_cast<const peer_ctx *>(ctx);
  size_t per = p->side / TILE, tiles = per * per;
  sma_t *whole;
  if (sma_open(&whole, p->name, nullptr, 0) != 0) return -1;
  double total = 0, t0 = proc_now();
  for (size_t t = 0; t < tiles; t++)
    total += sum_tile(sma_view_get(whole), t / per * TILE, t % per * TILE);
  double summing = proc_now() - t0;
  t0 = proc_now();
  for (size_t t = 0; t < tiles; t++) {
    int64_t r0 = (int64_t)(t / per * TILE), c0 = (int64_t)(t % per * TILE);
    sma_slice_t box[2] = {{r0, r0 + TILE, 1}, {c0, c0 + TILE, 1}};
    sma_t *tile;
    if (sma_open(&tile, p->name, box, 2) != 0) return -1;
    total += sum_tile(sma_view_get(tile), 0, 0);
    sma_free(tile);
  }
  double loading = proc_now() - t0;
  sma_free(whole);
  if (total != 2.0 * (double)tiles * TILE * TILE) return -1;
  return tile_overhead(summing, loading, tiles);
}

} // namespace

extern "C" int bench_peers(const config_t *c, const char *name) {
  if (!wanted(c, "peers")) return 0;
  if (std::strcmp(sma_backend(), "posix") != 0) {
    std::printf("| Boost.Interprocess | — | — | — | — | compared on the POSIX backend only |\n");
    return 0;
  }
  peer_ctx p = {name, c->tile_side};
  double a, b;
  if (compare(c, life_sma, &p, life_boost, &p, &a, &b) != 0) return fail("peers lifecycle", 0);
  row("lifecycle vs Boost.Interprocess (NORESERVE, as Boost sizes), 1 MiB", a * 1e6, b * 1e6, "µs",
      1.0, "shared_memory_object+truncate+mapped_region; libsma also writes and checks the record");
  size_t shape[2] = {c->tile_side, c->tile_side};
  sma_t *array;
  int rc;
  sma_array_desc_t desc = {};
  desc.name = name;
  desc.ndim = 2;
  desc.shape = shape;
  desc.dtype = SMA_FLOAT32;
  if ((rc = sma_new(&array, &desc)) != 0 || (rc = sma_create(array, 0)) != 0)
    return fail("peers setup", rc);
  use_array(sma_data(array), sma_nbytes(array), 1);
  rc = compare(c, attach_sma, &p, attach_boost, &p, &a, &b);
  if (rc == 0)
    row("attach vs Boost.Interprocess: open + map + unmap + close", a * 1e6, b * 1e6, "µs", 1.0,
        "open_only + mapped_region; libsma also reads and checks the record");
  if (rc == 0) rc = compare(c, tiles_sma, &p, tiles_boost, &p, &a, &b);
  if (rc == 0) {
    char what[200];
    std::snprintf(what, sizeof what,
                  "many tiles vs Boost.Interprocess, one process: %zux%zu float32, "
                  "overhead per tile",
                  c->tile_side, c->tile_side);
    row(what, a * 1e6, b * 1e6, "µs", 1.0, "open_only + mapped_region per tile, as gridr's load()");
  }
  sma_free(array);
  sma_unlink(name);
  return rc != 0 ? fail("peers", rc) : 0;
}
