/* The demo (`sma demo`, tools/demo.c) through the real binary: its
 * self-check with 1, 2 and 4 worker processes, what it says when a System V
 * limit stops it, the clean-up after a killed worker and after Ctrl-C, and
 * its internal worker command's refusal of rows beyond its arrays. A
 * program of its own beside test_cli.c (the other commands): the demo is
 * the one command that starts processes of its own. POSIX only (signals;
 * `ls --json` parsed with cJSON). Under Wine and qemu, without cJSON, ctest's
 * cli_demo runs its self-check instead. */
#include "sma.h"
#include "sma_listed.h"
#include "support.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The demo's size, scaled down where the OS's segment limit (System V's
 * shmmax, 4 MiB by default on macOS) cannot hold two 1024^2 float32
 * arrays: then 512^2 (1 MiB each). */
static int demo_size(void) {
  sma_caps_t caps;
  sma_caps_get(&caps);
  return caps.max_segment != 0 && caps.max_segment < (8u << 20) ? 512 : 1024;
}

Test(demo, self_check_with_1_2_4_workers) {
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "dm");
  for (int w = 1; w <= 4; w *= 2) {
    char *out;
    cr_assert_eq(t_sma(&out, "demo --size %d --workers %d --prefix %s", demo_size(), w, prefix), 0,
                 "%d workers", w);
    cr_assert_not_null(strstr(out, "verified: bit-identical"), "%s", out);
    if (w > 1) cr_assert_not_null(strstr(out, "speedup"), "%s", out);
    free(out);
  }
  cr_assert_eq(t_sma(NULL,
                     "demo --size 300 --workers 3 --kernel box3 --output /dev/null "
                     "--prefix %s",
                     prefix),
               0);
  cr_assert_eq(t_sma_listed(prefix), 0);
}

/* Under System V limits too small for the job (macOS's default shmmax
 * is 4 MiB), sma_caps_get() reports the limit and the demo says which limit
 * stopped it and how to raise it. */
Test(demo, says_how_to_raise_a_system_v_limit) {
  if (strcmp(sma_backend(), "sysv") != 0) cr_skip_test("System V limits only");
  if (t_private_ipc() != 0) cr_skip_test("needs a private IPC namespace");
  FILE *f = fopen("/proc/sys/kernel/shmmax", "w");
  if (f == NULL) cr_skip_test("cannot set shmmax here");
  int written = fprintf(f, "1048576\n") > 0;
  if (fclose(f) != 0 || !written) cr_skip_test("cannot set shmmax here");
  sma_caps_t caps;
  sma_caps_get(&caps);
  cr_assert_eq(caps.max_segment, 1048576, "the limit is reported");
  t_sma_run_t run;
  int status = t_sma_line(&run, NULL, "demo --size 1024 --workers 1 --prefix %s-limit", T_PREFIX);
  char *out = run.err; /* where it says why it stopped */
  cr_assert(status != 0 && status < T_SMA_SIGNALED, "%s", out);
  cr_assert_not_null(strstr(out, "kernel.shmmax"), "%s", out);
  cr_assert_not_null(strstr(out, "kern.sysv.shmmax"), "%s", out);
  t_sma_run_free(&run);
}

/* What the demo's --verbose lines told the tests below, as they came. */
typedef struct demo_watch {
  const char *prefix;
  long victim;         /* worker 1's pid, once named */
  int segments_seen;   /* segments listed while it ran */
  int workers_started; /* "worker " lines */
} demo_watch_t;

/* Runs a slow demo (its workers wait 3 s) under watch->prefix, each line
 * it prints handed to on_line as it comes; its status. */
static int run_watched_demo(void (*on_line)(void *, long, const char *), demo_watch_t *watch) {
  t_sma_opts_t opts = {.on_line = on_line, .user = watch};
  return t_sma_line(NULL, &opts,
                    "demo --size 512 --workers 2 --no-baseline --verbose "
                    "--worker-delay-ms 3000 --prefix %s",
                    watch->prefix);
}

/* Kills worker 1 as soon as the demo names it, having counted the
 * segments that exist while it runs. */
