/* The MPI side of tests/test_mpi.c, run under mpiexec:
 *
 *   mpi_check layouts PREFIX   shapes 1-d to 3-d whose rows do not divide
 *                              evenly, halos 0-3: every rank sees its rows
 *                              and halos after an exchange, gather and
 *                              scatter move the whole array, free removes
 *                              every segment, and layouts that cannot
 *                              work are refused on every rank alike
 *   mpi_check fail PREFIX      node 1's leader cannot create: every rank
 *                              gets the same error, no segment is left
 *   mpi_check kill PREFIX      rank 1 is killed after the create: mpirun
 *                              must end the job (test_mpi.c then runs gc)
 *   mpi_check disagree PREFIX  ranks see different SMA_MPI_RANKS_PER_NODE
 *                              values: rank 0's counts on every rank, and a
 *                              bad one is SMA_EINVAL on every rank; no rank
 *                              may wait (a watchdog ends a hung rank)
 *   mpi_check hosts PREFIX IFACE STATE   on simulated hosts
 *                              (tests/mpi_hosts.sh): the bytes on each
 *                              host's IFACE during halo exchanges and a
 *                              gather are the rows that must cross; then
 *                              rank 0 writes STATE/segments ("HOST NAME"
 *                              per node and array) and STATE/holding, and
 *                              the job holds its segments until
 *                              STATE/release exists
 *   mpi_check layouts PREFIX NODES   as layouts, NODES nodes expected
 *   mpi_check halo-cost PREFIX measures (prints, asserts nothing about
 *                              time) a halo exchange's time per call
 *                              against the bytes it moves between nodes
 *
 * Rank 0 prints "N passed, N failed"; the exit status is 0 only if every
 * check held on every rank. */
#define _POSIX_C_SOURCE 200809L /* setenv, alarm, nanosleep */
#include "sma_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int rank, size, failed, passed;

static void check(int ok, const char *what, const char *detail) {
  int all;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!ok) fprintf(stderr, "rank %d: %s: %s\n", rank, what, detail);
  if (all)
    passed++;
  else
    failed++;
}

/* Every element holds its global index (C order) plus `shift`. */
static double expected(size_t index, double shift) { return (double)index + shift; }

typedef struct shape_case {
  size_t ndim, shape[3];
} shape_case_t;

static size_t row_items(const shape_case_t *c) {
  size_t n = 1;
  for (size_t d = 1; d < c->ndim; d++) n *= c->shape[d];
  return n;
}

/* The view (own rows and halos) holds global index + shift everywhere. */
static int view_holds(const sma_mpi_array_t *a, const shape_case_t *c, double shift) {
  const sma_view_t *v = sma_mpi_view(a);
  size_t first, count, view_first, items = row_items(c);
  sma_mpi_rows(a, &first, &count, &view_first);
  const double *p = v->data;
  for (size_t r = 0; r < v->shape[0]; r++)
    for (size_t i = 0; i < items; i++)
      if (p[r * items + i] != expected((view_first + r) * items + i, shift)) return 0;
  return 1;
}

static void one_layout(const char *prefix, const shape_case_t *c, size_t halo, int nodes) {
  char what[160];
  snprintf(what, sizeof what, "shape %zux%zux%zu (%zu-d) halo %zu", c->shape[0], c->shape[1],
           c->shape[2], c->ndim, halo);
  sma_mpi_array_t *a;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = prefix, .ndim = c->ndim, .shape = c->shape, .dtype = SMA_FLOAT64},
      halo);
  size_t need = halo > 1 ? halo : 1;
  if (c->shape[0] / (size_t)nodes < need) { /* cannot work: refused by all */
    check(rc == SMA_EINVAL && a == NULL, what, "a layout without enough rows per node is refused");
    return;
  }
  check(rc == 0, what, sma_strerror(rc));
  if (rc != 0) return;
  size_t first, count, view_first, items = row_items(c);
  sma_mpi_rows(a, &first, &count, &view_first);
  double *own = (double *)sma_mpi_view(a)->data + (first - view_first) * items;
  for (size_t i = 0; i < count * items; i++) own[i] = expected(first * items + i, 0);
  check(sma_mpi_halo_exchange(a) == 0 && view_holds(a, c, 0), what,
        "rows and halos after exchange");

  size_t total = c->shape[0] * items;
  double *whole = rank == 0 ? malloc(total * sizeof *whole) : NULL;
  rc = sma_mpi_gather(a, 0, whole);
  int ok = rc == 0;
  for (size_t i = 0; rank == 0 && ok && i < total; i++) ok = whole[i] == expected(i, 0);
  check(ok, what, "gather");
  for (size_t i = 0; rank == 0 && i < total; i++) whole[i] = expected(i, 0.5);
  rc = sma_mpi_scatter(a, 0, whole);
  check(rc == 0 && sma_mpi_halo_exchange(a) == 0 && view_holds(a, c, 0.5), what, "scatter");
  free(whole);

  sma_mpi_layout_t l;
  sma_mpi_layout_get(&l, a);
  check(l.nodes == nodes && l.node >= 0 && l.node < nodes, what, "layout");
  check(sma_mpi_free(a) == 0, what, "free");
  sma_info_t in;
  check(sma_info_get(&in, l.segment) == SMA_ENOENT, what, "the node's segment is gone after free");
}

