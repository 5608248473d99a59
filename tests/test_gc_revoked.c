/* A System V gc killed while a segment is revoked (issue 23, item 2).
 * To hold off attaches between its last look at the attach count and
 * IPC_RMID, gc sets the segment's mode to 0 (src/sysv/shm.c). A gc killed
 * there used to leave the segment at mode 000 for good: its non-root
 * owner's `sma ls`, `info` and `gc` could no longer see or remove it, and
 * `sma create` of the name succeeded at another key (two segments, one
 * name). The promises tested here, as the non-root owner (uid 65534):
 *  - while a segment is revoked, a create of its name gets SMA_EEXIST;
 *  - the next gc (sma_collect(), the listing gc walks, `sma gc`) gives a
 *    segment that a provably dead gc revoked its mode back, then judges
 *    it as usual (removes it, or with --dry-run shows it again);
 *  - a gc that is stopped, not dead, keeps its revocation: nobody undoes
 *    it under its feet.
 * Real processes, SIGKILL / SIGSTOP at the fault-injection build's
 * "revoked" pause point, private mount, IPC and pid namespaces. */
#include <criterion/criterion.h>

#include "support.h"

#if !defined(__linux__) || !defined(SMA_BACKEND_sysv) || !defined(SMA_FAULT_INJECTION)
Test(gc_revoked, sysv_fault_injection_only) {
  cr_skip_test("System V with -DSMA_FAULT_INJECTION=ON on Linux only");
}
#else
#  include <errno.h>
#  include <signal.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/ipc.h>
#  include <sys/shm.h>
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>

enum { OWNER = 65534 };

/* Runs `script` (bash; $SMA set, $U runs a command as uid 65534 with its
 * own TMPDIR, $MODE0 succeeds while a segment sits at mode 0, $SEGS counts
 * segments) as pid 1 of fresh mount, IPC and pid namespaces; its exit
 * code (0 held, 1 broke, 77 could not be set up). */
static int run_private(const char *script) {
  char preamble[1024];
  snprintf(preamble, sizeof preamble,
           "mount -t tmpfs tmpfs /dev/shm || exit 77\n"
           "mkdir /dev/shm/.u && chown %d:%d /dev/shm/.u || exit 77\n"
           "U='setpriv --reuid %d --regid %d --clear-groups env TMPDIR=/dev/shm/.u'\n"
           "MODE0() { ipcs -m | awk 'NR > 3 && NF >= 6 && $4 == \"0\" {f = 1} END {exit !f}'; }\n"
           "SEGS() { ipcs -m | awk 'NR > 3 && NF >= 6' | wc -l; }\n"
           "revoked() { for i in $(seq 50); do MODE0 && return 0; sleep 0.1; done; return 1; }",
           OWNER, OWNER, OWNER, OWNER);
  return t_run_private_script(preamble, script);
}

/* No kill at all: a non-root owner's gc removes an orphan. At mode 0 its
 * owner may no longer IPC_STAT the segment, so re-reading the attach
 * count there failed, and every segment such a gc tried to remove was
 * left at mode 000, exactly as if the gc had been killed. */
Test(gc_revoked, owners_gc_removes_and_leaves_nothing_revoked, .timeout = 60) {
  int rc =
      run_private("$U $SMA create X --shape 4096 --dtype uint8 --transient > /dev/null || exit 77\n"
                  "$U $SMA gc > /dev/shm/.gc 2>&1\n"
                  "cat /dev/shm/.gc\n"
                  "MODE0 && { echo 'gc left the segment at mode 0'; exit 1; }\n"
                  "grep -q '^removed X ' /dev/shm/.gc || { echo 'gc did not remove it'; exit 1; }\n"
                  "[ $(SEGS) = 0 ] || { ipcs -m; exit 1; }\n"
                  "exit 0\n");
  if (rc == 77) cr_skip_test("needs root, unshare and setpriv");
  cr_assert_eq(rc, 0, "the owner's gc did not remove an orphan cleanly");
}

