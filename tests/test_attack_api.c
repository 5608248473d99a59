/* Attacks on the 1.0 API, the CLMUL CRC-32 and the MADV_WIPEONFORK owner
 * mark of the mapping cache's lock (att-api). */
#define _GNU_SOURCE
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <fcntl.h>
#  include <pthread.h>
#  include <sched.h>
#  include <signal.h>
#  include <stdatomic.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <sys/syscall.h>
#  include <sys/wait.h>
#  include <unistd.h>

/* ---- sma.h "Threads"/fork contract: a raw clone() into a new pid
 * namespace, made while other threads hold the mapping cache's lock, can
 * use the library without deadlock. The lock's owner tag is a pid; a
 * process that is pid 1 of its namespace (a container's init) and owns
 * the lock makes a raw-clone child in a new pid namespace that is pid 1
 * too: the tag matches, the child takes the copied (held) mutex and
 * hangs forever. cache_get() knows pid 1 is ambiguous; the lock does not. */

static atomic_int spin_stop;
static char spin_name[64];

static void *spinner(void *arg) {
  (void)arg;
  while (!atomic_load(&spin_stop)) {
    sma_t *a;
    if (sma_open(&a, spin_name, NULL, 0) == 0) sma_free(a);
  }
  return NULL;
}

static void on_alarm(int sig) {
  (void)sig;
  _exit(9); /* pid 1 of a namespace ignores a default-action SIGALRM */
}

/* Runs as pid 1 of a new pid namespace (a raw clone child of the test,
 * made before the test process touched the library). Returns the number
 * of its own raw-clone (CLONE_NEWPID) children that hung. */
