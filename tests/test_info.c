#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#  include <direct.h> /* _mkdir, _rmdir */
#else
#  include <sys/stat.h>
#  include <unistd.h>
#endif

Test(info, reports_the_record_and_the_os_state) {
  char name[SMA_NAME_BUF];
  size_t shape[2] = {7, 9};
  sma_t *a;
  t_name(name, sizeof name, "info");
  sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_UINT16});
  cr_assert_eq(sma_create(a, 0), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0);
  cr_assert_str_eq(in.name, name);
  cr_assert_eq(in.dtype, SMA_UINT16);
  cr_assert_eq(in.ndim, 2);
  cr_assert_eq(in.shape[1], 9);
  cr_assert_eq(in.nbytes, 126);
  cr_assert_geq(in.segment_size, 126 + 640);
  cr_assert_eq(in.creator_pid, sma_creator_pid(a));
  cr_assert_eq(in.created_ns, sma_created_ns(a));
  cr_assert_eq(in.creator_alive, 1, "this process");
  if (in.attached >= 0) cr_assert_eq(in.attached, 1, "this process maps it");
  sma_close(a);
  cr_assert_eq(sma_info_get(&in, name), 0);
  if (in.attached >= 0) cr_assert_eq(in.attached, 0);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
  cr_assert(t_segment_absent(name));
  cr_assert_eq(sma_info_get(&in, name), SMA_ENOENT);
  cr_assert_eq(sma_info_get(&in, NULL), SMA_EINVAL);
  cr_assert_eq(sma_info_get(&in, "a/b"), SMA_ENAME);
  cr_assert_eq(sma_info_get(NULL, name), SMA_EINVAL);
}

typedef struct {
  const char *want[3];
  int seen[3];
  int total;
} seen_t;

static int collect(const sma_info_t *in, void *user) {
  seen_t *s = user;
  s->total++;
  for (int i = 0; i < 3; i++)
    if (strcmp(in->name, s->want[i]) == 0) s->seen[i]++;
  return 0;
}

static int stop_at_first(const sma_info_t *in, void *user) {
  (void)in;
  ++*(int *)user;
  return 42;
}

Test(info, list_finds_what_this_user_created) {
  char names[3][SMA_NAME_BUF];
  sma_t *a[3];
  size_t shape[1] = {8};
  seen_t s = {{names[0], names[1], names[2]}, {0, 0, 0}, 0};
  for (int i = 0; i < 3; i++) {
    t_name(names[i], sizeof names[i], "list");
    sma_new(&a[i],
            &(sma_array_desc_t){.name = names[i], .ndim = 1, .shape = shape, .dtype = SMA_INT8});
    cr_assert_eq(sma_create(a[i], 0), 0);
  }
  sma_unlink(names[2]); /* gone before the listing */
  cr_assert_eq(sma_list(collect, &s), 0);
  cr_assert_eq(s.seen[0], 1, "listed once");
  cr_assert_eq(s.seen[1], 1);
  cr_assert_eq(s.seen[2], 0, "unlinked names are not listed");
  int calls = 0;
  cr_assert_eq(sma_list(stop_at_first, &calls), 42, "fn's value stops the walk");
  cr_assert_eq(calls, 1);
  cr_assert_eq(sma_list(NULL, NULL), SMA_EINVAL);
  for (int i = 0; i < 3; i++) {
    sma_unlink(names[i]);
    sma_free(a[i]);
  }
}

static int count_named(const sma_stray_t *stray, void *user) {
  const char **name = user;
  if (stray->named && strcmp(stray->label, *name) == 0) *name = NULL;
  return 0;
}

/* A complete segment is never a stray, on any backend; the calls check
 * their arguments. */
Test(info, a_complete_segment_is_no_stray) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "nostray");
  size_t shape[1] = {8};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  const char *looking_for = name;
  cr_assert_eq(sma_list_strays(count_named, &looking_for), 0);
  cr_assert_not_null(looking_for, "not listed as a stray");
  cr_assert_eq(sma_list_strays(NULL, NULL), SMA_EINVAL);
  cr_assert_eq(sma_collect_stray(NULL, 0), SMA_EINVAL);
  sma_stray_t fake;
  memset(&fake, 0, sizeof fake);
  snprintf(fake.label, sizeof fake.label, "%s", name);
  fake.named = 1;
  cr_assert_eq(sma_collect_stray(&fake, 2), SMA_EINVAL, "unknown flag");
  int rc = sma_collect_stray(&fake, 0);
  cr_assert(rc == SMA_EINUSE || rc == SMA_EREPLACED || rc == SMA_ENOENT,
            "a complete segment is not removed as a stray: %s", sma_err_name(rc));
  cr_assert_eq(sma_info_get(&(sma_info_t){0}, name), 0, "and it is still there");
  sma_unlink(name);
  sma_free(a);
}

static int drop_count(const sma_info_t *in, void *user) {
  (void)in;
  ++*(int *)user;
  return 0;
}

/* Where the backend lists through a per-user index: a file squatting the
 * index directory's place is reported by sma_list() as SMA_EINDEX (never
 * an empty listing), and creating still works. The index root is pointed
 * at a fresh directory of the test's own for this. */
Test(info, an_index_that_is_not_a_directory_is_reported) {
  char root[128], path[4096];
  snprintf(root, sizeof root, "smatest-index-root-%lu", t_pid());
#if defined(_WIN32)
  char full[4096];
  cr_assert_neq(_fullpath(full, root, sizeof full), NULL);
  cr_assert_eq(_mkdir(full), 0);
  cr_assert_eq(_putenv_s("LOCALAPPDATA", full), 0);
#else
  char full[4096];
  cr_assert_neq(getcwd(full, sizeof full - sizeof root - 2), NULL);
  strcat(strcat(full, "/"), root);
  cr_assert_eq(mkdir(full, 0700), 0);
  cr_assert_eq(setenv("TMPDIR", full, 1), 0);
#endif
  int rc = sma_index_path(path, &(size_t){sizeof path});
  if (rc == SMA_ENOTSUP) cr_skip_test("this build lists without an index");
  cr_assert_eq(rc, 0);
#if defined(_WIN32)
  char parent[4096];
  snprintf(parent, sizeof parent, "%s\\libsma", full);
  cr_assert_eq(_mkdir(parent), 0); /* the index's parent, which libsma makes */
#endif
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s", path);
  fclose(f);
  int count = 0;
  cr_assert_eq(sma_list(drop_count, &count), SMA_EINDEX);
  char name[SMA_NAME_BUF];
  size_t shape[1] = {8};
  sma_t *a;
  t_name(name, sizeof name, "index-squatted");
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0, "creating does not depend on the index");
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
  remove(path);
#if defined(_WIN32)
  _rmdir(parent);
  _rmdir(full);
#else
  rmdir(full);
#endif
}
