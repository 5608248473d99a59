/* The creator's pid namespace, which every record carries: read once per
 * process (sma__os_pidns() caches it), and read afresh by every forked
 * child, which may live in another namespace than its parent. Real
 * namespaces (unshare), real children; skipped where the machine gives
 * none (not root, not Linux). */
#include "sma.h"
#include "../src/platform.h"
#include "../src/sma_int.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <sched.h>
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

enum { SKIP = 77 };

static uint64_t pidns_of_self(void) {
  struct stat st;
  return stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Runs fn in a forked child; its exit status (SKIP: the machine cannot). */
static int in_child(int (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(30);
    _exit(fn());
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* After unshare(CLONE_NEWPID) the caller stays where it was; its next
 * child is pid 1 of a new namespace. That child must not see the value
 * its parent cached. */
static int new_namespace_child(void) {
  uint64_t parent = sma__os_pidns(); /* cached here */
  if (parent == 0 || parent != pidns_of_self()) return 2;
  if (unshare(CLONE_NEWPID) != 0) return SKIP;
  if (sma__os_pidns() != parent) return 3; /* the caller did not move */
  pid_t pid = fork();
  if (pid == 0) {
    uint64_t mine = sma__os_pidns(), truth = pidns_of_self();
    _exit(getpid() == 1 && truth != 0 && truth != parent && mine == truth ? 0 : 4);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 5;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 6;
}

Test(pidns, a_child_in_a_new_pid_namespace_reads_its_own) {
  int rc = in_child(new_namespace_child);
  if (rc == SKIP) cr_skip_test("no new pid namespace here (needs root)");
  cr_assert_eq(rc, 0, "step %d failed", rc);
}

/* The namespace is read once: with /proc hidden afterwards (a tmpfs
 * mounted over it, in a private mount namespace), creates still record
 * it. Before the cache every create paid a stat of /proc, and recorded 0
 * here. */
static int read_once_child(void) {
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return SKIP;
  uint64_t before = sma__os_pidns();
  if (before == 0) return SKIP; /* no /proc to begin with */
  if (mount("tmpfs", "/proc", "tmpfs", 0, "size=1m") != 0) return SKIP;
  if (pidns_of_self() != 0) return 2; /* /proc is still there */
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "pidns-once");
  size_t shape[1] = {16};
  sma_t *a;
  if (sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) !=
          0 ||
      sma_create(a, 0) != 0)
    return 3;
  t_raw_t raw;
  int rc = 4;
  if (t_raw_map(name, &raw) == 0) {
    sma__record_t rec;
    if (sma__record_read(raw.bytes, raw.size, &rec) == 0) rc = rec.pidns == before ? 0 : 5;
    t_raw_unmap(&raw);
  }
  sma_free(a);
  sma_unlink(name);
  return rc;
}

Test(pidns, is_read_once_per_process) {
  int rc = in_child(read_once_child);
  if (rc == SKIP) cr_skip_test("no private mount namespace here (needs root)");
  cr_assert_eq(rc, 0, "step %d failed", rc);
}
#else
Test(pidns, needs_linux) { cr_skip_test("pid namespaces are Linux's"); }
#endif
