/* The floor of the lifecycle and attach rows: the same work done by hand
 * with the backend's own OS calls, what libsma's overhead is measured
 * against. One implementation per backend (floor_posix.c, floor_sysv.c,
 * floor_win32.c), chosen by CMake from SMA_BACKEND, so that no section
 * holds a backend #if. Each returns seconds per operation, or -1 if an OS
 * call failed. */
#ifndef SMA_BENCH_FLOOR_H
#define SMA_BENCH_FLOOR_H

#include "bench.h"

/* One raw segment's life: created exclusively, 0600, sized like libsma's
 * (the array plus a page for its record), mapped, used (use_array),
 * unmapped, closed, removed. */
typedef struct floor_life {
  const char *name; /* short: the OS object has this very name */
  int reserve;      /* 1: reserve the memory as libsma does; 0: only size it */
  size_t bytes;     /* the array's bytes, a multiple of 4 */
  int fill;         /* use_array's fill */
} floor_life_t;

/* Seconds per lifecycle, over n of them. */
double floor_lifecycle(const floor_life_t *l, int n);

/* Whether this floor can size a segment without reserving its memory
 * (the floor of SMA_CREATE_NORESERVE): POSIX on Linux. Elsewhere the
 * reserve flag changes nothing and the rows that need it are left out. */
int floor_sizes_unreserved(void);

/* The OS object behind an array libsma created, as the floor opens it. */
typedef struct floor_object {
  const char *name; /* POSIX, Windows: the array's (short) name */
  long key;         /* System V: the key libsma chose */
} floor_object_t;

/* Fills *o for `a`, created under `name`. 0, or -1 if it cannot tell. */
int floor_find(floor_object_t *o, const sma_t *a, const char *name);

/* Seconds per cold attach (open, size, map, unmap, close), over n. */
double floor_attach(const floor_object_t *o, int n);

#endif
