/*
 * Declarations shared by the common modules of src/ (never installed).
 * Everything here is sma__-prefixed and includes no OS header.
 */
#ifndef SMA_INT_H
#define SMA_INT_H

#include "sma.h"
#include "platform.h"

#include <stdbool.h>

/* ---- text.c ------------------------------------------------------------------ */
/* A string result being written to a caller's buffer (see text.c for the
 * contract every such public function follows). */
typedef struct sma__text {
  char *buf;
  size_t cap, len; /* len counts what did not fit too */
} sma__text_t;

/* SMA_EINVAL for a NULL size, or a NULL buf with a nonzero *size. */
int sma__text_begin(sma__text_t *t, char *buf, const size_t *size);
void sma__text_put(sma__text_t *t, const char *s);
void sma__text_putf(sma__text_t *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* 0 and *size = length, or SMA_ENOBUFS and *size = bytes needed. */
int sma__text_end(sma__text_t *t, size_t *size);

/* p past any spaces, tabs and line ends: the parsers' one notion of blank. */
const char *sma__skip_blanks(const char *p);

/* ---- error.c ----------------------------------------------------------------- */
/* The end of a public call that takes a name rather than an object: on
 * failure, leaves the OS's reason (os_err, 0 when the failure was not the
 * OS's) where sma_last_os_error() reads it. Returns rc. */
int sma__named_result(int rc, int os_err);

/* ---- index.c ----------------------------------------------------------------- */
/* Whether this backend lists through the per-user index (caps.can_list 0). */
bool sma__index_used(void);
/* Best-effort; no-ops where the index is not used. Entries are object
 * names (sma__os_name), not full names. */
/* sma_create()'s entry: added before its segment exists, and the index
 * held (sma__os_index_lock, shared) until the create has published its
 * name or failed, so that no listing drops the entry meanwhile. */
typedef struct sma__index_hold {
  intptr_t dir;
  bool held;
} sma__index_hold_t;
void sma__index_add(const char *os_name, sma__index_hold_t *hold);
void sma__index_release(sma__index_hold_t *hold);
void sma__index_forget(const char *os_name);
/* Calls fn for each indexed object name whose object exists, dropping the
 * others. SMA_EINDEX if the directory is not this user's own. */
int sma__index_list(int (*fn)(const char *name, void *user), void *user, int *os_err);

/* ---- os_name.c ------------------------------------------------------------- */
/* The longest name libsma accepts on every backend (sma_name_max()). */
#define SMA__NAME_MAX (SMA_NAME_BUF - 1)

/* The OS's own limit on an object's name (the backend's caps.max_name). */
size_t sma__os_name_max(void);

/* The 13 base-32 characters (and a NUL) of name's 64-bit hash. */
void sma__name_digest(const char *name, char out[14]);

/* The name of the OS object behind the segment `name` (a valid name):
 * the name itself where it fits the OS's limit, otherwise a digest of it
 * (see os_name.c). Every OS call of common code takes this name. */
int sma__os_name(const char *name, char out[SMA_NAME_BUF]);

/* Whether the object os_name of `name` may also be another name's: it is
 * a digest of name, or has a digest's form (a short name spelling a long
 * one's digest). Only then can its record name another segment. */
bool sma__os_name_shared(const char *name, const char *os_name);

/* The segment name behind the object name os_name, as a listing found it:
 * the full name its record keeps where os_name is that name's digest,
 * os_name itself otherwise. Opens the object only when os_name has a
 * digest's form. 0, or the error of opening it (SMA_ENOENT: gone). */
int sma__segment_name(const char *os_name, char name[SMA_NAME_BUF]);

/* Whether a record read from the object of `name` is that segment's: 0
 * yes; SMA_ENOENT when it is another name's whose object name is the same
 * (a collision of digests: the segment `name` does not exist);
 * SMA_ECORRUPT for any other name (a link or a copy). */
struct sma__record;
int sma__record_names(const struct sma__record *rec, const char *name);

/* What a read of the record of `name`'s object that returned `fetched`
 * (*rec set where 0 or SMA_EBYTEORDER) means for `name`: `fetched`, or
 * sma__record_names()'s verdict on the record; and where the object may
 * be another name's (sma__os_name_shared), SMA_ENOENT instead of
 * SMA_ENORECORD: only a record naming `name` makes the object its. */
int sma__record_verdict(int fetched, const struct sma__record *rec, const char *name);

/* ---- dtype.c -------------------------------------------------------------- */
bool sma__dtype_valid(sma_dtype_t dtype);

/* ---- size arithmetic (inline; sma__array_bytes in record.c) ---------------- */
/* (sma__fits_size_t, which backends use too, is in platform.h.) */

/* *out = a * b; false on overflow. */
static inline bool sma__mul_ok(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > (size_t)-1 / a) return false;
  *out = a * b;
  return true;
}
/* *out = a + b; false on overflow. */
static inline bool sma__add_ok(size_t a, size_t b, size_t *out) {
  if (b > (size_t)-1 - a) return false;
  *out = a + b;
  return true;
}
/* Rounds v up to a multiple of the power of two `align`; false on overflow. */
static inline bool sma__round_up_ok(size_t v, size_t align, size_t *out) {
  if (!sma__add_ok(v, align - 1, out)) return false;
  *out &= ~(align - 1);
  return true;
}

