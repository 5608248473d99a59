/* Attacks on the mapping cache's lock as it finally stands (src/unix/os.c:
 * sma__os_maps_lock(), take_if_owner(), the at-fork handlers, the pid-1
 * stat of /proc/self/ns/pid, the MADV_WIPEONFORK mark) and src/map_cache.c.
 * Each test is a defect reproduced by an outside attacker; real namespaces
 * (unshare), real children; skipped where the machine gives none (not
 * root, not Linux, not the posix backend). */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <pthread.h>
#  include <sched.h>
#  include <signal.h>
#  include <sys/mount.h>
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <unistd.h>

#  ifndef CLONE_NEWPID
#    define CLONE_NEWPID 0x20000000
#  endif
#  ifndef CLONE_NEWNS
#    define CLONE_NEWNS 0x00020000
#  endif
int unshare(int flags); /* <sched.h> declares it only under _GNU_SOURCE */

enum { SKIP = T_SKIP };

/* A 64 KiB uint8 array `name`, made (create != 0) or loaded; NULL on failure. */
static sma_t *array_of(const char *name, int create) {
  return t_bytes_array(name, 1u << 16, create);
}

/* Runs fn in a forked child (private mount namespace, own /dev/shm and
 * /tmp; on System V its own IPC namespace too, since a segment outlives a
 * creator that exits holding it, as one test's owner does); its exit
 * status (SKIP: the machine cannot). */
static int in_child(int (*fn)(void)) { return t_in_private_child(fn, "size=16m", 60); }

static void need_posix(void) {
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("counts /dev/shm mappings: posix only");
}

/* ---- 1. A pid 1 that loses /proc while it holds loads ------------------
 * Promise (sma.h): every close releases what its load held; no mapping
 * is leaked once every array is closed. A pid 1 proves it owns the cache
 * by a stat of /proc/self/ns/pid at each take of the lock, including the
 * take in release(): once /proc is gone (unmounted, hidden, a chroot or a
 * mount namespace without it) every close of an array it loaded through
 * the cache is refused the lock and returns 0 without dropping its
 * reference, so the shared mapping is never unmapped, not even after
 * /proc comes back (the table still counts the closed loads). */
/* Closes and frees a and b, two loads sharing one mapping, while an
 * empty tmpfs hides /proc, then shows /proc again: 0, SKIP where /proc
 * cannot be hidden, 5 if it cannot be shown again, 6 if a close failed. */
static int close_both_without_proc(sma_t *a, sma_t *b) {
  if (mount("tmpfs", "/proc", "tmpfs", 0, "size=1m") != 0) return SKIP;
  int ra = sma_close(a), rb = sma_close(b);
  sma_free(a);
  sma_free(b);
  if (umount("/proc") != 0) return 5;
  return ra != 0 || rb != 0 ? 6 : 0;
}

static int pid1_loses_proc(void) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock-p1");
  sma_t *creator = array_of(name, 1);
  if (creator == NULL) return 2;
  int base = t_shm_mappings(name);
  if (base < 0) return SKIP;
  sma_t *a = array_of(name, 0), *b = array_of(name, 0);
  if (a == NULL || b == NULL) return 3;
  if (sma_data(a) != sma_data(b)) return SKIP; /* no cache here */
  if (t_shm_mappings(name) != base + 1) return 4;
  int rc = close_both_without_proc(a, b);
  if (rc != 0) return rc;
  int left = t_shm_mappings(name) - base; /* /proc is back: look */
  sma_free(creator);
  sma_unlink(name);
  return left == 0 ? 0 : 10 + left; /* 11: the shared mapping outlives every close */
}

static int pid1_loses_proc_run(void) { return t_as_pid1(pid1_loses_proc); }

Test(attack_lock, pid1_that_loses_proc_releases_its_mappings_on_close) {
  need_posix();
  int rc = in_child(pid1_loses_proc_run);
  if (rc == SKIP) cr_skip_test("needs root, pid and mount namespaces");
  cr_assert_eq(rc, 0, "step %d: %s", rc,
               rc > 10 ? "the mapping stayed after every array was closed" : "setup");
}

/* The same on System V, where the leaked attach is worse: the segment,
 * removed by sma_unlink(), stays in the kernel (key 0, nattch 1) for as
 * long as the pid 1 (a container's first process) lives. Counts the
 * segments of a private IPC namespace in /proc/sysvipc/shm. */
static int sysv_segments_here(void) {
  FILE *f = fopen("/proc/sysvipc/shm", "r");
  if (f == NULL) return -1;
  char line[512];
  int n = -1; /* the header */
  while (fgets(line, sizeof line, f) != NULL) n++;
  fclose(f);
  return n;
}

