/*
 * sma_bench section "listing": what `sma ls` (sma_list()) and
 * `sma gc --dry-run` (sma_collect() of every listed segment) cost per
 * segment as segments and processes grow (issue 27: one reading of every
 * process per walk, not one per segment). Rows: 1,000 and 10,000
 * segments, each with 100 and 1,000 extra sleeping processes; the
 * baseline of each row is the same walk with 100 processes, so a ratio
 * near 1 shows the per-segment cost flat in the processes. --quick runs
 * 20 and 50 segments with 5 and 10 processes.
 *
 * Segments are one page each (SMA_CREATE_NORESERVE), made by a child that
 * exits, so that every one has a gone creator and the dry run judges each
 * as gc would. Run as root on Linux, the section works in a private mount
 * and IPC namespace with a tmpfs of its own on /dev/shm, which the kernel
 * tears down, segments and all, when the section's process ends, however
 * it ends; otherwise in the user's /dev/shm, removing what it made, and a
 * size that /dev/shm (or System V's segment limit) cannot hold is skipped
 * with the reason. The sleepers (/bin/sleep) die with the section
 * (PR_SET_PDEATHSIG).
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#if defined(__linux__)
#  include <errno.h>
#  include <sched.h>
#  include <signal.h>
#  include <stdlib.h>
#  include <sys/mount.h>
#  include <sys/prctl.h>
#  include <sys/statvfs.h>
#  include <sys/wait.h>
#  include <unistd.h>

enum { MAX_SLEEPERS = 1000, MAX_REPS_LISTING = 3 };

typedef struct listing {
  const config_t *c;
  char prefix[64];
  size_t made; /* segments prefix0 .. prefix<made-1> exist */
  pid_t sleepers[MAX_SLEEPERS];
  int asleep;
  int private_ns; /* in namespaces of its own: the kernel removes everything */
} listing_t;

static void segment_name(const listing_t *l, size_t i, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%zu", l->prefix, i);
}

/* Makes segments made .. want-1 in a child that then exits: their
 * creator is gone. 0, or the first error. */