static void kill_worker_1(void *user, long pid, const char *line) {
  (void)pid;
  demo_watch_t *w = user;
  if (w->victim != 0 || sscanf(line, "worker 1 pid %ld", &w->victim) != 1) return;
  w->segments_seen = t_sma_listed(w->prefix);
  kill((pid_t)w->victim, SIGKILL);
}

Test(demo, cleans_up_when_a_worker_is_killed) {
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "wk");
  demo_watch_t watch = {prefix, 0, 0, 0};
  int status = run_watched_demo(kill_worker_1, &watch);
  cr_assert_gt(watch.victim, 0, "the demo named its workers");
  cr_assert_gt(watch.segments_seen, 0, "segments exist while it runs");
  cr_assert_eq(status, 1, "exit 1 on a dead worker");
  cr_assert_eq(t_sma_listed(prefix), 0, "no segment left");
}

/* Sends SIGINT to the demo's process group once both workers started:
 * what Ctrl-C does to the whole foreground job (t_sma_run() gives the
 * command a group of its own). */
static void interrupt_when_both_started(void *user, long pid, const char *line) {
  demo_watch_t *w = user;
  if (strncmp(line, "worker ", 7) != 0) return;
  if (++w->workers_started == 2) kill(-(pid_t)pid, SIGINT);
}

Test(demo, cleans_up_on_ctrl_c) {
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "ic");
  demo_watch_t watch = {prefix, 0, 0, 0};
  int status = run_watched_demo(interrupt_when_both_started, &watch);
  cr_assert_eq(watch.workers_started, 2);
  cr_assert_eq(status, 130, "exit 130");
  cr_assert_eq(t_sma_listed(prefix), 0, "no segment left");
}

/* Regression: the demo's internal worker command trusted its row numbers
 * and wrote beyond the output array (segfault). */
Test(demo, worker_refuses_rows_beyond_its_arrays) {
  char in_name[SMA_NAME_BUF], out_name[SMA_NAME_BUF], prog_name[SMA_NAME_BUF];
  t_name(in_name, sizeof in_name, "cli-wk-in");
  t_name(out_name, sizeof out_name, "cli-wk-out");
  t_name(prog_name, sizeof prog_name, "cli-wk-prog");
  size_t shape[2] = {8, 8}, one[1] = {1};
  sma_t *in, *out, *prog;
  cr_assert_eq(sma_new(&in,
                       &(sma_array_desc_t){
                           .name = in_name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}),
               0);
  cr_assert_eq(sma_create(in, 0), 0);
  cr_assert_eq(sma_new(&out,
                       &(sma_array_desc_t){
                           .name = out_name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}),
               0);
  cr_assert_eq(sma_create(out, 0), 0);
  cr_assert_eq(
      sma_new(&prog,
              &(sma_array_desc_t){.name = prog_name, .ndim = 1, .shape = one, .dtype = SMA_UINT64}),
      0);
  cr_assert_eq(sma_create(prog, 0), 0);
  char di[SMA_DESCRIPTOR_MAX], dout[SMA_DESCRIPTOR_MAX], dp[SMA_DESCRIPTOR_MAX];
  cr_assert_eq(sma_describe(in, di, &(size_t){sizeof di}), 0);
  cr_assert_eq(sma_describe(out, dout, &(size_t){sizeof dout}), 0);
  cr_assert_eq(sma_describe(prog, dp, &(size_t){sizeof dp}), 0);
  static const char *const rows[] = {"0 1000000 8 0", "0 0 1000000 0", "5 0 8 0", "0 x 8 0",
                                     "0 0 8 -1"};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    cr_expect_eq(t_sma(NULL, "__demo-worker gauss5 '%s' '%s' '%s' %s", di, dout, dp, rows[i]), 2,
                 "rows %s: a usage error, not a crash", rows[i]);
  cr_expect_eq(t_sma(NULL, "__demo-worker gauss5 '%s' '%s' '%s' 0 0 8 0", di, dout, dp), 0,
               "the right rows still work");
  sma_unlink(in_name), sma_unlink(out_name), sma_unlink(prog_name);
  sma_free(in), sma_free(out), sma_free(prog);
}
