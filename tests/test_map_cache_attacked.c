/* Attacks on issue 27's mapping cache and pid-namespace cache (att-perf). */
#define _GNU_SOURCE
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <sched.h>
#  include <signal.h>
#  include <sys/mount.h>
#  include <sys/stat.h>
#  include <sys/syscall.h>
#  include <sys/wait.h>
#  include <unistd.h>

/* Creates a small segment and closes it (the segment stays). */
static int make_segment(const char *name) {
  size_t shape[1] = {16};
  sma_t *a;
  if (sma_new(&a, &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
    return -1;
  int rc = sma_create(a, 0);
  sma_free(a); /* closes; the segment stays */
  return rc;
}

/* A child made without the at-fork handlers (glibc's _Fork(), a raw clone
 * as Go, container runtimes and some language runtimes make) in a new pid
 * namespace must record its own pid namespace: before issue 27 every
 * create stat'ed /proc/self/ns/pid; now the parent's cached value leaks
 * into the child, so the creator seems to live in the caller's namespace
 * with a pid that means another process there (here pid 1, "alive";
 * elsewhere a dead pid, so sma_collect() would take a live creator's
 * segment for an orphan). Expected: creator_alive -1 (other namespace). */
Test(map_cache_attacked, raw_clone_child_in_new_pidns_records_its_own_pidns) {
  if (geteuid() != 0) cr_skip_test("needs root for unshare(CLONE_NEWPID)");
  char name[SMA_NAME_BUF], warm[SMA_NAME_BUF];
  t_name(name, sizeof name, "pidns");
  t_name(warm, sizeof warm, "warm");
  int pfd[2], cfd[2]; /* pfd: the creator's pid from outer; cfd: the creator's report */
  cr_assert_eq(pipe(pfd), 0);
  cr_assert_eq(pipe(cfd), 0);
  pid_t outer = fork(); /* keeps the test process out of the new namespace */
  cr_assert_neq(outer, -1);
  if (outer == 0) {
    close(pfd[0]);
    close(cfd[0]);
    /* A create reads the pid namespace and caches it in this process. */
    if (make_segment(warm) != 0) _exit(5);
    sma_unlink(warm);
    if (unshare(CLONE_NEWPID) != 0) _exit(77);
    pid_t c = (pid_t)t_fork_without_handlers();
    if (c == 0) { /* pid 1 of the new namespace */
      if (make_segment(name) != 0) _exit(3);
      pid_t zero = 0;
      if (write(cfd[1], &zero, sizeof zero) != sizeof zero) _exit(4);
      alarm(60); /* alive until killed (or a minute at most) */
      pause();
      _exit(0);
    }
    if (c < 0) _exit(6);
    if (write(pfd[1], &c, sizeof c) != sizeof c) _exit(4);
    int st;
    waitpid(c, &st, 0);
    _exit(0);
  }
  close(pfd[1]);
  close(cfd[1]);
  pid_t creator = -1, zero = -1;
  ssize_t got1 = read(pfd[0], &creator, sizeof creator);
  ssize_t got2 = got1 == sizeof creator ? read(cfd[0], &zero, sizeof zero) : 0;
  sma_info_t info;
  int rc = sma_info_get(&info, name);
  if (got1 == sizeof creator && creator > 0) kill(creator, SIGKILL);
  sma_unlink(name);
  int st;
  waitpid(outer, &st, 0);
  close(pfd[0]);
  close(cfd[0]);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77) cr_skip_test("unshare(CLONE_NEWPID) refused");
  cr_assert(got2 == sizeof zero && zero == 0,
            "the creator in the new pid namespace did not report (outer status %d)", st);
  cr_assert_eq(rc, 0);
  cr_assert_eq(info.creator_pid, 1, "creator pid in its own namespace");
  cr_assert_eq(info.creator_alive, -1,
               "a creator in another pid namespace is unknown (-1), got %d: the "
               "child recorded its parent's cached pid namespace",
               info.creator_alive);
}

/* The consequence: sma_collect() removes a live creator's segment. In a
 * pid namespace A of our own (pids 2 and 3 there already gone), a process
 * that has read its pid namespace moves its children to a namespace B and
 * makes them without at-fork handlers; the one with pid 2 in B creates a
 * segment, closes it and keeps running. Its record names pid 2 and
 * namespace A, so gc in A sees pid 2 gone and takes the segment: expected
 * SMA_EINUSE (creator in another pid namespace: unknown). */
Test(map_cache_attacked, gc_keeps_the_segment_of_a_live_creator_made_by_raw_clone_in_new_pidns) {
  if (geteuid() != 0) cr_skip_test("needs root for unshare(CLONE_NEWPID)");
  char name[SMA_NAME_BUF], warm[SMA_NAME_BUF];
  t_name(name, sizeof name, "gc");
  t_name(warm, sizeof warm, "warm");
  int res[2];
  cr_assert_eq(pipe(res), 0);
  pid_t w = fork();
  cr_assert_neq(w, -1);
  if (w == 0) {
    if (unshare(CLONE_NEWPID) != 0) _exit(77);
    pid_t w1 = fork(); /* pid 1 of namespace A */
    if (w1 != 0) {
      int st;
      waitpid(w1, &st, 0);
      _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
    }
    for (int i = 0; i < 2; i++) { /* pids 2 and 3 of A: gone */
      pid_t k = fork();
      if (k == 0) _exit(0);
      waitpid(k, NULL, 0);
    }
    if (make_segment(warm) != 0) _exit(5); /* caches A */
    sma_unlink(warm);
    if (unshare(CLONE_NEWPID) != 0) _exit(77);
    int ready[2];
    if (pipe(ready) != 0) _exit(6);
    pid_t c = (pid_t)t_fork_without_handlers(); /* pid 1 of B */
    if (c < 0) _exit(7);
    if (c == 0) {
      pid_t g = (pid_t)t_fork_without_handlers(); /* pid 2 of B */
      if (g == 0) {
        if (make_segment(name) == 0 && write(ready[1], "x", 1) == 1) pause();
        _exit(3);
      }
      pause();
      _exit(0);
    }
    /* Only the creator holds the write end now: if it fails, the read
     * ends. Pid 1 of A ignores its own SIGALRM, so alarm() cannot bound it. */
    close(ready[1]);
    char ch;
    if (read(ready[0], &ch, 1) != 1) {
      kill(c, SIGKILL);
      _exit(4);
    }
    int rc = sma_collect(NULL, name, 0);
    if (write(res[1], &rc, sizeof rc) != sizeof rc) _exit(4);
    kill(c, SIGKILL); /* ends B */
    waitpid(c, NULL, 0);
    _exit(0); /* ends A */
  }
  close(res[1]);
  int rc = 12345;
  ssize_t got = read(res[0], &rc, sizeof rc);
  close(res[0]);
  int st;
  waitpid(w, &st, 0);
  sma_unlink(name);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77) cr_skip_test("unshare(CLONE_NEWPID) refused");
  cr_assert_eq(got, (ssize_t)sizeof rc, "no result (status %d)", st);
  cr_assert_eq(rc, SMA_EINUSE,
               "sma_collect() of a segment whose creator runs (pid 2 of another pid "
               "namespace) gave %s: it was removed",
               sma_err_name(rc));
}

