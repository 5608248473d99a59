/* The per-user index (builds that list through it: macOS, or Linux with
 * -DSMA_OS_PERSONALITY=darwin) against another user who shares $TMPDIR: a
 * directory squatted in advance, a directory swapped for a symlink while
 * the victim lists, and a umask that would lock the owner out. Two real
 * uids (root needed; skipped otherwise). POSIX only. */
#define _GNU_SOURCE /* mkdtemp, renameat2 */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { VICTIM = 65534, ATTACKER = 65533, GID = 65534, FILES = 300 };

static void need_index_and_root(void) {
  char path[4096];
  if (sma_index_path(path, &(size_t){sizeof path}) == SMA_ENOTSUP)
    cr_skip_test("this build lists without an index");
  if (getuid() != 0) cr_skip_test("needs root to act as two other uids");
}

/* A fresh directory that every user may write, not sticky: what a shared
 * $TMPDIR looks like at its worst. */
static void shared_tmpdir(char *buf, size_t cap) {
  snprintf(buf, cap, "/tmp/smatest-shared-XXXXXX");
  cr_assert_not_null(mkdtemp(buf));
  cr_assert_eq(chmod(buf, 0777), 0);
}

typedef struct seek {
  const char *name;
  int found;
} seek_t;

static int seek(const sma_info_t *in, void *user) {
  seek_t *s = user;
  s->found |= strcmp(in->name, s->name) == 0;
  return 0;
}

static int child_status(pid_t child) {
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* In a child as VICTIM with TMPDIR: creates `name` (umask `mask`), then
 * returns what sma_list() says: 0 found it, 1 listed without it, or
 * 10 + -error. */
static int victim_create_and_list(const char *tmpdir, const char *name, mode_t mask) {
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    t_become_or_exit(VICTIM, GID);
    setenv("TMPDIR", tmpdir, 1);
    umask(mask);
    size_t shape[1] = {4096};
    sma_t *a;
    if (sma_new(&a,
                &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) !=
            0 ||
        sma_create(a, 0) != 0)
      _exit(2);
    seek_t s = {name, 0};
    int rc = sma_list(seek, &s);
    sma_unlink(name);
    _exit(rc != 0 ? 10 - rc : s.found ? 0 : 1);
  }
  return child_status(child);
}

/* Regression: with umask 0777 the index directory was made mode 000 and
 * never fixed, so nothing was ever indexed again. */
Test(index, a_umask_that_removes_every_bit_still_gives_a_private_directory) {
  need_index_and_root();
  char tmp[64], dir[128], name[SMA_NAME_BUF];
  shared_tmpdir(tmp, sizeof tmp);
  t_name(name, sizeof name, "idx-umask");
  cr_assert_eq(victim_create_and_list(tmp, name, 0777), 0, "the segment is listed");
  snprintf(dir, sizeof dir, "%s/libsma-%d", tmp, VICTIM);
  struct stat st;
  cr_assert_eq(lstat(dir, &st), 0);
  cr_assert_eq(st.st_mode & 07777, 0700, "mode %o", (unsigned)(st.st_mode & 07777));
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  cr_assert_eq(system(cmd), 0);
}

/* Regression: a directory (or a file) put in place by another user made
 * listings silently empty and every later create unindexed. Creates still
 * succeed; listing says which directory is wrong. */
Test(index, a_squatted_directory_is_reported) {
  need_index_and_root();
  for (int as_file = 0; as_file < 2; as_file++) {
    char tmp[64], dir[128], name[SMA_NAME_BUF];
    shared_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/libsma-%d", tmp, VICTIM);
    pid_t squatter = fork();
    if (squatter == 0) {
      t_become_or_exit(ATTACKER, GID);
      if (as_file) {
        FILE *f = fopen(dir, "w");
        _exit(f != NULL && fclose(f) == 0 ? 0 : 1);
      }
      _exit(mkdir(dir, 0777) == 0 ? 0 : 1);
    }
    cr_assert_eq(child_status(squatter), 0);
    t_name(name, sizeof name, "idx-squat");
    cr_assert_eq(victim_create_and_list(tmp, name, 022), 10 - SMA_EINDEX,
                 "create succeeds, listing is SMA_EINDEX");
    char tmpdir[96];
    snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", tmp);
    const char *const env[] = {tmpdir, NULL};
    t_sma_opts_t victim = {.as_user = 1, .uid = VICTIM, .gid = GID, .env = env};
    t_sma_run_t ls;
    int status = t_sma_line(&ls, &victim, "ls");
    cr_assert(status == 1 && strstr(ls.err, dir) != NULL, "sma ls exits 1 naming %s: exit %d: %s",
              dir, status, ls.err);
    t_sma_run_free(&ls);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
  }
}

