/* Issue 23: gc removes only what libsma provably made and provably
 * abandoned, and looking never blocks. Each test stages, with real
 * processes, a case that 5aa3576 got wrong:
 *  - another program's object with the owner-execute bit (POSIX
 *    /dev/shm/myscript, as root and as an ordinary uid; a System V segment
 *    at mode 0750 whose creator exited) was taken for a stray and removed;
 *  - a creator killed after its intent or after its exclusive create is
 *    still collected, from the intent it wrote first;
 *  - a zombie creator kept its segment forever;
 *  - a gc or a creator without /proc judged pids in the wrong namespace;
 *  - a dot name made a segment nothing lists or collects;
 *  - `sma info` / `sma ls` held a lease that blocked other processes' open().
 * Root-only cases skip otherwise; fault-injection cases need that build. */
#define _GNU_SOURCE /* unshare, CLONE_NEW* */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#if defined(__linux__)
#  include <sched.h>
#  include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#ifndef SMA_CLI
#  error "SMA_CLI must name the sma executable"
#endif

enum { USER_A = 65534, SHARED_GID = 65534 };

static int posix_only(void) { return strcmp(sma_backend(), "posix") == 0; }

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void die_with_parent(void) {
#if defined(__linux__)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

#define run_as(uid, out, ...) t_shell_as(uid, SHARED_GID, out, __VA_ARGS__)

static void stop(pid_t child) {
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
}

/* System V strays are found by key, not by a --prefix of the test's: the
 * test gets an IPC namespace of its own. */
static void private_sysv(void) {
  if (!posix_only() && t_private_ipc() != 0)
    cr_skip_test("needs a private IPC namespace (unshare -i)");
}

/* ---- 1. Another program's object is never a stray ------------------------ */

/* Regression: `printf '#!/bin/sh\n' > /dev/shm/myscript; chmod 700 ...;
 * sma gc` removed myscript as a stray: the owner-execute bit was taken for
 * libsma's mark. Nothing but an intent entry makes a stray now. */
static void myscript_survives_gc_as(int uid) {
  char name[64], path[96];
  snprintf(name, sizeof name, "myscript-%d-%d", (int)getpid(), uid);
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  cr_assert_eq(run_as(uid, NULL, "printf '#!/bin/sh\\n' > %s && chmod 700 %s", path, path), 0);
  char *out;
  int rc = t_sma_as(uid, SHARED_GID, &out, "gc --prefix %s", name);
  struct stat st;
  int kept = stat(path, &st) == 0;
  unlink(path);
  cr_expect_eq(rc, 0, "%s", out);
  cr_assert(kept, "another program's 0700 file survives gc (uid %d): %s", uid, out);
  cr_expect_null(strstr(out, "stray"), "%s", out);
  free(out);
}

Test(gc_strays, another_programs_executable_shm_file_survives_gc) {
  T_NEED_GC_PROOF();
  if (!posix_only()) cr_skip_test("a /dev/shm file is a POSIX object");
  myscript_survives_gc_as(-1);
  if (getuid() == 0) myscript_survives_gc_as(USER_A); /* an ordinary user's own file */
}

/* Makes, in a child that then exits, a System V segment as another program
 * would: mode 0750 (owner-execute set), no record, at `key`. Its shmid. */
static int foreign_segment(key_t key) {
  int id = -1;
  int pipefd[2];
  cr_assert_eq(pipe(pipefd), 0);
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    int made = shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0750);
    _exit(write(pipefd[1], &made, sizeof made) == sizeof made ? 0 : 1);
  }
  close(pipefd[1]);
  cr_assert_eq(read(pipefd[0], &id, sizeof id), (ssize_t)sizeof id);
  close(pipefd[0]);
  waitpid(child, NULL, 0);
  cr_assert_geq(id, 0, "the foreign segment was made: %s", strerror(errno));
  return id;
}

static int segment_alive(int id) {
  struct shmid_ds ds;
  return shmctl(id, IPC_STAT, &ds) == 0;
}

/* Regression: another program's System V segment (any key, perms 0750,
 * creator exited, as System V segments are meant to) was removed by gc. */
