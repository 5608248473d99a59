/* Attacks on issue 25 items 3 and 4: read-only attach (SMA_OPEN_READONLY,
 * sma_open_as, sma_load_as) and the thread-safety contract (att-ro). */
#define _GNU_SOURCE
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <fcntl.h>
#  include <signal.h>
#  include <stdio.h>
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>

static int make_segment(const char *name) {
  size_t shape[1] = {4096};
  sma_t *a;
  if (sma_new(&a, &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
    return -1;
  int rc = sma_create(a, 0);
  sma_free(a); /* closes; the segment stays, and nothing holds it */
  return rc;
}

/* A child takes a write lease on the segment's file, as `sma gc` does on a
 * candidate (unlink_unused), and holds it `hold_ms` without answering the
 * break: a gc that is stopped (Ctrl-Z, a debugger, SIGSTOP, a loaded
 * machine) while it holds the lease. Returns the child's pid, or 0 when no
 * lease can be taken here. */
static pid_t try_hold_lease(const char *name, int hold_ms) {
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  int p[2];
  if (pipe(p) != 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    signal(SIGIO, SIG_IGN); /* the break notice: ignored, as a stopped gc */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char ok = fd >= 0 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0 ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1 || ok != 'y') _exit(1);
    usleep((useconds_t)hold_ms * 1000u);
    fcntl(fd, F_SETLEASE, F_UNLCK);
    _exit(0);
  }
  close(p[1]);
  char ok = 'n';
  ssize_t r = read(p[0], &ok, 1);
  close(p[0]);
  if (r != 1 || ok != 'y') {
    int st;
    waitpid(pid, &st, 0);
    return 0;
  }
  return pid;
}

/* A write lease needs the file open nowhere else: a test or `sma ls`
 * running beside this one (ctest -j, the shared /dev/shm) opens every
 * segment for an instant, so a refusal is tried again for up to 5 s. */
static pid_t hold_lease(const char *name, int hold_ms) {
  for (int tries = 0; tries < 50; tries++) {
    pid_t pid = try_hold_lease(name, hold_ms);
    if (pid != 0) return pid;
    usleep(100000);
  }
  return 0;
}

/* sma.h: a read-only open's errors are "those of sma_load()"; the change
 * says a read-only open that meets gc's lease "succeeds once it is
 * released". A read-write sma_open() waits for the lease in the kernel
 * (as every open() does, up to lease-break-time) and succeeds. The
 * read-only open uses O_NONBLOCK and gives up after 2 s with EWOULDBLOCK:
 * SMA_EOS "EAGAIN" for a segment that exists and that gc keeps, so
 * `sma info`, `sma cat`, `sma ls`... fail where `sma_open()` works.
 * Reproduced with the real gc: SMA_FAULT_PAUSE_MS=6000 sma gc & sleep 8;
 * sma info x -> "operating-system error: EAGAIN (SMA_EOS)". */
Test(attack_ro, readonly_open_outlasts_a_held_lease_as_readwrite_open_does, .timeout = 60) {
  if (strcmp(sma_backend(), "posix") != 0 || access("/dev/shm", W_OK) != 0)
    cr_skip_test("POSIX /dev/shm only");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "lease-ro");
  cr_assert_eq(make_segment(name), 0);

  /* The read-write open, for comparison: waits and succeeds. */
  pid_t holder = hold_lease(name, 3000);
  if (holder == 0) {
    sma_unlink(name);
    cr_skip_test("no write lease can be taken here");
  }
  sma_t *rw = NULL;
  int rc_rw = sma_open(&rw, name, NULL, 0);
  int st;
  waitpid(holder, &st, 0);
  sma_free(rw);

  /* The read-only open, same situation. */
  holder = hold_lease(name, 3000);
  if (holder == 0) sma_unlink(name); /* nothing left behind by the failure */
  cr_assert_neq(holder, 0, "the second lease could not be taken");
  double t0 = t_now();
  sma_t *ro = NULL;
  int rc_ro = sma_open_as(&ro, name, NULL, 0, SMA_OPEN_READONLY);
  int os_err = sma_last_os_error();
  double took = t_now() - t0;
  (void)os_err, (void)took; /* only in messages, which the test shim drops */
  waitpid(holder, &st, 0);
  sma_free(ro);
  sma_unlink(name);
  cr_expect_eq(rc_rw, 0, "read-write open under a held lease: %s", sma_err_name(rc_rw));
  cr_expect_eq(rc_ro, 0, "read-only open under a held lease: %s (os error %d) after %.1f s",
               sma_err_name(rc_ro), os_err, took);
}

