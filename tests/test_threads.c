/* The thread-safety contract of sma.h ("Threads" in its conventions),
 * proven with real threads on real segments, and run under
 * ThreadSanitizer by ci/test.sh (tsan-posix): many threads at once
 * create, open (with and without slices), load, close, list, inspect,
 * collect, register, describe and parse, each with objects of its own;
 * threads share one segment by name, each through its own sma_t; the
 * mapping cache and the name counter are hit from every thread; each
 * thread keeps its own sma_last_os_error(); and a process that forks
 * while its threads use the library has a child that can use it too. */
#include "sma.h"
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

enum { THREADS = 12, ROWS = 96, COLS = 64 };

/* A fresh ROWS x COLS float64 segment named `name`, all `value`. */
static void make_segment(const char *name, double value) {
  size_t shape[2] = {ROWS, COLS};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64}),
      0);
  int rc = sma_create(a, 0);
  cr_assert_eq(rc, 0, "create %s: %s", name, sma_strerror(rc));
  t_fill_view(sma_view_get(a), value);
  sma_free(a);
}

/* ---- every call at once, each thread with objects of its own ---------------- */

typedef struct busy {
  char prefix[THREADS][64];
  const char *shared; /* a segment every thread opens and lists */
  int rounds;
} busy_t;

typedef struct seen {
  const char *prefix;
  const char *shared;
  int mine, shared_seen;
} seen_t;

static int count_listed(const sma_info_t *info, void *user) {
  seen_t *s = user;
  s->mine += strstr(info->name, s->prefix) != NULL; /* the counter comes first */
  s->shared_seen += strcmp(info->name, s->shared) == 0;
  return 0;
}

/* The object described and parsed back is described the same. */
static int describe_round_trip(const sma_t *a) {
  char line[SMA_DESCRIPTOR_MAX], again[SMA_DESCRIPTOR_MAX];
  sma_t *b = NULL;
  int ok = sma_describe(a, line, &(size_t){sizeof line}) == 0 && sma_parse(&b, NULL, line) == 0 &&
           sma_describe(b, again, &(size_t){sizeof again}) == 0 && strcmp(line, again) == 0;
  sma_free(b);
  return ok;
}

/* One round of a thread's own work: a registered segment, written, opened
 * whole and through a slice, loaded by a new object, described, inspected
 * and listed; its creator alive, gc keeps it; the registry removes it. */
static int own_round(const busy_t *b, int index, int round, sma_registry_t *reg) {
  size_t shape[2] = {ROWS, COLS};
  sma_t *a = NULL, *whole = NULL, *part = NULL, *again = NULL;
  double value = index * 1000 + round;
  int ok = sma_create_and_register(
               &a, reg,
               &(sma_array_desc_t){
                   .name = b->prefix[index], .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64},
               0) == 0;
  if (ok) t_fill_view(sma_view_get(a), value);
  sma_slice_t rows[1] = {{(int64_t)round % ROWS, ROWS, 2}};
  ok = ok && sma_open(&whole, sma_name(a), NULL, 0) == 0 &&
       t_count_not(sma_view_get(whole), value) == 0;
  ok = ok && sma_open(&part, sma_name(a), rows, 1) == 0 &&
       t_count_not(sma_view_get(part), value) == 0;
  ok = ok &&
       sma_new(&again, &(sma_array_desc_t){.name = sma_name(a),
                                           .ndim = 2,
                                           .shape = shape,
                                           .dtype = SMA_FLOAT64,
                                           .slice = rows,
                                           .nslice = 1}) == 0 &&
       sma_load(again) == 0 && t_count_not(sma_view_get(again), value) == 0;
  ok = ok && describe_round_trip(part);
  sma_info_t info;
  ok = ok && sma_info_get(&info, sma_name(a)) == 0 && info.nbytes == sizeof(double) * ROWS * COLS &&
       info.creator_alive == 1;
  ok = ok && sma_collect(NULL, sma_name(a), 0) == SMA_EINUSE; /* its creator lives */
  seen_t seen = {b->prefix[index], b->shared, 0, 0};
  ok = ok && sma_list(count_listed, &seen) == 0 && seen.mine == 1 && seen.shared_seen == 1;
  ok = ok && sma_close(part) == 0 && sma_close(whole) == 0;
  sma_free(again);
  sma_free(part);
  sma_free(whole);
  sma_free(a);
  return sma_registry_clear(reg) == 0 && sma_registry_count(reg) == 0 && ok;
}

