/* Persistent segments (SMA_CREATE_PERSIST): meant to outlive their
 * creator, so gc never collects them and only sma_unlink() (`sma rm`)
 * removes them, while a transient segment of a gone creator is still
 * collected. Creators are real processes that have exited; the `sma`
 * command is run as a user runs it. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <fcntl.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

Test(persist, the_flag_is_recorded_and_reported_by_info) {
  char keep[SMA_NAME_BUF], drop[SMA_NAME_BUF];
  t_name(keep, sizeof keep, "pkeep");
  t_name(drop, sizeof drop, "pdrop");
  size_t shape[1] = {16};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = keep, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(a, SMA_CREATE_PERSIST | SMA_CREATE_GROUP), 0);
  cr_assert_eq(
      sma_new(&b,
              &(sma_array_desc_t){.name = drop, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(b, 0), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, keep), 0);
  cr_assert_eq(in.persistent, 1);
  cr_assert_eq(sma_info_get(&in, drop), 0);
  cr_assert_eq(in.persistent, 0);
  sma_t *r;
  cr_assert_eq(sma_open(&r, keep, NULL, 0), 0);
  cr_assert_eq(sma_is_persistent(r), 1, "a loader sees it in the record");
  sma_free(r);
  cr_assert_eq(
      sma_new(&r, &(sma_array_desc_t){.name = keep, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(r, 1u << 5), SMA_EINVAL, "an unknown flag is still refused");
  sma_free(r);
  cr_assert_eq(sma_unlink(keep), 0, "sma_unlink removes a persistent segment");
  cr_assert_eq(sma_unlink(drop), 0);
  sma_free(a);
  sma_free(b);
}

#if !defined(_WIN32)
/* Creates `name` in a child process that then exits: a gone creator. */
static void create_in_dead_child(const char *name, unsigned flags) {
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    size_t shape[1] = {64};
    sma_t *a;
    int rc = sma_new(
        &a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
    if (rc == 0) rc = sma_create(a, flags);
    _exit(rc == 0 ? 0 : 1);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child created %s", name);
}

Test(persist, gc_keeps_a_dead_creators_persistent_segment_and_collects_a_transient_one) {
  T_NEED_GC_PROOF();
  char keep[SMA_NAME_BUF], drop[SMA_NAME_BUF];
  t_name(keep, sizeof keep, "gkeep");
  t_name(drop, sizeof drop, "gdrop");
  create_in_dead_child(keep, SMA_CREATE_PERSIST);
  create_in_dead_child(drop, 0);
  sma_info_t in;
  cr_assert_eq(sma_collect(&in, keep, SMA_COLLECT_DRY_RUN), SMA_EINUSE);
  cr_assert_eq(sma_collect(&in, keep, 0), SMA_EINUSE, "the keep verdict");
  cr_assert_eq(in.persistent, 1);
  cr_assert_eq(in.creator_alive, 0, "kept although its creator is gone");
  cr_assert_leq(in.attached, 0, "and nothing is seen holding it (-1: not proven by looking)");
  cr_assert_eq(t_segment_exists(keep), 1);
  cr_assert_eq(sma_collect(&in, drop, 0), 0, "a transient one is still collected");
  cr_assert(t_segment_absent(drop));
  cr_assert_eq(sma_unlink(keep), 0);
}

static size_t put(const void *buf, size_t n, void *file) { return fwrite(buf, 1, n, file); }

/* A .npy file of 6 float64 (0..5) at `path`, written by the library. */
static void write_npy(const char *path, const char *scratch) {
  size_t shape[1] = {6};
  sma_t *a;
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = scratch, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT64}),
               0);
  cr_assert_eq(sma_create(a, 0), 0);
  double *d = sma_data(a);
  for (int i = 0; i < 6; i++) d[i] = i;
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(sma_npy_write(a, put, f), 0);
  cr_assert_eq(fclose(f), 0);
  sma_unlink(scratch);
  sma_free(a);
}

/* The report: `sma load data.npy dataset` then `sma gc` removed
 * the dataset at once ("creator gone, nothing holds it"). */
Test(persist, sma_load_then_gc_keeps_the_dataset_and_lists_it_as_persistent, .timeout = 60) {
  T_NEED_GC_PROOF();
  char name[SMA_NAME_BUF], scratch[SMA_NAME_BUF], transient[SMA_NAME_BUF];
  char path[] = "/tmp/smatest-persist-npy-XXXXXX";
  t_name(name, sizeof name, "lset");
  t_name(scratch, sizeof scratch, "lscr");
  t_name(transient, sizeof transient, "ltmp");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  write_npy(path, scratch);

  char *out;
  int code = t_sma(&out, "load %s %s", path, name);
  cr_assert_eq(code, 0, "%s", out);
  cr_assert_not_null(strstr(out, "persistent"), "load says it is persistent: %s", out);
  free(out);
  code = t_sma(&out, "load %s %s --transient", path, transient);
  cr_assert_eq(code, 0, "%s", out);
  cr_assert_not_null(strstr(out, "transient"), "%s", out);
  free(out);
  unlink(path);

  /* Both creators (the two `sma load` processes) have exited. */
  code = t_sma(&out, "gc --prefix %s", name);
  cr_assert_eq(code, 0, "%s", out);
  cr_assert_eq(t_segment_exists(name), 1, "gc removed the loaded dataset: %s", out);
  char why[SMA_NAME_BUF + 64];
  snprintf(why, sizeof why, "kept %s: it is persistent", name);
  cr_assert_not_null(strstr(out, why), "gc says why: %s", out);
  free(out);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0);
  cr_assert_eq(in.persistent, 1);

  code = t_sma(&out, "ls --json --prefix %s", name);
  cr_assert_eq(code, 0);
  cr_assert_not_null(strstr(out, "\"persistent\": true"), "ls lists it as persistent: %s", out);
  free(out);
  code = t_sma(&out, "info %s", name);
  cr_assert_eq(code, 0);
  cr_assert_not_null(strstr(out, "persistent:    yes"), "%s", out);
  free(out);

  code = t_sma(&out, "gc --prefix %s", transient);
  cr_assert_eq(code, 0, "%s", out);
  cr_assert(t_segment_absent(transient), "a transient load is still collected: %s", out);
  free(out);

  code = t_sma(&out, "rm %s", name);
  cr_assert_eq(code, 0, "`sma rm` removes it: %s", out);
  free(out);
  cr_assert(t_segment_absent(name));
}
#endif
