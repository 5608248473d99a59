/* The main job's computation, shared by `sma demo` (worker processes on
 * one machine) and `sma-mpi demo` (MPI ranks over nodes): a separable
 * blur of a synthetic float32 raster. The same arithmetic for any split of
 * the rows, so every layout gives bit-identical results. */
#ifndef SMA_TOOLS_BLUR_H
#define SMA_TOOLS_BLUR_H

#include <stddef.h>
#include <stdint.h>

enum { BLUR_MAX_RADIUS = 2 };

/* A worker's progress counter in shared memory: written by that worker
 * only, read by the parent for display. An aligned 64-bit store is not
 * torn on the platforms libsma supports; volatile keeps the compiler from
 * caching or deferring it (C11 atomics are not available on every
 * compiler this builds with, MSVC among them). */
typedef volatile uint64_t blur_progress_t;

typedef struct blur_kernel {
  const char *name;
  int radius;
  float weights[2 * BLUR_MAX_RADIUS + 1]; /* separable: rows, then columns */
} blur_kernel_t;

/* "gauss5" or "box3"; NULL for another name. */
const blur_kernel_t *blur_find_kernel(const char *name);

/* Computes output rows [row0, row1) of an image `height` rows tall. `in`
 * points at global row in_row0 and holds in_rows rows, with row pitch
 * in_pitch bytes; `out` at row row0. Borders replicate the edge. `tmp`
 * holds `width` floats. `progress`, if not NULL, receives the number of
 * rows done. Row numbers are any size_t (the arithmetic is unsigned).
 * Returns 0, or -1 as soon as a row it needs is not among the in_rows
 * rows (nothing outside them is read; rows before it are written). */
int blur_rows(const blur_kernel_t *k, const char *in, size_t in_row0, size_t in_rows,
              ptrdiff_t in_pitch, char *out, ptrdiff_t out_pitch, size_t row0, size_t row1,
              size_t height, size_t width, float *tmp, blur_progress_t *progress);

/* Rows [row0, row1) of a deterministic h x w raster (ramps, rings and a
 * fine texture), into img (row row0 first, pitch w floats). */
void blur_synthesize(float *img, size_t row0, size_t row1, size_t h, size_t w);

#endif
