/* Attacks on pid 1's ownership of the mapping cache's lock (att-pid1).
 * A first version told pid 1 from a raw clone(CLONE_NEWPID) of it (pid 1
 * too) by a pidfd of itself, kept as a descriptor NUMBER and trusted
 * whatever that number held:
 *  - a pidfd_send_signal(signal 0) that succeeded said "owner", whatever
 *    process the pidfd at that number was of: a raw clone(CLONE_NEWPID)
 *    child of the owner that held, at that number, a pidfd of a live
 *    process of its own namespace (itself here) took its parent's copied
 *    lock (deadlock when a thread of the parent held it at the clone) and
 *    used its parent's table;
 *  - ESRCH/EINVAL said "not owner": a pid 1 owner whose number then held
 *    a pidfd of a child it reaped stopped sharing mappings, and the arrays
 *    it had loaded never released theirs;
 *  - a fork() child of a pid 1 owner closed that number at the fork,
 *    whatever the program put there after closing the pidfd (a pipe here).
 * It was withdrawn: pid 1 is told from such a clone by the stat of its
 * pid namespace again, and the library keeps no descriptor for it. Each
 * test holds for any mechanism (where there is no library pidfd, the
 * program's descriptors land where they land). Plus one defect older than
 * the change: a raw clone() child that calls fork() hung in libsma's
 * prepare handler. */
#define _GNU_SOURCE
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#if defined(__linux__) && !defined(SMA_TEST_EMULATED)
#  include <dirent.h>
#  include <errno.h>
#  include <fcntl.h>
#  include <pthread.h>
#  include <sched.h>
#  include <signal.h>
#  include <stdatomic.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <stdint.h>
#  include <sys/mman.h>
#  include <sys/syscall.h>
#  include <sys/wait.h>
#  include <unistd.h>

#  if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)

/* Exit codes of a role (run as pid 1 of a new pid namespace). */
enum { R_HELD = 0, R_BROKEN = 1, R_SKIP = 77, R_SETUP = 100, R_NOT_PID1 = 101 };

static char seg_name[64];

/* The number of the library's pidfd (the only pidfd the role holds), or -1. */
static int library_pidfd(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  int found = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[300], link[128];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = '\0';
    if (strstr(link, "pidfd") != NULL) found = atoi(e->d_name);
  }
  closedir(d);
  return found;
}

static void *data_of(const sma_t *a) { return sma_view_get(a)->data; }

static sma_t *creator;

/* Creates the segment and loads it twice (the owner's claim, its pidfd,
 * and one mapping shared in the table). *held stays loaded. */
