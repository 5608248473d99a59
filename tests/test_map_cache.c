/* The per-process mapping cache (src/map_cache.c): loads of one segment
 * share one mapping, a name made anew maps the new segment, the last
 * close releases, threads and fork are safe, SMA_MAP_CACHE=0 opts out.
 * Real segments, real threads, real child processes. */
#include "sma.h"
#include "../src/platform.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#  include <pthread.h>
#  include <signal.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

enum { SIDE = 256, TILE = 32 };

/* Skips where the backend cannot tell a name's object without opening
 * it (Windows, macOS): the cache is not used there. The segment `name`
 * (made for the question) is removed first. */
static void need_cache(const char *name) {
  uint64_t ident[2];
  size_t size;
  int creating, os_err = 0;
  if (sma__os_identify(name, 0, ident, &size, &creating, &os_err) == SMA_ENOTSUP) {
    sma_unlink(name);
    cr_skip_test("this backend cannot identify a segment without opening it: no cache");
  }
}

/* A SIDE x SIDE float32 array named `name`, every element `value`; the
 * creator's object is freed (the segment stays). */
static void make_array(const char *name, float value) {
  size_t shape[2] = {SIDE, SIDE};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  float *f = sma_data(a);
  for (size_t i = 0; i < (size_t)SIDE * SIDE; i++) f[i] = value;
  sma_free(a);
}

static sma_t *load(const char *name, const sma_slice_t *slice, size_t nslice) {
  sma_t *a = NULL;
  int rc = sma_open(&a, name, slice, nslice);
  cr_assert_eq(rc, 0, "open %s: %s", name, sma_strerror(rc));
  return a;
}

/* Whether /proc/self/maps shows a mapping of the /dev/shm file `name`: 1
 * yes, 0 no, -1 cannot tell (no /proc, not Linux). */
static int mapped_here(const char *name) {
  int n = t_shm_mappings(name);
  return n > 0 ? 1 : n;
}

static void need_maps(void) {
  if (strcmp(sma_backend(), "posix") != 0 || mapped_here("") < 0)
    cr_skip_test("needs /proc/self/maps and /dev/shm files");
}

Test(map_cache, loads_of_one_segment_share_one_mapping) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-share");
  make_array(name, 1.0f);
  need_cache(name);
  sma_t *a = load(name, NULL, 0), *b = load(name, NULL, 0);
  sma_slice_t box[2] = {{TILE, 2 * TILE, 1}, {0, TILE, 1}};
  sma_t *tile = load(name, box, 2);
  cr_assert_eq(sma_data(a), sma_data(b), "two loads mapped the segment twice");
  cr_assert_eq((char *)sma_data(tile), (char *)sma_data(a) + (size_t)TILE * SIDE * sizeof(float));
  ((float *)sma_data(a))[0] = 7.0f;
  cr_assert_eq(((float *)sma_data(b))[0], 7.0f);
  sma_free(tile);
  sma_free(a);
  cr_assert_eq(((float *)sma_data(b))[0], 7.0f, "a close took the others' mapping");
  sma_free(b);
  cr_assert_eq(sma_unlink(name), 0);
}

/* A name unlinked and made again names another object: a load maps that
 * one, while the holders of the old one keep theirs. Also with a new
 * shape, and with a new segment of exactly the same size. */
Test(map_cache, a_name_made_again_maps_the_new_segment) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-again");
  make_array(name, 1.0f);
  need_cache(name);
  sma_t *old = load(name, NULL, 0);
  cr_assert_eq(sma_unlink(name), 0);
  make_array(name, 2.0f);
  sma_t *fresh = load(name, NULL, 0);
  cr_assert_neq(sma_data(fresh), sma_data(old));
  cr_assert_eq(((float *)sma_data(fresh))[SIDE * SIDE - 1], 2.0f, "the old segment was loaded");
  cr_assert_eq(((float *)sma_data(old))[SIDE * SIDE - 1], 1.0f);
  sma_free(fresh);
  /* Made again with another shape: the record of the new one decides. */
  cr_assert_eq(sma_unlink(name), 0);
  size_t shape[1] = {10};
  sma_t *small;
  cr_assert_eq(
      sma_new(&small,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT64}),
      0);
  cr_assert_eq(sma_create(small, 0), 0);
  sma_t *again = load(name, NULL, 0);
  cr_assert_eq(sma_ndim(again), 1);
  cr_assert_eq(sma_dtype_get(again), SMA_INT64);
  sma_free(again);
  sma_free(small);
  sma_free(old);
  cr_assert_eq(sma_unlink(name), 0);
}

