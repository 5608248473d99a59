/* What sma_bench's parts share: the run's settings, the harness that
 * measures and prints (harness.c), the way to the Python programs
 * (python_script.c), the work several sections do alike, and each
 * section's entry point. main.c runs the sections in order. */
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

enum { TILE = 64, LIFE_BYTES = 1 << 20, MAX_REPS = 64 };

typedef double (*side_fn)(const config_t *c, void *ctx); /* seconds per op */

/* ---- harness.c: measuring and the table ---- */

/* Runs the two sides alternately c->reps times; medians in *a, *b. */
int compare(const config_t *c, side_fn fa, void *ca, side_fn fb, void *cb, double *a, double *b);
/* One table row; goal > 0: ratio at most goal, < 0: at least -goal. */
void row(const char *what, double lib, double base, const char *unit, double goal,
         const char *note);
int fail(const char *what, int rc);
/* Whether --only asks for this section (all when not given). */
int wanted(const config_t *c, const char *section);
double proc_now(void); /* support/process_services.h's clock, for the C++ section too */

/* ---- shell_command.c, python_script.c: other programs ---- */

/* argv as one sh command line (each argument single-quoted; on Windows,
 * for cmd.exe, left bare). 0, or -1 if it does not fit in cap. */
int shell_command(char *buf, size_t cap, const char *const *argv);
/* Runs bench/<script> (a NULL-ended args after it) with c->python and
 * reads the n numbers it prints into out. 0, or -1 if it failed. */
int python_numbers(const config_t *c, const char *script, const char *const *args, double *out,
                   int n);

/* ---- work the sections share ---- */

/* Touches a new array's first byte, or fills every float32 element
 * (lifecycle.c). */
void use_array(void *p, size_t bytes, int fill);
/* Sum of the TILE x TILE float32 tile at (r0, c0) of a 2-D view (tiles.c). */
double sum_tile(const sma_view_t *v, size_t r0, size_t c0);
/* gridr's tile loop over tiles first .. last-1 of the square float32
 * array `name` (all ones), `whole` an open handle of it: each tile loaded
 * as a slice, summed and closed (load_each), or summed through whole's
 * view. Seconds, or -1 if a load failed or a sum was wrong (tiles.c). */
double tile_loop(const char *name, const sma_t *whole, size_t first, size_t last, int load_each);
/* Seconds per tile that loading adds to summing alone, from the two
 * loops' seconds; -1 if either failed, 0 if too short to see (tiles.c). */
double tile_overhead(double summing, double loading, size_t tiles);

/* ---- the sections: each prints its rows; 0, or non-zero after saying
 * what failed. name and raw_name: two short names the section may use. */

int bench_lifecycle(const config_t *c, const char *name, const char *raw_name); /* lifecycle.c */
int bench_python_lifecycle(const config_t *c, const char *name);                /* lifecycle.c */
int bench_fill(const config_t *c, const char *name, const char *raw_name);      /* lifecycle.c */
int bench_attach(const config_t *c, const char *name);                          /* attach.c */
int bench_touch(const config_t *c, const char *name);                           /* touch.c */
int bench_huge(const config_t *c, const char *name);                            /* touch.c */
int bench_handoff(const config_t *c, const char *name);                         /* handoff.c */
int bench_scaling(const config_t *c);                                           /* scaling.c */
int bench_tiles(const config_t *c, const char *name, const char *raw_name);     /* tiles.c */
int bench_maps(const config_t *c, const char *name);    /* maps.c: the mapping cache */
int bench_peers(const config_t *c, const char *name);   /* peers.cpp or its stand-in */
int bench_files(const config_t *c, const char *name);   /* files.c: sma save/load vs NumPy */
int bench_listing(const config_t *c, const char *name); /* listing.c: sma ls, gc at scale */

/* The child processes some sections start: sma_bench itself, told its
 * part on the command line (main.c); each returns the exit code. */
int handoff_child_load(const char *desc); /* --child-load DESC */
int handoff_child_pipe(size_t bytes);     /* --child-pipe BYTES */
int tiles_child(const char *name, const char *result_desc, int worker,
                int load_each); /* --child-tiles NAME DESC K load|sum */

#ifdef __cplusplus
}
#endif

#endif
