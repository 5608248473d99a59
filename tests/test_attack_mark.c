/* Attack on pid 1's mark (a MADV_WIPEONFORK page) and the at-fork
 * handlers that take the mapping cache's lock only in its owner.
 * Real processes, real pid namespaces (root only; skipped otherwise).
 * Each scenario runs in a forked child that returns a code:
 *   0 held, 10 the copy used its parent's table (its load got the
 *   parent's mapping), 20 the copy hung on the parent's lock, 77 skip. */
#define _GNU_SOURCE
#include "sma.h"
#include "../src/platform.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <sched.h>
#  include <signal.h>
#  include <sys/mman.h>
#  include <sys/syscall.h>
#  include <sys/wait.h>
#  include <unistd.h>

enum { SKIP = 77, SHARED = 10, HUNG = 20 };

static int status_code(pid_t pid) {
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
  if (WIFSIGNALED(st)) return WTERMSIG(st) == SIGALRM ? HUNG : 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

static int in_child(int (*fn)(int), int arg) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(60);
    _exit(fn(arg));
  }
  return status_code(pid);
}

static int make(const char *name) {
  size_t shape[1] = {4096};
  sma_t *a;
  if (sma_new(&a, &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0)
    return -1;
  int rc = sma_create(a, 0);
  sma_free(a);
  return rc;
}

/* The load of `name` in a raw copy: SHARED if it got `addr`, the
 * parent's mapping (the copied table), 0 if it mapped afresh. */
static void on_alarm(int sig) {
  (void)sig;
  _exit(HUNG); /* a pid 1 ignores a default-action SIGALRM */
}

static int copy_loads(const char *name, void *addr) {
  signal(SIGALRM, on_alarm);
  alarm(5); /* a hang on the copied lock ends here (HUNG) */
  sma_t *b;
  if (sma_open(&b, name, NULL, 0) != 0) return 4;
  return sma_data(b) == addr ? SHARED : 0;
}

static void name_for(char *name, size_t n) { snprintf(name, n, "atk_mark_%ld", (long)getpid()); }

/* ---- 1. A raw clone's raw clone that gets the owner's pid number in a
 * new pid namespace (no setns): it takes the owner's lock. */
static int grandchild_with_owner_pid(int hold) {
  char name[64];
  name_for(name, sizeof name);
  sma_unlink(name);
  if (make(name) != 0) return 2;
  sma_t *a;
  if (sma_open(&a, name, NULL, 0) != 0) return 3;
  void *addr = sma_data(a);
  pid_t owner = getpid();
  if (hold && sma__os_maps_lock() != 0) return 5; /* a thread of ours holds it */
  pid_t c = (pid_t)t_raw_clone_newpid();
  if (c == 0) { /* pid 1 of a new namespace: bypasses, as promised */
    FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (f == NULL) _exit(SKIP);
    fprintf(f, "%ld", (long)owner - 1);
    if (fclose(f) != 0) _exit(SKIP);
    pid_t g = (pid_t)t_fork_without_handlers();
    if (g == 0) _exit(getpid() != owner ? SKIP : copy_loads(name, addr));
    _exit(status_code(g));
  }
  if (hold) sma__os_maps_unlock();
  int rc = c < 0 ? SKIP : status_code(c);
  sma_close(a);
  sma_unlink(name);
  return rc;
}

Test(attack_mark, a_raw_copy_with_the_owners_pid_number_in_a_new_namespace_bypasses) {
  if (geteuid() != 0) cr_skip_test("needs root (pid namespaces, ns_last_pid)");
  int rc = in_child(grandchild_with_owner_pid, 0);
  if (rc == SKIP) cr_skip_test("no new pid namespace or ns_last_pid here");
  cr_assert_eq(rc, 0,
               "a _Fork() child of a raw clone(CLONE_NEWPID), given its grandparent's pid "
               "number in the new namespace, used the grandparent's table (%d)",
               rc);
}

Test(attack_mark, a_raw_copy_with_the_owners_pid_number_never_waits_on_the_copied_lock) {
  if (geteuid() != 0) cr_skip_test("needs root (pid namespaces, ns_last_pid)");
  int rc = in_child(grandchild_with_owner_pid, 1);
  if (rc == SKIP) cr_skip_test("no new pid namespace or ns_last_pid here");
  cr_assert_eq(rc, 0, "the copy waited on the lock a thread of its grandparent held (%d)", rc);
}

/* ---- 2. (Fails on the i386 build run under qemu-i386 7.2: its madvise()
 * returns 0 for MADV_WIPEONFORK without doing it, so the copy finds the
 * mark 1, uses its parent's table and, as pid 1, waits forever on the
 * copied lock; the stat of /proc/self/ns/pid used before told it apart.)
 * A pid-1 owner's copy into a new pid namespace (unshare, then
 * a raw clone: qemu-user refuses clone(CLONE_NEWPID)) must find no
 * mark. keep: the program set MADV_KEEPONFORK over its memory first. */
static void keep_on_fork_everywhere(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2) madvise((void *)lo, hi - lo, MADV_KEEPONFORK);
  }
  fclose(f);
}

