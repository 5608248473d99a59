/* `sma gc` and sma_collect(): only what is provably orphaned is removed.
 * Each test stages a case that an older gc got wrong, with real processes:
 * a second and third uid (root needed; skipped otherwise), a pid namespace
 * (`unshare -p`), a name re-created between check and removal (in fault-
 * injection builds, which can widen that window), a creator killed before
 * its record (a stray). POSIX and System V; some cases are one backend's. */
#include "sma.h"
#include "support.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#ifndef SMA_CLI
#error "SMA_CLI must name the sma executable"
#endif

/* Two users other than root, sharing one group (no /etc/passwd entry is
 * needed to run as a uid). */
enum { USER_A = 65534, USER_B = 65533, SHARED_GID = 65534 };

/* In a child: becomes uid (-1: stays as it is) with the shared group. */
/* Strays have no record, so no index holds them: only an OS that
 * enumerates its segments can find them. */
static void need_enumeration(void) {
  if (!t_caps().can_list)
    cr_skip_test("this OS cannot enumerate segments: strays stay (ipcs, ipcrm)");
}

static void become(int uid) {
  if (uid >= 0 && t_become((unsigned)uid, SHARED_GID) != 0) _exit(97);
}

/* Runs the shell command `cmd` as uid (-1: as we are) and returns its
 * exit code; *out (if not NULL) gets its stdout, malloc'd. */
