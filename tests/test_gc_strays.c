/* Issue 23's strays: gc removes only what libsma provably made and
 * provably abandoned. Each test stages, with real
 * processes, a case that 5aa3576 got wrong:
 *  - another program's object with the owner-execute bit (POSIX
 *    /dev/shm/myscript, as root and as an ordinary uid; a System V segment
 *    at mode 0750 whose creator exited) was taken for a stray and removed;
 *  - a creator killed after its intent or after its exclusive create is
 *    still collected, from the intent it wrote first.
 * Strays are objects without a published record; issue 23's other cases
 * (a zombie creator, no /proc, dot names, listing that never blocks) judge
 * published segments: test_gc.c. Root-only cases skip otherwise;
 * fault-injection cases need that build. */
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
#endif
#include <time.h>
#include <unistd.h>

enum { USER_A = 65534, SHARED_GID = 65534 };

#define run_as(uid, out, ...) t_shell_as(uid, SHARED_GID, out, __VA_ARGS__)

/* System V strays are found by key, not by a --prefix of the test's: the
 * test gets an IPC namespace of its own. */
static void private_sysv(void) {
  if (!t_posix_backend() && t_private_ipc() != 0)
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
  if (!t_posix_backend()) cr_skip_test("a /dev/shm file is a POSIX object");
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
  if (t_posix_backend()) cr_skip_test("System V segments only");
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
    t_die_with_parent();
    setenv("SMA_FAULT_PAUSE_MS", "30000", 1);
    setenv("SMA_FAULT_PAUSE_AT", where, 1);
    size_t shape[1] = {4096};
    sma_t *a;
    if (sma_new(&a, &(sma_array_desc_t){
                        .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
      _exit(1);
    if (t_posix_backend()) sma__fault_arm(1); /* O_TMPFILE "unsupported" */
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
  while (intents_naming(name) == 0 && waited++ < 500) t_sleep_ms(10);
  cr_assert_eq(intents_naming(name), 1, "the creator wrote its intent and paused");
  int foreign = t_posix_backend() ? -1 : foreign_segment((key_t)t_sysv_key(name, 0));
  cr_assert_eq(strays_of(name, 0).found, 0, "nothing was created");
  cr_assert_eq(intents_naming(name), 1, "a live creator's intent is kept");
  t_stop(creator);
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
    t_sleep_ms(10);
  cr_assert_eq(s.found, 1, "the creator created its object and paused");
  cr_assert_eq(s.copy.creator_pid, (uint64_t)creator);
  cr_assert_eq(s.copy.creator_alive, 1);
  cr_assert_eq(s.result, SMA_EINUSE, "a live creator's object is kept");
  t_stop(creator);
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
  if (!t_posix_backend()) cr_assert_eq(t_sysv_segments_of((long)creator), 0, "no segment left");
}

#endif /* SMA_FAULT_INJECTION */
