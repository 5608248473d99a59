/*
 * libsma over MPI (library sma::mpi, built when CMake finds MPI): an
 * N-d array split along axis 0 over the ranks of a communicator. Inside
 * a node, ranks share one named libsma segment (the node's rows plus
 * halo rows from the neighbouring nodes): zero copies, and readable by
 * NumPy and the `sma` tools. Between nodes only the halo rows travel, as
 * MPI messages. The core library has no MPI dependency; this one adds it.
 *
 * Every function named "collective" must be called by every rank of the
 * array's communicator. Errors are agreed: a failure on any rank is
 * returned on every rank (the most negative SMA_E* code), so no rank
 * waits for one that failed. Each collective first agrees, before any
 * rank waits for another, that every rank passed valid arguments. A rank
 * that passes NULL for the array cannot name the communicator: it takes
 * part on the communicator of its process's live arrays when they all
 * share one (the usual case: MPI_COMM_WORLD), and every rank returns
 * SMA_EINVAL; with no live array, or arrays on several communicators,
 * it can only return SMA_EINVAL at once and the other ranks wait (an
 * MPI usage error: the same call on every rank is the caller's part).
 * sma_mpi_free(NULL) is a no-op on that rank only.
 *
 * Threads: calls on one array, or on arrays sharing a communicator, must
 * not overlap (MPI's rule for collectives on one communicator); arrays on
 * distinct communicators may be used from distinct threads when MPI was
 * initialised with MPI_THREAD_MULTIPLE.
 *
 * Nodes come from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). For tests on
 * one machine, SMA_MPI_RANKS_PER_NODE=K in the environment makes every K
 * consecutive ranks a "node" of their own: its own segment, data between
 * such nodes only through MPI. Only rank 0's value counts (it is
 * broadcast; mpirun forwards no environment to remote hosts unless told,
 * Open MPI's -x): ranks that see other values or none follow rank 0. Set
 * on rank 0 to anything but a whole number 1..INT_MAX written in decimal
 * digits only (no blank, sign or other character anywhere; empty counts
 * as unset), every rank's create returns SMA_EINVAL. The ranks of one node
 * must share shared memory (/dev/shm): a grouping that spans hosts or
 * containers is SMA_ENOTSHARED on every rank.
 *
 * A job that is killed or aborts before sma_mpi_free() leaves each node's
 * segment on that node's host. Run `sma gc` (or sma_gc()) on every host
 * the job ran on, in the same pid namespace and /dev/shm as the job (in
 * the container, if the ranks ran in one): gc removes a segment only when
 * it proves its creator gone, and a host sees only its own processes and
 * segments. tests/mpi_hosts.sh checks this on simulated hosts.
 */
#ifndef SMA_MPI_H
#define SMA_MPI_H

#include <mpi.h>

#include "sma.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SMA_MPI_BUILDING) && defined(__GNUC__)
#  define SMA_MPI_API __attribute__((visibility("default")))
#else
#  define SMA_MPI_API
#endif

/** A distributed array (opaque). */
typedef struct sma_mpi_array sma_mpi_array_t;

/** Collective: creates the array `desc` describes (desc->ndim >= 1
 * dimensions of desc->shape and desc->dtype; no slice) over comm,
 * rows (axis 0) split as evenly as possible over the nodes and then over
 * each node's ranks, with `halo` rows of the neighbouring nodes kept
 * beside each node's rows. Each node's leader creates one libsma segment
 * (name built by sma_build_name() with the prefix desc->name, may be
 * NULL: "mpi"),
 * and every rank loads its rows, plus up to `halo` rows on each side, as
 * a slice of it. The array is zero-filled. On success *out is the rank's
 * handle (free with sma_mpi_free()); on error *out is NULL and no
 * segment is left. The same code is returned on every rank. Errors:
 * SMA_EINVAL (NULL, ndim 0, a slice in desc, a rank given other
 * arguments, fewer than
 * max(1, halo) rows per node, rank 0's SMA_MPI_RANKS_PER_NODE not a
 * whole number 1..INT_MAX), SMA_ENOTSHARED (a rank cannot see the
 * segment its node's leader created: the node's ranks do not share
 * /dev/shm), SMA_ENOMEM, SMA_EOVERFLOW, SMA_EOS (an MPI call failed), and
 * those of sma_create() and sma_open(). */
SMA_MPI_API int sma_mpi_create(sma_mpi_array_t **out, MPI_Comm comm, const sma_array_desc_t *desc,
                               size_t halo);

/** Collective: closes the rank's view and unlinks the node's segment
 * (the leader, after every rank of the node has closed). NULL is a
 * no-op. Returns the agreed error of the closes and unlinks. */
SMA_MPI_API int sma_mpi_free(sma_mpi_array_t *a);

/** The rank's view: its rows, preceded and followed by up to `halo` rows
 * (fewer at the array's edges). Borrowed; valid until sma_mpi_free(). */
SMA_MPI_API const sma_view_t *sma_mpi_view(const sma_mpi_array_t *a);

/** The global rows the rank owns, [*first, *first + *count), and the
 * global row of the view's row 0 (*view_first <= *first). Any pointer may
 * be NULL. */
SMA_MPI_API void sma_mpi_rows(const sma_mpi_array_t *a, size_t *first, size_t *count,
                              size_t *view_first);

/** Collective: makes every rank's halo rows current. Ranks of one node
 * see each other's rows directly (after a node barrier); the leaders of
 * neighbouring nodes send each other `halo` rows. Call after writing the
 * owned rows and before reading the halos. Errors, on every rank:
 * SMA_EINVAL (a NULL on any rank), SMA_EOVERFLOW, SMA_EOS. */
SMA_MPI_API int sma_mpi_halo_exchange(sma_mpi_array_t *a);

/** Collective: copies the whole array, C order, into buf on rank root
 * (buf is ignored elsewhere and may be NULL there). Errors, on every
 * rank: SMA_EINVAL (a NULL on any rank; root not a rank of the
 * communicator, 0..size-1; ranks that name different roots; buf NULL on
 * root), SMA_ENOMEM, SMA_EOVERFLOW (a rank's rows exceed INT_MAX bytes),
 * SMA_EOS. */
SMA_MPI_API int sma_mpi_gather(const sma_mpi_array_t *a, int root, void *buf);

/** Collective: sets the whole array from buf, C order, held by rank root
 * (ignored elsewhere). Halos are not exchanged. Errors: those of
 * sma_mpi_gather(). */
SMA_MPI_API int sma_mpi_scatter(sma_mpi_array_t *a, int root, const void *buf);

/** Layout, as data. */
typedef struct sma_mpi_layout {
  int nodes;                  /**< nodes (or fake nodes) of the communicator */
  int node;                   /**< this rank's node, 0..nodes-1, in row order */
  int node_ranks;             /**< ranks on this node */
  int node_rank;              /**< this rank on its node; 0 is the leader */
  uint64_t bytes_sent;        /**< bytes this rank sent to other nodes in halo
                                   exchanges so far (leaders only send) */
  char segment[SMA_NAME_BUF]; /**< the node's libsma segment */
} sma_mpi_layout_t;

/** Fills *out with a's layout (zeroed for NULL a). */
SMA_MPI_API void sma_mpi_layout_get(sma_mpi_layout_t *out, const sma_mpi_array_t *a);

#ifdef __cplusplus
}
#endif
#endif /* SMA_MPI_H */
