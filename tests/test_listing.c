/* Listing at scale (issue 27 item 5): sma_list() reads every process's
 * mappings once per walk, and sma_collect() called from its callback
 * counts from that one reading. These tests hold the counts to real
 * processes mapping real segments, one of them exiting while the walk
 * runs, and another user's process that the lister cannot examine; and
 * they hold gc inside a walk to the lease, whatever the walk's reading
 * says. A listing maps no page for the huge-page answer. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#if !defined(_WIN32)
#  include <signal.h>
#  include <sys/wait.h>
#  if defined(__linux__)
#    include <sys/prctl.h>
#  endif
#  include <unistd.h>

enum { NSEG = 4 };

/* A segment of one uint8, created and closed by this process. */
static void make(const char *name) {
  size_t shape[1] = {1};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  sma_close(a);
  sma_free(a);
}

/* A segment whose creator, a child, has exited: gc may take it. */
static void make_orphan(const char *name) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    size_t shape[1] = {1};
    sma_t *a;
    int ok =
        sma_new(&a,
                &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) ==
            0 &&
        sma_create(a, SMA_CREATE_NORESERVE) == 0;
    _exit(ok ? 0 : 1);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the creator made it");
}

/* A child that maps each of names[0..n) and then waits to be killed;
 * returns once it maps them all. */
static pid_t hold(const char *const *names, int n) {
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    t_raw_t raw[NSEG];
    for (int i = 0; i < n; i++)
      if (t_raw_map(names[i], &raw[i]) != 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  cr_assert_eq(read(ready[0], &c, 1), 1, "the holder maps its segments");
  close(ready[0]);
  return pid;
}

typedef struct walk {
  const char *names[NSEG];
  int attached[NSEG];
  int huge[NSEG];
  int seen[NSEG];
  pid_t exiting; /* killed at the walk's first segment */
} walk_t;

static int record(const sma_info_t *in, void *user) {
  walk_t *w = user;
  if (w->exiting > 0) {
    t_stop(w->exiting);
    w->exiting = 0;
  }
  for (int i = 0; i < NSEG; i++)
    if (strcmp(in->name, w->names[i]) == 0) {
      w->seen[i]++;
      w->attached[i] = in->attached;
      w->huge[i] = in->huge_pages;
    }
  return 0;
}

/* sma_info_get()'s attach count once the kernel has let go of an exited
 * holder's mappings (a reader of its maps can hold them an instant). */
static int settled_attached(const char *name) {
  sma_info_t in;
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(sma_info_get(&in, name), 0);
    if (in.attached <= 0) break;
    t_sleep_ms(20);
  }
  return in.attached;
}

/* Three holders: one maps A (twice) and B, one maps A, one maps C and exits
 * while the walk runs; D is mapped by nobody. The walk counts A 2 and B
 * 1 exactly, never more than 1 for C (whether the walk read the holder
 * before or after it died), and for D what a single look says: 0 where
 * every process can be examined, else unknown, never a guess. */
Test(listing, counts_real_mappers_from_one_reading) {
  char names[NSEG][SMA_NAME_BUF];
  walk_t w;
  memset(&w, 0, sizeof w);
  for (int i = 0; i < NSEG; i++) {
    t_name(names[i], sizeof names[i], "listing");
    make(names[i]);
    w.names[i] = names[i];
  }
  /* h1 maps A twice, B between (lines A, B, A in its maps): one process. */
  const char *aba[3] = {names[0], names[1], names[0]}, *a[1] = {names[0]}, *c[1] = {names[2]};
  pid_t h1 = hold(aba, 3), h2 = hold(a, 1), h3 = hold(c, 1);
  w.exiting = h3;
  int rc = sma_list(record, &w);
  if (w.exiting > 0) t_stop(w.exiting);
  t_stop(h1);
  t_stop(h2);
  cr_assert_eq(rc, 0);
  for (int i = 0; i < NSEG; i++) cr_assert_eq(w.seen[i], 1, "%s listed once", names[i]);
  if (!t_caps().proves_unused) { /* nothing shows who maps what (macOS) */
    for (int i = 0; i < NSEG; i++) cr_expect_eq(w.attached[i], -1);
    for (int i = 0; i < NSEG; i++) sma_unlink(names[i]);
    return;
  }
  if (strcmp(sma_backend(), "sysv") == 0) {
    /* The kernel's attach count (shm_nattch) is exact at its instant, and
     * includes a parallel test's lister attached to read the record (CI's
     * System V tests share one IPC namespace): at least the holders. */
    cr_expect_geq(w.attached[0], 2, "two processes map A, and maybe a lister");
    cr_expect_geq(w.attached[1], 1, "one maps B, and maybe a lister");
    cr_expect_leq(settled_attached(names[3]), 0, "nobody maps D, once listers are gone");
  } else {
    cr_expect_eq(w.attached[0], 2, "two processes map A");
    cr_expect_eq(w.attached[1], 1, "one maps B");
    cr_expect(w.attached[2] == 1 || w.attached[2] <= 0, "C: its holder or nothing (%d)",
              w.attached[2]);
    cr_expect_leq(w.attached[3], 0, "nobody maps D");
    int d = settled_attached(names[3]);
    cr_expect_eq(w.attached[3], d, "D: the walk says what one look says (%d, %d)", w.attached[3],
                 d);
  }
  cr_expect_leq(settled_attached(names[2]), 0, "C once its holder is gone");
  for (int i = 0; i < NSEG; i++) sma_unlink(names[i]);
}