static int pid1_loses_proc_sysv(void) {
  if (t_private_ipc() != 0) return SKIP;
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock-p1v");
  sma_t *creator = array_of(name, 1);
  if (creator == NULL) return 2;
  sma_t *a = array_of(name, 0), *b = array_of(name, 0);
  if (a == NULL || b == NULL) return 3;
  if (sma_data(a) != sma_data(b)) return SKIP; /* no cache here */
  int rc = close_both_without_proc(a, b);
  if (rc != 0) return rc;
  sma_free(creator);
  if (sma_unlink(name) != 0) return 7;
  int left = sysv_segments_here();
  if (left < 0) return SKIP;
  return left == 0 ? 0 : 10 + left; /* 11: the removed segment stays attached */
}

static int pid1_loses_proc_sysv_run(void) { return t_as_pid1(pid1_loses_proc_sysv); }

Test(attack_lock, pid1_that_loses_proc_detaches_a_removed_sysv_segment) {
#  if !defined(SMA_BACKEND_sysv)
  cr_skip_test("System V backend only");
#  endif
  int rc = in_child(pid1_loses_proc_sysv_run);
  if (rc == SKIP) cr_skip_test("needs root, pid, mount and IPC namespaces");
  cr_assert_eq(rc, 0, "step %d: %s", rc,
               rc > 10 ? "the removed segment stayed attached after every array was closed"
                       : "setup");
}

/* ---- 2. A program's own at-fork handler that calls libsma ---------------
 * Promise (sma.h): the library never deadlocks; any thread may fork while
 * others are inside libsma. libsma's prepare handler (before_fork) holds
 * the mapping cache's lock, a plain mutex, across the fork. POSIX runs
 * prepare handlers in the reverse order of their registration and parent
 * handlers in order, so a handler the program registered before libsma's
 * first use runs its prepare part after libsma has taken the lock, and its
 * parent part before libsma lets it go: a sma_close() (or a load) there
 * waits on the lock its own thread holds, and fork() never returns. */
static sma_t *handler_drops; /* closed by the program's handler */
static void program_handler(void) {
  if (handler_drops != NULL) {
    sma_close(handler_drops);
    sma_free(handler_drops);
    handler_drops = NULL;
  }
}

static int fork_with_program_handler(int in_prepare) {
  /* Registered before this process first uses libsma. */
  if (t_atfork_first(in_prepare ? program_handler : NULL, in_prepare ? NULL : program_handler,
                     NULL) != 0)
    return SKIP;
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock-atfork");
  sma_t *creator = array_of(name, 1);
  if (creator == NULL) return 2;
  sma_t *kept = array_of(name, 0);
  handler_drops = array_of(name, 0);
  if (kept == NULL || handler_drops == NULL) return 3;
  alarm(5); /* a fork that never returns ends here, by SIGALRM */
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  alarm(0);
  if (pid < 0 || waitpid(pid, NULL, 0) != pid) return 4;
  sma_free(kept);
  sma_free(creator);
  sma_unlink(name);
  return 0;
}

static int prepare_handler_run(void) { return fork_with_program_handler(1); }
static int parent_handler_run(void) { return fork_with_program_handler(0); }

Test(attack_lock, a_prepare_handler_registered_first_may_close_an_array) {
  int rc = in_child(prepare_handler_run);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root)");
  cr_assert_eq(rc, 0, "%s (status %d)",
               rc == 128 + SIGALRM ? "fork() deadlocked in the program's prepare handler" : "setup",
               rc);
}

Test(attack_lock, a_parent_handler_registered_first_may_close_an_array) {
  int rc = in_child(parent_handler_run);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root)");
  cr_assert_eq(rc, 0, "%s (status %d)",
               rc == 128 + SIGALRM ? "fork() deadlocked in the program's parent handler" : "setup",
               rc);
}

/* ---- 3. A raw clone that gets its dead owner's pid number ---------------
 * Promise (sma.h): a child made without at-fork handlers never uses its
 * parent's table (nor waits on its lock); the only documented exceptions
 * are a copy with the owner's pid number "in a new pid namespace or after
 * setns()" where there is no mark ("an older kernel; an emulator such as
 * qemu-user; a program that undoes it with MADV_KEEPONFORK").
 * Broken two ways at once, natively: (a) the mark is silently absent when
 * its one page cannot be mapped at the claim (mark_owner() gives up on
 * MAP_FAILED: here RLIMIT_AS at the moment the claim happens, in
 * before_fork(), and in the forked child too); (b) with no mark, plain pid
 * reuse in the owner's own namespace (the owner exits, a raw clone of its
 * raw clone gets its number) passes the pid tag: that grandchild takes
 * the dead owner's lock (a copy, held if a thread of the owner held it at
 * the clone: then it waits forever) and hands out the owner's mappings
 * from its copied table. Under qemu-user (no mark at all) (b) alone
 * suffices. */