/* Bytes of an array: itemsize x prod(shape), checked so that every C-order
 * stride also fits in ptrdiff_t. SMA_EOVERFLOW otherwise. */
int sma__array_bytes(size_t ndim, const size_t *shape, size_t itemsize, size_t *bytes);

/* ---- array.c ------------------------------------------------------------------ */
/* Marks an unloaded object persistent (a descriptor said so). */
void sma__mark_persistent(sma_t *a);

/* ---- slice.c -------------------------------------------------------------- */
/* Resolves one slice against a dimension of length len, as Python's
 * slice.indices() + len(range(...)): *start is the first index, *step the
 * step and *count the number of elements; an empty result gives start 0
 * and step 1, as NumPy's views do. SMA_ESTEP for a zero step. */
int sma__slice_resolve(const sma_slice_t *s, size_t len, int64_t *start, int64_t *step,
                       size_t *count);

/* Fills *view for the C-order array at `base` with the given slices
 * (nslice <= ndim; missing ones are whole dimensions). */
int sma__view_build(sma_view_t *view, void *base, size_t ndim, const size_t *shape,
                    sma_dtype_t dtype, const sma_slice_t *slices, size_t nslice);

/* ---- npy.c ------------------------------------------------------------------- */
/* The longest .npy header read (NumPy itself refuses more than 10,000
 * bytes by default). */
#define SMA__NPY_HEADER_MAX 65536u

/* What a .npy header says. */
typedef struct sma__npy_header {
  sma_dtype_t dtype;
  bool swap;    /* the data has the other byte order */
  bool fortran; /* the data is in Fortran order */
  size_t ndim;
  size_t shape[SMA_MAX_DIMS];
  size_t data_offset; /* bytes before the first element */
  size_t data_bytes;  /* itemsize x prod(shape), overflow-checked */
} sma__npy_header_t;

/* The magic, version and header length of the n bytes at buf:
 * SMA_ENPY unless they start a .npy file this version reads. */
int sma__npy_prefix(const unsigned char *buf, size_t n, size_t *header_len, size_t *prefix_len);
/* Parses a whole preamble (magic to the end of the header) held in buf.
 * SMA_ENPY for anything malformed or truncated, SMA_EDTYPE for a dtype
 * libsma has no counterpart for (objects, strings, structured), SMA_ENDIM,
 * SMA_EOVERFLOW. */
int sma__npy_header_parse(const unsigned char *buf, size_t n, sma__npy_header_t *h);

/* ---- info.c ------------------------------------------------------------------ */
/* sma_info_get(), also giving the identity of the OS object it examined;
 * huge_pages asks the kernel about huge pages (a page mapped, smaps read),
 * which gc's sma_collect() does not need (-1 then). */
int sma__inspect(const char *name, sma_info_t *out, uint64_t ident[2], bool huge_pages);

/* Whether this thread is inside a sma_list() callback: that walk began
 * with sma__gc_recover() and counts mappers from one snapshot, so a
 * sma_collect() made from it need not recover again for each segment
 * (one reading of every intent per segment made `sma gc` O(segments x
 * intents)). */
bool sma__in_listing(void);

/* ---- collect.c --------------------------------------------------------------- */
/* The one verdict on a creator: 1 it may still run (or hold anything), 0
 * provably gone, -1 cannot be judged here. A different boot is gone. A
 * pid names a process here only when both pid namespaces are known and
 * equal; otherwise unknown, never a guess. `start` (0: not known) tells a
 * reused pid from the creator. */
