/*
 * A libsma array distributed over MPI (see include/sma_mpi.h).
 *
 * Layout: the rows of axis 0 are shared out over the nodes (in the order
 * of the node leaders' ranks), then over each node's ranks. A node's
 * segment holds its rows plus `halo` rows of each neighbouring node; a
 * rank's view is its rows plus up to `halo` rows on each side, all inside
 * the node's segment, so neighbours on one node need no copy at all.
 * Every collective step ends in agree(): one MPI_Allreduce of the ranks'
 * codes, so all ranks take the same branch.
 */
#include "sma_mpi.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct sma_mpi_array {
  MPI_Comm comm, node_comm, leaders; /* leaders: MPI_COMM_NULL off leaders */
  int rank, nodes, node, node_ranks, node_rank;
  size_t ndim, shape[SMA_MAX_DIMS], halo, row_bytes;
  size_t node_first, node_count; /* rows the node owns */
  size_t seg_first, seg_count;   /* rows its segment holds */
  size_t first, count;           /* rows this rank owns */
  size_t view_first, view_count; /* rows of its view */
  sma_t *whole;                  /* the leader's creator object */
  sma_t *view;                   /* every rank's slice */
  char name[SMA_NAME_BUF];
  uint64_t bytes_sent;
  sma_mpi_array_t *next_live; /* the process's live arrays (below) */
};

/* A deliberate defect, compiled only into the tests' mutant build
 * (tests/CMakeLists.txt, never the shipped library): one segment for the
 * whole array, created by rank 0 and shared by every "node", and no halo
 * swap. It passes every test on one machine; tests/mpi_hosts.sh must
 * catch it. */
#ifdef SMA_MPI_MUTANT_ONE_SEGMENT
enum { one_segment = 1 };
#else
enum { one_segment = 0 };
#endif

/* The most negative code of all ranks of comm (SMA_EOS if MPI fails). */
static int agree(MPI_Comm comm, int rc) {
  int all = rc;
  return MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm) == MPI_SUCCESS ? all : SMA_EOS;
}

/* The arrays alive in this process. A rank that passes NULL to a
 * collective cannot name the communicator the others wait on; when every
 * live array is on one communicator, it is that one, and the rank still
 * takes part with SMA_EINVAL so that every rank returns it. A spin lock
 * (held for a few pointer moves) keeps arrays of several threads apart. */
static atomic_flag live_lock = ATOMIC_FLAG_INIT;
static sma_mpi_array_t *live;

static void lock_live(void) {
  while (atomic_flag_test_and_set_explicit(&live_lock, memory_order_acquire)) {}
}

static void unlock_live(void) { atomic_flag_clear_explicit(&live_lock, memory_order_release); }

static void add_live(sma_mpi_array_t *a) {
  lock_live();
  a->next_live = live;
  live = a;
  unlock_live();
}

static void remove_live(sma_mpi_array_t *a) {
  lock_live();
  for (sma_mpi_array_t **p = &live; *p != NULL; p = &(*p)->next_live)
    if (*p == a) {
      *p = a->next_live;
      break;
    }
  unlock_live();
}

/* The communicator of every live array, if there is one and only one. */
static int only_live_comm(MPI_Comm *comm) {
  int found = 0, unique = 1;
  lock_live();
  for (const sma_mpi_array_t *p = live; p != NULL; p = p->next_live) {
    if (found && p->comm != *comm) unique = 0;
    *comm = p->comm, found = 1;
  }
  unlock_live();
  return found && unique;
}

/* The start of a collective on a: every rank learns whether every rank
 * has an array, before any rank waits for another in a barrier or a
 * point-to-point message. A rank with NULL joins on the only live
 * communicator (see above); with none it can only return. */
static int enter(const sma_mpi_array_t *a, int rc) {
  MPI_Comm comm;
  if (a != NULL) return agree(a->comm, rc);
  return only_live_comm(&comm) ? agree(comm, SMA_EINVAL) : SMA_EINVAL;
}