typedef struct {
  const char *name;
  int seen;
} seek_t;

static int seek_name(const sma_info_t *info, void *user) {
  seek_t *k = user;
  if (strcmp(info->name, k->name) == 0) k->seen = 1;
  return 0;
}

/* The same O_NONBLOCK give-up through the calls `sma info` and `sma ls`
 * make, which now open read-only: sma_info_get() of an existing segment is
 * SMA_EOS (EAGAIN), and sma_list() silently leaves the segment out (`sma
 * ls` shows nothing for it, exit 0) while gc holds its lease for over 2 s.
 * Reproduced with the real gc: SMA_FAULT_PAUSE_MS=6000 sma gc & sleep 7;
 * sma ls -> the transient segment is missing from the listing. */
Test(attack_ro, info_and_list_see_a_segment_under_a_held_lease, .timeout = 60) {
  if (strcmp(sma_backend(), "posix") != 0 || access("/dev/shm", W_OK) != 0)
    cr_skip_test("POSIX /dev/shm only");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "lease-ls");
  cr_assert_eq(make_segment(name), 0);
  pid_t holder = hold_lease(name, 3000);
  if (holder == 0) {
    sma_unlink(name);
    cr_skip_test("no write lease can be taken here");
  }
  sma_info_t info;
  int rc_info = sma_info_get(&info, name);
  int st;
  waitpid(holder, &st, 0);
  holder = hold_lease(name, 3000);
  if (holder == 0) sma_unlink(name); /* nothing left behind by the failure */
  cr_assert_neq(holder, 0, "the second lease could not be taken");
  seek_t k = {name, 0};
  int rc_list = sma_list(seek_name, &k);
  waitpid(holder, &st, 0);
  sma_unlink(name);
  cr_expect_eq(rc_info, 0, "sma_info_get() under a held lease: %s", sma_err_name(rc_info));
  cr_expect_eq(rc_list, 0, "sma_list(): %s", sma_err_name(rc_list));
  cr_expect(k.seen, "sma_list() left out an existing segment whose lease gc held");
}

/* Runs sma_open_as(name, flags) in a child; 1 if it returned within
 * `limit_ms`, 0 if it was still blocked (then the child is killed). */
static int open_returns(const char *name, unsigned flags, int limit_ms) {
  pid_t pid = fork();
  if (pid == 0) {
    sma_t *a = NULL;
    sma_open_as(&a, name, NULL, 0, flags);
    _exit(0);
  }
  for (int waited = 0; waited < limit_ms; waited += 10) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return 1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  return 0;
}

/* sma.1: a FIFO under a name is ENODEV, "opening it never blocks on a
 * FIFO"; the change: "a read-only open does not block (O_NONBLOCK, where
 * /dev/shm holds files)". O_NONBLOCK is added only where the personality
 * says posix_shm_dir: under Darwin's personality on Linux (ci's
 * gcc-posix-darwin; the objects are still files of /dev/shm) and the
 * "unix" personality (any other POSIX system), a read-only open of a FIFO
 * is a plain O_RDONLY open(), which waits for a writer forever: `sma
 * info`, `sma cat`, `sma save`, `sma describe` and `sma ls` (the index's
 * gone() check) hang, where the read-write open returned at once. */
Test(attack_ro, readonly_open_of_a_fifo_never_blocks, .timeout = 60) {
  if (strcmp(sma_backend(), "posix") != 0 || access("/dev/shm", W_OK) != 0)
    cr_skip_test("POSIX /dev/shm only");
  char name[SMA_NAME_BUF], path[SMA_NAME_BUF + 16];
  t_name(name, sizeof name, "fifo-ro");
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  unlink(path);
  cr_assert_eq(mkfifo(path, 0600), 0);
  int rw = open_returns(name, 0, 3000);
  int ro = open_returns(name, SMA_OPEN_READONLY, 3000);
  unlink(path);
  cr_expect(rw, "the read-write open of a FIFO blocked");
  cr_expect(ro, "the read-only open of a FIFO blocked (still waiting after 3 s)");
}