/* An entry is forgotten only when the OS says its segment is gone: one
 * whose segment exists but is not this user's to open (another uid's,
 * mode 0600) stays, unlisted, until that segment is really removed. */
Test(index, an_entry_whose_segment_cannot_be_opened_is_kept) {
  need_index_and_root();
  char tmp[64], entry[512], name[SMA_NAME_BUF];
  shared_tmpdir(tmp, sizeof tmp);
  t_name(name, sizeof name, "idx-theirs");
  size_t shape[1] = {4096};
  sma_t *theirs;
  cr_assert_eq(
      sma_new(&theirs,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(theirs, 0), 0); /* root's, 0600 */
  snprintf(entry, sizeof entry, "%s/libsma-%d/%s", tmp, VICTIM, name);
  for (int round = 0; round < 2; round++) {
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
      t_become_or_exit(VICTIM, GID);
      setenv("TMPDIR", tmp, 1);
      if (round == 0) { /* the victim's index, holding the name */
        char own[SMA_NAME_BUF];
        t_name(own, sizeof own, "idx-own");
        sma_t *a;
        if (sma_new(&a,
                    &(sma_array_desc_t){
                        .name = own, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0 ||
            sma_create(a, 0) != 0)
          _exit(2);
        sma_unlink(own);
        sma_free(a);
        FILE *f = fopen(entry, "w");
        if (f == NULL || fclose(f) != 0) _exit(3);
      }
      seek_t s = {name, 0};
      int rc = sma_list(seek, &s);
      _exit(rc != 0 ? 10 - rc : s.found ? 4 : 0);
    }
    cr_assert_eq(child_status(child), 0, "round %d: listed without the segment", round);
    struct stat st;
    if (round == 0) {
      cr_assert_eq(stat(entry, &st), 0, "kept: the segment exists, only not openable");
      cr_assert_eq(sma_unlink(name), 0);
    } else {
      cr_assert_neq(stat(entry, &st), 0, "dropped once the segment is gone");
    }
  }
  sma_free(theirs);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  cr_assert_eq(system(cmd), 0);
}

/* Regression: another user who can write $TMPDIR swapped the victim's
 * index directory for a symlink while the victim listed, and the victim's
 * listing deleted a file in the directory the symlink pointed to (the
 * "stale entry" prune followed the path). Every operation is now relative
 * to the directory opened once without following symlinks. */
Test(index, a_directory_swapped_for_a_symlink_redirects_nothing) {
  need_index_and_root();
  char top[64], tmp[4000], dir[4100], aside[4100], target[128], precious[160], name[SMA_NAME_BUF];
  shared_tmpdir(top, sizeof top);
  /* $TMPDIR at the end of 1,800 nested directories: every resolution of
   * the index path walks them, which widens the window between a check by
   * path and a use by path from nanoseconds to a fraction of a millisecond,
   * so a path-following implementation loses within the test's time. */
  size_t len = (size_t)snprintf(tmp, sizeof tmp, "%s", top);
  for (int i = 0; i < 1800; i++) len += (size_t)snprintf(tmp + len, sizeof tmp - len, "/d");
  char mk[4200];
  snprintf(mk, sizeof mk, "mkdir -p '%s'", tmp);
  cr_assert_eq(system(mk), 0);
  cr_assert_eq(chmod(tmp, 0777), 0);
  snprintf(dir, sizeof dir, "%s/libsma-%d", tmp, VICTIM);
  snprintf(aside, sizeof aside, "%s/aside", tmp);
  snprintf(target, sizeof target, "/tmp/smatest-target-%d", (int)getpid());
  /* The victim's own directory elsewhere, holding files it may delete
   * (many, so that each listing through the symlink tries many times). */
  cr_assert_eq(mkdir(target, 0700), 0);
  cr_assert_eq(chown(target, VICTIM, GID), 0);
  for (int i = 0; i < FILES; i++) {
    snprintf(precious, sizeof precious, "%s/precious-%d", target, i);
    FILE *f = fopen(precious, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(chown(precious, VICTIM, GID), 0);
  }
  t_name(name, sizeof name, "idx-swap");
  cr_assert_eq(victim_create_and_list(tmp, name, 022), 0, "index made");

  pid_t attacker = fork();
  if (attacker == 0) {
    t_become_or_exit(ATTACKER, GID);
#if defined(RENAME_EXCHANGE)
    /* Swap the directory and a symlink atomically, as fast as it can,
     * until killed: the path is never missing, only alternating. */
    if (symlink(target, aside) != 0) _exit(1);
    for (;;) renameat2(AT_FDCWD, dir, AT_FDCWD, aside, RENAME_EXCHANGE);
#else
    for (;;) {
      if (rename(dir, aside) != 0) continue;
      if (symlink(target, dir) == 0) unlink(dir);
      rename(aside, dir);
    }
#endif
  }
  pid_t victim = fork();
  if (victim == 0) {
    t_become_or_exit(VICTIM, GID);
    setenv("TMPDIR", tmp, 1);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
      seek_t s = {name, 0};
      sma_list(seek, &s);
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 2);
    _exit(0);
  }
  cr_assert_eq(child_status(victim), 0);
  kill(attacker, SIGKILL);
  waitpid(attacker, NULL, 0);
  int lost = 0;
  for (int i = 0; i < FILES; i++) {
    snprintf(precious, sizeof precious, "%s/precious-%d", target, i);
    lost += access(precious, F_OK) != 0;
  }
  cr_assert_eq(lost, 0, "%d files of the directory the symlink pointed at deleted", lost);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", top, target);
  cr_assert_eq(system(cmd), 0);
}

/* Lists until killed: another process's sma_list() at any moment. */
static void list_forever(void) {
  seek_t s = {"", 0};
  for (;;) sma_list(seek, &s);
}

/* Regression: a listing drops the index entries whose name has no
 * segment, and sma_create() adds its entry before the name has one. A
 * listing that found no segment, then removed the entry after the create
 * had finished, lost the new segment's entry for good: it was never
 * listed again (test_threads failed so under the macOS personality).
 * Processes that list all the time, more than the cores, so that they
 * are preempted between the look and the removal, race each create. */
Test(index, a_segment_created_while_others_list_stays_listed, .timeout = 300) {
  enum { LISTERS = 4, ROUNDS = 1000 };
  char path[4096];
  if (sma_index_path(path, &(size_t){sizeof path}) == SMA_ENOTSUP)
    cr_skip_test("this build lists without an index");
  pid_t lister[LISTERS];
  for (int i = 0; i < LISTERS; i++) {
    lister[i] = fork();
    cr_assert_neq(lister[i], -1);
    if (lister[i] == 0) list_forever();
  }
  int missed = 0;
  for (int r = 0; r < ROUNDS; r++) {
    char name[SMA_NAME_BUF];
    t_name(name, sizeof name, "ix-race");
    size_t shape[1] = {4096};
    sma_t *a;
    cr_assert_eq(
        sma_new(&a,
                &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
        0);
    cr_assert_eq(sma_create(a, 0), 0);
    seek_t s = {name, 0};
    cr_assert_eq(sma_list(seek, &s), 0);
    missed += !s.found;
    sma_free(a);
    cr_assert_eq(sma_unlink(name), 0);
  }
  for (int i = 0; i < LISTERS; i++) {
    kill(lister[i], SIGKILL);
    waitpid(lister[i], NULL, 0);
  }
  cr_assert_eq(missed, 0, "%d of %d segments created while others listed were not listed", missed,
               ROUNDS);
}