static int nodes_of_world(void) {
  const char *env = getenv("SMA_MPI_RANKS_PER_NODE");
  int per = env ? atoi(env) : 0;
  return per > 0 ? (size + per - 1) / per : 1;
}

static void layouts(const char *prefix, int nodes) {
  const shape_case_t cases[] = {{1, {7, 1, 1}},  {1, {13, 1, 1}}, {2, {9, 3, 1}},
                                {2, {11, 5, 1}}, {3, {10, 3, 2}}, {3, {5, 2, 2}}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (size_t halo = 0; halo <= 3; halo++) one_layout(prefix, &cases[k], halo, nodes);
  size_t bad_shape[2] = {4, 4};
  sma_mpi_array_t *a = NULL;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = prefix, .ndim = 2, .shape = bad_shape, .dtype = SMA_FLOAT64},
      rank == size - 1 ? 1 : 0);
  check(size == 1 ? rc == 0 : rc == SMA_EINVAL, "arguments", "ranks that disagree are refused");
  sma_mpi_free(a);
  a = (sma_mpi_array_t *)1;
  rc = sma_mpi_create(&a, MPI_COMM_WORLD, NULL, 0);
  check(rc == SMA_EINVAL && a == NULL, "arguments", "a NULL description is refused");
  sma_slice_t rows[1] = {SMA_SLICE_ALL};
  rc = sma_mpi_create(&a, MPI_COMM_WORLD,
                      &(sma_array_desc_t){.name = prefix,
                                          .ndim = 2,
                                          .shape = bad_shape,
                                          .dtype = SMA_FLOAT64,
                                          .slice = rows,
                                          .nslice = 1},
                      0);
  check(rc == SMA_EINVAL && a == NULL, "arguments", "a slice in the description is refused");
}

/* Counts segments whose name contains the prefix. */
static int count_named(const sma_info_t *in, void *user) {
  const char **p = user;
  if (strstr(in->name, p[0]) != NULL) p[1]++;
  return 0;
}

static void fail_create(const char *prefix) {
  size_t shape[2] = {16, 4};
  sma_mpi_array_t *a = (sma_mpi_array_t *)1;
  /* Node 1's leader gets a prefix no name can carry. */
  const char *mine = rank == 1 || (size > 2 && rank == 2) ? "bad/prefix" : prefix;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = mine, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 1);
  int lo = rc, hi = rc;
  MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  check(size == 1 ? rc == 0 : rc == SMA_ENAME && lo == hi && a == NULL, "a failed create",
        "every rank gets the same error");
  if (size == 1) sma_mpi_free(a);
  MPI_Barrier(MPI_COMM_WORLD);
  const char *found[2] = {prefix, NULL};
  sma_list(count_named, found);
  check(found[1] == NULL, "a failed create", "no segment is left");
}

static void kill_mid_job(const char *prefix) {
  size_t shape[2] = {64, 64};
  sma_mpi_array_t *a;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 2);
  check(rc == 0, "create before the kill", sma_strerror(rc));
  if (rank == 1) raise(SIGKILL);
  sma_mpi_halo_exchange(a); /* the others wait here until mpirun ends them */
  sma_mpi_free(a);
}

