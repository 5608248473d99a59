/* Attacks on the lock-v3 mapping cache (src/map_cache.c: deferred releases,
 * unlock_and_settle(); src/unix/os.c: the at-fork handlers and
 * take_if_owner()). Each test is a defect reproduced by an outside
 * attacker; real children in private namespaces; skipped where the machine
 * gives none (not root, not Linux). */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <pthread.h>
#  include <signal.h>
#  include <stdatomic.h>
#  include <sys/wait.h>
#  include <unistd.h>

enum { SKIP = T_SKIP };

static sma_t *array_of(const char *name, int create) {
  return t_bytes_array(name, 1u << 16, create);
}

static int in_child(int (*fn)(void)) { return t_in_private_child(fn, "size=64m", 40); }

/* Waits for pid at most `seconds`; its status as in_child(), or 124 if it
 * did not end in time (it is then killed). */
static int wait_bounded(pid_t pid, int seconds) {
  int rc = t_wait_bounded(pid, seconds);
  return rc == T_OVERDUE ? 124 : rc;
}

static int mappings_of(const char *name) { return t_segment_mappings(name); }

/* ---- 1. The last close of a fork() child, made by its own child handler
 * registered before libsma's ------------------------------------------------
 * Promise (sma.h): a process that owns its table leaks no mapping once
 * every array is closed; a close made in a child before libsma's child
 * handler has run is settled by that handler.
 * A program's child handler registered first closes an inherited array
 * (a pool shutting down in the child, say). The child is not yet its
 * table's owner there (maps_owner holds the parent's pid), so the release
 * is deferred. libsma's after_fork_child() made the child the owner
 * (holding its lock at that moment) but settled nothing: when that was
 * the child's last cached array, no later lock holder came, and the
 * mapping stayed until exit, even after a later close of an array the
 * cache does not hold (the creator's own), which takes no lock. */
static sma_t *handler_closes;
static void close_in_child_handler(void) {
  if (handler_closes == NULL) return;
  sma_free(handler_closes);
  handler_closes = NULL;
}

static int settle_by_a_load; /* the control: the child loads and closes once more */
static int last_close_in_child_handler(void) {
  if (t_atfork_first(NULL, NULL, close_in_child_handler) != 0) return SKIP; /* first */
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock3-last");
  sma_t *creator = array_of(name, 1);
  if (creator == NULL) return 2;
  int base = mappings_of(name);
  sma_t *a = array_of(name, 0);
  sma_t *b = array_of(name, 0);
  if (a == NULL || b == NULL) return 3;
  if (sma_data(a) != sma_data(b)) return SKIP; /* no cache here */
  if (base < 0 || mappings_of(name) != base + 1) return 4;
  sma_free(b);
  handler_closes = a; /* the only cached array, closed by the child's handler */
  pid_t p = fork();
  if (p == 0) {
    alarm(10);
    if (handler_closes != NULL) _exit(5); /* the handler did not run */
    if (settle_by_a_load) {
      sma_t *x = array_of(name, 0);
      if (x != NULL) sma_free(x);
    }
    int stayed = mappings_of(name) != base;
    sma_free(creator);                                    /* "the child's next close" */
    _exit(mappings_of(name) != 0 ? 12 : stayed ? 11 : 0); /* no mapping of it left at all */
  }
  handler_closes = NULL;
  if (p < 0) return 6;
  int rc = wait_bounded(p, 15);
  sma_free(a);
  sma_free(creator);
  sma_unlink(name);
  return rc;
}

static int control_settled_by_a_later_load(void) {
  settle_by_a_load = 1;
  return last_close_in_child_handler();
}

Test(attack_lock3, control_a_later_load_settles_the_child_handler_close) {
  int rc = in_child(control_settled_by_a_later_load);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root) and the cache");
  cr_assert_eq(rc, 0, "status %d", rc);
}

Test(attack_lock3, last_close_in_a_child_handler_registered_first_is_settled) {
  int rc = in_child(last_close_in_child_handler);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root) and the cache");
  cr_assert_eq(rc, 0, "status %d: %s", rc,
               rc == 12   ? "the child owns its table and closed every cached array (its last "
                            "in its own child handler), yet the mapping stays, also after the "
                            "child's next close"
               : rc == 11 ? "the child owns its table and closed every cached array, yet the "
                            "mapping stays until its next close"
                          : "setup");
}

/* ---- 2. The per-thread stack of fork() verdicts ---------------------------
 * Promise (sma.h): a fork() child "makes its copy of the mapping cache its
 * own if no thread of the parent was changing it at that instant (its copy
 * of the cache's lock is free)"; the program's own handlers "may fork
 * again". before_fork() pushes, on a per-thread stack, whether the forking
 * process owns its table; a child handler registered first that forks
 * again pushes the verdict of a process that is not yet the owner (0). A
 * chain of such forks, each child forking again in its own child handler
 * (a handler that re-spawns a helper from within the helper, say), leaves
 * 9 verdicts outstanding in the 8th. With 8 slots the 9th push overwrote
 * the outermost (the owner's 1) with 0, and that process, disowned
 * although no thread held the lock, kept every inherited mapping after
 * closing every array. The stack now holds 32 (sma.h states the limit). */
