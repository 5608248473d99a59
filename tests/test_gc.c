/* `sma gc` and sma_collect(): only what is provably orphaned is removed.
 * Each test stages a case that an older gc got wrong, with real processes:
 * a second and third uid (root needed; skipped otherwise), a pid namespace
 * (`unshare -p`), a name re-created between check and removal (in fault-
 * injection builds, which can widen that window), a zombie creator, a gc
 * or creator without /proc, a dot name, and `sma ls`/`sma info`, which
 * must never block an open (issue 23). POSIX and System V; some cases are
 * one backend's. Strays: test_gc_strays.c. */
#define _GNU_SOURCE /* unshare, CLONE_NEW* */
#include "sma.h"
#include "support.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/mount.h>
#if defined(__linux__)
#  include <sched.h>
#endif
#include <time.h>
#include <unistd.h>

/* Two users other than root, sharing one group (no /etc/passwd entry is
 * needed to run as a uid). */
enum { USER_A = 65534, USER_B = 65533, SHARED_GID = 65534 };

#define run_as(uid, out, ...) t_shell_as(uid, SHARED_GID, out, __VA_ARGS__)

/* Creates `name` in a child process that then exits: a creator gone. As
 * uid (-1: as we are), with `flags`. */
static void create_orphan(const char *name, int uid, unsigned flags) {
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    t_become_or_exit(uid, SHARED_GID);
    size_t shape[1] = {64};
    sma_t *a;
    if (sma_new(&a,
                &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) !=
            0 ||
        sma_create(a, flags) != 0)
      _exit(1);
    _exit(0); /* without unlinking */
  }
  int status;
  waitpid(child, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orphan %s created", name);
}

/* Starts a process, as uid (-1: as we are), that runs setup(name, marked)
 * and, if it returns 0, stays until killed (t_stop()); returns its pid once
 * setup has succeeded. */
static pid_t spawn_holder(const char *name, int uid, int (*setup)(const char *, int), int marked) {
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    t_become_or_exit(uid, SHARED_GID);
    t_die_with_parent(); /* never outlives a failed test */
    if (setup(name, marked) != 0 || write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c;
  cr_assert_eq(read(ready[0], &c, 1), 1, "the process holding %s is ready", name);
  close(ready[0]);
  return child;
}

static int map_segment(const char *name, int unused) {
  (void)unused;
  sma_t *a;
  return sma_open(&a, name, NULL, 0);
}

/* A process, as uid, that maps `name` until killed. */
static pid_t hold_as(const char *name, int uid) { return spawn_holder(name, uid, map_segment, 0); }

/* "attached" of `sma info --json NAME` run as uid: the value, or -1 for
 * null (unknown); -2 if the command failed. */
static int attached_seen_by(int uid, const char *name) {
  char *out;
  int rc = t_sma_as(uid, SHARED_GID, &out, "info --json %s", name);
  cJSON *info = cJSON_Parse(out);
  free(out);
  int v = -2;
  cJSON *att = info ? cJSON_GetObjectItem(info, "attached") : NULL;
  if (rc == 0 && cJSON_IsNumber(att))
    v = att->valueint;
  else if (rc == 0 && cJSON_IsNull(att))
    v = -1;
  cJSON_Delete(info);
  return v;
}

/* A parallel test's `sma ls` holds each segment open for an instant (and
 * test_gc_strays.c's paused lister for 5 s), and gc rightly keeps what it
 * cannot prove unheld (attached -1; on System V the lister's attach
 * counts, attached > 0). The helpers below retry only those cases
 * (collect_soon() for up to 8 s, used where collection is expected); any
 * other verdict is final. */

static int collect_soon(const char *name, unsigned flags) {
  sma_info_t in;
  int rc = SMA_EINUSE;
  for (int i = 0; i < 400; i++) {
    rc = sma_collect(&in, name, flags);
    if (rc != SMA_EINUSE || in.creator_alive != 0) break;
    t_sleep_ms(20);
  }
  return rc;
}

static int attached_soon(int uid, const char *name) {
  int v = -1;
  for (int i = 0; i < 100 && (v = attached_seen_by(uid, name)) == -1; i++) t_sleep_ms(20);
  return v;
}

/* `sma gc --prefix name` as uid until the segment is gone or a run keeps
 * it for another reason than a transient holder, for up to 8 s as
 * collect_soon() (test_gc_strays.c's paused lister holds every segment
 * open for 5 s: CI's gcc-posix-faults failed when this gave up after 2). */
static int gc_as_soon(int uid, const char *name, char *said, size_t cap) {
  int rc = -1;
  for (int i = 0; i < 400; i++) {
    char *out;
    rc = t_sma_as(uid, SHARED_GID, &out, "gc --prefix %s", name);
    int transient = strstr(out, "it is held open") != NULL;
    snprintf(said, cap, "%s", out);
    free(out);
    if (rc != 0 || !transient) break;
    t_sleep_ms(20);
  }
  return rc;
}

/* Regression: user B maps user A's group segment. A cannot read B's
 * /proc/PID/maps, so the old count said 0 attached and A's gc removed a
 * segment in use. Unknown is not zero: info says unknown (null), gc keeps
 * it, and removes it once B is gone. */
Test(gc, a_mapper_the_user_cannot_examine_keeps_the_segment) {
  T_NEED_GC_PROOF();
  if (getuid() != 0) cr_skip_test("needs root to act as two other uids");
  if (!t_posix_backend()) cr_skip_test("System V's attach count is the kernel's own");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "gc-unseen");
  create_orphan(name, USER_A, SMA_CREATE_GROUP);
  pid_t b = hold_as(name, USER_B);
  cr_expect_eq(attached_seen_by(USER_A, name), -1, "A cannot see B's mapping: unknown");
  char *out;
  int rc = t_sma_as(USER_A, SHARED_GID, &out, "gc --prefix %s", name);
  int survived = t_segment_exists(name);
  t_stop(b);
  cr_assert_eq(rc, 0);
  cr_expect_not_null(strstr(out, "removed 0 segments"), "%s", out);
  free(out);
  cr_assert_eq(survived, 1, "B's mapped segment survives A's gc");
  cr_expect_neq(attached_soon(USER_A, name), -2, "info works once B is gone");
  char said[1024];
  cr_assert_eq(gc_as_soon(USER_A, name, said, sizeof said), 0, "%s", said);
  cr_assert(t_segment_absent(name), "collected once nobody maps it; gc said: %s", said);
}