static int busy_worker(void *arg, int index) {
  const busy_t *b = arg;
  sma_registry_t *reg;
  if (sma_registry_new(&reg) != 0) return 1;
  int ok = 1;
  for (int r = 0; r < b->rounds && ok; r++) {
    ok = own_round(b, index, r, reg);
    sma_t *shared = NULL;
    ok = ok && sma_open(&shared, b->shared, NULL, 0) == 0 &&
         ((const double *)sma_data(shared))[index] == 7.0;
    sma_free(shared);
  }
  sma_registry_free(reg);
  return ok ? 0 : 1;
}

Test(threads, every_call_from_many_threads_at_once, .timeout = 600) {
  busy_t b = {.rounds = 6};
  char shared[SMA_NAME_BUF];
  t_name(shared, sizeof shared, "th-all");
  make_segment(shared, 7.0);
  for (int i = 0; i < THREADS; i++) {
    char tag[16];
    snprintf(tag, sizeof tag, "th%d", i);
    t_prefix(b.prefix[i], sizeof b.prefix[i], tag);
  }
  b.shared = shared;
  cr_assert_eq(t_run_threads(THREADS, busy_worker, &b), 0, "a thread's calls failed");
  for (int i = 0; i < THREADS; i++) {
    seen_t seen = {b.prefix[i], shared, 0, 0};
    cr_assert_eq(sma_list(count_listed, &seen), 0);
    cr_assert_eq(seen.mine, 0, "thread %d left a segment", i);
  }
  cr_assert_eq(sma_unlink(shared), 0);
}

/* ---- abandoned segments, collected by many threads at once ---------------- */

typedef struct abandoned {
  char names[THREADS][SMA_NAME_BUF];
} abandoned_t;

/* Each thread has a child process create a segment and exit (the creator
 * is gone, nobody maps it), then collects it, and the name is free. */
static int collect_worker(void *arg, int index) {
  abandoned_t *ab = arg;
  const char *name = ab->names[index];
  const char *args[] = {"create", name, "8,8", "int32", NULL};
  if (t_run_helper(args) != 0) return 1;
  sma_info_t info;
  int rc = sma_collect(&info, name, 0);
  /* Another thread's sma_collect() reads every process's maps for
   * info->attached; a helper exiting meanwhile releases its mappings only
   * when that reader lets go of them (sma.h, sma_collect), so "held" can
   * be true for an instant after the creator is gone. */
  for (int tries = 0; rc == SMA_EINUSE && info.creator_alive == 0 && tries < 100; tries++) {
    t_sleep_ms(10);
    rc = sma_collect(&info, name, 0);
  }
  if (rc != 0) {
    fprintf(stderr, "collect %s: %s (alive %d, attached %d)\n", name, sma_strerror(rc),
            info.creator_alive, info.attached);
    return 1;
  }
  return t_segment_exists(name) ? 1 : 0;
}

Test(threads, threads_collect_abandoned_segments_at_once, .timeout = 600) {
  sma_caps_t caps = t_caps();
  if (!caps.can_list) cr_skip_test("this backend cannot prove a segment unused");
  abandoned_t ab;
  for (int i = 0; i < THREADS; i++) t_name(ab.names[i], sizeof ab.names[i], "th-gc");
  cr_assert_eq(t_run_threads(THREADS, collect_worker, &ab), 0, "a collect failed");
}

/* ---- one segment shared by name ------------------------------------------- */

typedef struct stripes {
  const char *name;
} stripes_t;

/* Thread i owns rows i, i + THREADS, ...: it loads the segment through
 * its own sma_t of those rows (a strided slice), writes them, and reads
 * them back through a second, sma_open()ed object. */
static int stripe_worker(void *arg, int index) {
  const stripes_t *s = arg;
  size_t shape[2] = {ROWS, COLS};
  sma_slice_t rows[1] = {{index, ROWS, THREADS}};
  sma_t *mine = NULL, *check = NULL;
  int ok = sma_new(&mine, &(sma_array_desc_t){.name = s->name,
                                              .ndim = 2,
                                              .shape = shape,
                                              .dtype = SMA_FLOAT64,
                                              .slice = rows,
                                              .nslice = 1}) == 0 &&
           sma_load(mine) == 0;
  if (ok) t_fill_view(sma_view_get(mine), 100.0 + index);
  ok = ok && sma_open(&check, s->name, rows, 1) == 0 &&
       t_count_not(sma_view_get(check), 100.0 + index) == 0;
  ok = ok && sma_close(mine) == 0;
  sma_free(check);
  sma_free(mine);
  return ok ? 0 : 1;
}