/* Part i of n of `total` items: the first parts one item larger. */
static void share(size_t total, size_t n, size_t i, size_t *first, size_t *count) {
  size_t base = total / n, extra = total % n;
  *first = base * i + (i < extra ? i : extra);
  *count = base + (i < extra);
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Every rank passed the same shape, dtype and halo. */
static int same_arguments(MPI_Comm comm, size_t ndim, const size_t *shape, int dtype, size_t halo) {
  unsigned long long mine[SMA_MAX_DIMS + 3] = {ndim, (unsigned long long)dtype, halo};
  for (size_t d = 0; d < ndim && d < SMA_MAX_DIMS; d++) mine[3 + d] = shape[d];
  unsigned long long lo[SMA_MAX_DIMS + 3], hi[SMA_MAX_DIMS + 3];
  int n = SMA_MAX_DIMS + 3;
  if (MPI_Allreduce(mine, lo, n, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS ||
      MPI_Allreduce(mine, hi, n, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm) != MPI_SUCCESS)
    return SMA_EOS;
  return memcmp(lo, hi, sizeof lo) == 0 ? 0 : SMA_EINVAL;
}

/* s as a whole number 1..INT_MAX written in decimal digits only, or -1:
 * strtol would also take leading blanks and a sign, so " 2" would be 2
 * while "2 " is refused. */
static int whole_number(const char *s) {
  long long v = 0; /* <= INT_MAX before each step: v * 10 + 9 fits */
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > INT_MAX) return -1;
  }
  return v > 0 ? (int)v : -1;
}

/* Rank 0's SMA_MPI_RANKS_PER_NODE: 0 when unset, -1 when not a whole
 * number 1..INT_MAX (empty counts as unset). Only rank 0 reads it and broadcasts it, because
 * mpirun does not forward the environment to remote hosts (Open MPI
 * needs -x): ranks that each read their own could call different splits
 * and wait for each other forever. */
static int ranks_per_node(MPI_Comm comm, int rank, int *per) {
  *per = 0;
  const char *env = rank == 0 ? getenv("SMA_MPI_RANKS_PER_NODE") : NULL;
  if (env != NULL && *env != '\0') *per = whole_number(env);
  return MPI_Bcast(per, 1, MPI_INT, 0, comm) == MPI_SUCCESS ? 0 : SMA_EOS;
}

/* Nodes: MPI's shared-memory groups, or SMA_MPI_RANKS_PER_NODE ranks each. */
static int split_nodes(sma_mpi_array_t *a) {
  int per;
  int rc = ranks_per_node(a->comm, a->rank, &per);
  if (rc != 0) return rc;
  if (per < 0) return SMA_EINVAL; /* the same verdict on every rank */
  int e = per > 0 ? MPI_Comm_split(a->comm, a->rank / per, a->rank, &a->node_comm)
                  : MPI_Comm_split_type(a->comm, MPI_COMM_TYPE_SHARED, a->rank, MPI_INFO_NULL,
                                        &a->node_comm);
  if (e != MPI_SUCCESS) return SMA_EOS;
  MPI_Comm_rank(a->node_comm, &a->node_rank);
  MPI_Comm_size(a->node_comm, &a->node_ranks);
  if (MPI_Comm_split(a->comm, a->node_rank == 0 ? 0 : MPI_UNDEFINED, a->rank, &a->leaders) !=
      MPI_SUCCESS)
    return SMA_EOS;
  if (a->leaders != MPI_COMM_NULL) {
    MPI_Comm_rank(a->leaders, &a->node);
    MPI_Comm_size(a->leaders, &a->nodes);
  }
  int layout[2] = {a->node, a->nodes};
  if (MPI_Bcast(layout, 2, MPI_INT, 0, a->node_comm) != MPI_SUCCESS) return SMA_EOS;
  a->node = layout[0], a->nodes = layout[1];
  return 0;
}

/* Rows of the node, its segment, the rank and its view. Every node must
 * own at least max(1, halo) rows, so a halo comes from one neighbour. */
static int plan_rows(sma_mpi_array_t *a) {
  size_t rows = a->shape[0], need = a->halo > 1 ? a->halo : 1;
  if (rows / (size_t)a->nodes < need) return SMA_EINVAL;
  share(rows, (size_t)a->nodes, (size_t)a->node, &a->node_first, &a->node_count);
  size_t below = min_size(a->halo, a->node_first);
  size_t above = min_size(a->halo, rows - a->node_first - a->node_count);
  a->seg_first = a->node_first - below;
  a->seg_count = below + a->node_count + above;
  if (one_segment) a->seg_first = 0, a->seg_count = rows;
  share(a->node_count, (size_t)a->node_ranks, (size_t)a->node_rank, &a->first, &a->count);
  a->first += a->node_first;
  a->view_first = a->first - min_size(a->halo, a->first - a->seg_first);
  size_t end = a->first + a->count;
  a->view_count = end + min_size(a->halo, a->seg_first + a->seg_count - end) - a->view_first;
  return 0;
}

