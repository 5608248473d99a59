#include "sma_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Helper of tests/test_mpi_attacked.c: sma_mpi_misuse MODE, run on 4 ranks
 * with 2 a node. Creates a 2-d array on every rank, then
 *   range: gather with root = size on every rank
 *   neg:   gather with root = -1 on every rank
 *   differ: rank 0 passes root 0, the others root 1
 *   nullx: rank 1 passes NULL to halo_exchange */
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  size_t shape[2] = {16, 4};
  sma_mpi_array_t *a;
  int rc = sma_mpi_create(
      &a, MPI_COMM_WORLD,
      &(sma_array_desc_t){.name = "attroot", .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 1);
  if (rc) {
    printf("rank %d create %d\n", rank, rc);
    MPI_Finalize();
    return 2;
  }
  static float buf[64];
  const char *m = argv[1];
  if (!strcmp(m, "range"))
    rc = sma_mpi_gather(a, size, buf);
  else if (!strcmp(m, "neg"))
    rc = sma_mpi_gather(a, -1, buf);
  else if (!strcmp(m, "differ"))
    rc = sma_mpi_gather(a, rank == 0 ? 0 : 1, buf);
  else if (!strcmp(m, "nullx"))
    rc = sma_mpi_halo_exchange(rank == 1 ? NULL : a);
  printf("rank %d %s -> %d\n", rank, m, rc); /* every rank: one such line */
  fflush(stdout);
  sma_mpi_free(a);
  MPI_Finalize();
  return rc ? 1 : 0;
}
