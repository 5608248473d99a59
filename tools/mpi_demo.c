/*
 * `sma-mpi demo`: the main job (`sma demo`'s Gaussian blur of a synthetic
 * float32 raster) across MPI ranks and nodes, over sma::mpi arrays:
 *
 *   mpirun -np N sma-mpi demo [--size N] [--kernel gauss5|box3] [--prefix P]
 *
 * Each rank writes its rows of the input, the halo rows cross between
 * nodes as MPI messages (inside a node, ranks read each other's rows from
 * the node's segment), each rank blurs its rows into the output, and rank
 * 0 gathers the result and checks it bit for bit against one process
 * computing the whole raster. Prints the layout, the time, the throughput
 * and the bytes sent between nodes. Exit 0 verified, 1 failed, 2 usage.
 */
#include "blur.h"
#include "sma_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
  size_t size;
  const blur_kernel_t *kernel;
  const char *prefix;
} options_t;

static int parse(int argc, char **argv, options_t *o) {
  *o = (options_t){4096, blur_find_kernel("gauss5"), "smampi"};
  if (argc < 2 || strcmp(argv[1], "demo") != 0 || argc % 2 != 0) return -1;
  for (int i = 2; i < argc; i += 2) {
    const char *v = argv[i + 1];
    char *end;
    if (strcmp(argv[i], "--size") == 0) {
      unsigned long long n = strtoull(v, &end, 10);
      if (*end != '\0' || n < 8 || n > 65536) return -1;
      o->size = (size_t)n;
    } else if (strcmp(argv[i], "--kernel") == 0) {
      if ((o->kernel = blur_find_kernel(v)) == NULL) return -1;
    } else if (strcmp(argv[i], "--prefix") == 0) {
      o->prefix = v;
    } else {
      return -1;
    }
  }
  return 0;
}

static int report(const char *what, int rc, int rank) {
  if (rc != 0 && rank == 0)
    fprintf(stderr, "sma-mpi demo: %s: %s (%s)\n", what, sma_strerror(rc), sma_err_name(rc));
  return rc;
}