/* Bytes of one row (axis 0 fixed), overflow-checked. */
static int row_bytes(size_t ndim, const size_t *shape, sma_dtype_t dtype, size_t *out) {
  size_t n = sma_dtype_size(dtype);
  for (size_t d = 1; d < ndim; d++) {
    if (shape[d] != 0 && n > SIZE_MAX / shape[d]) return SMA_EOVERFLOW;
    n *= shape[d];
  }
  *out = n;
  return 0;
}

/* The leader creates the node's segment; every rank learns its name. */
static int create_segment(sma_mpi_array_t *a, sma_dtype_t dtype, const char *prefix) {
  int rc = 0;
  MPI_Comm shared = one_segment ? a->comm : a->node_comm;
  if ((one_segment ? a->rank : a->node_rank) == 0) {
    size_t seg_shape[SMA_MAX_DIMS];
    memcpy(seg_shape, a->shape, sizeof seg_shape);
    seg_shape[0] = a->seg_count;
    rc = sma_build_name(prefix ? prefix : "mpi", a->name, &(size_t){sizeof a->name});
    if (rc == 0)
      rc = sma_new(&a->whole,
                   &(sma_array_desc_t){
                       .name = a->name, .ndim = a->ndim, .shape = seg_shape, .dtype = dtype});
    if (rc == 0 && (rc = sma_create(a->whole, 0)) != 0) {
      sma_free(a->whole);
      a->whole = NULL;
    }
  }
  if (MPI_Bcast(a->name, SMA_NAME_BUF, MPI_CHAR, 0, shared) != MPI_SUCCESS && rc == 0) rc = SMA_EOS;
  return rc;
}

/* Every rank opens its rows of the node's segment. A member that finds
 * no such name while the leader, who created it and holds it, opened it
 * by that name does not share the leader's shared memory: the node spans
 * hosts or containers. */
static int open_view(sma_mpi_array_t *a) {
  sma_slice_t rows = {(int64_t)(a->view_first - a->seg_first),
                      (int64_t)(a->view_first - a->seg_first + a->view_count), 1};
  int rc = sma_open(&a->view, a->name, &rows, 1), leader = rc;
  if (MPI_Bcast(&leader, 1, MPI_INT, 0, a->node_comm) != MPI_SUCCESS) return rc ? rc : SMA_EOS;
  return rc == SMA_ENOENT && a->node_rank != 0 && leader == 0 ? SMA_ENOTSHARED : rc;
}

static void release(sma_mpi_array_t *a) {
  remove_live(a);
  sma_free(a->view);
  if (a->whole != NULL) {
    sma_unlink(a->name);
    sma_free(a->whole);
  }
  if (a->leaders != MPI_COMM_NULL) MPI_Comm_free(&a->leaders);
  if (a->node_comm != MPI_COMM_NULL) MPI_Comm_free(&a->node_comm);
  free(a);
}

int sma_mpi_create(sma_mpi_array_t **out, MPI_Comm comm, const sma_array_desc_t *desc,
                   size_t halo) {
  static const sma_array_desc_t no_desc = {0};
  const sma_array_desc_t *d = desc != NULL ? desc : &no_desc;
  size_t ndim = d->ndim;
  const size_t *shape = d->shape;
  sma_dtype_t dtype = d->dtype;
  const char *prefix = d->name;
  /* The rows of each rank are the view's slice: a slice of the caller's
   * has no meaning here. */
  int rc = out == NULL || desc == NULL || d->nslice != 0 || shape == NULL || ndim == 0 ||
                   ndim > SMA_MAX_DIMS || sma_dtype_size(dtype) == 0
               ? SMA_EINVAL
               : 0;
  if (out != NULL) *out = NULL;
  sma_mpi_array_t *a = rc == 0 ? calloc(1, sizeof *a) : NULL;
  if (rc == 0 && a == NULL) rc = SMA_ENOMEM;
  if ((rc = agree(comm, rc)) == 0) rc = agree(comm, same_arguments(comm, ndim, shape, dtype, halo));
  if (rc != 0) {
    free(a);
    return rc;
  }
  a->comm = comm, a->node_comm = MPI_COMM_NULL, a->leaders = MPI_COMM_NULL;
  a->ndim = ndim, a->halo = halo;
  memcpy(a->shape, shape, ndim * sizeof *shape);
  MPI_Comm_rank(comm, &a->rank);
  rc = row_bytes(ndim, shape, dtype, &a->row_bytes);
  if (rc == 0)
    rc = agree(comm, split_nodes(a));
  else
    rc = agree(comm, rc);
  if (rc == 0) rc = agree(comm, plan_rows(a));
  if (rc == 0) rc = agree(comm, create_segment(a, dtype, prefix));
  if (rc == 0) rc = agree(comm, open_view(a));
  if (rc != 0) {
    MPI_Barrier(comm); /* every view closed before a leader unlinks */
    release(a);
    return rc;
  }
  add_live(a);
  *out = a;
  return 0;
}