/* Regression: gc in its own pid namespace, sharing /dev/shm (or the IPC
 * namespace) with the host, took a host creator for dead (its pid is not
 * in that namespace) and removed its live segment. A dead creator's
 * segment that a host process maps must survive it too. */
Test(gc, a_pid_namespace_does_not_make_host_processes_dead) {
  T_NEED_GC_PROOF();
  if (getuid() != 0) cr_skip_test("needs root for unshare -p");
  if (system("unshare -p -f --mount-proc true 2>/dev/null") != 0)
    cr_skip_test("this machine gives no pid namespace");
  char live[SMA_NAME_BUF], held[SMA_NAME_BUF];
  t_name(live, sizeof live, "gc-pidns-live");
  t_name(held, sizeof held, "gc-pidns-held");
  size_t shape[1] = {64};
  sma_t *mine, *holding;
  cr_assert_eq(
      sma_new(&mine,
              &(sma_array_desc_t){.name = live, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(mine, 0), 0); /* creator alive: this process */
  create_orphan(held, -1, 0);
  cr_assert_eq(sma_open(&holding, held, NULL, 0), 0); /* mapped from the host */
  static const char *const in_pidns[] = {"unshare", "-p", "-f", "--mount-proc", NULL};
  t_sma_opts_t opts = {.wrapper = in_pidns};
  t_sma_run_t run;
  int rc = t_sma_line(&run, &opts, "gc --prefix smatest-");
  cr_assert_eq(rc, 0, "%s%s", run.out, run.err);
  t_sma_run_free(&run);
  cr_expect_eq(t_segment_exists(live), 1, "a live host creator's segment survives");
  cr_expect_eq(t_segment_exists(held), 1, "a segment a host process maps survives");
  cr_assert_eq(t_sma_line(&run, &opts, "info --json %s", live), 0, "%s", run.err);
  cJSON *info = cJSON_Parse(run.out);
  t_sma_run_free(&run);
  cr_expect(cJSON_IsNull(cJSON_GetObjectItem(info, "creator_alive")),
            "a creator of another pid namespace is unknown there");
  cJSON_Delete(info);
  sma_unlink(live);
  sma_free(mine);
  sma_free(holding);
  cr_assert_eq(collect_soon(held, 0), 0, "collected once nobody maps it");
}

#if defined(SMA_FAULT_INJECTION)
/* Creates `name` (64 bytes) in this process: 0 or the library's error. */
static int create_name(const char *name) {
  size_t shape[1] = {64};
  sma_t *a;
  int rc =
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
  if (rc == 0) rc = sma_create(a, 0);
  if (a != NULL) sma_free(a);
  return rc;
}

/* Regression: gc judged a name, then removed whatever the name named when
 * it got to unlinking. A job restarting in between (unlink, create anew)
 * lost its new, live segment. The window is widened to a second here. */
/* One run of the scenario below; its gc output in out. 1 if gc's first
 * look found the orphan held open for an instant (a parallel test's
 * listing: the transient verdict the other tests here retry too). */
/* While gc pauses after judging the orphan: the name re-created anew. */
static void recreate_while_gc_pauses(void *user, long gc) {
  (void)gc;
  const char *name = user;
  t_sleep_ms(300); /* gc has judged the orphan and pauses */
  cr_assert_eq(sma_unlink(name), 0);
  cr_assert_eq(create_name(name), 0);
}

static int replace_during_gc(const char *name, char *out, size_t cap) {
  create_orphan(name, -1, 0);
  static const char *const pause_1s[] = {"SMA_FAULT_PAUSE_MS=1000", NULL};
  t_sma_opts_t opts = {.during = recreate_while_gc_pauses, .user = (void *)name, .env = pause_1s};
  t_sma_run_t gc;
  int status = t_sma_line(&gc, &opts, "gc --prefix %s", name);
  snprintf(out, cap, "%s", gc.out);
  t_sma_run_free(&gc);
  cr_assert_eq(status, 0, "%s", out);
  int transient = strstr(out, "it is held open") != NULL;
  if (transient) sma_unlink(name); /* the new segment: start again */
  return transient;
}

Test(gc, a_name_recreated_between_check_and_removal_survives) {
  T_NEED_GC_PROOF();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "gc-replaced");
  char out[4096];
  for (int tries = 0; tries < 10 && replace_during_gc(name, out, sizeof out); tries++) {}
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0, "the new segment survives: %s", out);
  cr_assert_eq(in.creator_pid, (uint64_t)getpid(), "and it is the new one");
  cr_expect_not_null(strstr(out, "re-created meanwhile"), "%s", out);
  cr_assert_eq(run_as(-1, NULL, "ls -a /dev/shm | grep -q '^\\.sma-gc-'"), 1,
               "no quarantined file left behind");
  sma_unlink(name);
}