#  include <fcntl.h>
#  include <sys/resource.h>

/* The owner, pid 2 of a fresh pid namespace: claims with no mark, holds a
 * cached load, leaves a raw clone behind and exits. Writes one byte of
 * verdict to `out` from its grandchild. */
static void reuse_owner(int out) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock-reuse");
  sma_t *creator = array_of(name, 1); /* registers the at-fork handlers */
  if (creator == NULL) {
    (void)!write(out, "e", 1);
    _exit(0);
  }
#  if !defined(SMA_TEST_EMULATED) /* qemu-user makes no mark anyway */
  struct rlimit old, tight;
  long vm = t_vm_size();
  if (vm > 0 && getrlimit(RLIMIT_AS, &old) == 0) {
    tight = old;
    tight.rlim_cur = (rlim_t)vm; /* not one more page */
    if (setrlimit(RLIMIT_AS, &tight) == 0) {
      pid_t d = fork(); /* before_fork() claims here: the mark's page fails */
      if (d == 0) _exit(0);
      setrlimit(RLIMIT_AS, &old);
      if (d > 0) waitpid(d, NULL, 0);
    }
  }
#  endif
  sma_t *h = array_of(name, 0), *h2 = array_of(name, 0);
  if (h == NULL || h2 == NULL || sma_data(h) != sma_data(h2)) {
    (void)!write(out, "s", 1); /* no cache here */
    _exit(0);
  }
  void *held = sma_data(h);
  pid_t owner = getpid();
  long c = t_fork_without_handlers();
  if (c != 0) _exit(0); /* the owner dies, holding its loads */
  /* C: a raw copy of the owner (another pid: refused, rightly). */
  for (int i = 0; i < 500 && !(kill(owner, 0) != 0 && errno == ESRCH); i++) t_sleep_ms(10);
  int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
  char text[32];
  int n = snprintf(text, sizeof text, "%d", (int)owner - 1);
  if (fd < 0 || write(fd, text, (size_t)n) != n) {
    (void)!write(out, "s", 1);
    _exit(0);
  }
  close(fd);
  long g = t_fork_without_handlers();
  if (g == 0) {
    alarm(5);
    if (getpid() != owner) {
      (void)!write(out, "s", 1); /* pid not reused */
      _exit(0);
    }
    sma_t *a = array_of(name, 0);
    (void)!write(out, a == NULL ? "e" : sma_data(a) == held ? "U" : "n", 1);
    _exit(0);
  }
  int status;
  if (g > 0 && waitpid((pid_t)g, &status, 0) == g && WIFSIGNALED(status))
    (void)!write(out, "h", 1); /* hung on the copied lock */
  _exit(0);
}

static int pid_reuse_init(void) {
  int p[2];
  if (pipe(p) != 0) return 2;
  pid_t owner = fork();
  if (owner == 0) {
    close(p[0]);
    reuse_owner(p[1]);
  }
  close(p[1]);
  if (owner < 0 || waitpid(owner, NULL, 0) != owner) return 3; /* reaped: its pid is free */
  char verdict = 0;
  if (read(p[0], &verdict, 1) != 1) return 4;
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
  switch (verdict) {
  case 'n': return 0;
  case 'U': return 10; /* used the dead owner's table */
  case 'h': return 11; /* waited on the dead owner's lock */
  case 's': return SKIP;
  default: return 5;
  }
}

static int pid_reuse_run(void) { return t_as_pid1(pid_reuse_init); }

Test(attack_lock, a_raw_clone_with_its_dead_owners_pid_does_not_use_the_table) {
#  if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user ignores MADV_WIPEONFORK: without the mark, a copy that gets its "
               "owner's pid number is not told apart (a documented limit, sma.h)");
#  endif
  int rc = in_child(pid_reuse_run);
  if (rc == SKIP) cr_skip_test("needs root, pid namespaces, ns_last_pid, the cache");
  cr_assert_eq(rc, 0, "step %d: %s", rc,
               rc == 10   ? "a raw clone with the dead owner's pid used its table"
               : rc == 11 ? "a raw clone with the dead owner's pid waited on its lock"
                          : "setup");
}

#else
Test(attack_lock, needs_linux) { cr_skip_test("pid namespaces and /proc are Linux's"); }
#endif