static int pid1_owner(int mode) { /* mode bit 0: hold the lock; bit 1: keep-on-fork */
  char name[64];
  name_for(name, sizeof name);
  sma_unlink(name);
  if (make(name) != 0) return 2;
  sma_t *a;
  if (sma_open(&a, name, NULL, 0) != 0) return 3;
  void *addr = sma_data(a);
  if (mode & 2) keep_on_fork_everywhere();
  if (unshare(CLONE_NEWPID) != 0) return SKIP;
  if ((mode & 1) && sma__os_maps_lock() != 0) return 5;
  pid_t c = (pid_t)t_fork_without_handlers();
  if (c == 0) _exit(getpid() != 1 ? SKIP : copy_loads(name, addr));
  if (mode & 1) sma__os_maps_unlock();
  int rc = c < 0 ? SKIP : status_code(c);
  sma_close(a);
  sma_unlink(name);
  return rc;
}

/* Makes a pid 1 (fork() into a new namespace) that runs pid1_owner. */
static int as_pid1(int mode) {
  if (unshare(CLONE_NEWPID) != 0) return SKIP;
  pid_t p = fork();
  if (p == 0) _exit(getpid() != 1 ? SKIP : pid1_owner(mode));
  return status_code(p);
}

Test(attack_mark, a_raw_copy_of_a_pid1_owner_into_a_new_namespace_bypasses) {
  if (geteuid() != 0) cr_skip_test("needs root (pid namespaces)");
  int rc = in_child(as_pid1, 0);
  if (rc == SKIP) cr_skip_test("no new pid namespace here");
  cr_assert_eq(rc, 0,
               "a raw copy (unshare(CLONE_NEWPID) + _Fork()) of a pid-1 owner found the mark "
               "set and used its parent's table (%d): MADV_WIPEONFORK reported done, not done "
               "(qemu-user ignores it)",
               rc);
}

Test(attack_mark, a_raw_copy_of_a_pid1_owner_never_waits_on_the_copied_lock) {
  if (geteuid() != 0) cr_skip_test("needs root (pid namespaces)");
  int rc = in_child(as_pid1, 1);
  if (rc == SKIP) cr_skip_test("no new pid namespace here");
  cr_assert_eq(rc, 0, "the raw copy of pid 1 waited on the lock its parent held (%d)", rc);
}

Test(attack_mark, keep_on_fork_over_the_programs_memory_does_not_make_a_copy_an_owner) {
  if (geteuid() != 0) cr_skip_test("needs root (pid namespaces)");
  int rc = in_child(as_pid1, 3);
  if (rc == SKIP) cr_skip_test("no new pid namespace here");
  cr_assert_eq(rc, 0,
               "after madvise(MADV_KEEPONFORK) over its memory, a pid-1 owner's raw copy "
               "into a new namespace waited on (20) or used (10) its lock (%d)",
               rc);
}

#else
Test(attack_mark, not_linux) { cr_skip_test("Linux pid namespaces only"); }
#endif