/* ---- The name stays taken while gc examines it (issue 23 item 2) --------
 * gc used to rename a candidate to a private ".sma-gc-*" name while it
 * judged it: meanwhile a create of the name succeeded, the old segment,
 * found held, could not be renamed back and stayed hidden for good ("kept
 * NAME: it is held open", which was false), and a gc killed between its
 * rename and its unlink stranded the segment under the hidden name. Each
 * gc here pauses 2 s at each of its pause points (SMA_FAULT_PAUSE_MS):
 * after its first look, and with the candidate leased, about to unlink. */

enum { GC_PAUSE_MS = 2000 };

/* An orphan whose bytes are i * 3 + 1: its creator, a child, is gone. */
static void create_filled_orphan(const char *name) {
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    size_t shape[1] = {64};
    sma_t *a;
    if (sma_new(&a,
                &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) !=
            0 ||
        sma_create(a, 0) != 0)
      _exit(1);
    unsigned char *bytes = sma_data(a);
    for (int i = 0; i < 64; i++) bytes[i] = (unsigned char)(i * 3 + 1);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orphan %s created", name);
}

/* 1 if `name` opens and holds create_filled_orphan()'s bytes. */
static int still_named_and_intact(const char *name) {
  sma_t *a;
  if (sma_open(&a, name, NULL, 0) != 0) return 0;
  const unsigned char *bytes = sma_data(a);
  int intact = 1;
  for (int i = 0; i < 64; i++) intact &= bytes[i] == (unsigned char)(i * 3 + 1);
  sma_free(a);
  return intact;
}