int sma_mpi_free(sma_mpi_array_t *a) {
  if (a == NULL) return 0;
  int rc = sma_close(a->view);
  MPI_Barrier(a->node_comm); /* the node's views are closed */
  if (a->whole != NULL) {
    int u = sma_unlink(a->name);
    if (rc == 0) rc = u;
  }
  rc = agree(a->comm, rc);
  release(a);
  return rc;
}

const sma_view_t *sma_mpi_view(const sma_mpi_array_t *a) {
  return a != NULL ? sma_view_get(a->view) : NULL;
}

void sma_mpi_rows(const sma_mpi_array_t *a, size_t *first, size_t *count, size_t *view_first) {
  if (first) *first = a ? a->first : 0;
  if (count) *count = a ? a->count : 0;
  if (view_first) *view_first = a ? a->view_first : 0;
}

void sma_mpi_layout_get(sma_mpi_layout_t *out, const sma_mpi_array_t *a) {
  if (out == NULL) return;
  memset(out, 0, sizeof *out);
  if (a == NULL) return;
  out->nodes = a->nodes, out->node = a->node;
  out->node_ranks = a->node_ranks, out->node_rank = a->node_rank;
  out->bytes_sent = a->bytes_sent;
  memcpy(out->segment, a->name, sizeof out->segment);
}

/* Row r (global) of the node's segment, through the leader's mapping. */
static unsigned char *segment_row(const sma_mpi_array_t *a, size_t r) {
  return (unsigned char *)sma_data(a->whole) + (r - a->seg_first) * a->row_bytes;
}

/* The leaders swap `halo` rows with the neighbouring nodes' leaders. */
static int swap_halos(sma_mpi_array_t *a) {
  if (one_segment || a->leaders == MPI_COMM_NULL || a->halo == 0 || a->nodes < 2) return 0;
  if (a->halo > (size_t)INT_MAX / (a->row_bytes ? a->row_bytes : 1)) return SMA_EOVERFLOW;
  int n = (int)(a->halo * a->row_bytes);
  int up = a->node > 0 ? a->node - 1 : MPI_PROC_NULL;
  int down = a->node + 1 < a->nodes ? a->node + 1 : MPI_PROC_NULL;
  size_t end = a->node_first + a->node_count;
  /* My first rows go up and the rows below my segment's top come from up;
   * my last rows go down, and my bottom halo comes from down. */
  int n_up = up == MPI_PROC_NULL ? 0 : n, n_down = down == MPI_PROC_NULL ? 0 : n;
  unsigned char *top = segment_row(a, a->seg_first), *bottom = segment_row(a, end);
  if (MPI_Sendrecv(segment_row(a, a->node_first), n_up, MPI_BYTE, up, 1, top, n_up, MPI_BYTE, up, 2,
                   a->leaders, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
      MPI_Sendrecv(segment_row(a, end - a->halo), n_down, MPI_BYTE, down, 2, bottom, n_down,
                   MPI_BYTE, down, 1, a->leaders, MPI_STATUS_IGNORE) != MPI_SUCCESS)
    return SMA_EOS;
  a->bytes_sent += (uint64_t)n * ((up != MPI_PROC_NULL) + (down != MPI_PROC_NULL));
  return 0;
}

int sma_mpi_halo_exchange(sma_mpi_array_t *a) {
  int rc = enter(a, 0);
  if (rc != 0) return rc;
  MPI_Barrier(a->node_comm); /* the node's owned rows are written */
  rc = agree(a->comm, swap_halos(a));
  MPI_Barrier(a->node_comm); /* the halos are in place for every rank */
  return rc;
}

/* Byte counts and offsets of every rank's owned rows, for root. */
static int rank_rows(const sma_mpi_array_t *a, int root, int **counts, int **displs) {
  int size, rank;
  MPI_Comm_size(a->comm, &size);
  MPI_Comm_rank(a->comm, &rank);
  unsigned long long mine[2] = {a->first, a->count}, *all = NULL;
  *counts = *displs = NULL;
  int rc = 0;
  if (rank == root) {
    all = malloc(2 * sizeof *all * (size_t)size);
    *counts = malloc(sizeof **counts * (size_t)size);
    *displs = malloc(sizeof **displs * (size_t)size);
    if (all == NULL || *counts == NULL || *displs == NULL) rc = SMA_ENOMEM;
  }
  if (agree(a->comm, rc) != 0 || MPI_Gather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2,
                                            MPI_UNSIGNED_LONG_LONG, root, a->comm) != MPI_SUCCESS)
    rc = rc ? rc : SMA_EOS;
  for (int r = 0; rank == root && rc == 0 && r < size; r++) {
    unsigned long long off = all[2 * r] * a->row_bytes, len = all[2 * r + 1] * a->row_bytes;
    if (off > INT_MAX || len > INT_MAX)
      rc = SMA_EOVERFLOW;
    else
      (*displs)[r] = (int)off, (*counts)[r] = (int)len;
  }
  free(all);
  return rc;
}