/* MPI's own node count: the leaders of MPI_COMM_TYPE_SHARED groups. */
static int mpi_nodes(void) {
  MPI_Comm node;
  int node_rank, leaders = 0;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_free(&node);
  int leader = node_rank == 0;
  MPI_Allreduce(&leader, &leaders, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  return leaders;
}

/* Creates with rank 0's value `zero` and every other rank's `others` (NULL:
 * unset) and checks the layout has `nodes` nodes, or, for nodes 0, that
 * every rank gets SMA_EINVAL. */
static void disagree_once(const char *prefix, const char *zero, const char *others, int nodes) {
  const char *mine = rank == 0 ? zero : others;
  if (mine != NULL)
    setenv("SMA_MPI_RANKS_PER_NODE", mine, 1);
  else
    unsetenv("SMA_MPI_RANKS_PER_NODE");
  char what[128];
  snprintf(what, sizeof what, "rank 0 sees %s, the others %s", zero ? zero : "(unset)",
           others ? others : "(unset)");
  size_t shape[2] = {12, 3};
  sma_mpi_array_t *a = (sma_mpi_array_t *)1;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 1);
  if (nodes == 0) {
    check(rc == SMA_EINVAL && a == NULL, what, "every rank refuses rank 0's bad value");
    return;
  }
  sma_mpi_layout_t l;
  sma_mpi_layout_get(&l, rc == 0 ? a : NULL);
  check(rc == 0 && l.nodes == nodes, what, rc ? sma_strerror(rc) : "rank 0's value counts");
  if (rc == 0) check(sma_mpi_free(a) == 0, what, "free");
}

static void disagree(const char *prefix) {
  alarm(60); /* a rank that waits for a split the others never call dies */
  int own = mpi_nodes(), by_two = (size + 1) / 2;
  disagree_once(prefix, "2", NULL, by_two);
  disagree_once(prefix, NULL, "1", own);
  disagree_once(prefix, "1", "2", size);
  disagree_once(prefix, "0", "1", 0);
  disagree_once(prefix, "2x", NULL, 0);
  disagree_once(prefix, "", "1", own); /* empty is unset */
  disagree_once(prefix, "99999999999", "1", 0);
  unsetenv("SMA_MPI_RANKS_PER_NODE");
}

/* An interface byte counter (Linux sysfs), or ULLONG_MAX if unreadable. */
static unsigned long long counter(const char *iface, const char *which) {
  char path[256];
  snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", iface, which);
  FILE *f = fopen(path, "r");
  unsigned long long v;
  if (f == NULL || fscanf(f, "%llu", &v) != 1) v = (unsigned long long)-1;
  if (f != NULL) fclose(f);
  return v;
}

/* Bytes sent and received on iface while `phase` runs, on every rank
 * (the host's interface: one reading per host counts, the leader's).
 * The barriers around it are part of the measured traffic. */
typedef struct wire {
  unsigned long long tx, rx;
} wire_t;

static wire_t measure(const char *iface, void (*phase)(sma_mpi_array_t *, void *),
                      sma_mpi_array_t *a, void *user) {
  MPI_Barrier(MPI_COMM_WORLD);
  wire_t before = {counter(iface, "tx_bytes"), counter(iface, "rx_bytes")};
  phase(a, user);
  MPI_Barrier(MPI_COMM_WORLD);
  wire_t after = {counter(iface, "tx_bytes"), counter(iface, "rx_bytes")};
  const unsigned long long unknown = (unsigned long long)-1;
  if (before.tx == unknown || before.rx == unknown || after.tx == unknown || after.rx == unknown)
    return (wire_t){unknown, unknown};
  return (wire_t){after.tx - before.tx, after.rx - before.rx};
}

enum { EXCHANGES = 8, HOST_HALO = 2, HOST_ROW_ITEMS = 16384 };
/* Bytes the protocols may add per collective call and per phase:
 * TCP/IP and MPI headers, acknowledgements, the barriers' messages. */
static const unsigned long long slack_per_call = 4096, slack_per_phase = 16384;

static void exchanges(sma_mpi_array_t *a, void *rc) {
  for (int i = 0; i < EXCHANGES; i++)
    if (sma_mpi_halo_exchange(a) != 0) *(int *)rc = 1;
}

static void gather(sma_mpi_array_t *a, void *buf) {
  if (sma_mpi_gather(a, 0, buf) != 0) *(double *)buf = -1;
}

/* payload <= bytes <= payload x 1.1 + slack: what must cross crossed, once. */
static int carries(unsigned long long bytes, unsigned long long payload, unsigned long long slack) {
  return bytes >= payload && bytes <= payload + payload / 10 + slack;
}