/* Runs `sma gc --prefix name` pausing GC_PAUSE_MS at every pause point,
 * with during(user, gc's pid) called while it runs; its stdout in out.
 * Returns its status (t_sma_run()). */
static int run_paused_gc(const char *name, void (*during)(void *, long), void *user, char *out,
                         size_t cap) {
  char pause[48];
  snprintf(pause, sizeof pause, "SMA_FAULT_PAUSE_MS=%d", (int)GC_PAUSE_MS);
  const char *const env[] = {pause, "SMA_FAULT_PAUSE_AT", NULL};
  t_sma_opts_t opts = {.during = during, .user = user, .env = env};
  t_sma_run_t gc;
  int status = t_sma_line(&gc, &opts, "gc --prefix %s", name);
  snprintf(out, cap, "%s", gc.out);
  t_sma_run_free(&gc);
  return status;
}

static int hidden_leftover(void) {
  return run_as(-1, NULL, "ls -a /dev/shm | grep -q '^\\.sma-gc-'") == 0;
}

/* What a test does while a paused gc examines `name`, and what came of it. */
typedef struct held_create {
  const char *name;
  pid_t holder;
  int created;
} held_create_t;

/* A process maps the candidate after gc's first look; a create of the
 * name comes while gc decides again. */
static void hold_then_create(void *user, long gc) {
  (void)gc;
  held_create_t *act = user;
  t_sleep_ms(GC_PAUSE_MS / 3); /* gc found it unused and pauses */
  act->holder = hold_as(act->name, -1);
  t_sleep_ms(GC_PAUSE_MS); /* gc decides again (and pauses once more, if it goes on) */
  act->created = create_name(act->name);
}

Test(gc, a_create_while_gc_examines_a_name_gets_eexist_and_the_held_segment_stays_named) {
  T_NEED_GC_PROOF();
  if (!t_posix_backend()) cr_skip_test("System V: issue 23 item 2's last part, not done here");
  char name[SMA_NAME_BUF], out[4096];
  t_name(name, sizeof name, "gc-held-create");
  create_filled_orphan(name);
  held_create_t act = {name, 0, 0};
  int status = run_paused_gc(name, hold_then_create, &act, out, sizeof out);
  pid_t holder = act.holder;
  int created = act.created;
  cr_assert_eq(status, 0, "%s", out);
  cr_expect_eq(created, SMA_EEXIST, "the name stays taken: %s", sma_strerror(created));
  cr_expect(still_named_and_intact(name), "the held segment keeps its name and bytes: %s", out);
  cr_expect_not_null(strstr(out, "kept"), "%s", out);
  cr_expect_not(hidden_leftover(), "nothing left under a hidden name");
  t_stop(holder);
  sma_unlink(name);
}

/* Sends the signal *user to gc at its second pause. */
static void signal_at_second_pause(void *user, long gc) {
  t_sleep_ms(GC_PAUSE_MS * 3 / 2);
  kill((pid_t)gc, *(int *)user);
}

/* A gc killed at its second pause (the candidate leased, about to be
 * unlinked: the old gc had renamed it away by then) leaves the segment
 * named and whole, and the next gc removes it. */