Test(threads, threads_share_one_segment_by_name) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "th-stripes");
  make_segment(name, -1.0);
  stripes_t s = {name};
  cr_assert_eq(t_run_threads(THREADS, stripe_worker, &s), 0);
  sma_t *a;
  cr_assert_eq(sma_open(&a, name, NULL, 0), 0);
  const double *d = sma_data(a);
  for (size_t r = 0; r < ROWS; r++)
    for (size_t c = 0; c < COLS; c++)
      cr_assert_eq(d[r * COLS + c], 100.0 + (double)(r % THREADS), "row %zu col %zu", r, c);
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
}

/* ---- the mapping cache ------------------------------------------------------ */

typedef struct churn_job {
  const char *name;
  int rounds;
} churn_job_t;

/* Every thread loads and closes the one segment over and over, so the
 * last close of its mapping and the next first load race all the time. */
static int load_close_worker(void *arg, int index) {
  const churn_job_t *j = arg;
  size_t shape[2] = {ROWS, COLS};
  for (int r = 0; r < j->rounds; r++) {
    sma_slice_t box[2] = {{(index + r) % ROWS, ROWS, 1}, {0, COLS, 3}};
    sma_t *a = NULL;
    int ok = r % 2 ? sma_open(&a, j->name, box, 2) == 0
                   : sma_new(&a, &(sma_array_desc_t){.name = j->name,
                                                     .ndim = 2,
                                                     .shape = shape,
                                                     .dtype = SMA_FLOAT64,
                                                     .slice = box,
                                                     .nslice = 2}) == 0 &&
                         sma_load(a) == 0;
    ok = ok && t_count_not(sma_view_get(a), 3.0) == 0 && sma_close(a) == 0;
    sma_free(a);
    if (!ok) return 1;
  }
  return 0;
}

Test(threads, the_mapping_cache_under_many_threads, .timeout = 600) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "th-cache");
  make_segment(name, 3.0);
  churn_job_t j = {name, 150};
  cr_assert_eq(t_run_threads(THREADS, load_close_worker, &j), 0);
  sma_t *held;
  cr_assert_eq(sma_open(&held, name, NULL, 0), 0); /* now shared throughout */
  cr_assert_eq(t_run_threads(THREADS, load_close_worker, &j), 0);
  sma_free(held);
  cr_assert_eq(sma_unlink(name), 0);
}

/* ---- the name counter -------------------------------------------------------- */

enum { NAMES_PER_THREAD = 400 };
static char (*built)[SMA_NAME_BUF];