static unsigned char *own_rows(const sma_mpi_array_t *a) {
  return (unsigned char *)sma_view_get(a->view)->data + (a->first - a->view_first) * a->row_bytes;
}

/* Every rank's owned rows to root's buf (gather), or from it (scatter). */
static int move_rows(const sma_mpi_array_t *a, int root, void *buf, int gather) {
  int *counts, *displs, rank;
  MPI_Comm_rank(a->comm, &rank);
  int rc = rank_rows(a, root, &counts, &displs);
  if (rank == root && buf == NULL && rc == 0) rc = SMA_EINVAL;
  if (a->count * a->row_bytes > INT_MAX && rc == 0) rc = SMA_EOVERFLOW;
  if ((rc = agree(a->comm, rc)) == 0) {
    int n = (int)(a->count * a->row_bytes);
    int e =
        gather
            ? MPI_Gatherv(own_rows(a), n, MPI_BYTE, buf, counts, displs, MPI_BYTE, root, a->comm)
            : MPI_Scatterv(buf, counts, displs, MPI_BYTE, own_rows(a), n, MPI_BYTE, root, a->comm);
    if (e != MPI_SUCCESS) rc = SMA_EOS;
  }
  free(counts);
  free(displs);
  return agree(a->comm, rc);
}

/* The start of a gather or scatter: enter(), and every rank named the
 * same root, a rank of the communicator. MPI aborts the job for a root
 * out of range, and ranks that name different roots wait for each other
 * for ever: both are SMA_EINVAL on every rank instead. One allreduce of
 * (code, root, -root) with MIN gives the worst code and the least and
 * greatest root. */
static int enter_rooted(const sma_mpi_array_t *a, int root) {
  MPI_Comm comm;
  int rc = 0;
  if (a != NULL)
    comm = a->comm;
  else if (only_live_comm(&comm))
    rc = SMA_EINVAL;
  else
    return SMA_EINVAL;
  int size = 0;
  if (MPI_Comm_size(comm, &size) != MPI_SUCCESS) rc = SMA_EOS;
  long long mine[3] = {rc, root, -(long long)root}, all[3];
  if (MPI_Allreduce(mine, all, 3, MPI_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS) return SMA_EOS;
  if (all[0] != 0) return (int)all[0];
  long long lowest = all[1], highest = -all[2];
  return lowest == highest && lowest >= 0 && lowest < size ? 0 : SMA_EINVAL;
}

int sma_mpi_gather(const sma_mpi_array_t *a, int root, void *buf) {
  int rc = enter_rooted(a, root);
  return rc != 0 ? rc : move_rows(a, root, buf, 1);
}

int sma_mpi_scatter(sma_mpi_array_t *a, int root, const void *buf) {
  int rc = enter_rooted(a, root);
  return rc != 0 ? rc : move_rows(a, root, (void *)(uintptr_t)buf, 0);
}