/* Pid 1 of a pid namespace with no /proc (a container that mounts none):
 * in new pid and mount namespaces, /proc hidden under an empty tmpfs. It
 * cannot read its pid namespace, so it cannot tell itself from a raw
 * clone(CLONE_NEWPID) of it (pid 1 too): unknown is no, and neither may
 * use the cache (sma.h). Such a clone must map afresh, not get its
 * parent's mapping. Exit codes: 0 as promised, 21 the child used its
 * parent's cache, 77 no namespaces, others a failed step. */
static int pid1_without_proc(const char *name) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("none", "/proc", "tmpfs", 0, NULL) != 0)
    return 77;
  struct stat st;
  if (getpid() != 1 || stat("/proc/self/ns/pid", &st) == 0) return 10;
  if (make_segment(name) != 0) return 11;
  sma_t *held;
  if (sma_open(&held, name, NULL, 0) != 0) return 12;
  if (unshare(CLONE_NEWPID) != 0) return 77; /* for the next child only */
  pid_t c = (pid_t)t_fork_without_handlers();
  if (c == 0) {
    sma_t *mine;
    if (getpid() != 1 || sma_open(&mine, name, NULL, 0) != 0) _exit(3);
    _exit(sma_data(mine) == sma_data(held) ? 21 : 0);
  }
  int code = c < 0 ? 13 : t_wait_bounded(c, 30);
  sma_free(held);
  sma_unlink(name);
  return code;
}

Test(map_cache_attacked, pid1_without_proc_never_lets_its_raw_clone_use_its_cache) {
  if (geteuid() != 0) cr_skip_test("needs root for unshare(CLONE_NEWPID | CLONE_NEWNS)");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "pid1np");
  pid_t outer = fork(); /* keeps the test process out of the namespaces */
  cr_assert_neq(outer, -1);
  if (outer == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(77);
    pid_t init = fork();
    if (init == 0) _exit(pid1_without_proc(name));
    _exit(init < 0 ? 14 : t_wait_bounded(init, 60));
  }
  int code = t_wait_bounded(outer, 90);
  sma_unlink(name);
  if (code == 77) cr_skip_test("no private pid and mount namespaces here");
  cr_assert_neq(code, 21, "pid 1's raw clone in a new pid namespace used its parent's cache");
  cr_assert_eq(code, 0, "a step failed (exit code %d)", code);
}
#endif