/* The record is checked on every load, also of a mapping held: a record
 * spoiled after the first load fails the next one. */
Test(map_cache, a_spoiled_record_fails_a_load_of_a_held_mapping) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-spoil");
  make_array(name, 1.0f);
  need_cache(name);
  sma_t *held = load(name, NULL, 0);
  t_raw_t raw;
  cr_assert_eq(t_raw_map(name, &raw), 0);
  raw.bytes[raw.size - 1] ^= 0x5a; /* a CRC byte */
  sma_t *b = NULL;
  /* System V finds a segment by the name in its record: a spoiled one
   * names nothing there. */
  int rc = sma_open(&b, name, NULL, 0);
  cr_assert(rc == SMA_ECORRUPT || (rc == SMA_ENOENT && strcmp(sma_backend(), "sysv") == 0), "%s",
            sma_strerror(rc));
  raw.bytes[raw.size - 1] ^= 0x5a;
  b = load(name, NULL, 0);
  cr_assert_eq(sma_data(b), sma_data(held));
  t_raw_unmap(&raw);
  sma_free(b);
  sma_free(held);
  cr_assert_eq(sma_unlink(name), 0);
}

Test(map_cache, the_last_close_of_an_unlinked_segment_releases_it) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-release");
  need_maps();
  make_array(name, 1.0f);
  need_cache(name);
  sma_t *a = load(name, NULL, 0), *b = load(name, NULL, 0);
  cr_assert_eq(sma_unlink(name), 0);
  cr_assert_eq(mapped_here(name), 1, "the holders' mapping is gone");
  sma_free(a);
  cr_assert_eq(mapped_here(name), 1, "a close that was not the last unmapped");
  sma_free(b);
  cr_assert_eq(mapped_here(name), 0, "the last close left the segment mapped");
  /* and a close of every load of a linked segment releases it as well */
  make_array(name, 1.0f);
  for (int i = 0; i < 3; i++) sma_free(load(name, NULL, 0));
  cr_assert_eq(mapped_here(name), 0);
  cr_assert_eq(sma_unlink(name), 0);
}

#if !defined(_WIN32)
Test(map_cache, SMA_MAP_CACHE_0_maps_every_load_afresh) {
  cr_assert_eq(setenv("SMA_MAP_CACHE", "0", 1), 0); /* before the first load */
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-off");
  make_array(name, 1.0f);
  sma_t *a = load(name, NULL, 0), *b = load(name, NULL, 0);
  cr_assert_neq(sma_data(a), sma_data(b));
  sma_free(a);
  sma_free(b);
  cr_assert_eq(sma_unlink(name), 0);
}
#endif

/* ---- threads ---------------------------------------------------------------- */

typedef struct tiles {
  const char *name;
  int rounds;
} tiles_t;

/* Loads, checks and closes tiles of the shared array; each thread also
 * writes its own tile, read back through a separate load. */
static int tile_worker(void *arg, int index) {
  const tiles_t *t = arg;
  for (int r = 0; r < t->rounds; r++) {
    int per = SIDE / TILE, k = (index * 7 + r) % (per * per);
    int64_t r0 = k / per * TILE, c0 = k % per * TILE;
    sma_slice_t box[2] = {{r0, r0 + TILE, 1}, {c0, c0 + TILE, 1}};
    sma_t *tile;
    if (sma_open(&tile, t->name, box, 2) != 0) return 1;
    double sum = 0;
    for (size_t i = 0; i < TILE; i++) {
      const float *row = sma_view_at2(sma_view_get(tile), i, 0);
      for (size_t j = 0; j < TILE; j++) sum += row[j];
    }
    if (sma_close(tile) != 0) return 1;
    sma_free(tile);
    if (sum != (double)TILE * TILE) return 1;
  }
  return 0;
}