static int build_worker(void *arg, int index) {
  (void)arg;
  for (size_t i = 0; i < NAMES_PER_THREAD; i++)
    if (sma_build_name("th", built[(size_t)index * NAMES_PER_THREAD + i],
                       &(size_t){SMA_NAME_BUF}) != 0)
      return 1;
  return 0;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

Test(threads, names_built_in_many_threads_are_distinct) {
  built = calloc((size_t)THREADS * NAMES_PER_THREAD, SMA_NAME_BUF);
  cr_assert_not_null(built);
  uint64_t before = sma_name_counter();
  cr_assert_eq(t_run_threads(THREADS, build_worker, NULL), 0);
  cr_assert_eq(sma_name_counter(), before + THREADS * NAMES_PER_THREAD);
  qsort(built, (size_t)THREADS * NAMES_PER_THREAD, SMA_NAME_BUF, by_text);
  for (size_t i = 1; i < (size_t)THREADS * NAMES_PER_THREAD; i++)
    cr_assert_str_neq(built[i - 1], built[i]);
  /* and the counters in them: each value once */
  free(built);
}

/* ---- sma_last_os_error() is each thread's own ------------------------------ */

typedef struct errors_job {
  const char *missing;
  atomic_int arrived;
} errors_job_t;

/* Even threads fail with an OS reason (a missing segment: ENOENT), odd
 * ones without one (a bad name: 0), all at once, many times: each reads
 * its own reason. */
static int error_worker(void *arg, int index) {
  errors_job_t *j = arg;
  atomic_fetch_add(&j->arrived, 1);
  while (atomic_load(&j->arrived) < THREADS) {}
  for (int r = 0; r < 500; r++) {
    sma_info_t info;
    int rc = index % 2 == 0 ? sma_info_get(&info, j->missing) : sma_info_get(&info, "bad/name");
    int os_err = sma_last_os_error();
    if (index % 2 == 0 && (rc != SMA_ENOENT || os_err != T_OS_ENOENT)) return 1;
    if (index % 2 == 1 && (rc != SMA_ENAME || os_err != 0)) return 1;
  }
  return 0;
}

Test(threads, each_thread_reads_its_own_last_os_error) {
  char missing[SMA_NAME_BUF];
  t_name(missing, sizeof missing, "th-missing");
  errors_job_t j = {missing, 0};
  cr_assert_eq(t_run_threads(THREADS, error_worker, &j), 0);
}

/* ---- fork() while other threads use the library ----------------------------- */

#if !defined(_WIN32)
typedef struct forking {
  const char *shared;
  char prefix[THREADS][64];
  atomic_int stop;
} forking_t;

/* A thread that keeps the library busy until told to stop: creates,
 * loads, lists and unlinks its own segments, loads the shared one and
 * builds names. */
static void *keep_busy(void *arg) {
  forking_t *f = arg;
  static atomic_int next;
  int index = atomic_fetch_add(&next, 1) % THREADS;
  busy_t b = {.shared = f->shared, .rounds = 1};
  memcpy(b.prefix[index], f->prefix[index], sizeof b.prefix[index]);
  sma_registry_t *reg;
  if (sma_registry_new(&reg) != 0) return (void *)1;
  intptr_t failed = 0;
  for (int r = 0; !atomic_load(&f->stop); r++) failed += !own_round(&b, index, r, reg);
  sma_registry_free(reg);
  return (void *)failed;
}

/* What the child does with the library it inherited mid-use: builds a
 * name, creates, writes and reopens a segment of its own, sees the
 * parent's shared segment in a listing and through a load, and removes
 * its own. Its exit code says which step failed. */
static int child_uses_library(const char *shared) {
  alarm(60); /* a lock inherited held would hang here: fail instead */
  char name[SMA_NAME_BUF];
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "thfk");
  if (sma_build_name(prefix, name, &(size_t){sizeof name}) != 0) return 2;
  size_t shape[1] = {1000};
  sma_t *a = NULL, *b = NULL, *s = NULL;
  if (sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT64}) !=
          0 ||
      sma_create(a, 0) != 0)
    return 3;
  t_fill_view(sma_view_get(a), 42.0);
  if (sma_open(&b, name, NULL, 0) != 0 || t_count_not(sma_view_get(b), 42.0) != 0) return 4;
  if (sma_open(&s, shared, NULL, 0) != 0 || t_count_not(sma_view_get(s), 7.0) != 0) return 5;
  seen_t seen = {prefix, shared, 0, 0};
  if (sma_list(count_listed, &seen) != 0 || seen.shared_seen != 1 || seen.mine != 1) return 6;
  sma_info_t info;
  if (sma_info_get(&info, name) != 0 || info.creator_pid != (uint64_t)getpid() ||
      info.creator_alive != 1)
    return 7;
  sma_free(s);
  sma_free(b);
  sma_free(a);
  if (sma_unlink(name) != 0) return 8;
  return 0;
}

Test(threads, a_child_forked_while_threads_use_the_library_can_use_it, .timeout = 600) {
  enum { BUSY = 6, FORKS = 12 };
#  if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user: a fork() beside running threads can block in qemu's own locks");
#  endif
  char shared[SMA_NAME_BUF];
  t_name(shared, sizeof shared, "th-fork");
  make_segment(shared, 7.0);
  forking_t f = {.shared = shared};
  for (int i = 0; i < THREADS; i++) {
    char tag[16];
    snprintf(tag, sizeof tag, "tf%d", i);
    t_prefix(f.prefix[i], sizeof f.prefix[i], tag);
  }
  pthread_t th[BUSY];
  for (int i = 0; i < BUSY; i++) cr_assert_eq(pthread_create(&th[i], NULL, keep_busy, &f), 0);
  int failed = 0;
  for (int k = 0; k < FORKS; k++) {
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    /* Under ASan and TSan the child exits at once: their allocators can
     * hang it (support.h); the parent's side is still checked. */
    if (pid == 0) _exit(T_FORKED_CHILD_CAN_ALLOCATE ? child_uses_library(shared) : 0);
    /* Its alarm(60) ends a child that blocks; 70 s bounds one that
     * cannot act on it. */
    int code = t_wait_bounded(pid, 70);
    if (code != 0) {
      fprintf(stderr, "child %d: %s\n", k,
              code == T_OVERDUE ? "blocked for 70 s"
              : code > 128      ? "ended by a signal"
                                : "failed (its exit code says which step)");
      failed++;
    }
  }
  atomic_store(&f.stop, 1);
  intptr_t busy_failed = 0;
  for (int i = 0; i < BUSY; i++) {
    void *r;
    pthread_join(th[i], &r);
    busy_failed += (intptr_t)r;
  }
  cr_assert_eq(failed, 0, "%d forked children could not use the library", failed);
  cr_assert_eq(busy_failed, 0, "the parent's threads failed meanwhile");
  cr_assert_eq(sma_unlink(shared), 0);
}
#endif
