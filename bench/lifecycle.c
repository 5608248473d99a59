/*
 * sma_bench sections "lifecycle", "python" and "fill": the whole life of
 * a new array (create, map, touch its first byte or fill every element,
 * close, unlink) in a loop, against the backend's floor (floor.h) and
 * Python's multiprocessing.shared_memory (lifecycle.py). One loop, three
 * sections: the sizes and the baselines differ.
 */
#include "bench.h"
#include "floor.h"

#include <stdio.h>

/* What one iteration does with the array between create and close: touch
 * its first byte, or fill every float32 element (the work a user actually
 * does with a new array). */
typedef struct life_ctx {
  const char *name;
  unsigned flags;
  size_t bytes; /* array bytes, a multiple of 4 */
  int fill;
} life_ctx_t;

void use_array(void *p, size_t bytes, int fill) {
  if (!fill) {
    ((volatile unsigned char *)p)[0] = 1;
    return;
  }
  float *f = p;
  for (size_t i = 0; i < bytes / sizeof *f; i++) f[i] = 1.0f;
  ((volatile float *)f)[0] = 1.0f; /* the loop's stores are not dead */
}

/* Iterations for one timed batch: c->iters for 1 MiB and less, fewer for
 * larger arrays so that a batch stays near the same length. */
static int iters_for(const config_t *c, size_t bytes) {
  double scaled = (double)c->iters * LIFE_BYTES / (double)bytes;
  return scaled >= c->iters ? c->iters : scaled < 3 ? 3 : (int)scaled;
}

static double life_sma(const config_t *c, void *ctx) {
  const life_ctx_t *l = ctx;
  size_t shape[1] = {l->bytes / sizeof(float)};
  int n = iters_for(c, l->bytes);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    sma_t *a;
    if (sma_new(&a,
                &(sma_array_desc_t){
                    .name = l->name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0 ||
        sma_create(a, l->flags) != 0)
      return -1;
    use_array(sma_data(a), l->bytes, l->fill);
    sma_free(a);
    if (sma_unlink(l->name) != 0) return -1;
  }
  return (proc_now() - t0) / n;
}

/* The same loop on the backend's bare OS calls (ctx: a floor_life_t). */
static double life_floor(const config_t *c, void *ctx) {
  const floor_life_t *l = ctx;
  return floor_lifecycle(l, iters_for(c, l->bytes));
}

/* The same loop in Python (ctx: a life_ctx_t; its flags are not Python's). */
static double life_python(const config_t *c, void *ctx) {
  const life_ctx_t *l = ctx;
  char n[16], bytes[32], fill[4];
  snprintf(n, sizeof n, "%d", iters_for(c, l->bytes));
  snprintf(bytes, sizeof bytes, "%zu", l->bytes);
  snprintf(fill, sizeof fill, "%d", l->fill);
  double t;
  const char *args[] = {n, bytes, l->name, fill, NULL};
  return python_numbers(c, "lifecycle.py", args, &t, 1) == 0 ? t : -1;
}

int bench_lifecycle(const config_t *c, const char *name, const char *raw_name) {
  floor_life_t reserve = {raw_name, 1, LIFE_BYTES, 0}, lazy = {raw_name, 0, LIFE_BYTES, 0};
  life_ctx_t life = {name, 0, LIFE_BYTES, 0},
             life_lazy = {name, SMA_CREATE_NORESERVE, LIFE_BYTES, 0};
  double a, b;
  if (compare(c, life_sma, &life, life_floor, &reserve, &a, &b) != 0) return fail("lifecycle", 0);
  row("lifecycle: create+map+touch+close+unlink, 1 MiB", a * 1e6, b * 1e6, "µs", 1.10,
      "same calls on the OS, memory reserved as libsma does");
  if (!floor_sizes_unreserved()) return 0;
  if (compare(c, life_sma, &life_lazy, life_floor, &lazy, &a, &b) != 0) return fail("lifecycle", 0);
  /* Issue 27 §3's goal for a NORESERVE create: 1.25× the floor. */
  row("lifecycle with SMA_CREATE_NORESERVE, 1 MiB", a * 1e6, b * 1e6, "µs", 1.25,
      "shm_open+ftruncate+mmap (no reservation)");
  return 0;
}

int bench_python_lifecycle(const config_t *c, const char *name) {
  life_ctx_t life = {name, 0, LIFE_BYTES, 0},
             life_lazy = {name, SMA_CREATE_NORESERVE, LIFE_BYTES, 0};
  double a, b;
  if (compare(c, life_sma, &life_lazy, life_python, &life_lazy, &a, &b) != 0)
    return fail("python", 0);
  row("lifecycle (NORESERVE, as Python sizes) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
      "multiprocessing.shared_memory, same loop");
  if (compare(c, life_sma, &life, life_python, &life_lazy, &a, &b) != 0) return fail("python", 0);
  row("lifecycle (default: reserved) vs Python, 1 MiB", a * 1e6, b * 1e6, "µs", 0,
      "multiprocessing.shared_memory, same loop");
  return 0;
}

/* The whole cost of a new array: create + fill every element + close +
 * unlink, at three sizes, each side by side with its floor and Python. */
int bench_fill(const config_t *c, const char *name, const char *raw_name) {
  for (int k = 0; k < 3; k++) {
    size_t n = c->fill_bytes[k];
    char size[32], what[160];
    snprintf(size, sizeof size, n >= (1u << 20) ? "%zu MiB" : "%zu KiB",
             n >= (1u << 20) ? n >> 20 : n >> 10);
    life_ctx_t def = {name, 0, n, 1}, lazy = {name, SMA_CREATE_NORESERVE, n, 1};
    floor_life_t raw_reserved = {raw_name, 1, n, 1}, raw_lazy = {raw_name, 0, n, 1};
    double a, b;
    if (compare(c, life_sma, &def, life_floor, &raw_reserved, &a, &b) != 0)
      return fail("create+fill", 0);
    snprintf(what, sizeof what, "create+fill+close+unlink %s float32, default (reserved)", size);
    row(what, a * 1e6, b * 1e6, "µs", 0, "the same OS calls by hand, reserved");
    if (floor_sizes_unreserved()) {
      if (compare(c, life_sma, &lazy, life_floor, &raw_lazy, &a, &b) != 0)
        return fail("create+fill", 0);
      snprintf(what, sizeof what, "create+fill+close+unlink %s float32, NORESERVE", size);
      row(what, a * 1e6, b * 1e6, "µs", 0, "shm_open+ftruncate+mmap by hand");
    }
    if (compare(c, life_sma, &def, life_sma, &lazy, &a, &b) != 0) return fail("create+fill", 0);
    snprintf(what, sizeof what, "create+fill+close+unlink %s float32, default vs NORESERVE", size);
    row(what, a * 1e6, b * 1e6, "µs", n >= LIFE_BYTES ? 1.15 : 0,
        "libsma with SMA_CREATE_NORESERVE");
    if (c->python[0] == '\0') continue;
    life_ctx_t *sides[2] = {&def, &lazy};
    for (int s = 0; s < 2; s++) {
      if (compare(c, life_sma, sides[s], life_python, &def, &a, &b) != 0)
        return fail("create+fill python", 0);
      snprintf(what, sizeof what, "create+fill+close+unlink %s float32, %s vs Python", size,
               s == 0 ? "default" : "NORESERVE");
      row(what, a * 1e6, b * 1e6, "µs", 1.0, "SharedMemory + np.ndarray.fill, same loop");
    }
  }
  return 0;
}