static void killed_gc_leaves_nothing(int sig, const char *tag) {
  T_NEED_GC_PROOF();
  if (!t_posix_backend()) cr_skip_test("System V: issue 23 item 2's last part, not done here");
  char name[SMA_NAME_BUF], out[4096];
  t_name(name, sizeof name, tag);
  create_filled_orphan(name);
  int status = 0;
  /* A parallel test that lists every segment (a paused `sma ls`) may hold
   * this one open for a while: gc then keeps it at once ("held open")
   * and is not there to be killed; that transient verdict is retried. */
  for (int attempt = 0; attempt < 10; attempt++) {
    status = run_paused_gc(name, signal_at_second_pause, &sig, out, sizeof out);
    if (status >= T_SMA_SIGNALED || strstr(out, "held open") == NULL) break;
    t_sleep_ms(GC_PAUSE_MS);
  }
  if (status != T_SMA_SIGNALED + sig) sma_unlink(name);
  cr_assert_eq(status, T_SMA_SIGNALED + sig, "gc was killed: %s", out);
  cr_expect(still_named_and_intact(name), "the segment keeps its name and bytes");
  char *listed;
  t_sma_said(&listed, "ls");
  cr_expect_not_null(strstr(listed, name), "sma ls shows it: %s", listed);
  free(listed);
  cr_expect_not(hidden_leftover(), "nothing left under a hidden name");
  char *again;
  cr_assert_eq(t_sma_said(&again, "gc --prefix %s", name), 0);
  cr_expect_not_null(strstr(again, "removed"), "the next gc removes it: %s", again);
  free(again);
  cr_expect_not(t_segment_exists(name));
  sma_unlink(name);
}

Test(gc, a_gc_killed_mid_removal_leaves_the_segment_named) {
  killed_gc_leaves_nothing(SIGKILL, "gc-killed");
}

Test(gc, a_gc_interrupted_mid_removal_leaves_the_segment_named) {
  killed_gc_leaves_nothing(SIGINT, "gc-interrupted");
}

/* What a create and an open of `name` got while gc held it leased. */
typedef struct create_and_open {
  const char *name;
  int created, opened;
  sma_t *opened_array;
} create_and_open_t;

static void create_and_open_when_leased(void *user, long gc) {
  (void)gc;
  create_and_open_t *act = user;
  t_sleep_ms(GC_PAUSE_MS * 3 / 2); /* leased, about to unlink */
  act->created = create_name(act->name);
  act->opened = sma_open(&act->opened_array, act->name, NULL, 0);
}

/* While gc holds the candidate leased, a create gets EEXIST and an open
 * waits; gc, about to unlink, sees the open waiting (its lease being
 * broken) and keeps the segment, which the open then gets, still named. */
Test(gc, an_open_that_waits_for_gc_keeps_the_segment) {
  T_NEED_GC_PROOF();
  if (!t_posix_backend()) cr_skip_test("leases are POSIX (file) objects' only");
  char name[SMA_NAME_BUF], out[4096];
  t_name(name, sizeof name, "gc-open-waits");
  create_filled_orphan(name);
  create_and_open_t act = {name, 0, 0, NULL};
  int status = run_paused_gc(name, create_and_open_when_leased, &act, out, sizeof out);
  sma_t *a = act.opened_array;
  int opened = act.opened;
  cr_assert_eq(status, 0, "%s", out);
  cr_expect_eq(act.created, SMA_EEXIST);
  cr_assert_eq(opened, 0, "%s", sma_strerror(opened));
  cr_expect_not_null(strstr(out, "kept"), "%s", out);
  cr_expect(still_named_and_intact(name), "%s", out);
  cr_expect_not(hidden_leftover());
  sma_free(a);
  sma_unlink(name);
}
#endif

/* The library call behind gc, on its own: a live creator's segment is
 * never removed, a dry run removes nothing, a gone creator's is. */
