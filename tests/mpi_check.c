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
 *
 * Rank 0 prints "N passed, N failed"; the exit status is 0 only if every
 * check held on every rank. */
#include "sma_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, failed, passed;

static void check(int ok, const char *what, const char *detail) {
  int all;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!ok) fprintf(stderr, "rank %d: %s: %s\n", rank, what, detail);
  if (all) passed++;
  else failed++;
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
  int rc = sma_mpi_create(&a, MPI_COMM_WORLD, c->ndim, c->shape, SMA_FLOAT64, halo, prefix);
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
  check(sma_mpi_halo_exchange(a) == 0 && view_holds(a, c, 0), what, "rows and halos after exchange");

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
  sma_mpi_layout(a, &l);
  check(l.nodes == nodes && l.node >= 0 && l.node < nodes, what, "layout");
  check(sma_mpi_free(a) == 0, what, "free");
  sma_info_t in;
  check(sma_info(l.segment, &in) == SMA_ENOENT, what, "the node's segment is gone after free");
}

static int nodes_of_world(void) {
  const char *env = getenv("SMA_MPI_RANKS_PER_NODE");
  int per = env ? atoi(env) : 0;
  return per > 0 ? (size + per - 1) / per : 1;
}

static void layouts(const char *prefix) {
  const shape_case_t cases[] = {{1, {7, 1, 1}}, {1, {13, 1, 1}}, {2, {9, 3, 1}},
                                {2, {11, 5, 1}}, {3, {10, 3, 2}}, {3, {5, 2, 2}}};
  int nodes = nodes_of_world();
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (size_t halo = 0; halo <= 3; halo++) one_layout(prefix, &cases[k], halo, nodes);
  size_t bad_shape[2] = {4, 4};
  sma_mpi_array_t *a = NULL;
  int rc = sma_mpi_create(&a, MPI_COMM_WORLD, 2, bad_shape, SMA_FLOAT64, rank == size - 1 ? 1 : 0,
                          prefix);
  check(size == 1 ? rc == 0 : rc == SMA_EINVAL, "arguments", "ranks that disagree are refused");
  sma_mpi_free(a);
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
  int rc = sma_mpi_create(&a, MPI_COMM_WORLD, 2, shape, SMA_FLOAT32, 1, mine);
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
  int rc = sma_mpi_create(&a, MPI_COMM_WORLD, 2, shape, SMA_FLOAT32, 2, prefix);
  check(rc == 0, "create before the kill", sma_strerror(rc));
  if (rank == 1) raise(SIGKILL);
  sma_mpi_halo_exchange(a); /* the others wait here until mpirun ends them */
  sma_mpi_free(a);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 3) {
    MPI_Finalize();
    return 2;
  }
  if (strcmp(argv[1], "layouts") == 0) layouts(argv[2]);
  else if (strcmp(argv[1], "fail") == 0) fail_create(argv[2]);
  else if (strcmp(argv[1], "kill") == 0) kill_mid_job(argv[2]);
  if (rank == 0) printf("mpi_check %s (%d ranks): %d passed, %d failed\n", argv[1], size, passed, failed);
  MPI_Finalize();
  return failed == 0 ? 0 : 1;
}
