/* The promises of the tests' own support (support.h) that other tests
 * lean on without checking: where one breaks, those tests fail for a
 * reason that has nothing to do with libsma. */
#if defined(__linux__)
#  define _GNU_SOURCE /* unshare */
#endif
#include "support.h"

#include <criterion/criterion.h>

#if defined(__linux__)
#  include <dirent.h>
#  include <sched.h>
#  include <stdio.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/mount.h>
#  include <sys/stat.h>
#  include <unistd.h>

/* How many entries `dir` holds, "." and ".." aside; -1 if unreadable. */
static int entries_in(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* Regression: a clone made under /tmp failed attack_sysv 4 of 4, because
 * the fresh tmpfs over /tmp hid the build tree, so the `sma` command run
 * by its path was not found. Here the working directory is put under
 * /tmp (a bind mount of it, on a scratch tmpfs of a private mount
 * namespace, so the machine's /tmp is not touched). */
Test(support, private_dev_shm_keeps_a_build_tree_under_tmp_in_reach) {
  if (getuid() != 0) cr_skip_test("needs root for mount namespaces");
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    cr_skip_test("needs a private mount namespace");
  cr_assert_eq(mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m,mode=1777"), 0);
  cr_assert_eq(mkdir("/tmp/smatest-tree", 0755), 0);
  /* "." still names the working directory when a mount hides its path. */
  cr_assert_eq(mount(".", "/tmp/smatest-tree", NULL, MS_BIND, NULL), 0);
  cr_assert_eq(chdir("/tmp/smatest-tree"), 0);
  cr_assert_eq(mkdir("/tmp/smatest-outside", 0755), 0);
  struct stat tree, seen;
  cr_assert_eq(stat(".", &tree), 0);

  cr_assert_eq(t_private_dev_shm("size=1m"), 0);

  cr_assert_eq(stat("/tmp/smatest-tree", &seen), 0, "the tree is still at its path");
  cr_assert(seen.st_dev == tree.st_dev && seen.st_ino == tree.st_ino, "and it is the same tree");
  cr_assert_neq(stat("/tmp/smatest-outside", &seen), 0, "the rest of /tmp is fresh");
  cr_assert_eq(entries_in("/dev/shm"), 0, "the private /dev/shm is empty");
}

/* Regression: with a TMPDIR private to root (pam_tmpdir's /tmp/user/0,
 * 0700), `sma` run as another user inherited it and failed on its
 * per-user index ("not this user's own", EACCES): gc, gc_strays and the
 * leftover check failed. Another user's run gets the default TMPDIR. The
 * directories are made in the machine's /tmp (no tmpfs over it: a build
 * tree under /tmp must stay in reach) and removed after. */
Test(support, another_user_does_not_inherit_a_private_tmpdir) {
  if (getuid() != 0) cr_skip_test("needs root to run as a second uid");
  char outer[] = "/tmp/smatest-tmpdir-XXXXXX", inner[64];
  cr_assert_not_null(mkdtemp(outer));
  snprintf(inner, sizeof inner, "%s/0", outer);
  cr_assert_eq(chmod(outer, 0711), 0);
  cr_assert_eq(mkdir(inner, 0700), 0);
  cr_assert_eq(setenv("TMPDIR", inner, 1), 0);
  char *said = NULL;
  int rc = t_sma_as(65534, 65534, &said, "gc --dry-run");
  unsetenv("TMPDIR");
  rmdir(inner);
  rmdir(outer);
  cr_assert_eq(rc, 0, "sma gc as uid 65534 with root's private TMPDIR: exit %d: %s", rc,
               said ? said : "");
  free(said);
}
#endif