Test(gc, collect_removes_only_orphans) {
  char live[SMA_NAME_BUF], dead[SMA_NAME_BUF];
  t_name(live, sizeof live, "gc-call-live");
  t_name(dead, sizeof dead, "gc-call-dead");
  size_t shape[1] = {64};
  sma_t *mine;
  cr_assert_eq(
      sma_new(&mine,
              &(sma_array_desc_t){.name = live, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(mine, 0), 0);
  sma_free(mine); /* unmapped, but its creator runs */
  create_orphan(dead, -1, 0);
  sma_info_t in;
  cr_assert_eq(sma_collect(&in, live, 0), SMA_EINUSE);
  cr_assert_eq(in.creator_alive, 1);
  if (!t_caps().proves_unused) { /* then even an orphan is kept */
    cr_assert_eq(sma_collect(&in, dead, 0), SMA_EINUSE);
    cr_assert_eq(in.creator_alive, 0);
    cr_assert_eq(in.attached, -1, "unknown, not 0");
    cr_assert_eq(t_segment_exists(dead), 1);
    cr_assert_eq(sma_unlink(dead), 0);
    cr_assert_eq(sma_unlink(live), 0);
    return;
  }
  cr_assert_eq(collect_soon(dead, SMA_COLLECT_DRY_RUN), 0);
  cr_assert_eq(t_segment_exists(dead), 1, "a dry run removes nothing");
  cr_assert_eq(collect_soon(dead, 0), 0);
  cr_assert(t_segment_absent(dead));
  cr_assert_eq(sma_collect(NULL, dead, 0), SMA_ENOENT);
  cr_assert_eq(sma_collect(NULL, live, 2), SMA_EINVAL, "unknown flag");
  cr_assert_eq(sma_collect(NULL, NULL, 0), SMA_EINVAL);
  cr_assert_eq(t_segment_exists(live), 1);
  sma_unlink(live);
}

/* Regression: attached was counted by matching "/dev/shm/NAME" in maps
 * lines, so any process mapping a file whose path ends in " /dev/shm/NAME"
 * pinned NAME against gc (and a long such line crossing the scanner's
 * 4 KiB read boundary made it read before its buffer). Identity, device
 * and inode, is what counts now. */
Test(gc, a_file_named_like_the_segment_does_not_pin_it) {
  T_NEED_GC_PROOF();
  if (!t_posix_backend()) cr_skip_test("maps lines name POSIX segments only");
  char name[SMA_NAME_BUF], dir[4096], file[4096 + SMA_NAME_BUF];
  t_name(name, sizeof name, "gc-pin");
  create_orphan(name, -1, 0);
  /* /tmp/smatest-pin-PID/aaaa.../x /dev/shm/NAME: a long path, so its
   * maps line also spans a 4 KiB boundary. */
  size_t len = (size_t)snprintf(dir, sizeof dir, "/tmp/smatest-pin-%d", (int)getpid());
  while (len < 3000) len += (size_t)snprintf(dir + len, sizeof dir - len, "/%s", "aaaaaaaaaaaaaaa");
  snprintf(dir + len, sizeof dir - len, "/x /dev/shm");
  char mk[4200];
  snprintf(mk, sizeof mk, "mkdir -p '%s'", dir);
  cr_assert_eq(system(mk), 0);
  snprintf(file, sizeof file, "%s/%s", dir, name);
  FILE *f = fopen(file, "w");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite("0123456789abcdef", 1, 16, f), 16);
  fclose(f);
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t pinner = fork();
  if (pinner == 0) {
    t_die_with_parent();
    FILE *mapped = fopen(file, "r");
    if (mapped == NULL || mmap(NULL, 16, PROT_READ, MAP_SHARED, fileno(mapped), 0) == MAP_FAILED)
      _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c;
  cr_assert_eq(read(ready[0], &c, 1), 1);
  close(ready[0]);
  int att = attached_soon(-1, name);
  int rc = collect_soon(name, 0);
  t_stop(pinner);
  snprintf(mk, sizeof mk, "rm -rf /tmp/smatest-pin-%d", (int)getpid());
  cr_assert_eq(system(mk), 0);
  /* 0, or unknown (-1) where /proc cannot show every process: info takes
   * no lease to prove 0 (issue 23); never counted as a mapper. */
  cr_expect(att == 0 || att == -1, "a look-alike path is not the segment (%d)", att);
  cr_assert_eq(rc, 0, "the orphan is collected despite the look-alike");
}

#if defined(SMA_FAULT_INJECTION)

/* ---- Looking must not block ------------------------------------------- */

/* Regression: `sma ls` and `sma info` took a write lease on each segment
 * they examined; while held, another process's open() of it blocked (up
 * to lease-break-time, 45 s, if the lister was stopped). The lister is
 * paused mid-examination here (5 s); an open must not wait for it. */
typedef struct timed_open {
  const char *name;
  int rc;
  double took; /* seconds the open took */
} timed_open_t;

static void open_meanwhile(void *user, long lister) {
  (void)lister;
  timed_open_t *o = user;
  t_sleep_ms(1000); /* the lister is examining the segment, paused */
  double t0 = t_now();
  sma_t *a = NULL;
  o->rc = sma_open(&a, o->name, NULL, 0);
  o->took = t_now() - t0;
  if (o->rc == 0) sma_free(a);
}

/* `sma ARGS` (args_fmt with the name), paused 5 s while it examines the
 * segment; an open meanwhile must not wait for it. */
static void open_while_paused(const char *args_fmt, const char *name) {
  static const char *const pause_5s[] = {"SMA_FAULT_PAUSE_MS=5000", "SMA_FAULT_PAUSE_AT=examine",
                                         NULL};
  timed_open_t o = {name, -1, 0};
  t_sma_opts_t opts = {.during = open_meanwhile, .user = &o, .env = pause_5s};
  t_sma_line(NULL, &opts, args_fmt, name);
  cr_assert_eq(o.rc, 0);
  cr_assert(o.took < 2.5, "open waited %.1f s for `%s`", o.took, args_fmt);
}

Test(gc, ls_and_info_never_block_an_open) {
  T_NEED_GC_PROOF();
  if (!t_posix_backend()) cr_skip_test("leases are POSIX (file) objects' only");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "lookers");
  create_orphan(name, -1, 0); /* nobody holds it, so a lease would be granted */
  open_while_paused("info %s", name);
  open_while_paused("ls --prefix %s", name);
  cr_assert_eq(sma_unlink(name), 0);
}
#endif /* SMA_FAULT_INJECTION */

/* ---- Unknown means keep; a zombie is gone; one name rule --------------- */

/* Regression: kill(pid, 0) succeeds for a zombie, so an aborted job whose
 * parent never reaps it (a container's pid 1) kept its segments forever.
 * A zombie holds no mapping and no descriptor: it is gone. */
Test(gc, a_zombie_creator_is_gone) {
  T_NEED_GC_PROOF();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "zombie");
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    size_t shape[1] = {64};
    sma_t *a;
    _exit(sma_new(&a,
                  &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0 ||
          sma_create(a, 0) != 0);
  }
  siginfo_t si;
  cr_assert_eq(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0); /* a zombie now */
  cr_assert_eq(si.si_status, 0, "the segment was made");
  sma_info_t in;
  int rc = SMA_EINUSE;
  for (int i = 0; i < 100 && rc == SMA_EINUSE; i++) { /* a parallel `ls` may hold it */
    rc = sma_collect(&in, name, 0);
    if (rc == SMA_EINUSE && in.creator_alive != 0) break;
    if (rc == SMA_EINUSE) t_sleep_ms(20);
  }
  int creator_alive = in.creator_alive;
  waitpid(child, NULL, 0);
  if (rc != 0) sma_unlink(name);
  cr_assert_eq(creator_alive, 0, "a zombie creator is gone");
  cr_assert_eq(rc, 0, "its segment is collected");
}