/* A listing maps no page to answer huge_pages: unknown there; sma_info_get()
 * of the one segment still looks. */
Test(listing, maps_nothing_for_huge_pages) {
  char names[NSEG][SMA_NAME_BUF];
  walk_t w;
  memset(&w, 0, sizeof w);
  for (int i = 0; i < NSEG; i++) {
    t_name(names[i], sizeof names[i], "listing-huge");
    make(names[i]);
    w.names[i] = names[i];
  }
  cr_assert_eq(sma_list(record, &w), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, names[0]), 0);
  for (int i = 0; i < NSEG; i++) {
    cr_expect_eq(w.seen[i], 1);
    cr_expect_eq(w.huge[i], -1, "listed: huge pages not asked");
    sma_unlink(names[i]);
  }
#  if defined(__linux__) && !defined(SMA_TEST_EMULATED) /* qemu-user's smaps is its own */
  if (t_caps().proves_unused)                           /* /dev/shm and /proc are there to look */
    cr_expect_geq(in.huge_pages, 0, "sma_info_get() of one segment tells (%d)", in.huge_pages);
#  endif
}

typedef struct gc_walk {
  const char *name;
  pid_t holder;
  int listed_attached, kept, seen;
} gc_walk_t;

/* At the candidate: a process maps it now, after the walk read every
 * process; gc in the walk must find that out itself. */
static int collect_while_mapped(const sma_info_t *in, void *user) {
  gc_walk_t *g = user;
  if (strcmp(in->name, g->name) != 0) return 0;
  g->seen = 1;
  g->listed_attached = in->attached;
  const char *names[1] = {g->name};
  g->holder = hold(names, 1);
  sma_info_t info;
  g->kept = sma_collect(&info, g->name, 0);
  return 0;
}

/* gc over a listing takes its attach count from the walk's reading,
 * which can be stale: a process that maps the segment after it was read
 * must still keep it. The lease, taken at the removal, decides. */
Test(listing, gc_in_a_walk_keeps_what_was_mapped_since) {
  T_NEED_GC_PROOF();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "listing-gc");
  make_orphan(name);
  gc_walk_t g = {name, 0, 0, 0, 0};
  int rc = sma_list(collect_while_mapped, &g);
  int survived = t_segment_exists(name);
  if (g.holder > 0) t_stop(g.holder);
  cr_assert_eq(rc, 0);
  cr_assert_eq(g.seen, 1);
  cr_expect_leq(g.listed_attached, 0, "nobody mapped it when the walk read the processes");
  cr_expect_eq(g.kept, SMA_EINUSE, "mapped now: kept (%s)", sma_strerror(g.kept));
  cr_assert_eq(survived, 1, "the mapped segment survives gc");
  sma_info_t info;
  for (int i = 0; i < 100 && (rc = sma_collect(&info, name, 0)) == SMA_EINUSE; i++) t_sleep_ms(20);
  cr_assert_eq(rc, 0, "collected once nobody maps it (%s)", sma_strerror(rc));
}

/* Where the lister cannot read every process's mappings (another user's
 * process, which /proc hides from it), a segment nobody is seen mapping is
 * unknown (-1) in a listing, never 0. */
