/* What sma_bench's sections share (bench.c keeps the measuring; each
 * newer section has its own file in bench/). */
#ifndef SMA_BENCH_H
#define SMA_BENCH_H

#include "sma.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct config {
  int reps, iters;
  size_t touch_bytes, handoff_bytes, demo_size, tile_side;
  size_t fill_bytes[3];
  const char *python, *sma, *self;
  const char *only; /* one section, or NULL for all */
  int quick;        /* --quick: the smoke run's sizes */
} config_t;

enum { TILE = 64 };

typedef double (*side_fn)(const config_t *c, void *ctx); /* seconds per op */

/* Runs the two sides alternately c->reps times; medians in *a, *b. */
int compare(const config_t *c, side_fn fa, void *ca, side_fn fb, void *cb, double *a, double *b);
/* One table row; goal > 0: ratio at most goal, < 0: at least -goal. */
void row(const char *what, double lib, double base, const char *unit, double goal,
         const char *note);
int fail(const char *what, int rc);
/* Whether --only asks for this section (all when not given). */
int wanted(const config_t *c, const char *section);
/* Runs a Python script printing n numbers (see bench.c). */
int python_numbers(const config_t *c, const char *script, double *out, int n);
/* Touches a new array's first byte, or fills every float32 element. */
void use_array(void *p, size_t bytes, int fill);
/* Sum of the TILE x TILE float32 tile at (r0, c0) of a 2-D view. */
double sum_tile(const sma_view_t *v, size_t r0, size_t c0);
double proc_now(void);

/* Sections in files of their own. */
int bench_maps(const config_t *c, const char *name);    /* maps.c: the mapping cache */
int bench_peers(const config_t *c, const char *name);   /* peers.cpp or its stand-in */
int bench_files(const config_t *c, const char *name);   /* files.c: sma save/load vs NumPy */
int bench_listing(const config_t *c, const char *name); /* listing.c: sma ls, gc at scale */

#ifdef __cplusplus
}
#endif

#endif