#if defined(__linux__)
/* In a child: a pid namespace of its own (the caller becomes its pid 1's
 * parent) with an empty tmpfs over /proc, as in minimal containers. The
 * grandchild returns 0 and runs in it; the parent waits and exits. With
 * `high_pid`, the grandchild's pid is made high, so that the same number
 * names no process outside. */
static int enter_pidns_without_proc(int high_pid) {
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) return -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
  pid_t init = fork();
  if (init < 0) return -1;
  if (init == 0) t_die_with_parent(); /* never outlives the test */
  if (init > 0) {
    int status;
    waitpid(init, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
  }
  /* pid 1 of the new namespace: a fresh /proc to set the next pid, then
   * an empty one. */
  if (mount("proc", "/proc", "proc", 0, NULL) != 0) _exit(90);
  if (high_pid) {
    FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (f == NULL || fprintf(f, "%d", 3999000) < 0 || fclose(f) != 0) _exit(91);
  }
  if (umount2("/proc", MNT_DETACH) != 0 || umount2("/proc", MNT_DETACH) != 0 ||
      mount("tmpfs", "/proc", "tmpfs", 0, "size=64k") != 0)
    _exit(92);
  pid_t worker = fork();
  if (worker < 0) _exit(93);
  if (worker == 0) t_die_with_parent();
  if (worker > 0) {
    int status;
    waitpid(worker, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
  }
  return 0;
}

/* t_sma_run()'s in_child: the command runs without /proc. */
static int gc_without_proc(void *unused) {
  (void)unused;
  return enter_pidns_without_proc(0);
}

static int pid_max_allows_high(void) {
  FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
  long v = 0;
  if (f != NULL) {
    if (fscanf(f, "%ld", &v) != 1) v = 0;
    fclose(f);
  }
  return v > 3999100;
}

/* Regression, both directions: when a pid namespace could not be read
 * (no /proc), gc judged the creator pid with kill() in its own namespace
 * and removed a running creator's segment. Unknown keeps it. */
Test(gc, no_proc_keeps_a_running_creators_segment) {
  T_NEED_GC_PROOF();
  if (getuid() != 0) cr_skip_test("needs root for pid and mount namespaces");
  if (system("unshare -p -f -m true 2>/dev/null") != 0)
    cr_skip_test("this machine gives no pid namespace");
  if (!pid_max_allows_high()) cr_skip_test("pid_max too low for the high-pid creator");
  char mine[SMA_NAME_BUF], theirs[SMA_NAME_BUF];
  t_name(mine, sizeof mine, "noproc-gc");
  t_name(theirs, sizeof theirs, "noproc-creator");
  size_t shape[1] = {64};
  /* Direction 1: this process, alive, created `mine` and unmapped it; gc
   * runs where /proc is empty. */
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = mine, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  sma_free(a);
  t_sma_opts_t without_proc = {.in_child = gc_without_proc};
  int status = t_sma_line(NULL, &without_proc, "gc --prefix %s", mine);
  /* gc ran: 0, or 1 where it reports an error after running (System V
   * lists through /proc/sysvipc/shm, and a sanitizer's leak check at exit
   * needs /proc), which keeps everything too; not 127 (no exec) nor the
   * set-up's own codes (96, and 90 and up). */
  cr_assert(status == 0 || status == 1, "gc ran (%d)", status);
  int survived = t_segment_exists(mine);
  sma_unlink(mine);
  cr_assert_eq(survived, 1, "a gc that cannot read its pid namespace keeps it");

  /* Direction 2: a creator without /proc (pid namespace unknown in its
   * record), alive and not mapping it; gc runs here. */
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t creator = fork();
  cr_assert_neq(creator, -1);
  if (creator == 0) {
    t_die_with_parent();
    if (enter_pidns_without_proc(1) != 0) _exit(80);
    t_die_with_parent();
    sma_t *b;
    if (sma_new(&b,
                &(sma_array_desc_t){
                    .name = theirs, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0 ||
        sma_create(b, 0) != 0)
      _exit(81);
    sma_free(b);
    if (write(ready[1], "x", 1) != 1) _exit(82);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c;
  cr_assert_eq(read(ready[0], &c, 1), 1, "the creator without /proc made its segment");
  close(ready[0]);
  sma_info_t in;
  int rc = sma_collect(&in, theirs, 0);
  int exists = t_segment_exists(theirs);
  t_stop(creator);
  sma_unlink(theirs);
  cr_assert_eq(in.creator_alive, -1, "a creator of an unknown pid namespace is unknown");
  cr_assert_eq(rc, SMA_EINUSE);
  cr_assert_eq(exists, 1, "a running creator's segment survives");
}
#endif

/* Regression: `sma create .x` made a segment that ls and gc skip (dot names
 * are the quarantine's and the staging's). One rule refuses it. */
Test(gc, dot_names_are_refused) {
  size_t shape[1] = {8};
  sma_t *a;
  int rc =
      sma_new(&a, &(sma_array_desc_t){.name = ".x", .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
  if (rc == 0) {
    rc = sma_create(a, 0);
    if (rc == 0) sma_unlink(".x");
    sma_free(a);
  }
  cr_assert_eq(rc, SMA_ENAME, "a leading dot is refused");
  char *out;
  int cli = t_sma_said(&out, "create .sma-gc-0000 --shape 4 --dtype uint8");
  free(out);
  if (cli == 0) sma_unlink(".sma-gc-0000");
  cr_assert_neq(cli, 0, "the command refuses it too");
}

/* Strays (objects without a published record) are judged only through
 * the intent entry their creator wrote first: tests/test_gc_strays.c. */