static void wire_checks(const char *iface, sma_mpi_array_t *a, size_t rows) {
  const size_t row_bytes = HOST_ROW_ITEMS * sizeof(double);
  sma_mpi_layout_t l;
  sma_mpi_layout_get(&l, a);
  int xrc = 0;
  uint64_t sent_before = l.bytes_sent;
  wire_t halo = measure(iface, exchanges, a, &xrc);
  check(xrc == 0, "hosts", "halo exchanges");
  sma_mpi_layout_get(&l, a);
  uint64_t counted = l.bytes_sent - sent_before;
  double *whole = rank == 0 ? malloc(rows * row_bytes) : NULL;
  double dummy = 0;
  wire_t gath = measure(iface, gather, a, rank == 0 ? (void *)whole : &dummy);
  check(rank != 0 || (whole != NULL && whole[0] != -1), "hosts", "gather");
  free(whole);
  /* The node's rows: every rank of a node is on one host. */
  size_t first, count;
  sma_mpi_rows(a, &first, &count, NULL);
  MPI_Comm node;
  MPI_Comm_split(MPI_COMM_WORLD, l.node, rank, &node);
  unsigned long long mine = count, node_rows = 0;
  MPI_Allreduce(&mine, &node_rows, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, node);
  MPI_Comm_free(&node);
  unsigned long long neighbours = (l.node > 0) + (l.node + 1 < l.nodes);
  unsigned long long halo_bytes = EXCHANGES * neighbours * HOST_HALO * row_bytes;
  unsigned long long halo_slack = EXCHANGES * slack_per_call + slack_per_phase;
  /* Node 0 holds rank 0: it receives every other node's rows, sends none. */
  unsigned long long out = l.node == 0 ? 0 : node_rows * row_bytes;
  unsigned long long in = l.node == 0 ? (rows - node_rows) * row_bytes : 0;
  unsigned long long row[8] = {
      (unsigned long long)l.node, halo.tx, halo.rx, halo_bytes, gath.tx, gath.rx, out, in};
  unsigned long long *all = rank == 0 ? malloc(sizeof row * (size_t)size) : NULL;
  MPI_Gather(row, 8, MPI_UNSIGNED_LONG_LONG, all, 8, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  if (rank == 0)
    for (int r = 0; r < size && all != NULL; r++) {
      unsigned long long *w = all + 8 * r;
      printf("wire node %llu rank %d: halo x%d tx %llu rx %llu (rows %llu); gather tx %llu rx "
             "%llu (rows out %llu in %llu)\n",
             w[0], r, EXCHANGES, w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
    }
  free(all);
  char detail[256];
  snprintf(detail, sizeof detail,
           "node %d: halo tx %llu rx %llu for %llu bytes of rows; gather tx %llu rx %llu for "
           "%llu out, %llu in",
           l.node, halo.tx, halo.rx, halo_bytes, gath.tx, gath.rx, out, in);
  /* The library's own count: exactly the halo rows the leader sent (the
   * wire check alone would pass an accounting that counts them twice). */
  unsigned long long want_counted = l.node_rank == 0 ? halo_bytes : 0;
  char counted_detail[160];
  snprintf(counted_detail, sizeof counted_detail,
           "node %d rank %d: bytes_sent grew by %llu in %d exchanges, the rows sent are %llu",
           l.node, rank, (unsigned long long)counted, EXCHANGES, want_counted);
  check(counted == want_counted, "bytes_sent counts the halo rows sent", counted_detail);
  int halo_ok =
      carries(halo.tx, halo_bytes, halo_slack) && carries(halo.rx, halo_bytes, halo_slack);
  int gather_ok = carries(gath.tx, out, slack_per_phase) && carries(gath.rx, in, slack_per_phase);
  check(halo_ok, "halo rows on the wire", detail);
  check(gather_ok, "gathered rows on the wire", detail);
}

/* Waits (up to a minute) for path to exist. */
static int wait_for(const char *path) {
  for (int i = 0; i < 1200; i++) {
    FILE *f = fopen(path, "r");
    if (f != NULL) return fclose(f), 1;
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  return 0;
}

/* Rank 0 writes "HOST SEGMENT" for each node's segment of a and b. */
static void write_segments(const char *state, const sma_mpi_array_t *a, const sma_mpi_array_t *b) {
  char mine[2 * (MPI_MAX_PROCESSOR_NAME + SMA_NAME_BUF + 2)] = "";
  sma_mpi_layout_t la, lb;
  sma_mpi_layout_get(&la, a);
  sma_mpi_layout_get(&lb, b);
  if (la.node_rank == 0) {
    char host[MPI_MAX_PROCESSOR_NAME];
    int len;
    MPI_Get_processor_name(host, &len);
    snprintf(mine, sizeof mine, "%s %s\n%s %s\n", host, la.segment, host, lb.segment);
  }
  int n = (int)sizeof mine;
  char *all = rank == 0 ? malloc((size_t)n * (size_t)size) : NULL;
  MPI_Gather(mine, n, MPI_CHAR, all, n, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rank != 0 || all == NULL) return;
  char path[1024];
  snprintf(path, sizeof path, "%s/segments", state);
  FILE *f = fopen(path, "w");
  for (int r = 0; f != NULL && r < size; r++) fputs(all + (size_t)r * (size_t)n, f);
  int ok = f != NULL && fclose(f) == 0;
  snprintf(path, sizeof path, "%s/holding", state);
  f = ok ? fopen(path, "w") : NULL;
  ok = f != NULL && fclose(f) == 0;
  free(all);
  if (!ok) fprintf(stderr, "mpi_check hosts: cannot write to %s\n", state);
}

static void hosts(const char *prefix, const char *iface, const char *state) {
  size_t rows = (size_t)mpi_nodes() * 8, shape[2] = {rows, HOST_ROW_ITEMS}, small[1] = {64};
  sma_mpi_array_t *a = NULL, *b = NULL;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64},
      HOST_HALO);
  check(rc == 0, "hosts: create", sma_strerror(rc));
  if (rc == 0)
    rc = sma_mpi_create(
        &b, MPI_COMM_WORLD,
        &(sma_array_desc_t){.name = prefix, .ndim = 1, .shape = small, .dtype = SMA_FLOAT64}, 0);
  check(rc == 0, "hosts: create", sma_strerror(rc));
  if (rc != 0) return;
  wire_checks(iface, a, rows);
  write_segments(state, a, b);
  char release[1024];
  snprintf(release, sizeof release, "%s/release", state);
  int released = rank != 0 || wait_for(release);
  MPI_Barrier(MPI_COMM_WORLD);
  check(released, "hosts", "the test released the job");
  check(sma_mpi_free(b) == 0 && sma_mpi_free(a) == 0, "hosts", "free");
}

/* One halo exchange's cost for rows of 1 KiB to 1 MiB, halo 2: the
 * slowest rank's time per call (median of 5 runs of 10 calls) and the
 * bytes sent between nodes per call. */
static int by_value(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static void halo_cost(const char *prefix) {
  if (rank == 0) printf("halo-cost: row bytes, bytes between nodes per call, us per call\n");
  for (size_t row = 1024; row <= 1024 * 1024; row *= 4) {
    size_t shape[2] = {(size_t)size * 8, row / sizeof(double)};
    sma_mpi_array_t *a;
    int rc = sma_mpi_create(
        &a, MPI_COMM_WORLD,
        &(sma_array_desc_t){.name = prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64}, 2);
    check(rc == 0, "halo-cost: create", sma_strerror(rc));
    if (rc != 0) return;
    double runs[5];
    for (int r = 0; r < 5; r++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime(), mine, slowest;
      for (int i = 0; i < 10; i++) rc |= sma_mpi_halo_exchange(a);
      mine = (MPI_Wtime() - t0) / 10;
      MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      runs[r] = slowest;
    }
    qsort(runs, 5, sizeof runs[0], by_value);
    sma_mpi_layout_t l;
    sma_mpi_layout_get(&l, a);
    unsigned long long sent = l.bytes_sent, total = 0;
    MPI_Reduce(&sent, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("halo-cost: %8zu %10llu %10.1f\n", row, total / 50, runs[2] * 1e6);
    check(rc == 0 && sma_mpi_free(a) == 0, "halo-cost", "exchanges and free");
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 3) {
    MPI_Finalize();
    return 2;
  }
  if (strcmp(argv[1], "layouts") == 0)
    layouts(argv[2], argc > 3 ? atoi(argv[3]) : nodes_of_world());
  else if (strcmp(argv[1], "fail") == 0)
    fail_create(argv[2]);
  else if (strcmp(argv[1], "kill") == 0)
    kill_mid_job(argv[2]);
  else if (strcmp(argv[1], "disagree") == 0)
    disagree(argv[2]);
  else if (strcmp(argv[1], "halo-cost") == 0)
    halo_cost(argv[2]);
  else if (strcmp(argv[1], "hosts") == 0 && argc == 5)
    hosts(argv[2], argv[3], argv[4]);
  else
    failed++;
  if (rank == 0)
    printf("mpi_check %s (%d ranks): %d passed, %d failed\n", argv[1], size, passed, failed);
  MPI_Finalize();
  return failed == 0 ? 0 : 1;
}