/* The gc of a transient segment whose creator exited is killed at mode 0.
 * A create of the name must then fail (no second segment), and the next
 * `sma gc` of the owner restores the segment and removes it. */
Test(gc_revoked, killed_gc_is_recovered_by_the_next_gc, .timeout = 120) {
  int rc = run_private(
      "$U $SMA create X --shape 4096 --dtype uint8 --transient > /dev/null || exit 77\n"
      "$U env SMA_FAULT_PAUSE_AT=revoked SMA_FAULT_PAUSE_MS=20000 $SMA gc > /dev/shm/.gc 2>&1 &\n"
      "G=$!\n"
      "revoked || exit 77\n"
      "kill -9 $G; wait $G 2>/dev/null\n"
      "MODE0 || exit 77\n"
      "$U $SMA create X --shape 8 --dtype uint8 --transient && "
      "{ echo 'create succeeded beside the revoked segment'; exit 1; }\n"
      "[ $(SEGS) = 1 ] || { echo 'a second segment for one name'; ipcs -m; exit 1; }\n"
      "$U $SMA gc > /dev/shm/.gc2 2>&1\n"
      "cat /dev/shm/.gc2\n"
      "grep -q '^removed X ' /dev/shm/.gc2 || { echo 'the next gc did not remove it'; exit 1; }\n"
      "[ $(SEGS) = 0 ] || { echo 'segment left behind'; ipcs -m; exit 1; }\n"
      "ls -A /dev/shm/.u/libsma-65534 | grep -q . && { echo 'an intent entry was left'; exit 1; }\n"
      "exit 0\n");
  if (rc == 77) cr_skip_test("needs root, unshare and setpriv");
  cr_assert_eq(rc, 0, "a gc killed after revoking left the segment unrecoverable");
}

/* The killed gc's segment is shown again once a gc that only looks
 * (--dry-run) has run: restored to 0600 and listed, with its data. */
Test(gc_revoked, restored_segment_is_listed_again, .timeout = 120) {
  int rc = run_private(
      "$U $SMA create X --shape 4096 --dtype uint8 --transient > /dev/null || exit 77\n"
      "$U env SMA_FAULT_PAUSE_AT=revoked SMA_FAULT_PAUSE_MS=20000 $SMA gc > /dev/null 2>&1 &\n"
      "G=$!\n"
      "revoked || exit 77\n"
      "kill -9 $G; wait $G 2>/dev/null\n"
      "$U $SMA gc --dry-run | grep -q '^would remove X ' || { echo 'dry run did not judge it'; "
      "exit 1; }\n"
      "MODE0 && { echo 'still at mode 0'; ipcs -m; exit 1; }\n"
      "ipcs -m | awk 'NR > 3 && NF >= 6 {print $4}' | grep -qx 600 || { echo 'mode not 600'; ipcs "
      "-m; exit 1; }\n"
      "$U $SMA ls | grep -q X || { echo 'ls does not show it'; exit 1; }\n"
      "$U $SMA info X > /dev/null || { echo 'info cannot read it'; exit 1; }\n"
      "[ $(SEGS) = 1 ] || exit 1\n"
      "exit 0\n");
  if (rc == 77) cr_skip_test("needs root, unshare and setpriv");
  cr_assert_eq(rc, 0, "a segment a killed gc revoked is not shown again");
}

/* A gc stopped (SIGSTOP) after revoking is alive: another gc leaves its
 * revocation alone, creates of the name still fail, and once continued
 * the stopped gc finishes its own removal. */
