/* sma::mpi under a real mpiexec (tests/mpi_check.c is the MPI program):
 * 1 to 4 ranks, 1 or 2 ranks per fake node (SMA_MPI_RANKS_PER_NODE) or
 * MPI's own node grouping, shapes 1-d to 3-d that do not divide evenly,
 * halos 0 to 3; ranks that see different SMA_MPI_RANKS_PER_NODE values;
 * a create failing on one node; a rank killed mid-job (no
 * rank may hang: mpiexec has a time limit, and the job's segments must
 * then be reclaimed by `sma gc`); and `sma-mpi demo` verified bit for bit
 * in every layout. Tags are 3 letters: under macOS's personality a whole
 * name is 30 bytes. */
#include "process_services.h"
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* mpiexec -n N [OpenMPI's flags for root in CI] PROGRAM ARGS..., with
 * ranks_per_node ranks on each fake node (0: MPI's own nodes). */
static int mpi_run(int ranks, int ranks_per_node, const char *const *program) {
  char n[16], per[16];
  snprintf(n, sizeof n, "%d", ranks);
  snprintf(per, sizeof per, "%d", ranks_per_node);
  if (ranks_per_node > 0)
    setenv("SMA_MPI_RANKS_PER_NODE", per, 1);
  else
    unsetenv("SMA_MPI_RANKS_PER_NODE");
  const char *argv[32] = {SMA_MPIEXEC, SMA_MPIEXEC_NUMPROC_FLAG, n};
  size_t k = 3;
#if defined(SMA_MPIEXEC_OPENMPI)
  /* A job that outlives 120 s is ended rather than left hanging. */
  const char *openmpi[] = {"--oversubscribe", "--timeout", "120", NULL};
  for (size_t i = 0; openmpi[i] != NULL; i++) argv[k++] = openmpi[i];
  if (geteuid() == 0) argv[k++] = "--allow-run-as-root";
#endif
  for (size_t i = 0; program[i] != NULL && k < 31; i++) argv[k++] = program[i];
  argv[k] = NULL;
  return t_run(argv);
}

Test(mpi, every_layout_of_1_to_4_ranks, .timeout = 600) {
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "mpi");
  const char *check[] = {SMA_MPI_CHECK, "layouts", prefix, NULL};
  for (int ranks = 1; ranks <= 4; ranks++)
    for (int per = 0; per <= 2; per++)
      cr_assert_eq(mpi_run(ranks, per, check), 0, "%d ranks, %d per node", ranks, per);
}

Test(mpi, a_create_failing_on_one_node_fails_everywhere_and_leaves_nothing, .timeout = 300) {
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "mpf");
  const char *check[] = {SMA_MPI_CHECK, "fail", prefix, NULL};
  cr_assert_eq(mpi_run(2, 1, check), 0);
  cr_assert_eq(mpi_run(4, 2, check), 0);
}

/* Counts this test's segments. */
static int count_prefixed(const sma_info_t *in, void *user) {
  const char **p = user;
  if (strstr(in->name, p[0]) != NULL) p[1] = (const char *)((size_t)p[1] + 1);
  return 0;
}

static int unlink_prefixed(const sma_info_t *in, void *prefix) {
  if (strstr(in->name, prefix) != NULL) sma_unlink(in->name);
  return 0;
}

static size_t segments_named(const char *prefix) {
  const char *found[2] = {prefix, NULL};
  sma_list(count_prefixed, found);
  return (size_t)found[1];
}

/* Open MPI forwards no environment to remote hosts without -x, so ranks
 * can see different values: rank 0's counts everywhere, a bad one is
 * SMA_EINVAL everywhere, and no rank waits (mpi_check has a watchdog). */
Test(mpi, ranks_that_see_different_ranks_per_node_agree_on_rank_0s_and_none_hangs, .timeout = 300) {
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "mpa");
  const char *check[] = {SMA_MPI_CHECK, "disagree", prefix, NULL};
  cr_assert_eq(mpi_run(4, 0, check), 0, "4 ranks");
  cr_assert_eq(mpi_run(3, 0, check), 0, "3 ranks");
  cr_assert_eq(segments_named(prefix), 0, "no segment is left");
}

Test(mpi, a_rank_killed_mid_job_hangs_no_rank_and_gc_reclaims_its_segments, .timeout = 300) {
  sma_caps_t caps = t_caps();
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "mpk");
  const char *check[] = {SMA_MPI_CHECK, "kill", prefix, NULL};
  cr_assert_neq(mpi_run(4, 2, check), 0, "the job ends, with an error");
  cr_assert_gt(segments_named(prefix), 0, "the killed job left its nodes' segments");
  if (!caps.proves_unused) { /* as docs/cli.md (gc) says: sma rm them */
    sma_list(unlink_prefixed, prefix);
    cr_assert_eq(segments_named(prefix), 0);
    cr_skip_test("this build's gc cannot prove a segment unused: removed with sma_unlink");
  }
  const char *gc[] = {"gc", "--prefix", prefix, NULL};
  /* Killed ranks may take a moment to be reaped: gc keeps a live
   * creator's segments, so it is run again until they are gone. */
  for (int tries = 0; tries < 50 && segments_named(prefix) > 0; tries++) {
    t_sma_run_t run;
    cr_assert_eq(t_sma_run(&run, NULL, gc), 0, "%s", run.err);
    t_sma_run_free(&run);
    if (segments_named(prefix) > 0) proc_sleep_ms(100);
  }
  cr_assert_eq(segments_named(prefix), 0, "sma gc reclaimed every segment of the killed job");
}

Test(mpi, the_demo_is_bit_identical_in_every_layout, .timeout = 600) {
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "mpd");
  const char *demo[] = {SMA_MPI_DEMO, "demo", "--size", "301", "--prefix", prefix, NULL};
  const int layouts[][2] = {{1, 0}, {2, 1}, {2, 2}, {3, 1}, {3, 2}, {4, 1}, {4, 2}, {4, 0}};
  for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
    cr_assert_eq(mpi_run(layouts[i][0], layouts[i][1], demo), 0, "%d ranks, %d per node",
                 layouts[i][0], layouts[i][1]);
  cr_assert_eq(segments_named(prefix), 0, "the demo removed its segments");
}