static int setup(sma_t **held, int *pidfd_no) {
  size_t shape[1] = {1024};
  if (sma_new(&creator,
              &(sma_array_desc_t){
                  .name = seg_name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0)
    return R_SETUP;
  int rc = sma_create(creator, 0);
  if (rc != 0) {
    sma_free(creator);
    creator = NULL;
    return rc == SMA_ELIMIT || rc == SMA_ENOSPC ? R_SKIP : R_SETUP;
  }
  sma_t *again;
  if (sma_open(held, seg_name, NULL, 0) != 0 || sma_open(&again, seg_name, NULL, 0) != 0)
    return R_SETUP;
  int shared = data_of(again) == data_of(*held);
  sma_free(again);
  if (!shared) return R_SKIP;  /* no cache here: nothing to attack */
  *pidfd_no = library_pidfd(); /* -1: the library keeps none */
  return 0;
}

static void teardown(sma_t *held) {
  sma_free(held);
  if (creator != NULL) {
    sma_close(creator);
    sma_unlink(seg_name);
    sma_free(creator);
  }
}

/* ATT_CONTROL=1 in the environment: each role runs its benign
 * counterpart (no pidfd at the number; a plain file at it), which must
 * hold: a check of the checks. */
static int control(void) { return getenv("ATT_CONTROL") != NULL; }

/* Puts a pidfd of the caller at descriptor number `no` (anywhere if -1). */
static int own_pidfd_at(int no) {
  if (control()) return 0;
  int me = (int)syscall(SYS_pidfd_open, (long)getpid(), 0L);
  if (me < 0) return -1;
  if (no >= 0 && me != no) {
    if (dup2(me, no) != no) return -1;
    close(me);
  }
  return 0;
}

/* Role: a raw clone(CLONE_NEWPID) child of the owner, pid 1 of its own
 * namespace, with a pidfd of itself at the owner's number, loads the
 * segment: it must map afresh, not get its parent's table entry. */
static int role_table(void) {
  sma_t *held = NULL;
  int no = -1, rc = setup(&held, &no);
  if (rc != 0) {
    teardown(held);
    return rc;
  }
  long pid = t_raw_clone_newpid();
  if (pid == 0) {
    if (own_pidfd_at(no) != 0) _exit(R_SKIP);
    sma_t *a;
    if (sma_open(&a, seg_name, NULL, 0) != 0) _exit(R_SETUP);
    _exit(data_of(a) == data_of(held) ? R_BROKEN : R_HELD);
  }
  int st = pid > 0 ? t_wait_bounded(pid, 20) : R_SETUP;
  teardown(held);
  return st;
}

/* Role: the same child while three threads of the owner load and close in
 * a loop (the lock held often): it takes the copied lock and hangs. */
static atomic_int spin_stop;
static void *spinner(void *arg) {
  (void)arg;
  while (!atomic_load(&spin_stop)) {
    sma_t *a;
    if (sma_open(&a, seg_name, NULL, 0) == 0) sma_free(a);
  }
  return NULL;
}
/* A long table, the spun segment at its far end (a wide window for a copy
 * made while a thread holds the lock), and three threads that load and
 * close the segment in a loop until stop_busy_table(). */
enum { NFILL = 400 };
static sma_t *fill[NFILL];
static int nfill;
static pthread_t spinners[3];

static void start_busy_table(void) {
  size_t shape[1] = {64};
  for (nfill = 0; nfill < NFILL; nfill++) {
    char n[96];
    snprintf(n, sizeof n, "%s-f%d", seg_name, nfill);
    if (sma_new(&fill[nfill],
                &(sma_array_desc_t){.name = n, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
      break;
    if (sma_create(fill[nfill], 0) != 0) {
      sma_free(fill[nfill]);
      break;
    }
    if (sma_close(fill[nfill]) != 0 || sma_load(fill[nfill]) != 0) {
      nfill++;
      break;
    }
  }
  for (int i = 0; i < 3; i++) pthread_create(&spinners[i], NULL, spinner, NULL);
}

static void stop_busy_table(void) {
  atomic_store(&spin_stop, 1);
  for (int i = 0; i < 3; i++) pthread_join(spinners[i], NULL);
  for (int i = 0; i < nfill; i++) {
    sma_close(fill[i]);
    sma_unlink(sma_name(fill[i]));
    sma_free(fill[i]);
  }
}

static void on_alarm(int sig) {
  (void)sig;
  _exit(9); /* pid 1 ignores a default-action SIGALRM */
}

static int role_deadlock(void) {
  sma_t *held = NULL;
  int no = -1, rc = setup(&held, &no);
  if (rc != 0) {
    teardown(held);
    return rc;
  }
  start_busy_table();
  int hung = 0;
  for (int i = 0; i < T_ROUNDS(300) && hung == 0; i++) {
    long pid = t_raw_clone_newpid();
    if (pid == 0) {
      signal(SIGALRM, on_alarm);
      alarm(3);
      if (own_pidfd_at(no) != 0) _exit(R_SKIP);
      sma_t *a;
      int r = sma_open(&a, seg_name, NULL, 0);
      if (r == 0) r = sma_close(a);
      _exit(r == 0 ? 0 : 3);
    }
    if (pid < 0) break;
    int st = t_wait_bounded(pid, 10);
    if (st == 9 || st == T_OVERDUE) hung++;
  }
  stop_busy_table();
  teardown(held);
  return hung > 0 ? R_BROKEN : R_HELD;
}

/* Role: the program closes the library's pidfd (sma.h allows it) and a
 * pipe gets its number; a fork() child must still have the pipe. */
static int role_forkfd(void) {
  sma_t *held = NULL;
  int no = -1, rc = setup(&held, &no);
  if (rc != 0) {
    teardown(held);
    return rc;
  }
  if (!control() && no >= 0) close(no); /* control: the pipe gets another number */
  int p[2];
  if (pipe(p) != 0) return R_SETUP;
  if (control() || no < 0) no = p[0];
  if (p[0] != no) {
    if (dup2(p[0], no) != no) return R_SETUP;
    close(p[0]);
  }
  pid_t pid = fork();
  if (pid == 0) _exit(fcntl(no, F_GETFD) >= 0 ? R_HELD : R_BROKEN);
  int st = pid > 0 ? t_wait_bounded(pid, 20) : R_SETUP;
  close(no);
  close(p[1]);
  teardown(held);
  return st;
}

/* Role: the program closes the library's pidfd and keeps, at its number, a
 * pidfd of a child that has since ended and been reaped (an init's
 * bookkeeping). The owner must go on sharing its mapping (sma.h: the
 * program closed that descriptor, the stat decides), and closing every
 * array must release the mapping and its descriptor. */
static int role_reaped(void) {
  sma_t *held = NULL;
  int no = -1, rc = setup(&held, &no);
  if (rc != 0) {
    teardown(held);
    return rc;
  }
  if (no >= 0) close(no);
  pid_t c = fork();
  if (c == 0) _exit(0);
  if (c < 0) return R_SETUP;
  int pfd = control() ? open("/dev/null", O_RDONLY) : (int)syscall(SYS_pidfd_open, (long)c, 0L);
  if (pfd < 0) return R_SETUP;
  if (no < 0) no = pfd;
  if (pfd != no) {
    if (dup2(pfd, no) != no) return R_SETUP;
    close(pfd);
  }
  if (t_wait_bounded(c, 20) != 0) return R_SETUP;
  sma_t *a;
  if (sma_open(&a, seg_name, NULL, 0) != 0) return R_SETUP;
  int shared = data_of(a) == data_of(held);
  sma_free(a);
  /* The held array is its mapping's last holder: closing it must unmap
   * it (and close its handle), on either backend. */
  long page = sysconf(_SC_PAGESIZE);
  void *base = (void *)((uintptr_t)data_of(held) & ~(uintptr_t)(page - 1));
  sma_free(held);
  unsigned char vec[1];
  int still_mapped = mincore(base, (size_t)page, vec) == 0;
  if (getenv("ATT_DEBUG")) fprintf(stderr, "shared %d still mapped %d\n", shared, still_mapped);
  teardown(NULL);
  return shared && !still_mapped ? R_HELD : R_BROKEN;
}

/* ---- Pre-existing, beside the change: a child made by a raw clone()
 * (or _Fork()) that then calls fork() -- a double fork, with no libsma
 * call in the child at all -- runs libsma's at-fork prepare handler,
 * before_fork(), which takes the copied maps_lock: held by a parent's
 * thread at the clone, it is never released there (sma.h: "libsma never
 * waits there for a lock of its own that a thread of the parent may have
 * held"). A prepare handler of the test, registered before libsma's, runs
 * after it (prepare handlers run last-registered first): a child that
 * hangs without having reached it hangs in libsma's handler, not in the C
 * library's own fork locks (malloc's, stdio's), which come after. */
static int reached_fd = -1;
static void reached(void) {
  if (reached_fd >= 0) (void)!write(reached_fd, "x", 1);
}

static int role_fork_in_raw_child(void) {
  if (t_atfork_first(reached, NULL, NULL) != 0) return R_SETUP; /* before libsma's */
  sma_t *held = NULL;
  size_t shape[1] = {64};
  if (sma_new(&creator,
              &(sma_array_desc_t){
                  .name = seg_name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}) != 0)
    return R_SETUP;
  if (sma_create(creator, 0) != 0) {
    sma_free(creator);
    creator = NULL;
    return R_SKIP;
  }
  if (sma_open(&held, seg_name, NULL, 0) != 0) return R_SETUP;
  start_busy_table();
  int hung_in_libsma = 0;
  for (int i = 0; i < T_ROUNDS(300) && hung_in_libsma == 0; i++) {
    int p[2];
    if (pipe(p) != 0) break;
    long pid = t_fork_without_handlers();
    if (pid == 0) {
      reached_fd = p[1];
      pid_t g = fork(); /* the daemon's double fork */
      if (g == 0) _exit(0);
      if (g > 0) waitpid(g, NULL, 0);
      _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
      close(p[0]);
      break;
    }
    int st = t_wait_bounded(pid, 5);
    char c;
    if (st == T_OVERDUE && read(p[0], &c, 1) != 1) hung_in_libsma++;
    close(p[0]);
  }
  stop_busy_table();
  teardown(held);
  return hung_in_libsma > 0 ? R_BROKEN : R_HELD;
}

__attribute__((constructor)) static void pid1_role_entry(void) {
  const char *role = getenv("SMA_ATTACK_PID1_ROLE");
  const char *name = getenv("SMA_ATTACK_PID1_NAME");
  if (role == NULL || name == NULL) return;
  snprintf(seg_name, sizeof seg_name, "%s", name);
  if (strcmp(role, "forkinraw") == 0) _exit(role_fork_in_raw_child()); /* any pid */
  if (getpid() != 1) _exit(R_NOT_PID1);
  if (strcmp(role, "table") == 0) _exit(role_table());
  if (strcmp(role, "deadlock") == 0) _exit(role_deadlock());
  if (strcmp(role, "forkfd") == 0) _exit(role_forkfd());
  if (strcmp(role, "reaped") == 0) _exit(role_reaped());
  _exit(R_SETUP);
}

/* Runs a role as pid 1 of a new pid namespace (a fresh image: its first
 * load claims the lock). Returns its exit code (skips where it cannot). */
static int run_as_pid1(const char *role, const char *tag, double seconds) {
  t_name(seg_name, sizeof seg_name, tag);
  long pid = t_raw_clone_newpid();
  if (pid < 0 && (errno == EPERM || errno == EINVAL || errno == ENOSPC))
    cr_skip_test("no CLONE_NEWPID here (errno %d)", errno);
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    setenv("SMA_ATTACK_PID1_ROLE", role, 1);
    setenv("SMA_ATTACK_PID1_NAME", seg_name, 1);
    execl("/proc/self/exe", "test_attack_pid1", (char *)NULL);
    _exit(102);
  }
  int st = t_wait_bounded(pid, seconds);
  if (st == R_SKIP) cr_skip_test("no pidfd, no cache or no room here");
  cr_expect_neq(st, R_SETUP, "set-up failed");
  cr_expect_neq(st, R_NOT_PID1, "not pid 1");
  cr_expect_neq(st, T_OVERDUE, "the role did not end in time");
  return st;
}

Test(attack_pid1, raw_clone_child_holding_a_pidfd_of_its_own_at_the_owners_number_bypasses,
     .timeout = 60) {
  int st = run_as_pid1("table", "p1tab", 40);
  cr_assert_eq(st, R_HELD,
               "a raw clone(CLONE_NEWPID) child of a pid-1 owner, pid 1 too, with a pidfd of "
               "itself at the number of the owner's pidfd, was handed its parent's table entry "
               "(same mapping address) instead of mapping afresh (status %d)",
               st);
}

Test(attack_pid1, raw_clone_child_holding_a_pidfd_of_its_own_does_not_deadlock, .timeout = 150) {
  T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE();
  int st = run_as_pid1("deadlock", "p1dl", 130);
  cr_assert_eq(st, R_HELD,
               "a raw clone(CLONE_NEWPID) child of a pid-1 owner whose threads load in a loop, "
               "with a pidfd of its own at the owner's pidfd number, deadlocked on the copied "
               "mapping-cache lock (status %d)",
               st);
}

Test(attack_pid1, fork_child_keeps_the_descriptor_the_program_put_at_the_closed_pidfds_number,
     .timeout = 60) {
  int st = run_as_pid1("forkfd", "p1fork", 40);
  cr_assert_eq(st, R_HELD,
               "after the program closed the library's pidfd and a pipe took its number, a "
               "fork() child of the pid-1 owner found that pipe closed by the library (status %d)",
               st);
}

Test(attack_pid1, owner_whose_pidfd_number_holds_a_reaped_childs_pidfd_still_shares_and_releases,
     .timeout = 60) {
  int st = run_as_pid1("reaped", "p1reap", 40);
  cr_assert_eq(st, R_HELD,
               "a pid-1 owner whose closed pidfd's number now holds a pidfd of a reaped child "
               "(ESRCH) judged itself no owner: a load mapped afresh instead of sharing, and "
               "closing every array left the held mapping in place (status %d)",
               st);
}

Test(attack_pid1, raw_clone_child_that_forks_does_not_wait_on_its_parents_lock, .timeout = 150) {
  t_name(seg_name, sizeof seg_name, "p1dfork");
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    setenv("SMA_ATTACK_PID1_ROLE", "forkinraw", 1);
    setenv("SMA_ATTACK_PID1_NAME", seg_name, 1);
    execl("/proc/self/exe", "test_attack_pid1", (char *)NULL);
    _exit(102);
  }
  int st = t_wait_bounded(pid, 130);
  if (st == R_SKIP) cr_skip_test("no room for the segment here");
  cr_expect_neq(st, R_SETUP, "set-up failed");
  cr_expect_neq(st, T_OVERDUE, "the role did not end in time");
  cr_assert_eq(st, R_HELD,
               "a raw clone() child (no at-fork handler) of a process whose threads load in a "
               "loop hung in fork() inside libsma's prepare handler (before_fork() takes the "
               "copied mapping-cache lock a parent's thread held), not having called libsma "
               "(status %d; older than the pidfd change)",
               st);
}

#  else
Test(attack_pid1, no_pidfd_here) { cr_skip_test("no pidfd system calls in this build"); }
#  endif
#else
Test(attack_pid1, linux_only) { cr_skip_test("Linux (native) only"); }
#endif