/* The mapping cache keys System V segments by shmid and takes an all-zero
 * identity for "none" (Windows): but shmid 0 is a real id, the first
 * segment of every fresh IPC namespace (every container) gets it, and that
 * segment is then mapped afresh at every load, never shared. */
Test(map_cache_attacked, sysv_shmid_zero_is_shared_like_any_other) {
#if !defined(SMA_BACKEND_sysv)
  cr_skip_test("System V backend only");
#else
  if (t_private_ipc() != 0) cr_skip_test("needs a private IPC namespace (unshare -i)");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "shmid0");
  size_t shape[1] = {1024};
  sma_t *c;
  cr_assert_eq(
      sma_new(&c, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT32}),
      0);
  cr_assert_eq(sma_create(c, 0), 0);
  cr_assert_eq(sma_os_handle(c), 0, "the first segment of a fresh IPC namespace has shmid 0");
  sma_t *a, *b;
  cr_assert_eq(sma_open(&a, name, NULL, 0), 0);
  cr_assert_eq(sma_open(&b, name, NULL, 0), 0);
  void *pa = sma_data(a), *pb = sma_data(b);
  sma_free(a);
  sma_free(b);
  sma_free(c);
  sma_unlink(name);
  cr_assert_eq(pa, pb, "two loads of the segment with shmid 0 were not given one mapping");
#endif
}

#if defined(__linux__) && !defined(SMA_BACKEND_sysv)
#  include <fcntl.h>
/* sma.h: "an existing name is SMA_EEXIST". A NORESERVE create now skips
 * the name pre-check and builds the segment first, so on a full /dev/shm
 * (or one out of inodes) a taken name answers SMA_ENOSPC: a caller that
 * picks another name on SMA_EEXIST takes a name collision for a full
 * machine. The default create still answers SMA_EEXIST. */
Test(map_cache_attacked, noreserve_create_of_taken_name_on_full_dev_shm_is_eexist) {
  if (t_private_dev_shm("size=1m") != 0) cr_skip_test("needs a private /dev/shm (root, Linux)");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "taken");
  size_t shape[1] = {100000};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  sma_close(a);
  int fd = open("/dev/shm/fill", O_WRONLY | O_CREAT, 0600);
  cr_assert_geq(fd, 0);
  static char block[65536];
  while (write(fd, block, sizeof block) > 0) {}
  close(fd);
  int dflt = sma_create(a, 0);
  int noreserve = sma_create(a, SMA_CREATE_NORESERVE);
  sma_free(a);
  cr_assert_eq(dflt, SMA_EEXIST);
  cr_assert_eq(noreserve, SMA_EEXIST, "NORESERVE create of a taken name gave %s",
               sma_err_name(noreserve));
}
#endif

#if defined(__linux__)
/* A load while this process holds a mapping of the segment asks only
 * lstat which object the name names, never open(): the permission check
 * of the load is skipped. A daemon that loaded as root, dropped to
 * another uid and loads again gets SMA_OK where the segment's mode (0600,
 * root's) says SMA_EACCES, as it says with SMA_MAP_CACHE=0 or once nothing
 * is held. Low severity: the process already holds a read-write mapping
 * of that very object. */
Test(map_cache_attacked, load_after_dropping_privileges_is_eacces_while_a_mapping_is_held) {
  if (geteuid() != 0) cr_skip_test("needs root to drop to another uid");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "drop");
  cr_assert_eq(make_segment(name), 0);
  int res[2];
  cr_assert_eq(pipe(res), 0);
  pid_t k = fork(); /* drops privileges; the test process unlinks after */
  cr_assert_neq(k, -1);
  if (k == 0) {
    sma_t *held, *b = NULL;
    if (sma_open(&held, name, NULL, 0) != 0) _exit(2);
    if (t_become(65534, 65534) != 0) _exit(77);
    int rcs[2];
    rcs[0] = sma_open(&b, name, NULL, 0);
    sma_free(b);
    b = NULL;
    sma_free(held);
    rcs[1] = sma_open(&b, name, NULL, 0);
    sma_free(b);
    _exit(write(res[1], rcs, sizeof rcs) == sizeof rcs ? 0 : 3);
  }
  close(res[1]);
  int rcs[2] = {12345, 12345};
  ssize_t got = read(res[0], rcs, sizeof rcs);
  close(res[0]);
  int st;
  waitpid(k, &st, 0);
  sma_unlink(name);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77) cr_skip_test("cannot become uid 65534");
  cr_assert_eq(got, (ssize_t)sizeof rcs, "child status %d", st);
  cr_assert_eq(rcs[1], SMA_EACCES);
  cr_assert_eq(rcs[0], SMA_EACCES,
               "a load as uid 65534 of root's 0600 segment gave %s "
               "because this process held a mapping of it",
               sma_err_name(rcs[0]));
}
#endif