/* ---- Threads: the fork() paragraph of sma.h's conventions ------------- */
#  if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#    include <malloc.h>
#    include <pthread.h>
#    include <stdatomic.h>

static atomic_int fork_stop;
static char fork_name[SMA_NAME_BUF];

static void *cache_hammer(void *arg) {
  (void)arg;
  for (unsigned i = 0; !atomic_load(&fork_stop); i++) {
    sma_t *a;
    if (sma_open_as(&a, fork_name, NULL, 0, (i & 1) ? SMA_OPEN_READONLY : 0) == 0) sma_free(a);
  }
  return NULL;
}

/* sma.h: "A child made by a raw clone() or _Fork() runs no handler: the
 * pid tags above keep it from using its parent's caches. (POSIX promises
 * such a child only async-signal-safe functions; glibc, whose malloc and
 * stdio are fork-safe, gives libsma what it needs.)" The mapping cache's
 * mutex is released in the child only by the at-fork handler, which
 * _Fork() does not run: a _Fork() while another thread holds it (every
 * load and close takes it) leaves the child's first load blocked forever
 * in pthread_mutex_lock (sma_open_as -> sma__map_open ->
 * sma__os_maps_lock), about 1 child in 150 here with six loading
 * threads.
 *
 * sma.h allows such a child libsma only where malloc() is safe in it, and
 * glibc's _Fork() leaves an arena that another thread held locked: each
 * loading thread gets an arena of its own here (glibc allows 8 per core
 * on 64-bit, only 2 per core on 32-bit, where a loading thread shared the
 * main thread's and the child blocked in malloc; under qemu-i386 it never
 * acted on its alarm either and the test hung). A child that has not
 * ended 10 s after its alarm is killed and counted as blocked.
 *
 * Not under qemu-user: a _Fork() of a guest whose other threads run can
 * leave the emulator's child blocked in a lock of qemu's own (seen under
 * qemu-i386 7.2: a futex in qemu's data, every signal blocked, 1 run in
 * 6), whatever the guest code does. Nor under ASan or TSan, whose
 * allocators can hang such a child in malloc (support.h). */

/* Whether a child blocked: ended by its alarm(3), or still there 13 s on. */
static int child_blocked(pid_t pid) {
  int code = t_wait_bounded(pid, 13);
  return code == T_OVERDUE || code == 128 + SIGALRM;
}

Test(attack_ro, raw_fork_child_with_loading_threads_does_not_deadlock, .timeout = 180) {
  T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE(); /* and a sanitizer's allocator has no arenas */
#    if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user: a _Fork() beside running threads can block in qemu's own locks");
#    endif
  t_name(fork_name, sizeof fork_name, "rawfork");
  cr_assert_eq(make_segment(fork_name), 0);
  int arenas_set = mallopt(M_ARENA_MAX, 64);
  cr_assert_eq(arenas_set, 1, "glibc's malloc refused M_ARENA_MAX");
  atomic_store(&fork_stop, 0);
  pthread_t t[6];
  for (int i = 0; i < 6; i++) cr_assert_eq(pthread_create(&t[i], NULL, cache_hammer, NULL), 0);
  /* Up to 3000 children or 20 s, whichever comes first: the window is a
   * race, and a busy machine or an emulator forks slowly (a child that
   * blocks is seen either way: alarm(3) ends it). */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int hung = 0, tried = 0;
  for (; tried < 3000 && hung == 0; tried++) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 20) break;
    pid_t pid = _Fork();
    if (pid == 0) {
      alarm(3);
      sma_t *a;
      int rc = sma_open_as(&a, fork_name, NULL, 0, SMA_OPEN_READONLY);
      _exit(rc == 0 ? 0 : 1);
    }
    if (pid < 0) break;
    hung += child_blocked(pid);
  }
  atomic_store(&fork_stop, 1);
  for (int i = 0; i < 6; i++) pthread_join(t[i], NULL);
  sma_unlink(fork_name);
  cr_expect_eq(hung, 0, "a _Fork() child's sma_open_as() blocked for 3 s (after %d children)",
               tried);
}
#  endif

#else
Test(attack_ro, linux_only) { cr_skip_test("Linux only"); }
#endif