Test(listing, another_users_process_makes_unmapped_unknown) {
#  if !defined(__linux__)
  cr_skip_test("/proc hides other users' processes on Linux");
#  endif
  T_NEED_GC_PROOF();
  if (getuid() != 0) cr_skip_test("needs root to act as two other uids");
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("System V's count is the kernel's own");
  pid_t other = fork();
  cr_assert_geq(other, 0);
  if (other == 0) {
    if (t_become(65533, 65533) != 0) _exit(1);
    for (;;) pause();
  }
  int out[2];
  cr_assert_eq(pipe(out), 0);
  pid_t lister = fork();
  cr_assert_geq(lister, 0);
  if (lister == 0) {
    close(out[0]);
    /* A process that changed its uid is not dumpable, which hides its
     * maps (and its children's) from its own user; an exec'd program's
     * would be readable. */
    if (t_become(65534, 65534) != 0) _exit(1);
#  if defined(__linux__)
    if (prctl(PR_SET_DUMPABLE, 1) != 0) _exit(1);
#  endif
    char name[SMA_NAME_BUF];
    t_name(name, sizeof name, "listing-unseen");
    make(name);
    const char *names[1] = {name};
    pid_t mine = hold(names, 1); /* one it can see */
    walk_t w;
    memset(&w, 0, sizeof w);
    w.names[0] = name;
    for (int i = 1; i < NSEG; i++) w.names[i] = "";
    int rc = sma_list(record, &w);
    int mapped = w.attached[0];
    t_stop(mine);
    memset(&w, 0, sizeof w);
    w.names[0] = name;
    for (int i = 1; i < NSEG; i++) w.names[i] = "";
    int unmapped = -2;
    for (int i = 0; i < 100 && rc == 0; i++) { /* until the kernel drops the exited mapping */
      rc = sma_list(record, &w);
      unmapped = w.attached[0];
      if (unmapped <= 0) break;
      t_sleep_ms(20);
    }
    sma_unlink(name);
    int report[3] = {rc, mapped, unmapped};
    _exit(write(out[1], report, sizeof report) == sizeof report ? 0 : 1);
  }
  close(out[1]);
  int report[3] = {-1, -9, -9};
  ssize_t n = read(out[0], report, sizeof report);
  close(out[0]);
  waitpid(lister, NULL, 0);
  t_stop(other);
  cr_assert_eq(n, (ssize_t)sizeof report, "the lister reports");
  cr_assert_eq(report[0], 0, "sma_list: %s", sma_strerror(report[0]));
  cr_expect_eq(report[1], 1, "its own process mapping it is counted (%d)", report[1]);
  cr_expect_eq(report[2], -1, "nobody seen, another user's process unread: unknown, not 0");
}

#  if defined(SMA_MAPS_OPENS_COUNTER)
/* Processes in this pid namespace now. */
static int processes(void) {
  FILE *p = popen("ls /proc | grep -c '^[0-9]'", "r");
  int n = -1;
  if (p != NULL) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

/* How many /proc/PID/maps files one `sma` command opens: -1 if it failed. */
static long maps_opens(const char *counter, const char *args) {
  char out[64], opens_to[96], preload[1024];
  snprintf(out, sizeof out, "/tmp/smatest-maps-opens-%lu", t_pid());
  snprintf(opens_to, sizeof opens_to, "SMA_TEST_MAPS_OPENS=%s", out);
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s", counter);
  const char *const env[] = {opens_to, preload, NULL};
  t_sma_opts_t counted = {.env = env};
  remove(out);
  if (t_sma_line(NULL, &counted, "%s", args) != 0) return -1;
  FILE *f = fopen(out, "r");
  long n = -1;
  if (f != NULL) {
    if (fscanf(f, "%ld", &n) != 1) n = -1;
    fclose(f);
  }
  remove(out);
  return n;
}
#  endif

/* Regression (issue 27 item 5): `sma ls` and `sma gc` read every
 * process's maps once per segment, O(segments x processes) opens: 36,000
 * for 500 segments. A work count, not a time: one walk over S segments
 * reads each of P processes once, whatever S (a few more for processes
 * that start meanwhile); before, S x P. */
Test(listing, reads_each_process_once_per_walk) {
#  if !defined(SMA_MAPS_OPENS_COUNTER)
  cr_skip_test("needs the preload counter (native Linux build without sanitizers)");
#  else
  if (!t_caps().proves_unused || strcmp(sma_backend(), "posix") != 0)
    cr_skip_test("only Linux POSIX reads /proc/PID/maps");
  enum { SEGMENTS = 40 };
  char prefix[SMA_NAME_BUF - 8], names[SEGMENTS][SMA_NAME_BUF];
  t_name(prefix, sizeof prefix, "listing-opens");
  for (int i = 0; i < SEGMENTS; i++) {
    snprintf(names[i], sizeof names[i], "%s-%d", prefix, i);
    make_orphan(names[i]);
  }
  int before = processes();
  long ls = maps_opens(SMA_MAPS_OPENS_COUNTER, "ls");
  char gc_args[SMA_NAME_BUF + 32];
  snprintf(gc_args, sizeof gc_args, "gc --dry-run --prefix %s", prefix);
  long gc = maps_opens(SMA_MAPS_OPENS_COUNTER, gc_args);
  int after = processes();
  for (int i = 0; i < SEGMENTS; i++) sma_unlink(names[i]);
  cr_assert_gt(before, 0);
  long most = 2L * (before > after ? before : after) + 10;
  cr_assert_geq(ls, 1, "the counter saw `sma ls` read maps (%ld)", ls);
  cr_expect_leq(ls, most, "sma ls: %ld opens of maps, %d processes, %d segments", ls, before,
                SEGMENTS);
  cr_expect_leq(gc, most, "sma gc --dry-run: %ld opens of maps, %d processes, %d segments", gc,
                before, SEGMENTS);
#  endif
}

#else

Test(listing, needs_fork) { cr_skip_test("the listing tests use fork()"); }

#endif
