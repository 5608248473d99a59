/* Access: segments are the owner's alone by default; SMA_CREATE_GROUP
 * opens them to the group; a name someone else created first is an error,
 * never a takeover. Checked with a child process that drops to another
 * uid ("nobody", 65534), so it needs root; skipped otherwise. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#if !defined(_WIN32)
#  include <sys/wait.h>
#  include <unistd.h>

enum { NOBODY = 65534 };

/* Runs fn(name) in a child that became uid NOBODY (keeping gid `gid`);
 * returns fn's result (an SMA code, 0..-N) or 99 if the child failed. */
static int as_nobody(int (*fn)(const char *), const char *name, gid_t gid) {
  pid_t pid = fork();
  if (pid == 0) {
    if (t_become(NOBODY, gid) != 0) _exit(99);
    _exit(-fn(name)); /* SMA codes are negative: exit with their magnitude */
  }
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? (WEXITSTATUS(status) == 99 ? 99 : -WEXITSTATUS(status)) : 99;
}

static int try_open(const char *name) {
  sma_t *a;
  int rc = sma_open(&a, name, NULL, 0);
  if (rc == 0) {
    ((unsigned char *)sma_data(a))[0] = 42; /* proves write access */
    sma_free(a);
  }
  return rc;
}

static int try_unlink(const char *name) { return sma_unlink(name); }

static int try_create(const char *name) {
  size_t shape[1] = {8};
  sma_t *a;
  int rc =
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
  if (rc == 0) rc = sma_create(a, 0);
  sma_free(a);
  return rc;
}

static void need_root(void) {
  if (geteuid() != 0) cr_skip_test("needs root to switch to another uid");
}

Test(access, other_users_cannot_load_or_unlink) {
  need_root();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "private");
  sma_t *a;
  size_t shape[1] = {8};
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(as_nobody(try_open, name, NOBODY), SMA_EACCES);
  cr_assert_eq(as_nobody(try_unlink, name, NOBODY), SMA_EACCES);
  cr_assert_eq(t_segment_exists(name), 1);
  cr_assert_eq(((unsigned char *)sma_data(a))[0], 0, "untouched");
  sma_unlink(name);
  sma_free(a);
}

Test(access, group_option_opens_to_the_group_only) {
  need_root();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "group");
  sma_t *a;
  size_t shape[1] = {8};
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, SMA_CREATE_GROUP), 0);
  cr_assert_eq(as_nobody(try_open, name, getgid()), 0, "a member of the group loads and writes");
  cr_assert_eq(((unsigned char *)sma_data(a))[0], 42);
  cr_assert_eq(as_nobody(try_open, name, NOBODY), SMA_EACCES, "outside the group: refused");
  sma_unlink(name);
  sma_free(a);
}

Test(access, a_squatted_name_is_an_error_not_a_takeover) {
  need_root();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "squat");
  cr_assert_eq(as_nobody(try_create, name, NOBODY), 0, "another user creates the name first");
  cr_assert_eq(try_create(name), SMA_EEXIST, "exclusive create refuses it");
  sma_unlink(name); /* root may remove it */
  cr_assert(t_segment_absent(name));
}
#endif