Test(map_cache, many_threads_load_and_close_one_segment) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-threads");
  make_array(name, 1.0f);
  need_cache(name);
  tiles_t t = {name, 400};
  /* Nobody else holds it: the last close and the next first load race. */
  cr_assert_eq(t_run_threads(8, tile_worker, &t), 0);
  sma_t *held = load(name, NULL, 0); /* now one mapping is shared throughout */
  cr_assert_eq(t_run_threads(8, tile_worker, &t), 0);
  sma_free(held);
  cr_assert_eq(sma_unlink(name), 0);
  if (strcmp(sma_backend(), "posix") == 0 && mapped_here(name) >= 0)
    cr_assert_eq(mapped_here(name), 0, "a mapping outlived every close");
}

/* ---- fork ---------------------------------------------------------------------- */

#if !defined(_WIN32)
static int child_status(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A forked child inherits the parent's loaded arrays and the table: it
 * loads the same segment (sharing the inherited mapping), writes through
 * it, closes everything, and the parent's arrays are untouched by that. */
Test(map_cache, a_forked_child_loads_and_closes) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-fork");
  make_array(name, 1.0f);
  need_cache(name);
  sma_t *held = load(name, NULL, 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    alarm(20);
    sma_t *mine = NULL, *again = NULL;
    int ok = sma_open(&mine, name, NULL, 0) == 0 && sma_data(mine) == sma_data(held);
    if (ok) ((float *)sma_data(mine))[1] = 5.0f;
    sma_free(mine);
    sma_free(held);
    ok = ok && sma_open(&again, name, NULL, 0) == 0 && ((float *)sma_data(again))[1] == 5.0f;
    sma_free(again);
    _exit(ok ? 0 : 1);
  }
  cr_assert_eq(child_status(pid), 0);
  cr_assert_eq(((float *)sma_data(held))[1], 5.0f, "the child wrote elsewhere");
  sma_t *again = load(name, NULL, 0);
  cr_assert_eq(sma_data(again), sma_data(held), "the child's closes released the parent's mapping");
  sma_free(again);
  sma_free(held);
  cr_assert_eq(sma_unlink(name), 0);
}

typedef struct churn {
  const char *name;
  atomic_int stop; /* atomic: ThreadSanitizer runs this test (tsan-posix) */
} churn_t;

static void *churn_main(void *arg) {
  churn_t *c = arg;
  while (!atomic_load(&c->stop)) {
    sma_t *a;
    if (sma_open(&a, c->name, NULL, 0) == 0) sma_free(a);
  }
  return NULL;
}

/* Threads load and close all the time while the process forks: a child
 * must never inherit the cache's lock held (it would hang at its first
 * load; the alarm turns a hang into a failure). */
/* Cross builds (the Criterion stand-in: qemu-user, or a VM under
 * qemu-system) fork far more slowly: fewer rounds there. */
#  if defined(SHIM_CONSTRUCTOR_)
enum { FORK_ROUNDS = 20 };
#  else
enum { FORK_ROUNDS = 100 };
#  endif
Test(map_cache, fork_while_threads_load_never_hangs_a_child, .timeout = 600) {
#  if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user: a fork() beside running threads can block in qemu's own locks");
#  endif
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "mc-forkrace");
  make_array(name, 1.0f);
  need_cache(name);
  churn_t c = {name, 0};
  pthread_t th[2];
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&th[i], NULL, churn_main, &c), 0);
  int failed = 0;
  for (int k = 0; k < FORK_ROUNDS; k++) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      if (!T_FORKED_CHILD_CAN_ALLOCATE) _exit(0); /* the parent's side only: see support.h */
      alarm(10);
      sma_t *a;
      int ok = sma_open(&a, name, NULL, 0) == 0 && ((float *)sma_data(a))[3] == 1.0f;
      sma_free(a);
      _exit(ok ? 0 : 1);
    }
    failed += t_wait_bounded(pid, 20) != 0; /* alarm(10), or blocked past it */
  }
  atomic_store(&c.stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  cr_assert_eq(failed, 0, "%d children failed or hung", failed);
  cr_assert_eq(sma_unlink(name), 0);
}
#endif