int sma__creator_state(uint64_t pid, uint64_t pidns, const unsigned char boot_id[16],
                       uint64_t start);

/* Undoes what a gc that is provably gone left half-done (a System V
 * segment it revoked to mode 0), before anything lists or judges. */
void sma__gc_recover(void);

/* ---- intent.c ---------------------------------------------------------------- */
/* One intent entry as read back (the writing side is in platform.h). */
typedef struct sma__intent {
  char entry[32];
  uint64_t pid, pidns, start;
  unsigned char boot_id[16];
  char object[SMA_STRAY_LABEL];
} sma__intent_t;

/* Calls fn for every well-formed intent entry of this user's; nonzero
 * stops the walk with that value. */
int sma__intent_walk(int (*fn)(const sma__intent_t *it, void *user), void *user);

/* ---- crc32.c ------------------------------------------------------------------ */
/* CRC-32 as zlib computes it, by the fastest path this CPU has. */
uint32_t sma__crc32(const void *data, size_t n);
/* The paths behind it, for the tests: the portable tables (every CPU),
 * and the carry-less multiply folding, which returns false (and leaves
 * *crc alone) where this build or CPU has none. Same value, any input. */
uint32_t sma__crc32_tables(const void *data, size_t n);
bool sma__crc32_clmul(const void *data, size_t n, uint32_t *crc);

/* ---- record.c --------------------------------------------------------------- */
/* The metadata record that ends every segment libsma creates. Fields are
 * fixed-width little-endian on disk; see record.c for the byte layout.
 * Its size, SMA__RECORD_SIZE, is in platform.h: backends store it. */
#define SMA__DATA_ALIGN 64u

typedef struct sma__record {
  uint64_t data_bytes;
  size_t ndim;
  size_t shape[SMA_MAX_DIMS];
  sma_dtype_t dtype;
  uint64_t creator_pid;
  int64_t created_ns;
  unsigned char boot_id[16];
  uint64_t pidns;         /* creator's pid namespace, 0 if none */
  uint64_t creator_start; /* creator's start time (sma__os_pid_start), 0 if
                             unknown or written before the field existed */
  bool persistent;        /* SMA_CREATE_PERSIST: gc never collects it */
  char name[SMA_NAME_BUF];
} sma__record_t;

/* Segment size for an array of data_bytes: the array, padding to 64 bytes,
 * the record, all rounded up to `granularity`. SMA_EOVERFLOW if it does
 * not fit. */
int sma__record_layout(size_t data_bytes, size_t granularity, size_t *segment_size);

/* Encodes the record: the SMA__RECORD_SIZE bytes that end the segment. */
void sma__record_encode(const sma__record_t *rec, unsigned char out[SMA__RECORD_SIZE]);

/* Checks and decodes `bytes`, the last SMA__RECORD_SIZE bytes of a
 * segment of segment_size bytes. SMA_ENORECORD if there is none (too
 * small, no magic); SMA_ECORRUPT if it is present but inconsistent;
 * SMA_EBYTEORDER if it is intact but its data has the other byte order,
 * and then only rec->name is filled (the segment can still be found). */
int sma__record_decode(const unsigned char *bytes, size_t segment_size, sma__record_t *rec);

/* Reads and checks the record at the end of a mapped segment (used where
 * the mapping cannot fault: System V, tests, fuzzers). */
int sma__record_read(const void *segment, size_t segment_size, sma__record_t *rec);

/* ---- segment_open.c ---------------------------------------------------------- */
/* Reads the record of an opened segment through sma__os_read (never
 * through the mapping, which can raise SIGBUS on a sparse or truncated
 * segment) and checks it. Errors: those of sma__record_decode, and of
 * sma__os_read (os_err set). */
int sma__record_fetch(const sma__os_segment_t *seg, sma__record_t *rec, int *os_err);

/* Opens the segment `name` (its OS object: sma__os_name; read-only with
 * `readonly`, see sma__os_open) and reads its record: the one way common
 * code opens a segment by name. 0: open, *rec is its record and names it.
 * SMA_ENORECORD: open (a segment another program made), *rec unset;
 * never where the object may be another name's (sma__record_verdict:
 * SMA_ENOENT then). Otherwise nothing stays open: errors of sma__os_open() and
 * sma__record_fetch(), or those of sma__record_names() for a record
 * naming another segment. */
int sma__segment_open(const char *name, int readonly, sma__os_segment_t *seg, sma__record_t *rec,
                      int *os_err);

#endif /* SMA_INT_H */
