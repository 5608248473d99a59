/* gridr's pattern with real processes: the parent creates and registers,
 * children load their slice, write it, close; the parent checks every
 * element and clears the registry; nothing is left afterwards. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#if !defined(_WIN32)
#  include <sys/wait.h>
#  include <unistd.h>
#endif

enum { ROWS = 64, COLS = 48, WORKERS = 4 };

static sma_t *create_grid(sma_registry_t *r) {
  size_t shape[2] = {ROWS, COLS};
  sma_t *a;
  cr_assert_eq(
      sma_create_and_register(
          &a, r,
          &(sma_array_desc_t){.name = T_PREFIX, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64},
          0),
      0);
  t_fill_view(sma_view_get(a), -1);
  return a;
}

static void check_rows_filled(sma_t *a) {
  const sma_view_t *v = sma_view_get(a);
  for (size_t i = 0; i < ROWS; i++)
    for (size_t j = 0; j < COLS; j++) {
      size_t idx[2] = {i, j};
      double want = (double)(i / (ROWS / WORKERS) + 1);
      cr_assert_eq(*(double *)sma_view_at(v, idx), want, "[%zu,%zu]", i, j);
    }
}

static void clear_and_check_gone(sma_registry_t *r) {
  char names[8][SMA_NAME_BUF];
  size_t n = sma_registry_count(r);
  for (size_t i = 0; i < n; i++) strcpy(names[i], sma_registry_name(r, i));
  cr_assert_eq(sma_registry_clear(r), 0);
  for (size_t i = 0; i < n; i++) cr_assert(t_segment_absent(names[i]), "%s left behind", names[i]);
  sma_registry_free(r);
}

/* Descriptors carry names with spaces and any character a name may hold:
 * a child must receive every argument exactly (Windows: one quoting, the
 * one CommandLineToArgvW reads back). */
Test(multiprocess, arguments_reach_a_child_unchanged) {
  const char *args[32] = {"args"};
  size_t n = 1;
  for (size_t i = 0; t_tricky_args[i] != NULL; i++) args[n++] = t_tricky_args[i];
  args[n] = NULL;
  cr_assert_eq(t_run_helper(args), 0, "the helper's message above names the argument");
}

Test(multiprocess, spawned_helpers_write_their_row_blocks) {
  sma_registry_t *r;
  sma_registry_new(&r);
  sma_t *a = create_grid(r);
  for (int k = 0; k < WORKERS; k++) {
    char slice[64], value[16];
    snprintf(slice, sizeof slice, "%d:%d", k * ROWS / WORKERS, (k + 1) * ROWS / WORKERS);
    snprintf(value, sizeof value, "%d", k + 1);
    const char *args[] = {"fill", sma_name(a), slice, value, NULL};
    cr_assert_eq(t_run_helper(args), 0, "worker %d", k);
  }
  check_rows_filled(a);
  /* Another process sees the same bytes, here through a reversed slice. */
  const char *check[] = {"check", sma_name(a), "::-1, -1:", "4", NULL};
  cr_assert_eq(t_run_helper(check), 1,
               "bottom row reversed is block 4 only"
               " in its first rows");
  const char *check_last[] = {"check", sma_name(a), "-16:, ::-1", "4", NULL};
  cr_assert_eq(t_run_helper(check_last), 0);
  sma_free(a);
  clear_and_check_gone(r);
}

Test(multiprocess, child_created_segment_is_opened_by_name) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "childmade");
  const char *args[] = {"create", name, "5,7", "i4", NULL};
  cr_assert_eq(t_run_helper(args), 0);
  sma_t *a;
  if (!t_caps().outlives_creator) {
    /* Windows: the segment went with its creator's last handle. */
    cr_assert(t_segment_absent(name));
    cr_assert_eq(sma_open(&a, name, NULL, 0), SMA_ENOENT);
    return;
  }
  cr_assert_eq(sma_open(&a, name, NULL, 0), 0, "outlives its creator");
  cr_assert_eq(sma_dtype_get(a), SMA_INT32);
  cr_assert_eq(sma_shape(a)[1], 7);
  cr_assert_neq(sma_creator_pid(a), 0);
  const char *again[] = {"create", name, "5,7", "i4", NULL};
  cr_assert_eq(t_run_helper(again), 10 - SMA_EEXIST, "exclusive across processes");
  const char *wrong[] = {"load", name, "7,5", "i4", NULL};
  cr_assert_eq(t_run_helper(wrong), 10 - SMA_EMISMATCH);
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
  const char *gone[] = {"load", name, "5,7", "i4", NULL};
  cr_assert_eq(t_run_helper(gone), 10 - SMA_ENOENT);
}

#if !defined(_WIN32)
Test(multiprocess, forked_children_write_strided_slices) {
  sma_registry_t *r;
  sma_registry_new(&r);
  sma_t *a = create_grid(r);
  char name[SMA_NAME_BUF];
  strcpy(name, sma_name(a));
  pid_t pids[WORKERS];
  for (int k = 0; k < WORKERS; k++) {
    pids[k] = fork();
    cr_assert_geq(pids[k], 0);
    if (pids[k] == 0) {
      /* Rows k, k+4, ... written backwards: a negative-step slice. */
      sma_slice_t s[1] = {{ROWS - WORKERS + k, SMA_NONE, -WORKERS}};
      sma_t *mine;
      if (sma_open(&mine, name, s, 1) != 0) _exit(3);
      if (sma_view_get(mine)->shape[0] != ROWS / WORKERS) _exit(4);
      t_fill_view(sma_view_get(mine), k + 1);
      sma_free(mine);
      _exit(0);
    }
  }
  for (int k = 0; k < WORKERS; k++) {
    int status;
    cr_assert_eq(waitpid(pids[k], &status, 0), pids[k]);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d", k);
  }
  const sma_view_t *v = sma_view_get(a);
  for (size_t i = 0; i < ROWS; i++)
    for (size_t j = 0; j < COLS; j++) {
      size_t idx[2] = {i, j};
      cr_assert_eq(*(double *)sma_view_at(v, idx), (double)(i % WORKERS + 1));
    }
  sma_free(a);
  clear_and_check_gone(r);
}
#endif