Test(gc_strays, another_programs_sysv_segment_survives_gc) {
  T_NEED_GC_PROOF();
  if (posix_only()) cr_skip_test("System V segments only");
  private_sysv();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "foreign");
  int any = foreign_segment(IPC_PRIVATE);
  int at_our_key = foreign_segment((key_t)t_sysv_key(name, 0)); /* even at a key libsma uses */
  char *out;
  int rc = t_sma_said(&out, "gc");
  cr_expect_eq(rc, 0, "%s", out);
  cr_assert(segment_alive(any), "a foreign segment survives gc: %s", out);
  cr_assert(segment_alive(at_our_key), "also at a libsma key: %s", out);
  free(out);
  shmctl(any, IPC_RMID, NULL);
  shmctl(at_our_key, IPC_RMID, NULL);
}

#if defined(SMA_FAULT_INJECTION)
void sma__fault_arm(int n);

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Creators killed after their intent: still collected ---------------- */

/* The intent entries (files ".sma-intent-*" of the per-user directory)
 * whose text names `name`. */
static int intents_naming(const char *name) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/libsma-%lu", tmp && tmp[0] == '/' ? tmp : "/tmp",
           (unsigned long)geteuid());
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, ".sma-intent-", 12) != 0) continue;
    char path[8192], text[1024] = {0};
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = '\0';
    n += strstr(text, name) != NULL;
  }
  closedir(d);
  return n;
}

typedef struct seen {
  const char *name;
  unsigned flags;
  int found, result;
  sma_stray_t copy;
} seen_t;

static int on_stray(const sma_stray_t *stray, void *user) {
  seen_t *s = user;
  size_t len = strlen(s->name);
  if (strncmp(stray->label, s->name, len) != 0 || stray->label[len] != ' ') return 0;
  s->found++;
  s->copy = *stray;
  s->result = sma_collect_stray(stray, s->flags);
  return 0;
}

static seen_t strays_of(const char *name, unsigned flags) {
  seen_t s;
  memset(&s, 0, sizeof s);
  s.name = name;
  s.flags = flags;
  cr_assert_eq(sma_list_strays(on_stray, &s), 0);
  return s;
}

/* Starts a creator of `name` that pauses (30 s) at the fault build's
 * pause point `where` of sma_create(). POSIX takes the path of kernels
 * without O_TMPFILE (the one whose create is not atomic). */