/* Rank 0 prints which rows and segment each rank has. */
static void print_layout(const sma_mpi_array_t *a, int rank, int size) {
  sma_mpi_layout_t l;
  sma_mpi_layout_get(&l, a);
  size_t first, count;
  sma_mpi_rows(a, &first, &count, NULL);
  unsigned long long mine[4] = {(unsigned long long)l.node, (unsigned long long)l.node_rank, first,
                                count};
  unsigned long long *all = rank == 0 ? malloc(sizeof mine * (size_t)size) : NULL;
  MPI_Gather(mine, 4, MPI_UNSIGNED_LONG_LONG, all, 4, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  if (rank != 0 || all == NULL) return;
  printf("  layout: %d node%s, %d rank%s\n", l.nodes, l.nodes == 1 ? "" : "s", size,
         size == 1 ? "" : "s");
  for (int r = 0; r < size; r++)
    printf("    rank %d: node %llu (rank %llu there), rows %llu..%llu\n", r, all[4 * r],
           all[4 * r + 1], all[4 * r + 2], all[4 * r + 2] + all[4 * r + 3]);
  free(all);
}

/* Rank 0: the single-process result and the gathered one, bit for bit. */
static int verify(const options_t *o, const float *got) {
  size_t n = o->size;
  float *img = malloc(n * n * sizeof *img), *ref = malloc(n * n * sizeof *ref),
        *tmp = malloc(n * sizeof *tmp);
  int ok = img && ref && tmp;
  if (ok) {
    blur_synthesize(img, 0, n, n, n);
    ok = blur_rows(o->kernel, (const char *)img, 0, n, (ptrdiff_t)(n * sizeof(float)), (char *)ref,
                   (ptrdiff_t)(n * sizeof(float)), 0, n, n, n, tmp, NULL) == 0 &&
         memcmp(ref, got, n * n * sizeof *ref) == 0;
  }
  free(img), free(ref), free(tmp);
  return ok;
}

/* The job on two distributed arrays; the time of the slowest rank. */
static int run(const options_t *o, sma_mpi_array_t *in, sma_mpi_array_t *out, double *seconds) {
  size_t n = o->size, first, count, in_first, out_first;
  sma_mpi_rows(in, &first, &count, &in_first);
  sma_mpi_rows(out, NULL, NULL, &out_first);
  const sma_view_t *vi = sma_mpi_view(in), *vo = sma_mpi_view(out);
  blur_synthesize((float *)((char *)vi->data + (first - in_first) * (size_t)vi->strides[0]), first,
                  first + count, n, n);
  float *tmp = malloc(n * sizeof *tmp);
  int rc = tmp == NULL ? SMA_ENOMEM : 0;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  int xrc = sma_mpi_halo_exchange(in);
  if (rc == 0) rc = xrc;
  if (rc == 0 && blur_rows(o->kernel, vi->data, in_first, vi->shape[0], vi->strides[0],
                           (char *)vo->data + (first - out_first) * (size_t)vo->strides[0],
                           vo->strides[0], first, first + count, n, n, tmp, NULL) != 0)
    rc = SMA_EBOUNDS; /* the halo did not cover a row the kernel reads */
  double mine = MPI_Wtime() - t0;
  MPI_Allreduce(&mine, seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  free(tmp);
  int all;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  options_t o;
  if (parse(argc, argv, &o) != 0) {
    if (rank == 0)
      fprintf(stderr, "usage: mpirun -np N sma-mpi demo [--size N (8..65536)] "
                      "[--kernel gauss5|box3] [--prefix P]\n");
    MPI_Finalize();
    return 2;
  }
  size_t shape[2] = {o.size, o.size};
  sma_mpi_array_t *in = NULL, *out = NULL;
  int rc =
      report("create",
             sma_mpi_create(&in, MPI_COMM_WORLD,
                            &(sma_array_desc_t){
                                .name = o.prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32},
                            (size_t)o.kernel->radius),
             rank);
  if (rc == 0)
    rc = report(
        "create",
        sma_mpi_create(
            &out, MPI_COMM_WORLD,
            &(sma_array_desc_t){.name = o.prefix, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32},
            0),
        rank);
  if (rank == 0 && rc == 0)
    printf("sma-mpi demo: blurring %zux%zu float32, kernel %s, %d rank%s\n", o.size, o.size,
           o.kernel->name, size, size == 1 ? "" : "s");
  if (rc == 0) print_layout(in, rank, size);
  double seconds = 0;
  if (rc == 0) rc = report("blur", run(&o, in, out, &seconds), rank);
  float *all = rank == 0 && rc == 0 ? malloc(o.size * o.size * sizeof *all) : NULL;
  if (rc == 0) rc = report("gather", sma_mpi_gather(out, 0, all), rank);
  sma_mpi_layout_t l;
  sma_mpi_layout_get(&l, in);
  unsigned long long sent = l.bytes_sent, total = 0;
  MPI_Reduce(&sent, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  int ok = rc == 0 && (rank != 0 || verify(&o, all));
  if (rank == 0 && rc == 0) {
    printf("  %d rank%s: %12.3f s %10.1f Mpixel/s\n", size, size == 1 ? "" : "s", seconds,
           (double)o.size * (double)o.size / seconds / 1e6);
    printf("  bytes sent between nodes: %llu (halo rows: %llu of %zu bytes)\n", total,
           total / (o.size * sizeof(float)), o.size * sizeof(float));
    printf("  %s\n", ok ? "verified: bit-identical to the single-process result"
                        : "FAILED: differs from the single-process result");
  }
  free(all);
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  int frc = sma_mpi_free(out);
  int frc2 = sma_mpi_free(in);
  MPI_Finalize();
  return ok && frc == 0 && frc2 == 0 ? 0 : 1;
}