static int run_as(int uid, char **out, const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int pipefd[2];
  cr_assert_eq(pipe(pipefd), 0);
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    become(uid);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  ssize_t n;
  while ((n = read(pipefd[0], buf + len, cap - len - 1)) > 0) len += (size_t)n;
  buf[len] = '\0';
  close(pipefd[0]);
  int status;
  waitpid(child, &status, 0);
  if (out) *out = buf;
  else free(buf);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Creates `name` in a child process that then exits: a creator gone. As
 * uid (-1: as we are), with `flags`. */
static void create_orphan(const char *name, int uid, unsigned flags) {
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    become(uid);
    size_t shape[1] = {64};
    sma_t *a;
    if (sma_new(&a, name, 1, shape, SMA_UINT8, NULL, 0) != 0 || sma_create(a, flags) != 0)
      _exit(1);
    _exit(0); /* without unlinking */
  }
  int status;
  waitpid(child, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orphan %s created", name);
}

/* Starts a process, as uid (-1: as we are), that runs setup(name, marked)
 * and, if it returns 0, stays until killed (stop()); returns its pid once
 * setup has succeeded. */
static pid_t spawn_holder(const char *name, int uid, int (*setup)(const char *, int),
                          int marked) {
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    become(uid);
#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a failed test */
#endif
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
static pid_t hold_as(const char *name, int uid) {
  return spawn_holder(name, uid, map_segment, 0);
}

static void stop(pid_t child) {
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
}

/* "attached" of `sma info --json NAME` run as uid: the value, or -1 for
 * null (unknown); -2 if the command failed. */
static int attached_seen_by(int uid, const char *name) {
  char *out;
  int rc = run_as(uid, &out, "'%s' info --json %s", SMA_CLI, name);
  cJSON *info = cJSON_Parse(out);
  free(out);
  int v = -2;
  cJSON *att = info ? cJSON_GetObjectItem(info, "attached") : NULL;
  if (rc == 0 && cJSON_IsNumber(att)) v = att->valueint;
  else if (rc == 0 && cJSON_IsNull(att)) v = -1;
  cJSON_Delete(info);
  return v;
}

/* A parallel test's `sma ls` holds each segment open for an instant, and
 * gc rightly keeps what it cannot prove unheld (attached -1). The helpers
 * below retry only that case, for up to 2 s; any other verdict is final. */
static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

static int collect_soon(const char *name, unsigned flags) {
  sma_info_t in;
  int rc = SMA_EINUSE;
  for (int i = 0; i < 100; i++) {
    rc = sma_collect(name, flags, &in);
    if (rc != SMA_EINUSE || in.creator_alive != 0 || in.attached > 0) break;
    pause_ms(20);
  }
  return rc;
}

static int attached_soon(int uid, const char *name) {
  int v = -1;
  for (int i = 0; i < 100 && (v = attached_seen_by(uid, name)) == -1; i++) pause_ms(20);
  return v;
}

/* `sma gc --prefix name` as uid until the segment is gone or a run keeps
 * it for another reason than a transient holder. */
static int gc_as_soon(int uid, const char *name) {
  int rc = -1;
  for (int i = 0; i < 100; i++) {
    char *out;
    rc = run_as(uid, &out, "'%s' gc --prefix %s", SMA_CLI, name);
    int transient = strstr(out, "it is held open") != NULL;
    free(out);
    if (rc != 0 || !transient) break;
    pause_ms(20);
  }
  return rc;
}

static int posix_only(void) { return strcmp(sma_backend(), "posix") == 0; }

/* Regression: user B maps user A's group segment. A cannot read B's
 * /proc/PID/maps, so the old count said 0 attached and A's gc removed a
 * segment in use. Unknown is not zero: info says unknown (null), gc keeps
 * it, and removes it once B is gone. */
Test(gc, a_mapper_the_user_cannot_examine_keeps_the_segment) {
  T_NEED_GC_PROOF();
  if (getuid() != 0) cr_skip_test("needs root to act as two other uids");
  if (!posix_only()) cr_skip_test("System V's attach count is the kernel's own");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "gc-unseen");
  create_orphan(name, USER_A, SMA_CREATE_GROUP);
  pid_t b = hold_as(name, USER_B);
  cr_expect_eq(attached_seen_by(USER_A, name), -1, "A cannot see B's mapping: unknown");
  char *out;
  int rc = run_as(USER_A, &out, "'%s' gc --prefix %s", SMA_CLI, name);
  int survived = t_segment_exists(name);
  stop(b);
  cr_assert_eq(rc, 0);
  cr_expect_not_null(strstr(out, "removed 0 segments"), "%s", out);
  free(out);
  cr_assert_eq(survived, 1, "B's mapped segment survives A's gc");
  cr_expect_eq(attached_soon(USER_A, name), 0, "once B is gone, A can prove 0");
  cr_assert_eq(gc_as_soon(USER_A, name), 0);
  cr_assert_eq(t_segment_exists(name), 0, "collected once nobody maps it");
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
  cr_assert_eq(sma_new(&mine, live, 1, shape, SMA_UINT8, NULL, 0), 0);
  cr_assert_eq(sma_create(mine, 0), 0); /* creator alive: this process */
  create_orphan(held, -1, 0);
  cr_assert_eq(sma_open(&holding, held, NULL, 0), 0); /* mapped from the host */
  char *out;
  int rc = run_as(-1, &out, "unshare -p -f --mount-proc '%s' gc --prefix smatest-", SMA_CLI);
  cr_assert_eq(rc, 0, "%s", out);
  free(out);
  cr_expect_eq(t_segment_exists(live), 1, "a live host creator's segment survives");
  cr_expect_eq(t_segment_exists(held), 1, "a segment a host process maps survives");
  cr_assert_eq(run_as(-1, &out, "unshare -p -f --mount-proc '%s' info --json %s", SMA_CLI,
                      live), 0);
  cJSON *info = cJSON_Parse(out);
  free(out);
  cr_expect(cJSON_IsNull(cJSON_GetObjectItem(info, "creator_alive")),
            "a creator of another pid namespace is unknown there");
  cJSON_Delete(info);
  sma_unlink(live);
  sma_free(mine);
  sma_free(holding);
  cr_assert_eq(collect_soon(held, 0), 0, "collected once nobody maps it");
}

#if defined(SMA_FAULT_INJECTION)
/* Regression: gc judged a name, then removed whatever the name named when
 * it got to unlinking. A job restarting in between (unlink, create anew)
 * lost its new, live segment. The window is widened to a second here. */
/* One run of the scenario below; its gc output in out. 1 if gc's first
 * look found the orphan held open for an instant (a parallel test's
 * listing: the transient verdict the other tests here retry too). */
static int replace_during_gc(const char *name, char *out, size_t cap) {
  create_orphan(name, -1, 0);
  int pipefd[2];
  cr_assert_eq(pipe(pipefd), 0);
  pid_t gc = fork();
  if (gc == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    setenv("SMA_FAULT_PAUSE_MS", "1000", 1);
    execl(SMA_CLI, SMA_CLI, "gc", "--prefix", name, (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  struct timespec judged = {0, 300 * 1000000L};
  nanosleep(&judged, NULL); /* gc has judged the orphan and pauses */
  cr_assert_eq(sma_unlink(name), 0);
  size_t shape[1] = {64};
  sma_t *again;
  cr_assert_eq(sma_new(&again, name, 1, shape, SMA_UINT8, NULL, 0), 0);
  cr_assert_eq(sma_create(again, 0), 0);
  sma_free(again);
  ssize_t n, len = 0;
  while ((n = read(pipefd[0], out + len, cap - 1 - (size_t)len)) > 0) len += n;
  out[len] = '\0';
  close(pipefd[0]);
  int status;
  waitpid(gc, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
  int transient = strstr(out, "it is held open") != NULL;
  if (transient) sma_unlink(name); /* the new segment: start again */
  return transient;
}

Test(gc, a_name_recreated_between_check_and_removal_survives) {
  T_NEED_GC_PROOF();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "gc-replaced");
  char out[4096];
  for (int tries = 0; tries < 10 && replace_during_gc(name, out, sizeof out); tries++) {
  }
  sma_info_t in;
  cr_assert_eq(sma_info(name, &in), 0, "the new segment survives: %s", out);
  cr_assert_eq(in.creator_pid, (uint64_t)getpid(), "and it is the new one");
  cr_expect_not_null(strstr(out, "re-created meanwhile"), "%s", out);
  cr_assert_eq(run_as(-1, NULL, "ls -a /dev/shm | grep -q '^\\.sma-gc-'"), 1,
               "no quarantined file left behind");
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
  cr_assert_eq(sma_new(&mine, live, 1, shape, SMA_UINT8, NULL, 0), 0);
  cr_assert_eq(sma_create(mine, 0), 0);
  sma_free(mine); /* unmapped, but its creator runs */
  create_orphan(dead, -1, 0);
  sma_info_t in;
  cr_assert_eq(sma_collect(live, 0, &in), SMA_EINUSE);
  cr_assert_eq(in.creator_alive, 1);
  if (!t_caps().proves_unused) { /* then even an orphan is kept */
    cr_assert_eq(sma_collect(dead, 0, &in), SMA_EINUSE);
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
  cr_assert_eq(t_segment_exists(dead), 0);
  cr_assert_eq(sma_collect(dead, 0, NULL), SMA_ENOENT);
  cr_assert_eq(sma_collect(live, 2, NULL), SMA_EINVAL, "unknown flag");
  cr_assert_eq(sma_collect(NULL, 0, NULL), SMA_EINVAL);
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
  if (!posix_only()) cr_skip_test("maps lines name POSIX segments only");
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
#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
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
  stop(pinner);
  snprintf(mk, sizeof mk, "rm -rf /tmp/smatest-pin-%d", (int)getpid());
  cr_assert_eq(system(mk), 0);
  cr_expect_eq(att, 0, "a look-alike path is not the segment");
  cr_assert_eq(rc, 0, "the orphan is collected despite the look-alike");
}

/* ---- Strays: a creator killed before it wrote the record ---------------- */

typedef struct stray_seen {
  const char *name;     /* POSIX: the stray's name */
  uint64_t creator_pid; /* System V: its creator */
  unsigned flags;       /* for sma_collect_stray() */
  int found, result;
  sma_stray_t copy;     /* as listed */
} stray_seen_t;

static int is_the_stray(const sma_stray_t *stray, const stray_seen_t *s) {
  return posix_only() ? stray->named && strcmp(stray->label, s->name) == 0
                      : stray->creator_pid == s->creator_pid;
}

static int collect_the_stray(const sma_stray_t *stray, void *user) {
  stray_seen_t *s = user;
  if (is_the_stray(stray, s)) {
    s->found++;
    s->copy = *stray;
    s->result = sma_collect_stray(stray, s->flags);
  }
  return 0;
}

/* Lists the strays and collects (with flags) the one of `name` (POSIX)
 * or `creator` (System V): how often it was seen, and the result. */
static stray_seen_t strays_of(const char *name, pid_t creator, unsigned flags) {
  stray_seen_t s;
  memset(&s, 0, sizeof s);
  s.name = name;
  s.creator_pid = (uint64_t)creator;
  s.flags = flags;
  cr_assert_eq(sma_list_strays(collect_the_stray, &s), 0);
  return s;
}

/* Does an OS object of `name` (POSIX) or of creator `pid` (System V)
 * exist, whatever it holds? Read from the OS, not through libsma. */
static int object_exists(const char *name, pid_t pid) {
  if (posix_only()) {
    char path[SMA_NAME_BUF + 16];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
  }
  int n = t_sysv_segments_of((long)pid);
  cr_assert_geq(n, 0, "/proc/sysvipc/shm is readable");
  return n > 0;
}

/* Runs `sma gc` so that it can only meet this test's segments: POSIX
 * strays have names (--prefix); System V strays have none, so the test
 * moves to an IPC namespace of its own first (see private_sysv()). */
static int gc_strays_cli(const char *name, char **out) {
  if (posix_only()) return run_as(-1, out, "'%s' gc --prefix %s", SMA_CLI, name);
  return run_as(-1, out, "'%s' gc", SMA_CLI);
}

/* System V: this test process (and the processes it starts) get an IPC
 * namespace of their own; 0, or skips the test. */
static void private_sysv(void) {
  if (posix_only()) return;
  if (t_private_ipc() != 0)
    cr_skip_test("needs a private IPC namespace (unshare -i) to run gc unfiltered");
}

/* Makes what a creator killed between its exclusive create and its
 * record write leaves: an object with the being-created mark
 * (owner-execute) and libsma's permissions, or without the mark, and no
 * record. The file stays open (POSIX), as a live creator keeps it. */
static int make_recordless_object(const char *name, int marked) {
  mode_t mode = marked ? 0700 : 0600;
  if (!posix_only()) return shmget(IPC_PRIVATE, 8192, IPC_CREAT | (int)mode) < 0;
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, mode);
  return fd < 0 || fchmod(fd, mode) != 0 || ftruncate(fd, 8192) != 0;
}

/* A process, as uid, that made a record-less object and stays. */
static pid_t make_recordless(const char *name, int uid, int marked) {
  return spawn_holder(name, uid, make_recordless_object, marked);
}

/* What is not a stray is never touched: another program's object without
 * the mark, and another user's marked one; a marked one is kept while its
 * creator lives (POSIX: holds it open; System V: runs, though it has not
 * attached), and removed once it is gone. */
Test(gc, strays_are_removed_only_once_their_creator_is_gone) {
  T_NEED_GC_PROOF();
  need_enumeration();
  if (getuid() != 0) cr_skip_test("needs root to act as another uid");
  char plain[SMA_NAME_BUF], foreign[SMA_NAME_BUF], stray[SMA_NAME_BUF];
  private_sysv();
  t_name(plain, sizeof plain, "stray-plain");
  t_name(foreign, sizeof foreign, "stray-foreign");
  t_name(stray, sizeof stray, "stray-mine");
  pid_t p = make_recordless(plain, -1, 0);
  pid_t f = make_recordless(foreign, USER_A, 1);
  pid_t s = make_recordless(stray, -1, 1);
  stray_seen_t alive = strays_of(stray, s, 0);
  cr_assert_eq(alive.found, 1, "the marked object is reported");
  cr_assert_eq(alive.result, SMA_EINUSE, "and kept while its creator lives");
  cr_assert(object_exists(stray, s));
  stop(p);
  stop(f);
  stop(s);
  cr_assert_eq(strays_of(plain, p, SMA_COLLECT_DRY_RUN).found, 0,
               "an unmarked object is no stray");
  cr_assert_eq(strays_of(foreign, f, SMA_COLLECT_DRY_RUN).found, 0,
               "another user's is not ours");
  stray_seen_t dry = strays_of(stray, s, SMA_COLLECT_DRY_RUN);
  cr_assert_eq(dry.found, 1);
  cr_assert_eq(dry.result, 0, "removable once its creator is gone");
  cr_assert(object_exists(stray, s), "but a dry run removes nothing");
  sma_stray_t other = dry.copy;
  other.ident[1] ^= 1;
  cr_assert_eq(sma_collect_stray(&other, 0), SMA_EREPLACED, "another object is not it");
  cr_assert_eq(sma_collect_stray(&dry.copy, 4), SMA_EINVAL, "unknown flag");
  cr_assert_eq(sma_collect_stray(NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_list_strays(NULL, NULL), SMA_EINVAL);
  char *out;
  int rc = gc_strays_cli(stray, &out);
  cr_expect_eq(rc, 0, "%s", out);
  cr_expect_not_null(strstr(out, "removed stray"), "%s", out);
  free(out);
  cr_assert_not(object_exists(stray, s), "gc removed the stray");
  cr_assert(object_exists(plain, p), "and not another program's object");
  cr_assert(object_exists(foreign, f), "nor another user's");
  if (posix_only()) {
    char cmd[2 * SMA_NAME_BUF + 64];
    snprintf(cmd, sizeof cmd, "rm -f /dev/shm/%s /dev/shm/%s", plain, foreign);
    cr_assert_eq(system(cmd), 0);
  } else {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ipcrm $(awk '$5 == %d || $5 == %d {print \"-m\", $2}' "
             "/proc/sysvipc/shm)", (int)p, (int)f);
    cr_assert_eq(system(cmd), 0);
  }
}

#if defined(SMA_FAULT_INJECTION)
void sma__fault_arm(int n);

/* Regression (issue 10, last gap): a creator killed in the few system
 * calls between its exclusive create and its record write left a marked
 * object without a record, which gc could not attribute to a name and
 * never removed. The window is held open here with the fault build's
 * pause: System V right after shmget (not even attached yet), POSIX on
 * the path of systems without O_TMPFILE (forced by failing that open). */
Test(gc, a_creator_killed_before_its_record_leaves_nothing_after_gc) {
  T_NEED_GC_PROOF();
  need_enumeration();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "stray-killed");
  private_sysv();
  pid_t creator = fork();
  cr_assert_neq(creator, -1);
  if (creator == 0) {
#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    setenv("SMA_FAULT_PAUSE_MS", "30000", 1);
    size_t shape[1] = {4096};
    sma_t *a;
    if (sma_new(&a, name, 1, shape, SMA_UINT8, NULL, 0) != 0) _exit(1);
    if (posix_only()) sma__fault_arm(1); /* O_TMPFILE "unsupported" */
    _exit(sma_create(a, 0) == 0 ? 0 : 2);
  }
  int in_window = 0;
  for (int i = 0; i < 500 && !in_window; i++) {
    in_window = strays_of(name, creator, SMA_COLLECT_DRY_RUN).found;
    if (!in_window) pause_ms(10);
  }
  cr_assert(in_window, "the creator paused between create and record");
  stray_seen_t kept = strays_of(name, creator, 0);
  cr_assert_eq(kept.result, SMA_EINUSE, "a live creator's object is kept");
  stop(creator);
  cr_assert(object_exists(name, creator), "killed, it left the object behind");
  char *out;
  int rc = gc_strays_cli(name, &out);
  cr_expect_eq(rc, 0, "%s", out);
  cr_assert_not(object_exists(name, creator), "gc removed it: %s", out);
  free(out);
}
#endif