static int chain_armed, chain_depth, chain_max;
static pid_t chain_inner = -1;
static void chain_child(void) {
  if (!chain_armed || chain_depth >= chain_max) return;
  chain_depth++;
  chain_inner = -1;
  pid_t p = fork();
  if (p > 0) chain_inner = p; /* the parent side goes on as this process */
}

static int chain_of_forks(int max) {
  chain_max = max;
  if (t_atfork_first(NULL, NULL, chain_child) != 0) return SKIP; /* first */
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock3-chain");
  sma_t *creator = array_of(name, 1);
  if (creator == NULL) return 2;
  int base = mappings_of(name);
  sma_t *a = array_of(name, 0), *b = array_of(name, 0);
  if (a == NULL || b == NULL) return 3;
  if (sma_data(a) != sma_data(b)) return SKIP; /* no cache here */
  if (base < 0 || mappings_of(name) != base + 1) return 4;
  chain_armed = 1;
  pid_t p = fork();
  if (p == 0) {
    /* Every process of the chain returns here as the outer fork's child. */
    alarm(20);
    int depth = chain_depth;
    pid_t inner = chain_inner;
    sma_free(a); /* every inherited array */
    sma_free(b);
    int rc = mappings_of(name) != base ? 20 + depth : 0;
    if (inner > 0) {
      int irc = wait_bounded(inner, 15);
      if (rc == 0) rc = irc;
    }
    _exit(rc);
  }
  chain_armed = 0;
  if (p < 0) return 6;
  int rc = wait_bounded(p, 30);
  sma_free(a);
  sma_free(b);
  sma_free(creator);
  sma_unlink(name);
  return rc;
}

static int chain_of_7(void) { return chain_of_forks(7); }
static int chain_of_8(void) { return chain_of_forks(8); }

Test(attack_lock3, control_a_chain_of_7_forks_in_child_handlers_owns_its_tables, .timeout = 60) {
  int rc = in_child(chain_of_7);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root) and the cache");
  cr_assert_eq(rc, 0, "status %d%s", rc,
               rc >= 20 && rc < 40 ? ": a process of the chain kept the mapping" : "");
}

Test(attack_lock3, a_chain_of_8_forks_in_child_handlers_owns_its_tables, .timeout = 60) {
  int rc = in_child(chain_of_8);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root) and the cache");
  cr_assert_eq(rc, 0, "status %d%s", rc,
               rc >= 20 && rc < 40 ? ": the process of the chain at that depth (status - 20) "
                                     "closed every inherited array and kept the mapping: its "
                                     "fork verdict was overwritten (the stack wrapped), so it "
                                     "was disowned though the lock was free"
                                   : "");
}

/* ---- 3. A child whose copy of the cache names descriptors it lacks -------
 * The kernel copies a process's descriptors a moment before its memory:
 * a segment another thread opened and shared in between is in the
 * child's copy of the mapping cache, but its descriptor is not in the
 * child (seen under AddressSanitizer, whose slower fork widens that
 * moment: map_cache's fork-beside-loading-threads test, every run, the
 * child's load failing with EBADF). The same state, made on purpose: a
 * child handler registered before libsma's closes every descriptor above
 * the standard ones (a child that drops what it inherited). The child
 * must not use the copied cache then; its loads work, mapping afresh. */
static void close_inherited_descriptors(void) {
  for (int fd = 3; fd < 1024; fd++) close(fd);
}
static int child_without_its_descriptors(void) {
  /* Before libsma's first use: its child handler runs after this one. */
  if (t_atfork_first(NULL, NULL, close_inherited_descriptors) != 0) return SKIP;
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "atk-lock3-fds");
  sma_t *creator = array_of(name, 1), *held = array_of(name, 0);
  if (creator == NULL || held == NULL) return 2;
  pid_t p = fork();
  if (p == 0) {
    alarm(10);
    sma_t *again = array_of(name, 0); /* the cache would hand out a closed descriptor */
    int ok = again != NULL && ((unsigned char *)sma_data(again))[0] == 0;
    sma_free(again);
    _exit(ok ? 0 : 11);
  }
  int rc = p < 0 ? 3 : wait_bounded(p, 15);
  sma_free(held);
  sma_free(creator);
  sma_unlink(name);
  return rc;
}

Test(attack_lock3, a_child_missing_the_caches_descriptors_maps_afresh) {
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("System V's handles are no descriptors");
  int rc = t_in_private_child(child_without_its_descriptors, "size=64m", 40);
  if (rc == SKIP) cr_skip_test("needs a private /dev/shm (root)");
  cr_assert_eq(rc, 0, "status %d: %s", rc,
               rc == 11 ? "the child's load used a descriptor the child does not have" : "setup");
}

#else
Test(attack_lock3, needs_linux) { cr_skip_test("pid namespaces and /proc are Linux's"); }
#endif