Test(gc_revoked, stopped_gc_is_not_undone, .timeout = 120) {
  int rc = run_private(
      "$U $SMA create X --shape 4096 --dtype uint8 --transient > /dev/null || exit 77\n"
      "$U env SMA_FAULT_PAUSE_AT=revoked SMA_FAULT_PAUSE_MS=6000 $SMA gc > /dev/shm/.gc 2>&1 &\n"
      "G=$!\n"
      "revoked || exit 77\n"
      "kill -STOP $G\n"
      "$U $SMA gc\n"
      "MODE0 || { echo 'another gc undid a live gc s revocation'; kill -9 $G; exit 1; }\n"
      "$U $SMA create X --shape 8 --dtype uint8 --transient && "
      "{ echo 'create succeeded beside the revoked segment'; kill -9 $G; exit 1; }\n"
      "[ $(SEGS) = 1 ] || { echo 'a second segment for one name'; kill -9 $G; exit 1; }\n"
      "kill -CONT $G; wait $G\n"
      "cat /dev/shm/.gc\n"
      "grep -q '^removed X ' /dev/shm/.gc || { echo 'the stopped gc did not finish'; exit 1; }\n"
      "[ $(SEGS) = 0 ] || { ipcs -m; exit 1; }\n"
      "exit 0\n");
  if (rc == 77) cr_skip_test("needs root, unshare and setpriv");
  cr_assert_eq(rc, 0, "a stopped gc's revocation was not respected");
}

/* ---- The library, without the command ---------------------------------- */

static pid_t as_owner(void) {
  pid_t pid = fork();
  if (pid == 0 && t_become(OWNER, OWNER) != 0) _exit(97);
  return pid;
}

static int exit_code(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Mode bits of the segment at `name`'s first key as root sees it, -1 none. */
static int first_probe_mode(const char *name) {
  int id = shmget((key_t)t_sysv_key(name, 0), 0, 0);
  struct shmid_ds ds;
  if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0) return -1;
  return (int)(ds.shm_perm.mode & 0777);
}

/* sma_collect() itself, called for the one name (no listing first),
 * recovers the killed gc's revocation, then removes the orphan; while it
 * is revoked, sma_create() of the name is SMA_EEXIST. */
Test(gc_revoked, sma_collect_recovers_a_killed_collect, .timeout = 60) {
  if (geteuid() != 0) cr_skip_test("needs root to act as uid 65534");
  cr_assert_eq(t_private_ipc(), 0);
  char dir[] = "/tmp/gc_revoked_dir_XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  cr_assert_eq(chown(dir, OWNER, OWNER), 0);
  setenv("TMPDIR", dir, 1);
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "revoked");
  size_t shape[1] = {4096};

  pid_t creator = as_owner();
  if (creator == 0) {
    sma_t *a;
    int rc = sma_new(
        &a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
    if (rc == 0) rc = sma_create(a, 0); /* transient: gc's once we exit */
    sma_free(a);
    _exit(rc == 0 ? 0 : 1);
  }
  cr_assert_eq(exit_code(creator), 0, "creating as uid %d", OWNER);

  pid_t gc = as_owner();
  if (gc == 0) {
    setenv("SMA_FAULT_PAUSE_AT", "revoked", 1);
    setenv("SMA_FAULT_PAUSE_MS", "20000", 1);
    _exit(sma_collect(NULL, name, 0) == 0 ? 0 : 1);
  }
  int mode = -1;
  for (int i = 0; i < 100 && mode != 0; i++) {
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    mode = first_probe_mode(name);
  }
  kill(gc, SIGKILL);
  exit_code(gc);
  cr_assert_eq(mode, 0, "the gc did not reach its revocation");

  pid_t next = as_owner();
  if (next == 0) {
    sma_t *b;
    int rc = sma_new(
        &b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
    int created = rc == 0 ? sma_create(b, 0) : rc;
    sma_free(b);
    if (created != SMA_EEXIST) _exit(2);
    sma_info_t in;
    _exit(sma_collect(&in, name, 0) == 0 ? 0 : 3);
  }
  int rc = exit_code(next);
  cr_assert_neq(rc, 2, "sma_create() succeeded while the name's segment was revoked");
  cr_assert_eq(rc, 0, "sma_collect() did not recover and remove the segment");
  cr_assert_eq(first_probe_mode(name), -1, "the segment is still there");
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
#endif