static int init_role(void) {
  size_t shape[1] = {64};
  sma_t *seg = NULL, *held = NULL;
  enum { NFILL = 1500 };
  static sma_t *fill[NFILL];
  int nfill = 0, result = 100;
  if (sma_new(&seg, &(sma_array_desc_t){
                        .name = spin_name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0)
    return 100;
  int rc = sma_create(seg, 0);
  if (rc != 0) {
    sma_free(seg);
    return rc == SMA_ELIMIT || rc == SMA_ENOSPC ? 77 : 100;
  }
  /* Keep the spun segment mapped at the far end of a long table, so that
   * each spinner's take walks it under the lock (a wide window). As many
   * as the system allows (macOS's System V limits: 32 segments). */
  if (sma_open(&held, spin_name, NULL, 0) != 0) goto out;
  for (; nfill < NFILL; nfill++) {
    char n[80];
    snprintf(n, sizeof n, "%s-f%d", spin_name, nfill);
    if (sma_new(&fill[nfill],
                &(sma_array_desc_t){.name = n, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
      goto out;
    rc = sma_create(fill[nfill], 0);
    if (rc != 0) {
      sma_free(fill[nfill]);                           /* not made: nothing to unlink */
      if (rc == SMA_ELIMIT || rc == SMA_ENOSPC) break; /* as many as fit */
      goto out;
    }
    if (sma_close(fill[nfill]) != 0 || sma_load(fill[nfill]) != 0) {
      nfill++;
      goto out;
    }
  }
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, spinner, NULL);
  int hung = 0;
  for (int i = 0; i < T_ROUNDS(200) && hung == 0; i++) {
    long pid = t_raw_clone_newpid();
    if (pid == 0) {
      signal(SIGALRM, on_alarm);
      alarm(3);
      sma_t *a;
      int rc2 = sma_open(&a, spin_name, NULL, 0);
      if (rc2 == 0) rc2 = sma_close(a);
      _exit(rc2 == 0 ? 0 : 3);
    }
    if (pid < 0) break;
    int st;
    waitpid((pid_t)pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 9) hung++;
    if (getenv("ATT_DEBUG")) fprintf(stderr, "child %d st %x\n", i, st);
  }
  atomic_store(&spin_stop, 1);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  result = hung;
out: /* nothing is left behind, whatever failed */
  for (int i = 0; i < nfill; i++) {
    sma_close(fill[i]);
    sma_unlink(sma_name(fill[i]));
    sma_free(fill[i]);
  }
  sma_free(held);
  sma_close(seg);
  sma_unlink(spin_name);
  sma_free(seg);
  return result;
}

__attribute__((constructor)) static void pid1_role_entry(void) {
  const char *name = getenv("SMA_ATTACK_PID1_ROLE");
  if (name == NULL) return;
  snprintf(spin_name, sizeof spin_name, "%s", name);
  _exit(getpid() == 1 ? init_role() : 101);
}

Test(attack_api, pid1_raw_clone_newpid_child_while_lock_held_does_not_deadlock, .timeout = 120) {
  T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE();
  t_name(spin_name, sizeof spin_name, "pid1");
  long pid = t_raw_clone_newpid();
  if (pid < 0 && (errno == EPERM || errno == EINVAL || errno == ENOSPC))
    cr_skip_test("no CLONE_NEWPID here (errno %d)", errno);
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    /* A fresh image: pid 1 here, whose first take of the lock claims it. */
    setenv("SMA_ATTACK_PID1_ROLE", spin_name, 1);
    execl("/proc/self/exe", "test_attack_api", (char *)NULL);
    _exit(102);
  }
  int st;
  cr_assert_eq(waitpid((pid_t)pid, &st, 0), pid);
  cr_assert(WIFEXITED(st));
  if (WEXITSTATUS(st) == 77) cr_skip_test("no room for the segment here (a system limit)");
  cr_expect_neq(WEXITSTATUS(st), 100, "setup failed");
  cr_expect_neq(WEXITSTATUS(st), 101, "not pid 1");
  cr_assert_eq(WEXITSTATUS(st), 0,
               "%d raw-clone child(ren) of a pid-1 owner, in a new pid namespace "
               "(pid 1 there too), deadlocked on the copied mapping-cache lock",
               WEXITSTATUS(st));
}

/* ---- The owner mark lives in a MADV_WIPEONFORK page, which a child that
 * shares the parent's memory (clone(CLONE_VM) without CLONE_THREAD,
 * vfork()) does NOT find wiped: it skips the pid check the lock had
 * before this change and uses the parent's table as its own. A load in
 * such a child enters a mapping whose file descriptor is the child's (its
 * own fd table) into the parent's table; after the child exits, the
 * parent's next load of the same segment finds that entry and re-reads
 * the record through a descriptor that in the parent is closed or another
 * file: a valid segment is refused (SMA_ENORECORD), and the parent's last
 * close closes that descriptor number, whatever the parent uses it for.
 * Before the change the child's getpid() differed from the owner tag and
 * its loads bypassed the cache. */

static char vm_name[64];
static sma_t *vm_child_array;
static int vm_child_rc = -999;

static int vm_child(void *arg) {
  (void)arg;
  vm_child_rc = sma_open(&vm_child_array, vm_name, NULL, 0);
  return 0; /* exits without closing, as a vfork()ed child that execs would */
}

Test(attack_api, clone_vm_child_load_does_not_poison_parent_cache, .timeout = 30) {
  t_name(vm_name, sizeof vm_name, "vm");
  size_t shape[1] = {16};
  sma_t *seg;
  cr_assert_eq(sma_new(&seg,
                       &(sma_array_desc_t){
                           .name = vm_name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}),
               0);
  cr_assert_eq(sma_create(seg, 0), 0);
  cr_assert_eq(sma_close(seg), 0);
  sma_t *warm; /* this process takes the lock once: it owns it, the mark is set */
  cr_assert_eq(sma_open(&warm, vm_name, NULL, 0), 0);
  sma_free(warm);

  static char stack[256 * 1024];
  int pid = clone(vm_child, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
  if (pid < 0) {
    sma_unlink(vm_name);
    sma_free(seg);
    cr_skip_test("clone(CLONE_VM) refused here (errno %d)", errno);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert_eq(vm_child_rc, 0, "the CLONE_VM child could not load: %d", vm_child_rc);

  int fd = open("/dev/null", O_RDONLY); /* the parent's own descriptor */
  cr_assert_geq(fd, 0);
  sma_t *again = NULL;
  int rc = sma_open(&again, vm_name, NULL, 0);
  if (rc == 0) sma_free(again);
  int fd_alive = fcntl(fd, F_GETFD) != -1;
  close(fd);
  sma_unlink(vm_name);
  sma_free(seg);
  cr_expect_eq(rc, 0,
               "the parent's load of a valid segment, after a CLONE_VM child loaded "
               "it, failed: %s",
               sma_err_name(rc));
  cr_expect(fd_alive, "the parent's own fd %d was closed by libsma", fd);
}

#endif