static pid_t paused_creator(const char *name, const char *where) {
  pid_t creator = fork();
  cr_assert_neq(creator, -1);
  if (creator == 0) {
    die_with_parent();
    setenv("SMA_FAULT_PAUSE_MS", "30000", 1);
    setenv("SMA_FAULT_PAUSE_AT", where, 1);
    size_t shape[1] = {4096};
    sma_t *a;
    if (sma_new(&a, &(sma_array_desc_t){
                        .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
      _exit(1);
    if (posix_only()) sma__fault_arm(1); /* O_TMPFILE "unsupported" */
    _exit(sma_create(a, 0) == 0 ? 0 : 2);
  }
  return creator;
}

/* Killed after writing its intent, before creating anything: gc finds
 * nothing to remove, keeps the intent while the creator runs, drops it
 * once the creator is gone, and removes no other object, even one at
 * what the intent names (System V: another program's segment at the
 * name's first key). */
Test(gc_strays, a_creator_killed_after_its_intent_leaves_nothing_after_gc) {
  T_NEED_GC_PROOF();
  private_sysv();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "intent-killed");
  pid_t creator = paused_creator(name, "intent");
  int waited = 0;
  while (intents_naming(name) == 0 && waited++ < 500) pause_ms(10);
  cr_assert_eq(intents_naming(name), 1, "the creator wrote its intent and paused");
  int foreign = posix_only() ? -1 : foreign_segment((key_t)t_sysv_key(name, 0));
  cr_assert_eq(strays_of(name, 0).found, 0, "nothing was created");
  cr_assert_eq(intents_naming(name), 1, "a live creator's intent is kept");
  stop(creator);
  char *out;
  cr_assert_eq(t_sma_said(&out, "gc --prefix %s", name), 0, "%s", out);
  cr_expect_eq(intents_naming(name), 0, "a gone creator's spent intent is dropped: %s", out);
  if (foreign >= 0) {
    cr_expect(segment_alive(foreign), "another program's segment at the key survives: %s", out);
    shmctl(foreign, IPC_RMID, NULL);
  }
  cr_expect_null(strstr(out, "removed stray"), "%s", out);
  free(out);
}

/* Regression (kept from issue 10, now by evidence): a creator killed
 * between its exclusive create and its record leaves an object that gc
 * removes, because the intent written before the create names it. */
Test(gc_strays, a_creator_killed_after_its_create_is_collected) {
  T_NEED_GC_PROOF();
  private_sysv();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "create-killed");
  pid_t creator = paused_creator(name, "created");
  seen_t s = {0};
  for (int i = 0; i < 500 && (s = strays_of(name, SMA_COLLECT_DRY_RUN)).found == 0; i++)
    pause_ms(10);
  cr_assert_eq(s.found, 1, "the creator created its object and paused");
  cr_assert_eq(s.copy.creator_pid, (uint64_t)creator);
  cr_assert_eq(s.copy.creator_alive, 1);
  cr_assert_eq(s.result, SMA_EINUSE, "a live creator's object is kept");
  stop(creator);
  seen_t dry = strays_of(name, SMA_COLLECT_DRY_RUN);
  cr_assert_eq(dry.found, 1);
  cr_assert_eq(dry.copy.creator_alive, 0);
  cr_assert_eq(dry.result, 0, "removable once its creator is gone");
  sma_stray_t other = dry.copy;
  other.ident[1] ^= 1;
  cr_assert_eq(sma_collect_stray(&other, 0), SMA_ENOENT, "no intent names another object");
  cr_assert_eq(sma_collect_stray(&dry.copy, 4), SMA_EINVAL, "unknown flag");
  cr_assert_eq(sma_collect_stray(NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_list_strays(NULL, NULL), SMA_EINVAL);
  char *out;
  cr_assert_eq(t_sma_said(&out, "gc --prefix %s", name), 0, "%s", out);
  cr_expect_not_null(strstr(out, "removed stray"), "%s", out);
  free(out);
  cr_assert_eq(strays_of(name, SMA_COLLECT_DRY_RUN).found, 0, "gc removed it");
  cr_assert_eq(intents_naming(name), 0, "and dropped the intent");
  if (!posix_only()) cr_assert_eq(t_sysv_segments_of((long)creator), 0, "no segment left");
}

/* ---- 4. Looking must not block ----------------------------------------- */

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
  pause_ms(1000); /* the lister is examining the segment, paused */
  double t0 = now_s();
  sma_t *a = NULL;
  o->rc = sma_open(&a, o->name, NULL, 0);
  o->took = now_s() - t0;
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

Test(gc_strays, ls_and_info_never_block_an_open) {
  T_NEED_GC_PROOF();
  if (!posix_only()) cr_skip_test("leases are POSIX (file) objects' only");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "lookers");
  pid_t child = fork();
  if (child == 0) { /* an orphan: nobody holds it, so a lease would be granted */
    size_t shape[1] = {64};
    sma_t *a;
    _exit(sma_new(&a,
                  &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0 ||
          sma_create(a, 0) != 0);
  }
  int status;
  waitpid(child, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  open_while_paused("info %s", name);
  open_while_paused("ls --prefix %s", name);
  cr_assert_eq(sma_unlink(name), 0);
}
#endif /* SMA_FAULT_INJECTION */

/* ---- 3. Unknown means keep; a zombie is gone; one name rule ------------- */

/* Regression: kill(pid, 0) succeeds for a zombie, so an aborted job whose
 * parent never reaps it (a container's pid 1) kept its segments forever.
 * A zombie holds no mapping and no descriptor: it is gone. */
Test(gc_strays, a_zombie_creator_is_gone) {
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
    if (rc == SMA_EINUSE) pause_ms(20);
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
  if (init == 0) die_with_parent(); /* never outlives the test */
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
  if (worker == 0) die_with_parent();
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
Test(gc_strays, no_proc_keeps_a_running_creators_segment) {
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
    die_with_parent();
    if (enter_pidns_without_proc(1) != 0) _exit(80);
    die_with_parent();
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
  stop(creator);
  sma_unlink(theirs);
  cr_assert_eq(in.creator_alive, -1, "a creator of an unknown pid namespace is unknown");
  cr_assert_eq(rc, SMA_EINUSE);
  cr_assert_eq(exists, 1, "a running creator's segment survives");
}
#endif

/* Regression: `sma create .x` made a segment that ls and gc skip (dot names
 * are the quarantine's and the staging's). One rule refuses it. */
Test(gc_strays, dot_names_are_refused) {
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