static int make_segments(listing_t *l, size_t want) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return SMA_EOS;
  if (pid == 0) {
    for (size_t i = l->made; i < want; i++) {
      char name[SMA_NAME_BUF];
      segment_name(l, i, name, sizeof name);
      size_t shape[1] = {1};
      sma_t *a = NULL;
      int rc = sma_new(
          &a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
      if (rc == 0) rc = sma_create(a, SMA_CREATE_NORESERVE);
      sma_free(a);
      if (rc != 0) _exit(rc < 0 && rc > -100 ? -rc : 99);
    }
    _exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 99;
  if (code == 0) {
    l->made = want;
    return 0;
  }
  l->made = want; /* what it made before it failed is removed at the end */
  return code == 99 ? SMA_EOS : -code;
}

/* Brings the extra sleeping processes to `want`. */
static int set_sleepers(listing_t *l, int want) {
  fflush(stdout);
  while (l->asleep > want) {
    pid_t pid = l->sleepers[--l->asleep];
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  pid_t parent = getpid();
  while (l->asleep < want) {
    pid_t pid = fork();
    if (pid < 0) return SMA_EOS;
    if (pid == 0) {                     /* a program of its own, as a machine's processes are (a
                                           forked copy would share the section's memory, which
                                           makes the section's own unmaps slower) */
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across exec */
      if (getppid() != parent) _exit(0);
      execl("/bin/sleep", "sleep", "100000", (char *)NULL);
      for (;;) pause();
    }
    l->sleepers[l->asleep++] = pid;
  }
  return 0;
}

static int count_listed(const sma_info_t *info, void *user) {
  (void)info;
  ++*(size_t *)user;
  return 0;
}

typedef struct dry_run {
  size_t judged, would_remove;
} dry_run_t;

/* What `sma gc --dry-run` does with each listed segment (tools/cmd_gc.c). */
static int collect_listed(const sma_info_t *info, void *user) {
  dry_run_t *d = user;
  if (info->creator_alive == 1) return 0;
  sma_info_t in;
  d->judged++;
  d->would_remove += sma_collect(&in, info->name, SMA_COLLECT_DRY_RUN) == 0;
  return 0;
}

/* Median seconds of one walk over everything: the listing, or the dry run. */
static double time_walk(const listing_t *l, int dry) {
  int reps = l->c->reps < MAX_REPS_LISTING ? l->c->reps : MAX_REPS_LISTING;
  double t[MAX_REPS_LISTING];
  for (int r = 0; r < reps; r++) {
    dry_run_t d = {0, 0};
    size_t listed = 0;
    double t0 = proc_now();
    int rc = dry ? sma_list(collect_listed, &d) : sma_list(count_listed, &listed);
    t[r] = rc == 0 ? proc_now() - t0 : -1;
    if (rc != 0) return -1;
  }
  for (int i = 1; i < reps; i++) /* insertion sort: at most 3 */
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  return t[reps / 2];
}

static int proc_count(void) {
  FILE *p = popen("ls /proc | grep -c '^[0-9]'", "r");
  int n = -1;
  if (p != NULL) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

/* Whether /dev/shm can hold `n` more one-page segments, with room to spare. */
static int shm_room(size_t n) {
  struct statvfs v;
  if (statvfs("/dev/shm", &v) != 0) return 1; /* cannot tell: try */
  unsigned long long need = (unsigned long long)n * 2 * 4096;
  return (unsigned long long)v.f_bavail * v.f_frsize > need + (64ull << 20) &&
         (v.f_favail == 0 || v.f_favail > n + 1000);
}

/* Root: a private /dev/shm and IPC namespace, which go with this process. */
static int go_private(void) {
  if (geteuid() != 0 || unshare(CLONE_NEWNS | CLONE_NEWIPC) != 0) return 0;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=512m,nr_inodes=100000") != 0)
    return 0;
  FILE *f = fopen("/proc/sys/kernel/shmmni", "w"); /* System V: 4096 by default */
  if (f != NULL) {
    fputs("32768", f);
    fclose(f);
  }
  return 1;
}

static void row_for(const char *walk, size_t segments, int sleepers, int base_sleepers, double t,
                    double base, int procs) {
  char what[160], note[200];
  snprintf(what, sizeof what, "%s: %zu segments, %d extra processes (per segment)", walk, segments,
           sleepers);
  snprintf(note, sizeof note,
           "the same walk with %d extra processes; whole walk %.3f s, %d processes in all",
           base_sleepers, t, procs);
  row(what, t / (double)segments * 1e6, base / (double)segments * 1e6, "µs", 1.5, note);
}

static int run(listing_t *l) {
  const int quick = l->c->quick;
  const size_t sizes[2] = {quick ? 20u : 1000u, quick ? 50u : 10000u};
  const int procs[2] = {quick ? 5 : 100, quick ? 10 : MAX_SLEEPERS};
  for (int s = 0; s < 2; s++) {
    if (!l->private_ns && !shm_room(sizes[s] - l->made)) {
      printf("| listing: %zu segments | — | — | — | — | skipped: /dev/shm cannot hold them |\n",
             sizes[s]);
      return 0;
    }
    int rc = make_segments(l, sizes[s]);
    if (rc == SMA_ELIMIT || rc == SMA_ENOSPC) {
      printf("| listing: %zu segments | — | — | — | — | skipped: creating them: %s |\n", sizes[s],
             sma_strerror(rc));
      return 0;
    }
    if (rc != 0) return fail("listing: creating segments", rc);
    double base[2] = {0, 0};
    for (int p = 0; p < 2; p++) {
      if ((rc = set_sleepers(l, procs[p])) != 0) return fail("listing: processes", rc);
      int n = proc_count();
      for (int dry = 0; dry < 2; dry++) {
        double t = time_walk(l, dry);
        if (t < 0) return fail(dry ? "listing: dry run" : "listing: sma_list", 0);
        if (p == 0) base[dry] = t;
        row_for(dry ? "gc --dry-run" : "sma_list", sizes[s], procs[p], procs[0], t, base[dry], n);
      }
    }
  }
  return 0;
}

static void clean(listing_t *l) {
  set_sleepers(l, 0);
  if (l->private_ns) return; /* the tmpfs and IPC namespace go with us */
  for (size_t i = 0; i < l->made; i++) {
    char name[SMA_NAME_BUF];
    segment_name(l, i, name, sizeof name);
    sma_unlink(name);
  }
}

int bench_listing(const config_t *c, const char *name) {
  if (!wanted(c, "listing")) return 0;
  fflush(stdout);
  pid_t pid = fork(); /* namespaces, sleepers and segments live and die in it */
  if (pid < 0) return fail("listing: fork", 0);
  if (pid == 0) {
    /* Killed with sma_bench: its sleepers follow it, and a private
     * /dev/shm goes with its last process; in the user's /dev/shm the
     * segments left have a gone creator, which `sma gc` removes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    static listing_t l;
    l.c = c;
    l.private_ns = go_private();
    snprintf(l.prefix, sizeof l.prefix, "%s-ls", name);
    int rc = run(&l);
    clean(&l);
    fflush(stdout);
    _exit(rc);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : fail("listing", 0);
}

#else /* no fork, /proc or namespaces: the question is Linux's */

int bench_listing(const config_t *c, const char *name) {
  (void)name;
  if (!wanted(c, "listing")) return 0;
  printf("| listing: sma_list, gc --dry-run | — | — | — | — | Linux only |\n");
  return 0;
}

#endif
