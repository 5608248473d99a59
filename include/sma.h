/**
 * @file sma.h
 * libsma — named shared-memory N-dimensional arrays.
 *
 * A C counterpart of gridr's SharedMemoryArray: a parent creates a named
 * segment holding an array (shape, dtype), hands the name to workers, each
 * worker loads it (optionally through a NumPy-style slice), works on it in
 * place and closes it; the parent finally unlinks every name it registered.
 *
 * Conventions that hold for every function below:
 *  - Functions that can fail return 0 on success or a negative SMA_E* code.
 *    sma_strerror() explains a code, sma_err_name() names it.
 *  - When an OS call fails, its error number (errno, or GetLastError() on
 *    Windows) is stored in the object involved (sma_os_error()) and is also
 *    left in errno / GetLastError() when the function returns. Calls that
 *    take a name rather than an object (sma_info_get(), sma_open(),
 *    sma_unlink(), sma_collect()...) have no object to keep it in: when
 *    one fails, sma_last_os_error() gives the OS's reason, or 0 when the
 *    failure was not the OS's. sma_os_strerror() describes a number.
 *  - The library never prints, aborts or exits, and a failed call leaves
 *    nothing behind: no half-created segment, no leaked handle or memory.
 *  - Pointers documented as "borrowed" stay owned by the library object and
 *    are valid until that object changes state or is freed.
 *  - No global mutable state except the name counter (sma_name_counter()),
 *    the mapping cache (below), caches of values fixed for the process's
 *    life: the boot id and the pid namespace (Linux, read once for the
 *    metadata record; a forked child reads its pid namespace again, as it
 *    may live in another), and, on Windows, the handles that keep this
 *    process's created segments alive until it unlinks them.
 *  - Threads (proven under ThreadSanitizer by tests/test_threads.c):
 *    every function may be called from any thread, and from many threads
 *    at once on distinct objects. An object (sma_t, sma_registry_t) is
 *    used by one thread at a time: a call that changes it (a non-const
 *    parameter: sma_create*(), sma_load(), sma_close(), sma_free(),
 *    sma_registry_add(), sma_registry_clear(), sma_create_and_register()'s
 *    registry, sma_wrap()'s arrays...) must not overlap any other call on
 *    it; calls that take it const (sma_name(), sma_view_get(), sma_data(),
 *    sma_describe(), sma_clone()'s source, sma_npy_write(),
 *    sma_registry_count()...) may run on it in many threads at once while
 *    nothing changes it. To share a registry between threads, hold one
 *    lock of yours around every call on it. Many sma_t of one segment,
 *    each in its own thread, are the way to share a segment: they share
 *    one mapping (the cache, below) and may load and close at any time.
 *    The array's elements are plain memory: the library orders no access
 *    to them, so threads (and processes) writing the same elements need
 *    their own synchronisation; disjoint elements may be written at once.
 *    Calls that take a name (sma_open(), sma_info_get(), sma_list(),
 *    sma_collect(), sma_unlink(), sma_build_name()...) meet other threads'
 *    creates and unlinks as they meet other processes': sma_list() skips a
 *    segment removed while it walks. Callbacks (sma_fill_fn, sma_list_fn,
 *    sma_wrap_fn...) run on the calling thread, before the call returns.
 *    sma_last_os_error() is per thread (errno, GetLastError()), and
 *    sma_os_error() per object. The process-wide state and what guards it:
 *    the name counter, one atomic counter (names are distinct across
 *    threads); the boot id, atomics filled once (racing fillers store the
 *    same value); the pid namespace and start time caches, atomics tagged
 *    with the pid they were read for; SMA_MAP_CACHE, read once into an
 *    atomic; the mapping cache, a list behind one mutex that is never held
 *    across an OS call; the Windows list of kept handles, an SRW lock.
 *    Intent entries and the per-user index live in files (an intent is
 *    created exclusively under a name of its own, an index entry is named
 *    after its segment), not in memory the threads share.
 *    Reading the environment (SMA_MAP_CACHE, TMPDIR) is getenv(), as unsafe
 *    as any against a concurrent setenv() in another thread.
 *  - fork(): any thread may fork while others are inside libsma, and the
 *    child may use the library at once: libsma's at-fork handlers
 *    (registered when the library is loaded, so that a first call made
 *    while another thread forks, or from a program's own at-fork handler,
 *    never meets a fork that runs none of them) hold no lock across the
 *    fork; the child makes its copy of the mapping cache its own if no
 *    thread of the parent was changing it at that instant (its copy of the
 *    cache's lock is free) and every descriptor the cache names came with
 *    the copy (one fstat each: the kernel copies descriptors a moment
 *    before memory), and otherwise bypasses the cache (as a raw clone
 *    does, below); it reads its pid namespace and start time afresh.
 *    The program's own at-fork handlers, and threads they hand work to, may
 *    call libsma, whether registered before or after libsma's, and may fork
 *    again (a child at the end of a chain of more than 32 forks nested in
 *    handlers bypasses the cache); a close made in a child before libsma's
 *    child handler has run (by a handler registered before libsma's, or a
 *    thread it started) is settled by that handler. The child keeps the
 *    arrays it inherited loaded (their mappings are its own too); it must
 *    not use an object that another thread of the parent was changing during
 *    the fork.
 *    A library loaded while another thread forks (dlopen() of libsma, or
 *    of a library that needs it) has its handlers registered during that
 *    fork, which runs none of them: that fork's child, or the children it
 *    forks in turn, may bypass the cache as below (correct, with every
 *    load mapped afresh); load libsma before starting threads that fork.
 *    A child made by a raw clone() or _Fork() runs no handler, and libsma
 *    never waits there (nor in its at-fork handlers, should it fork() in
 *    turn) for a lock of its own that a thread of the parent may have held:
 *    the pid tags above keep it from using its parent's caches, and the
 *    mapping cache's lock is tagged with the pid of the process that owns it
 *    (checked, an atomic read, before the lock is taken), so such a child,
 *    and any child it forks, bypasses the cache: its loads map afresh, and
 *    closing an array it inherited loaded leaves the mapping shared with its
 *    other inherited arrays in place (freed when it exits or execs). libsma
 *    does call malloc(), free() and, for a read-only open that meets a
 *    lease, fopen(): POSIX promises such a child only async-signal-safe
 *    functions, and glibc resets its malloc's locks in fork() but not in
 *    _Fork(), so a _Fork() child may use libsma only where its C library
 *    makes malloc() safe there (for instance while no other thread of the
 *    parent can be inside malloc()); otherwise exec or use fork(). A raw
 *    clone(CLONE_NEWPID) of a pid 1 (a container's first process) is pid 1
 *    too: the lock's tag then also holds the owner's pid namespace, read at
 *    each take (one stat of /proc, for pid 1 only; with no /proc mounted
 *    such a pid 1 bypasses the cache, and its closes still release what its
 *    earlier loads held: a close that finds the cache's lock busy leaves
 *    its release to the thread holding it, never waiting).
 *    A new pid namespace numbers its processes afresh, so a raw clone of
 *    such a clone may even get the owner's pid number: on Linux 4.14 and
 *    later the owner also marks itself in a page of its own (one page, for
 *    the process's life) that every fork-style copy gets zeroed
 *    (MADV_WIPEONFORK), and a take without the mark is refused; where the
 *    kernel has marks but the page cannot be had (no memory, RLIMIT_AS), the
 *    process does not own the cache until it can (its loads map afresh).
 *    Without the mark (an older kernel; an emulator such as qemu-user, which
 *    accepts the advice and ignores it; a program that undoes it with
 *    MADV_KEEPONFORK) a raw clone that gets its owner's pid number (in a new
 *    pid namespace, after setns(), or once the owner has exited and its
 *    number is reused) is not told apart from its owner. A child that shares
 *    its parent's memory (vfork(), clone(CLONE_VM)) shares its caches and
 *    lock: as POSIX says of vfork(), it may only exec or _exit.
 *
 * The mapping cache: loads of one segment in one process share one
 * mapping (sma_load(), sma_open()), so loading many slices of one array
 * costs about a pointer each, not a mapping each. Every load still asks
 * the OS which object the name names now (one stat-sized call) and reads
 * and checks the record: a name unlinked and made again maps the new
 * segment, while arrays loaded from the old one keep it. Release policy:
 * a mapping is unmapped, and its handle closed, with the last sma_close()
 * of the arrays sharing it, exactly as without the cache; so to reuse one
 * mapping across many short loads, keep one array of the segment loaded
 * meanwhile. sma_os_handle() of arrays sharing a mapping is the same
 * handle (borrowed: never close it). Where the OS cannot identify a name
 * without opening it (Windows, macOS) every load maps afresh. Opt-out: the
 * environment variable SMA_MAP_CACHE=0, read at the first load, makes every
 * load map afresh.
 */
#ifndef SMA_H
#define SMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version (single source: CMake reads these lines) ------------------ */
#define SMA_VERSION_MAJOR 1 /**< Incompatible API or ABI changes. */
#define SMA_VERSION_MINOR 0 /**< Compatible additions. */
#define SMA_VERSION_PATCH 0 /**< Fixes. */

/* ---- Export and attribute macros --------------------------------------- */
/** @def SMA_API
 * Marks the library's exported functions: dllexport while building the
 * Windows DLL, dllimport for its users (define SMA_STATIC when linking the
 * static library; CMake and pkg-config do it for you), default visibility
 * on GCC/Clang, where everything else is hidden. */
#if defined(SMA_STATIC)
#  define SMA_API
#elif defined(_WIN32) || defined(__CYGWIN__)
#  if defined(SMA_BUILDING)
#    define SMA_API __declspec(dllexport)
#  else
#    define SMA_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define SMA_API __attribute__((visibility("default")))
#else
#  define SMA_API
#endif

/** SMA_DEPRECATED("message") marks a declaration as deprecated, using the
 * best attribute the compiler offers (C23 [[deprecated]], GCC/Clang
 * __attribute__, MSVC __declspec) and nothing where none exists. It is the
 * counterpart of gridr's `deprecated` decorator. */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ > 201710L && !defined(__cplusplus)
#  define SMA_DEPRECATED(msg) [[deprecated(msg)]]
#elif defined(__GNUC__) || defined(__clang__)
#  define SMA_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#  define SMA_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#  define SMA_DEPRECATED(msg)
#endif

/* ---- Errors ------------------------------------------------------------ */
/** The error table, XX(NAME, value, message): expands to the SMA_E*
 * enumerators, sma_strerror() and sma_err_name(). */
#define SMA_ERRNO_MAP(XX)                                                                          \
  XX(EINVAL, -1, "invalid argument")                                                               \
  XX(ENOMEM, -2, "out of memory")                                                                  \
  XX(EEXIST, -3, "a shared-memory segment with this name already exists")                          \
  XX(ENOENT, -4, "no shared-memory segment with this name")                                        \
  XX(EACCES, -5, "permission denied")                                                              \
  XX(ENAME, -6,                                                                                    \
     "invalid name (empty, \".\" or \"..\", not UTF-8, or with '/', '\\' or a control character)") \
  XX(ENAMETOOLONG, -7, "name longer than 255 bytes (sma_name_max())")                              \
  XX(EDTYPE, -8, "unknown or unsupported dtype")                                                   \
  XX(EBYTEORDER, -9, "dtype byte order is not this machine's")                                     \
  XX(ENDIM, -10, "more dimensions than SMA_MAX_DIMS")                                              \
  XX(EOVERFLOW, -11, "array byte size does not fit in memory")                                     \
  XX(ESLICE, -12, "malformed slice")                                                               \
  XX(ESTEP, -13, "slice step is zero")                                                             \
  XX(ETOOMANYSLICES, -14, "more slices than array dimensions")                                     \
  XX(ETOOSMALL, -15, "segment is smaller than shape x dtype")                                      \
  XX(EMISMATCH, -16, "shape or dtype differs from the segment's record")                           \
  XX(ENORECORD, -17, "segment has no libsma metadata record")                                      \
  XX(ECORRUPT, -18, "segment metadata record is corrupt")                                          \
  XX(ENOSPC, -19, "no space left for shared memory")                                               \
  XX(ELIMIT, -20, "a system limit was reached")                                                    \
  XX(ESTATE, -21, "object is not in the state this call needs")                                    \
  XX(EBOUNDS, -22, "index out of bounds")                                                          \
  XX(ENOTSUP, -23, "not supported by this backend")                                                \
  XX(ETOOBIG, -24, "segment too large for the system (System V: shmmax) or to map here")           \
  XX(EDESCRIPTOR, -25, "malformed array descriptor")                                               \
  XX(EOS, -26, "operating-system error (see sma_os_error)")                                        \
  XX(EBUSY, -27, "segment is still being created (or its creator died while creating it)")         \
  XX(EINUSE, -28, "segment is in use, or its creator may still run: not provably orphaned")        \
  XX(EREPLACED, -29, "the name now refers to another segment than the one checked")                \
  XX(ENOBUFS, -30, "buffer too small for the result")                                              \
  XX(EINDEX, -31,                                                                                  \
     "the per-user index directory is not this user's own (another owner, a symlink, or not a "    \
     "directory)")                                                                                 \
  XX(ESHAPE, -32, "malformed shape (expected D0,D1,... or ())")                                    \
  XX(ENPY, -33,                                                                                    \
     "not a NumPy .npy file this version reads (magic, version, header, or data cut short)")       \
  XX(EIO, -34, "the stream's read or write callback failed")                                       \
  XX(ENOTSHARED, -35,                                                                              \
     "the ranks of one MPI node do not share memory: a member cannot see its leader's segment (a " \
     "node spanning hosts or containers)")

/** Error codes: 0 is success, every failure a negative SMA_E* value, the
 * same on every backend (see SMA_ERRNO_MAP for each one's meaning). */
typedef enum sma_error {
#define SMA__ERR_ENUM(name, value, msg) SMA_##name = (value),
  SMA_ERRNO_MAP(SMA__ERR_ENUM)
#undef SMA__ERR_ENUM
      SMA_OK = 0
} sma_error_t;

/** Returns a static English sentence for an SMA_E* code, "success" for 0 and
 * "unknown error" for anything else. Never NULL; not to be freed. */
SMA_API const char *sma_strerror(int err);

/** Returns the code's name ("SMA_EEXIST"), "SMA_OK" or "SMA_EUNKNOWN".
 * Never NULL; not to be freed. */
SMA_API const char *sma_err_name(int err);

/** The OS's reason for the last failure of a libsma call on this thread:
 * its error number (errno, or GetLastError() on Windows). After a call
 * that takes a name rather than a loaded object fails — sma_info_get(),
 * sma_open(), sma_unlink(), sma_clear_buffers(), sma_collect(),
 * sma_collect_stray(), sma_list(), sma_list_strays(),
 * sma_create_and_register() — it is the number of the OS
 * call that failed, or 0 when the failure was not the OS's (a bad name,
 * a segment without a record, a full buffer...). Read it at once: any
 * later call, of libsma or of the C library, may change it. (An object's
 * own failures are also kept in the object: sma_os_error().) The value is
 * the calling thread's own; never fails. */
SMA_API int sma_last_os_error(void);

/** Writes a description of an OS error number (from sma_last_os_error()
 * or sma_os_error()) to buf: its symbolic name where known and the OS's
 * message, e.g. "ELOOP: Too many levels of symbolic links" ("errno N:
 * ..." for a number without a known name; Windows: "error 5: Access is
 * denied."). `size` as for sma_slice_format(); 256 bytes always suffice
 * (a longer message is cut short). Thread-safe. Errors: SMA_EINVAL,
 * SMA_ENOBUFS. */
SMA_API int sma_os_strerror(int os_err, char *buf, size_t *size);

/** Version as MAJOR*10000 + MINOR*100 + PATCH, from the library actually
 * linked (compare with the SMA_VERSION_* macros of the header compiled). */
SMA_API unsigned sma_version(void);

/** Name of the backend compiled in: "posix", "sysv" or "win32". */
SMA_API const char *sma_backend(void);

/** What the compiled backend can do, as data (see the table in docs/backends.md). */
typedef struct sma_caps {
  const char *backend;        /**< "posix", "sysv", "win32" */
  size_t max_name;            /**< longest name in bytes, NUL excluded:
                                 sma_name_max(), 255 everywhere */
  size_t granularity;         /**< segment sizes are multiples of this */
  int size_is_exact;          /**< the OS reports a segment's size exactly */
  int can_list;               /**< segments can be enumerated */
  int unlink_keeps_maps;      /**< mappings stay valid after unlink */
  int outlives_creator;       /**< a segment survives its creator's exit until
                                 unlinked (0 on Windows: the last handle's
                                 close removes it) */
  int unlink_by_creator_only; /**< only the creating process can remove a
                                 name (Windows) */
  int proves_unused;          /**< the OS shows who maps a segment, so
                                 sma_info_get() counts attached processes and
                                 sma_collect() can prove a segment orphaned
                                 (0: POSIX on macOS, Windows) */
  int reserves_memory;        /**< sma_create() reserves the segment's memory
                                 (unless SMA_CREATE_NORESERVE), so a store
                                 too full for it fails there, not with SIGBUS
                                 at first touch (0: POSIX on macOS, where a
                                 segment is plain memory, with no store to
                                 fill) */
  uint64_t max_segment;       /**< largest segment the OS allows now, in bytes
                                 (System V: shmmax, 4 MiB by default on
                                 macOS); 0 when there is no such fixed limit
                                 (POSIX: /dev/shm's free space decides) */
  uint64_t reserved[8];       /**< Zero. Room for the fields of later minor
                                 releases, so that the struct keeps its size
                                 (docs/abi.md). */
} sma_caps_t;

/** Fills *out with the backend's capabilities. NULL is ignored. */
SMA_API void sma_caps_get(sma_caps_t *out);

/* ---- dtypes ------------------------------------------------------------ */
/** Every fixed-size numeric NumPy dtype, in native byte order. */
typedef enum sma_dtype {
  SMA_BOOL,
  SMA_INT8,
  SMA_INT16,
  SMA_INT32,
  SMA_INT64,
  SMA_UINT8,
  SMA_UINT16,
  SMA_UINT32,
  SMA_UINT64,
  SMA_FLOAT16,
  SMA_FLOAT32,
  SMA_FLOAT64,
  SMA_COMPLEX64,
  SMA_COMPLEX128,
  SMA_DTYPE_COUNT
} sma_dtype_t;

/** Parses a NumPy dtype spelling: names ("float32", "uint8", "bool"), type
 * codes ("f4", "u1", "?", "b1", "d", "B"...) and type strings with a byte
 * order ("<f4", "=f4", "|u1"; ">" on a little-endian machine is rejected).
 * Errors: SMA_EINVAL (NULL), SMA_EDTYPE (unknown), SMA_EBYTEORDER. */
SMA_API int sma_dtype_parse(sma_dtype_t *out, const char *text);

/** Item size in bytes; 0 for a value outside the enum. */
SMA_API size_t sma_dtype_size(sma_dtype_t dtype);

/** Canonical NumPy name ("float32"); NULL for a value outside the enum. */
SMA_API const char *sma_dtype_name(sma_dtype_t dtype);

/** NumPy type string with this machine's byte order ("<f4", "|u1");
 * NULL for a value outside the enum. */
SMA_API const char *sma_dtype_str(sma_dtype_t dtype);

/* ---- Slices ------------------------------------------------------------ */
/** Most dimensions an array may have, as in NumPy. */
#define SMA_MAX_DIMS 32
/** An omitted start, stop or step (Python's None). */
#define SMA_NONE INT64_MIN

/** One dimension of a NumPy basic slice start:stop:step. Any field may be
 * SMA_NONE. Negative indices count from the end; out-of-range bounds are
 * clamped as Python does; a step of 0 is an error when applied. */
typedef struct sma_slice {
  int64_t start; /**< First index (SMA_NONE: from the start, or the end if step < 0). */
  int64_t stop;  /**< Index not reached (SMA_NONE: to the end, or the start if step < 0). */
  int64_t step;  /**< Stride in elements (SMA_NONE: 1); never 0. */
} sma_slice_t;

/** Shorthand for the whole dimension, i.e. ":". */
#define SMA_SLICE_ALL                                                                              \
  { SMA_NONE, SMA_NONE, SMA_NONE }

/** Parses the text form of a slice tuple, e.g. "10:20, ::2, -5:" or "::-1".
 * Writes at most `cap` slices to `out` and their number to `*count`. An
 * empty or blank text is zero slices. Integer indices and "..." are not
 * slices and are rejected. Errors: SMA_EINVAL (NULL), SMA_ESLICE
 * (malformed, or an integer that does not fit int64), SMA_ESTEP (a literal
 * step of 0), SMA_ETOOMANYSLICES (more than `cap`). */
SMA_API int sma_slice_parse(sma_slice_t *out, size_t cap, size_t *count, const char *text);

/** Writes the text form of `count` slices to buf (NUL-terminated), using
 * the same syntax sma_slice_parse() reads.
 *
 * Every function of libsma that writes text takes `size` as libuv does:
 * *size is buf's capacity in bytes on entry; on success it becomes the
 * length written (without the NUL); when buf is too small the call returns
 * SMA_ENOBUFS, buf holds "" (if *size > 0), and *size becomes the bytes
 * the result needs, NUL included. buf may be NULL when *size is 0, to ask
 * for that size. Here 64 bytes per slice always suffice.
 * Errors: SMA_EINVAL (NULL slices with count > 0, NULL size, NULL buf with
 * *size > 0), SMA_ENOBUFS. */
SMA_API int sma_slice_format(const sma_slice_t *slices, size_t count, char *buf, size_t *size);

/* ---- Shapes -------------------------------------------------------------- */
/** Parses a shape as the descriptor and the `sma` command write it:
 * extents in decimal separated by commas ("512,512", "7"), or "()" (or an
 * empty text) for a 0-d array. Python's tuple spelling is accepted too:
 * "(512, 512)", "(7,)". Writes at most `cap` extents to `shape` and their
 * number to *ndim. Errors: SMA_EINVAL (NULL), SMA_ESHAPE (malformed),
 * SMA_ENDIM (more than `cap` extents), SMA_EOVERFLOW (an extent that does
 * not fit this machine's size_t: never truncated). */
SMA_API int sma_shape_parse(size_t *shape, size_t cap, size_t *ndim, const char *text);

/** Writes a shape as sma_shape_parse() reads it: "512,512", or "()" for
 * ndim 0. `size` as for sma_slice_format(); 21 bytes per extent (and 3
 * for "()") always suffice. Errors: SMA_EINVAL, SMA_ENOBUFS. */
SMA_API int sma_shape_format(const size_t *shape, size_t ndim, char *buf, size_t *size);

/* ---- Views ------------------------------------------------------------- */
/** What a loaded array looks like after its slice: data points at element
 * [0,...,0] of the view; strides are in bytes and may be negative. They
 * are NumPy's, but for a dimension of one element whose slice step jumps
 * past the end at once by more bytes than ptrdiff_t holds (NumPy wraps
 * that product around): its stride, never used, is 0. */
typedef struct sma_view {
  void *data;                 /**< Element [0,...,0] of the view (the array base if it is empty). */
  size_t ndim;                /**< Number of dimensions. */
  size_t shape[SMA_MAX_DIMS]; /**< Extent of each dimension after the slice. */
  ptrdiff_t strides[SMA_MAX_DIMS]; /**< Bytes between neighbours in each dimension. */
  sma_dtype_t dtype;               /**< Element type. */
  size_t itemsize;                 /**< Bytes per element. */
} sma_view_t;

/** Address of element `index` (ndim entries) of a view. No bounds check:
 * plain arithmetic for hot loops. Use sma_at() for a checked version. */
static inline void *sma_view_at(const sma_view_t *view, const size_t *index) {
  char *p = (char *)view->data;
  for (size_t d = 0; d < view->ndim; d++) p += (ptrdiff_t)index[d] * view->strides[d];
  return p;
}

/** sma_view_at() for a 1-d view: base + i*stride, no loop. */
static inline void *sma_view_at1(const sma_view_t *view, size_t i) {
  return (char *)view->data + (ptrdiff_t)i * view->strides[0];
}

/** sma_view_at() for a 2-d view: straight-line arithmetic for inner loops. */
static inline void *sma_view_at2(const sma_view_t *view, size_t i, size_t j) {
  return (char *)view->data + (ptrdiff_t)i * view->strides[0] + (ptrdiff_t)j * view->strides[1];
}

/** sma_view_at() for a 3-d view. */
static inline void *sma_view_at3(const sma_view_t *view, size_t i, size_t j, size_t k) {
  return (char *)view->data + (ptrdiff_t)i * view->strides[0] + (ptrdiff_t)j * view->strides[1] +
         (ptrdiff_t)k * view->strides[2];
}

/** Number of elements in a view (1 for a 0-d view). */
SMA_API size_t sma_view_size(const sma_view_t *view);

/* ---- The array object -------------------------------------------------- */
/** An array object: gridr's SharedMemoryArray. Opaque; made by sma_new(),
 * sma_open(), sma_clone() or sma_parse(), released by sma_free(). */
typedef struct sma sma_t;

/** Flags for sma_create(). */
enum sma_create_flags {
  /** Let the owner's group read and write the segment (0660); the default
   * is owner-only (0600). */
  SMA_CREATE_GROUP = 1u << 0,
  /** Map every page at create, so first writes run at memory speed
   * (MAP_POPULATE on Linux POSIX; elsewhere libsma touches each page). */
  SMA_CREATE_PREFAULT = 1u << 1,
  /** Ask for huge pages where the OS supports them for shared memory
   * (MADV_HUGEPAGE when shmem THP allows it, SHM_HUGETLB for System V,
   * SEC_LARGE_PAGES on Windows). Never fails: without them the segment
   * uses normal pages and sma_effective_flags() says so. */
  SMA_CREATE_HUGEPAGES = 1u << 2,
  /** Size the segment without reserving its memory (POSIX: ftruncate
   * instead of posix_fallocate), as Python's SharedMemory does: creating
   * is cheaper, but on a full /dev/shm a later first write dies of
   * SIGBUS instead of create failing with SMA_ENOSPC. Other backends
   * ignore it (System V reserves nothing at create; Windows commits). */
  SMA_CREATE_NORESERVE = 1u << 3,
  /** The segment is meant to outlive its creator (a dataset loaded for
   * later jobs, data a service prepares and leaves): recorded in the
   * segment's record, reported by sma_info_get() (persistent = 1), and never
   * removed by sma_collect() (`sma gc`), whatever became of its creator;
   * only sma_unlink() (`sma rm`) removes it. Without it, a segment whose
   * creator is gone and that nobody holds is gc's to remove. The `sma
   * create` and `sma load` commands set it unless given --transient.
   * Earlier versions of libsma refuse such a segment's record
   * (SMA_ECORRUPT: they demanded that its flags field be 0), so an older
   * gc never removes it either. */
  SMA_CREATE_PERSIST = 1u << 4
};

/** What sma_new() and sma_create_and_register() make: gridr's
 * SharedMemoryArray(shape, dtype, name, array_slice). Fill it with
 * designated initializers, so that a member left out is zero, its
 * default:
 *     sma_new(&a, &(sma_array_desc_t){.name = "x", .ndim = 2,
 *                                     .shape = shape, .dtype = SMA_FLOAT32});
 * The library only reads it, during the call; every member it keeps is
 * copied. */
typedef struct sma_array_desc {
  /** The segment's name (sma_name_validate()). sma_create_and_register()
   * takes it as the prefix of the name it builds instead (NULL or "" for
   * none). */
  const char *name;
  /** Number of dimensions, 0..SMA_MAX_DIMS; 0 (the default) is a 0-d
   * array of one element. */
  size_t ndim;
  /** The extent of each dimension, ndim entries (zero-length dimensions
   * allowed); may be NULL when ndim is 0. */
  const size_t *shape;
  /** Element type. Zero is SMA_BOOL: always name it. */
  sma_dtype_t dtype;
  /** The NumPy basic slice sma_load() applies, nslice entries; NULL (the
   * default) when nslice is 0: the whole array. */
  const sma_slice_t *slice;
  /** Number of slices, at most ndim; 0 (the default) for none. */
  size_t nslice;
} sma_array_desc_t;

/** Makes a new, unloaded array object as `desc` describes it. Nothing is
 * created in the OS. The name, shape and slices are copied; `desc` is not
 * kept. *out must be released with sma_free(). Errors: SMA_EINVAL (NULL
 * out or desc, NULL shape with ndim > 0, NULL slice with nslice > 0),
 * SMA_ENDIM, SMA_ETOOMANYSLICES, SMA_EDTYPE, SMA_ENAME, SMA_ENAMETOOLONG,
 * SMA_EOVERFLOW (shape x itemsize does not fit), SMA_ESTEP, SMA_ENOMEM. */
SMA_API int sma_new(sma_t **out, const sma_array_desc_t *desc);

/** Closes the object if loaded (never unlinks) and frees it. NULL is a
 * no-op. */
SMA_API void sma_free(sma_t *a);

/** Creates the named segment (exclusively: an existing name is SMA_EEXIST,
 * never reused), sized for shape x dtype plus the metadata record, with
 * permissions 0600 (0660 with SMA_CREATE_GROUP), memory reserved up front
 * where the OS allows unless SMA_CREATE_NORESERVE (so a full /dev/shm
 * fails here with SMA_ENOSPC instead of a later SIGBUS), maps it
 * read-write and views the whole array (the slice is not applied). `flags`
 * is an OR of SMA_CREATE_*; sma_effective_flags() tells which took effect.
 * The array bytes start the segment, page-aligned (so 64-byte aligned), in
 * C order; the record follows them. On any failure no segment is left.
 * An object marked persistent (sma_parse() of a line that says so,
 * sma_clone() of such an object) creates as if SMA_CREATE_PERSIST were in
 * `flags`.
 * Errors: SMA_EINVAL (unknown flag), SMA_ESTATE (already loaded),
 * SMA_EEXIST, SMA_EACCES, SMA_ENOSPC, SMA_ELIMIT, SMA_ETOOBIG (System V:
 * beyond shmmax), SMA_ENAMETOOLONG, SMA_EOVERFLOW, SMA_EOS. */
SMA_API int sma_create(sma_t *a, unsigned flags);

/** Fills a new segment's array, seen through `view` (the whole array, C
 * order, writable), before sma_create_filled() publishes it: 0 to
 * publish, nonzero to abandon the create (that value is returned). */
typedef int (*sma_fill_fn)(const sma_view_t *view, void *user);

/** sma_create() that runs fill(view, user) on the new segment's array
 * before its name is published, so no other process ever opens it
 * half-filled: until fill returns, the name does not exist (Linux POSIX,
 * where the segment is an unnamed file until then; there the name is
 * taken exclusively only at publication, so one created meanwhile is
 * SMA_EEXIST after fill ran) or names a segment that sma_open() and
 * sma_load() refuse as being created (SMA_EBUSY). A process killed while
 * filling leaves nothing, or that marked segment, which sma_collect()
 * removes once the process is gone (even with SMA_CREATE_PERSIST: only a
 * published segment is kept). If fill returns nonzero, nothing is left
 * and its value is returned. `fill` may be NULL (then as sma_create()).
 * fill must not use the object `a` itself (it is not loaded yet); it runs
 * on the calling thread, once.
 * Errors: those of sma_create(), or fill's value. */
SMA_API int sma_create_filled(sma_t *a, unsigned flags, sma_fill_fn fill, void *user);

/** Attaches to the existing segment named by the object, checks that it
 * holds shape x dtype (SMA_ETOOSMALL otherwise), checks shape and dtype
 * against the segment's record when it has one (SMA_EMISMATCH; a segment
 * made by another program, without a record, loads by size alone), and
 * applies the slice. Errors: SMA_ESTATE, SMA_ENOENT, SMA_EACCES,
 * SMA_ETOOSMALL, SMA_EMISMATCH, SMA_ECORRUPT, SMA_EBYTEORDER (the record
 * says the data has the other byte order), SMA_ETOOBIG (larger than this
 * process can map: a 32-bit process), SMA_ESTEP, SMA_EOS. Shares the
 * mapping of arrays of the same segment already loaded in this process
 * (the mapping cache, above). */
SMA_API int sma_load(sma_t *a);

/** Opens a segment knowing only its name: shape and dtype come from the
 * segment's record; the slice (nslice entries, may be 0) is applied. On
 * success *out is a new loaded object to release with sma_free(). Errors:
 * those of sma_new() and sma_load(), plus SMA_ENORECORD (not made by
 * libsma), SMA_ECORRUPT and SMA_EBYTEORDER. */
SMA_API int sma_open(sma_t **out, const char *name, const sma_slice_t *slice, size_t nslice);

/** Flags for sma_load_as() and sma_open_as(). */
enum sma_open_flags {
  /** Attach read-only: POSIX O_RDONLY and PROT_READ, System V SHM_RDONLY,
   * Windows FILE_MAP_READ. Needs only read permission (e.g. a 0640 segment
   * of another user whose group the caller is in; without it the load is
   * SMA_EACCES as before), and the library writes nothing through such a
   * mapping. sma_data(), sma_view_get() and sma_at() still give the addresses,
   * typed as usual, but any write through them faults (SIGSEGV, or SIGBUS
   * on some systems; an access violation on Windows): read only. */
  SMA_OPEN_READONLY = 1u << 0
};

/** sma_load() with `flags` (an OR of SMA_OPEN_*): with SMA_OPEN_READONLY
 * the segment is mapped read-only and the object becomes read-only
 * (sma_is_readonly()), so that later sma_load() calls and sma_clone()
 * copies (a slice of it) load read-only too; without it the object loads
 * read-write and stops being read-only. A failed call leaves the object as
 * it was. The mapping cache never shares a mapping between read-only and
 * read-write loads of one segment: each gets a mapping of its own access.
 * Thread safety as sma_load(). Errors: those of sma_load(), and SMA_EINVAL
 * for an unknown flag. */
SMA_API int sma_load_as(sma_t *a, unsigned flags);

/** sma_open() with `flags` (an OR of SMA_OPEN_*): with SMA_OPEN_READONLY
 * the new object is read-only, as after sma_load_as(). Errors: those of
 * sma_open(), and SMA_EINVAL for an unknown flag. */
SMA_API int sma_open_as(sma_t **out, const char *name, const sma_slice_t *slice, size_t nslice,
                        unsigned flags);

/** 1 if the object is read-only: loaded with SMA_OPEN_READONLY (its
 * mapping faults on a write), or, unloaded, one that sma_load() loads
 * read-only (it was, or is a sma_clone() of such an object). sma_create()
 * maps its new segment read-write and makes the object read-write. 0
 * otherwise and for NULL; never fails. */
SMA_API int sma_is_readonly(const sma_t *a);

/** Releases this object's share of the process's mapping and handle (the
 * last array of a segment to close unmaps it); never unlinks. The view
 * becomes NULL. Closing an object that is not loaded is a no-op returning
 * 0, so it is safe to call twice. */
SMA_API int sma_close(sma_t *a);

/** Removes the name from the system. Processes that have it loaded keep
 * their mapping until they close it. Where the name's OS object may also
 * be another name's (a digest, or a name of a digest's form: see
 * sma_name_max()), it is removed only when its record names this name:
 * an object with no record yet (another name's create in progress) or
 * another name's record is SMA_ENOENT, and a record that cannot be read
 * is that error (e.g. SMA_ECORRUPT); the object is kept. Errors:
 * SMA_EINVAL, SMA_ENAME, SMA_ENAMETOOLONG, SMA_ENOENT, SMA_EACCES,
 * SMA_ECORRUPT, SMA_EOS. */
SMA_API int sma_unlink(const char *name);

/** gridr's clear_buffers: unlinks each of the n names, going on past a
 * missing or failing one, and returns the first error (0 if none).
 * names may be NULL when n is 0. */
SMA_API int sma_clear_buffers(const char *const *names, size_t n);

/** What sma_clone() changes; fields not named in `set` are ignored. */
enum sma_override_fields {
  SMA_SET_NAME = 1u << 0,  /**< Use sma_override::name. */
  SMA_SET_SHAPE = 1u << 1, /**< Use sma_override::ndim and sma_override::shape. */
  SMA_SET_DTYPE = 1u << 2, /**< Use sma_override::dtype. */
  SMA_SET_SLICE = 1u << 3  /**< Use sma_override::slice and sma_override::nslice. */
};
/** The overrides of sma_clone(), gridr's **override. The library reads
 * a member only when its SMA_SET_* bit is in `set`, so a member that a
 * later minor release adds (with a new bit) is never read from an older
 * program's smaller struct (docs/abi.md). */
typedef struct sma_override {
  unsigned set;             /**< OR of SMA_SET_* */
  const char *name;         /**< New name. */
  size_t ndim;              /**< New number of dimensions. */
  const size_t *shape;      /**< New shape, ndim entries. */
  sma_dtype_t dtype;        /**< New dtype. */
  const sma_slice_t *slice; /**< New slice (nslice entries; 0 clears it). */
  size_t nslice;            /**< Number of slices. */
} sma_override_t;

/** gridr's clone(sma, **override): a new, unloaded object with src's
 * name, shape, dtype and slice, each replaced where `ov` says (ov may be
 * NULL). Errors: those of sma_new(). */
SMA_API int sma_clone(sma_t **out, const sma_t *src, const sma_override_t *ov);

/* ---- Attributes (never fail; borrowed pointers). For a NULL object each
 * gives the "nothing" of its type: NULL, 0, -1 (sma_os_handle) or
 * SMA_DTYPE_COUNT (sma_dtype_get), as each one's comment says. ------------- */
/** The segment's name (borrowed); NULL for NULL. */
SMA_API const char *sma_name(const sma_t *a);
/** Number of dimensions of the whole array; 0 for NULL. */
SMA_API size_t sma_ndim(const sma_t *a);
/** Shape of the whole array: sma_ndim() entries (borrowed); NULL for
 * NULL. */
SMA_API const size_t *sma_shape(const sma_t *a);
/** Element type; SMA_DTYPE_COUNT (no dtype) for NULL. */
SMA_API sma_dtype_t sma_dtype_get(const sma_t *a);
/** Bytes per element; 0 for NULL. */
SMA_API size_t sma_itemsize(const sma_t *a);
/** Bytes of the whole (unsliced) array: itemsize x prod(shape); 0 for
 * NULL. */
SMA_API size_t sma_nbytes(const sma_t *a);
/** The slice given at sma_new()/sma_open(); *count (if count is not
 * NULL) gets its length. NULL and 0 for NULL or no slice. */
SMA_API const sma_slice_t *sma_slice_get(const sma_t *a, size_t *count);
/** Nonzero while the object maps its segment (after create/load/open);
 * 0 for NULL. */
SMA_API int sma_is_loaded(const sma_t *a);
/** The sma_create() flags that took effect for this object's segment
 * (SMA_CREATE_HUGEPAGES is absent when the OS refused huge pages); 0 when
 * not created by this object. */
SMA_API unsigned sma_effective_flags(const sma_t *a);
/** Nonzero if this object created the segment (sma_create). */
SMA_API int sma_is_creator(const sma_t *a);
/** 1 if the object's segment is meant to persist (SMA_CREATE_PERSIST):
 * after sma_create(), whether it was asked; after sma_load()/sma_open(),
 * what the segment's record says; for an unloaded object, what its
 * descriptor (sma_parse()) or its source (sma_clone()) said, which
 * sma_create() honours. 0 otherwise and for NULL. */
SMA_API int sma_is_persistent(const sma_t *a);
/** The view after the slice, or NULL when not loaded. */
SMA_API const sma_view_t *sma_view_get(const sma_t *a);
/** The view's data pointer, or NULL when not loaded. */
SMA_API void *sma_data(const sma_t *a);
/** The OS handle while loaded (file descriptor, System V shmid or Windows
 * HANDLE, cast to intptr_t); -1 when not loaded. */
SMA_API intptr_t sma_os_handle(const sma_t *a);
/** The OS error number of the last failed OS call on this object, 0 if
 * none. */
SMA_API int sma_os_error(const sma_t *a);
/** Creator process id from the segment's record; 0 when not loaded or
 * when the segment has no record. */
SMA_API uint64_t sma_creator_pid(const sma_t *a);
/** Creation time (nanoseconds since the Unix epoch, UTC) from the
 * segment's record; 0 when not loaded or without a record. */
SMA_API int64_t sma_created_ns(const sma_t *a);

/** Address of element `index` (ndim entries) in the view, bounds-checked.
 * Errors: SMA_EINVAL, SMA_ESTATE (not loaded), SMA_EBOUNDS. */
SMA_API int sma_at(void **out, const sma_t *a, const size_t *index);

/* ---- Names ------------------------------------------------------------- */
/** Buffer size that holds any name on any backend, NUL included. */
#define SMA_NAME_BUF 256

/** Longest name (bytes, NUL excluded): 255 on every backend, so a name
 * that works on one OS works unchanged on all. Where the OS limits its
 * object names to fewer bytes (macOS POSIX: 30, PSHMNAMLEN 31 with the
 * '/'; Windows: 240), a longer name's OS object is named
 * PREFIX~HASH (the name's first bytes and 13 base-32 characters of its
 * 64-bit FNV-1a hash, within the OS's limit), and the segment's record
 * keeps the full name, which every call shows (sma_list(), sma_info_get(),
 * descriptors) and checks: two names whose OS names coincide are a
 * collision, which sma_create() reports as SMA_EEXIST and sma_open(),
 * sma_load(), sma_info_get(), sma_collect() and sma_unlink() as SMA_ENOENT
 * (the segment of that name does not exist); neither ever reaches the
 * other name's segment. Where an OS name may be shared so, only a record
 * naming the name makes the object its: while another name's create has
 * made the object but not yet written its record, these calls also say
 * SMA_ENOENT (never SMA_ENORECORD or SMA_EBUSY, which are for the name's
 * own segment). */
SMA_API size_t sma_name_max(void);

/** Checks a name without touching the OS, by one rule on every backend so
 * that a name valid on one OS is valid on all: well-formed UTF-8 of at
 * most sma_name_max() bytes, no C0/C1 control character or DEL (U+0000
 * to U+001F, U+007F to U+009F), no '/' or '\\', and no leading '.'
 * (dot names are libsma's own bookkeeping, which listings and gc skip, so
 * a segment so named would be one nothing lists or collects; this also
 * refuses "." and "..").
 * Errors: SMA_EINVAL (NULL), SMA_ENAME, SMA_ENAMETOOLONG. */
SMA_API int sma_name_validate(const char *name);

/** gridr's build_sma_name(prefix): writes a fresh name to buf (`size` as
 * for sma_slice_format(); SMA_NAME_BUF bytes always suffice). Long form,
 * used when it fits the backend's limit and buf:
 *     COUNTER-PREFIX-YYYYMMDD-HHMMSS-MICROSECONDS-UUID4
 * (the "PREFIX-" part is omitted for a NULL or empty prefix; time in
 * UTC; the UUID4 comes from the OS's CSPRNG). Short form otherwise:
 *     COUNTER36-PREFIX-RANDOM13 (COUNTER36: the counter in base 36; RANDOM13: 64 random bits as 13
 * base-32 characters) The counter is process-wide and atomic, so names built in one process never
 * repeat; the random part keeps processes apart. Errors: SMA_EINVAL, SMA_ENAME (bad prefix),
 * SMA_ENOBUFS (buf too small even for the short form; *size: the bytes it needs), SMA_ENAMETOOLONG
 * (prefix too long for the backend even in the short form), SMA_EOS (no randomness). */
SMA_API int sma_build_name(const char *prefix, char *buf, size_t *size);

/** The value of the process-wide name counter: how many names
 * sma_build_name() has built in this process. */
SMA_API uint64_t sma_name_counter(void);

/* ---- Registry ---------------------------------------------------------- */
/** A caller-owned growable list of segment names to unlink later. Like
 * an sma_t, one registry is used by one thread at a time (a thread of its
 * own each, or one lock of the caller's around every call on a shared
 * one, sma_create_and_register() included); distinct registries need
 * nothing. */
typedef struct sma_registry sma_registry_t;

/** Errors: SMA_EINVAL, SMA_ENOMEM. Release with sma_registry_free(). */
SMA_API int sma_registry_new(sma_registry_t **out);

/** Frees the list's memory only; unlinks nothing. NULL is a no-op. */
SMA_API void sma_registry_free(sma_registry_t *reg);

/** Appends a copy of a valid name. Errors: SMA_EINVAL, SMA_ENAME,
 * SMA_ENAMETOOLONG, SMA_ENOMEM. */
SMA_API int sma_registry_add(sma_registry_t *reg, const char *name);

/** Number of registered names (0 for NULL). */
SMA_API size_t sma_registry_count(const sma_registry_t *reg);

/** The i-th name (borrowed), or NULL when i is out of range. */
SMA_API const char *sma_registry_name(const sma_registry_t *reg, size_t i);

/** Unlinks every registered name, going on past failures, and returns the
 * first error. Names that are gone afterwards (unlinked, or already
 * missing) leave the list; names that failed otherwise stay, so the call
 * can be retried. */
SMA_API int sma_registry_clear(sma_registry_t *reg);

/** gridr's create_and_register_sma: builds a name with the prefix
 * desc->name (NULL or "" for none: sma_build_name()), creates the array
 * desc describes under it (flags as sma_create(); desc's slice is kept
 * for later sma_load() calls, as sma_new() keeps it) and appends the name
 * to reg. On success *out is a loaded object to release with sma_free();
 * on failure nothing is created or registered. Errors: SMA_EINVAL (NULL
 * out, reg or desc), those of sma_build_name(), sma_new() and
 * sma_create(). */
SMA_API int sma_create_and_register(sma_t **out, sma_registry_t *reg, const sma_array_desc_t *desc,
                                    unsigned flags);

/* ---- wrap -------------------------------------------------------------- */
/** Called by sma_wrap() with the views of the n loaded arrays. */
typedef int (*sma_wrap_fn)(const sma_view_t *const *views, size_t n, void *user);

/** gridr's shmarray_wrap: loads each of the n arrays, calls fn with their
 * views and closes every one of them whatever fn returns; fn's return
 * value goes to *fn_result (may be NULL). If the k-th load fails, the
 * arrays loaded before it are closed, fn is not called and the load's
 * error is returned. Arrays must not be loaded on entry (SMA_ESTATE). */
SMA_API int sma_wrap(int *fn_result, sma_t *const *arrays, size_t n, sma_wrap_fn fn, void *user);

/* ---- Descriptors: an array as one printable line ----------------------- */
/** The newest version of the descriptor format, which sma_describe()
 * writes for a persistent object; version 1 lines, which have no
 * persistent field, are still written for the others (so readers that
 * know only version 1 take them) and read as not persistent. */
#define SMA_DESCRIPTOR_VERSION 2
/** A buffer of this many bytes always holds sma_describe()'s line and its
 * NUL: 32 dimensions of 20 digits, 32 slices of three 20-character bounds
 * and a 255-byte name come to 2,992, and " persistent=1" to 3,005. A
 * typical line is under 128. */
#define SMA_DESCRIPTOR_MAX 3072

/** Writes an object's description — format version, backend, dtype, shape,
 * slice, persistence and name — as one printable line (no newline), e.g.
 *     sma/1 backend=posix dtype=float32 shape=512,512 slice=0:256 name=job-1
 *     sma/2 backend=posix dtype=float32 shape=512,512 slice= persistent=1 name=set
 * Fields are space-separated key=value pairs in that order; persistent=1
 * (version 2, only for an object sma_is_persistent() says so of) carries
 * SMA_CREATE_PERSIST to the object sma_parse() rebuilds; dtype is the
 * NumPy name, in native byte order, so the line is the same text on
 * machines of either order (sma_parse() also takes type strings such as
 * "<f4", as earlier versions wrote, and refuses the other order's with
 * SMA_EBYTEORDER); shape is "()"
 * for a 0-d array; slice is empty when there is none (sma_slice_format's
 * syntax); the name comes last and runs to the end of the line, so it may
 * hold any character a name may. Works on loaded and unloaded objects.
 * `size` as for sma_slice_format() (SMA_DESCRIPTOR_MAX bytes always
 * suffice). Errors: SMA_EINVAL, SMA_ENOBUFS (*size: the bytes needed). */
SMA_API int sma_describe(const sma_t *a, char *buf, size_t *size);

/** Rebuilds an unloaded object from a sma_describe() line (a trailing
 * newline is allowed); release it with sma_free(). A line from another
 * backend is refused. On error *bad_field (may be NULL) names the part
 * that is wrong: "version", "backend", "dtype", "shape", "slice",
 * "persistent", "name" or "line". Errors: SMA_EINVAL, SMA_EDESCRIPTOR, SMA_EMISMATCH (other
 * backend), and those of sma_new(). */
SMA_API int sma_parse(sma_t **out, const char **bad_field, const char *line);

/* ---- NumPy .npy files ---------------------------------------------------- */
/** Where sma_npy_write() sends bytes, as fwrite() does: returns how many of
 * the n bytes it took; fewer stops the write with SMA_EIO. */
typedef size_t (*sma_write_fn)(const void *buf, size_t n, void *user);
/** Where sma_npy_read() gets bytes, as fread() does: returns how many it
 * put in buf; fewer than n means the stream ended (or failed). */
typedef size_t (*sma_read_fn)(void *buf, size_t n, void *user);

/** Writes the view of a loaded array (its slice, in C order, any strides)
 * as a NumPy .npy file that np.load() reads back exactly: format 1.0 (2.0
 * only for a header over 64 KiB), the header NumPy writes for it, padded
 * so the data starts at a multiple of 64, this machine's byte order. With
 * stdio: `size_t put(const void *b, size_t n, void *f) { return fwrite(b,
 * 1, n, f); }` then `sma_npy_write(a, put, file)`. Errors: SMA_EINVAL,
 * SMA_ESTATE (not loaded), SMA_ENOMEM, SMA_EIO (write returned short). */
SMA_API int sma_npy_write(const sma_t *a, sma_write_fn write, void *user);

/** Creates the segment `name` (sma_create() with `flags`) holding the
 * array of a .npy stream, and returns it loaded in *out (release with
 * sma_free(); the caller unlinks it). Fortran-order data and data of the
 * other byte order are converted to this machine's C order. The name is
 * published only once every byte is in: until then other processes find
 * no segment of that name (SMA_ENOENT; Linux POSIX) or one that
 * sma_open()/sma_load() refuse as still being created (SMA_EBUSY), so a
 * reader never takes a partly loaded array for the array, and a process
 * killed while loading leaves either nothing or a segment that `sma gc`
 * removes once the process is gone. Nothing is left behind on error: a
 * stream that ends before its data does abandons the new segment. As
 * sma_create(), the name is taken exclusively only when it is published
 * where the segment is made unnamed first (Linux POSIX): a name created
 * meanwhile is SMA_EEXIST after the stream was read. Errors: SMA_EINVAL, SMA_ENPY (bad magic or
 * version, malformed or over-long header, data cut short), SMA_EDTYPE (object, string, structured
 * and other dtypes without a libsma counterpart), SMA_ENDIM, SMA_EOVERFLOW, SMA_ENOMEM, and those
 * of sma_create(). */
SMA_API int sma_npy_read(sma_t **out, const char *name, unsigned flags, sma_read_fn read,
                         void *user);

/* ---- Inspecting segments ------------------------------------------------- */
/** What sma_info_get() and sma_list() report of one segment. */
typedef struct sma_info {
  char name[SMA_NAME_BUF];    /**< The segment's name. */
  sma_dtype_t dtype;          /**< Element type. */
  size_t ndim;                /**< Number of dimensions. */
  size_t shape[SMA_MAX_DIMS]; /**< Shape, ndim entries. */
  size_t nbytes;              /**< array bytes: itemsize x prod(shape) */
  size_t segment_size;        /**< the segment's size as the OS reports it */
  uint64_t creator_pid;       /**< Process that created it. */
  int64_t created_ns;         /**< ns since the Unix epoch */
  int creator_alive;          /**< 1 alive, 0 gone (an earlier boot, or a pid of
                                   the caller's pid namespace that no longer
                                   runs), -1 unknown (e.g. created in another
                                   pid namespace) */
  int attached;               /**< processes seen mapping it when it was
                                   examined (in sma_list(): as the walk
                                   began); 0 only when every process of the
                                   machine was examined and none mapped it
                                   (Linux: the initial pid namespace, every
                                   maps file readable, a /proc that hides no
                                   process from the caller: hidepid=2 or 4
                                   hides other users' from all but root);
                                   -1 unknown (none seen, but some process
                                   could not be examined or seen) */
  int creating;               /**< 1 while sma_create() has not finished (or its
                                   creator died during it: see creator_alive) */
  int huge_pages;             /**< 1 if the kernel maps its memory with huge
                                   pages (Linux POSIX: PMD-mapped tmpfs pages,
                                   seen through one page that already holds
                                   data; System V: a SHM_HUGETLB segment), 0 if
                                   not, -1 where that cannot be told (macOS,
                                   Windows, no page allocated yet is 0), and
                                   always -1 from sma_list() and
                                   sma_collect(), which map no page to ask */
  int persistent;             /**< 1 if created with SMA_CREATE_PERSIST: meant
                                   to outlive its creator, never collected by
                                   sma_collect(), removed only by sma_unlink();
                                   0 otherwise (and for records written before
                                   the flag existed) */
  uint64_t reserved[8];       /**< Zero. Room for the fields of later minor
                                   releases, so that the struct keeps its size
                                   (docs/abi.md). */
} sma_info_t;

/** Reads a libsma segment's record and the OS's view of it, without
 * keeping it mapped. The record is read with a system call (pread), never
 * through a mapping, so a sparse or truncated segment on a full /dev/shm
 * is an error, not SIGBUS. A segment still being created is reported
 * with creating = 1. Errors: SMA_EINVAL, SMA_ENAME, SMA_ENOENT,
 * SMA_EACCES, SMA_ENORECORD (not made by libsma, or truncated),
 * SMA_ECORRUPT, SMA_EBYTEORDER (made on a machine of the other byte
 * order), SMA_ETOOBIG, SMA_EOS. */
SMA_API int sma_info_get(sma_info_t *out, const char *name);

/** Called by sma_list() for each segment, on the thread that called
 * sma_list(); a nonzero return stops the walk and becomes sma_list()'s
 * result. sma_info_get() and sma_collect() called from it, on that thread,
 * take their attach count from the walk's reading (sma_list()), and
 * sma_collect() there does not repeat the walk's recovery of revoked
 * System V segments. */
typedef int (*sma_list_fn)(const sma_info_t *info, void *user);

/** Calls fn for every libsma segment this user can see (segments of other
 * programs are skipped), with what sma_info_get() says of it but huge_pages,
 * which is -1: a listing maps no page to ask the kernel. On Linux POSIX
 * the attach counts of the whole walk come from one reading of every
 * process's /proc/PID/maps, taken as the walk starts, so a listing costs
 * O(segments + processes), not their product: a count is as of that
 * reading (a process that maps a segment, or exits, while the walk runs
 * may not be reflected), and a segment made or changed since the reading
 * began is examined by itself. An unknown count stays -1, never 0.
 * Linux POSIX lists /dev/shm, System V on Linux
 * lists /proc/sysvipc/shm; where the OS cannot enumerate named memory
 * (macOS POSIX, Windows) libsma keeps a per-user index of the names it
 * created and lists those that still exist. The index directory is opened
 * once without following symlinks and must be this user's (it is made
 * mode 0700 whatever the umask); otherwise SMA_EINDEX (sma_index_path()
 * names it; creates still succeed, unindexed). First, System V segments
 * that a gc of this user's was killed while revoking (mode 0, unreadable,
 * so otherwise unlisted) get their mode back once that gc is provably
 * gone (sma_collect()). Errors: SMA_EINVAL,
 * SMA_EINDEX, SMA_EOS, or fn's nonzero value. */
SMA_API int sma_list(sma_list_fn fn, void *user);

/** Writes the path of the per-user index directory that sma_list() reads
 * where the OS cannot enumerate segments (sma_caps_t::can_list 0: macOS
 * POSIX, System V off Linux, Windows), for messages. `size` as for
 * sma_slice_format(). Errors: SMA_EINVAL, SMA_ENOTSUP (this build lists
 * without an index), SMA_ENOBUFS (*size: the bytes needed). */
SMA_API int sma_index_path(char *buf, size_t *size);

/** Flags for sma_collect() and sma_collect_stray(). */
enum sma_collect_flags {
  /** Judge only, remove nothing: the result says whether the segment
   * would be removed. */
  SMA_COLLECT_DRY_RUN = 1u << 0
};

/** Removes the segment `name` only if it is provably orphaned: its creator
 * is gone (info->creator_alive == 0) and no process holds it open or maps
 * it, nor can be suspected to (unknown is never taken for zero). The check
 * and the removal refer to one OS object: Linux checks the segment
 * through a descriptor and takes a file lease on it (granted only if no
 * other process holds it, in any pid namespace and whoever the user; while
 * it is held, other processes' open() of it waits), checks that the name
 * still names it and that no open() is waiting, then unlinks it; the name
 * stays taken throughout (a create of it fails with SMA_EEXIST), and a
 * killed caller leaves nothing behind. System V revokes the segment's
 * permissions, checks the kernel's attach count, then removes it or
 * restores them; a System V segment that a gc killed meanwhile left
 * revoked (mode 0) is given its mode back by the next sma_collect() or
 * sma_list() of the same user, once that gc is provably gone (docs/cli.md,
 * gc). So a segment re-created under the name after the check
 * is not removed (short of a removal by hand and a re-create in the
 * microseconds between the last check and the unlink, which no system call
 * can exclude). With SMA_COLLECT_DRY_RUN nothing is removed. `info` (may be NULL) receives what
 * sma_info_get() says, but huge_pages is -1 (gc does not ask the kernel about pages). Called from a
 * sma_list() callback (`sma gc`), the attach count is the walk's reading (sma_list()), which can be
 * stale; a segment mapped since is still kept, by the lease (or the kernel's count) at the removal,
 * which is taken at that moment whatever the walk read.
 * A creator is told from a later process given its pid by its start time,
 * which Linux counts in clock ticks (10 ms): a pid given again within the
 * tick in which the creator started cannot be told from the creator, so
 * the segment is kept (creator_alive 1) for as long as that process runs.
 * A persistent segment (info->persistent, SMA_CREATE_PERSIST) is always
 * kept (SMA_EINUSE), once published: one still marked being created
 * (info->creating) whose creator is gone is an interrupted create, judged
 * as any other.
 * "Holds" is the kernel's view, which can lag for an instant: a process
 * that has just exited (even one already waited for) still holds what it
 * mapped while another process is reading its /proc/PID/maps (as
 * sma_info_get() and `sma ls` do); a collect in that instant keeps the segment
 * (SMA_EINUSE) and a later one removes it.
 * Returns 0 when removed (with DRY_RUN: when it would be). Errors:
 * SMA_EINUSE (persistent, creator alive or unknown, or in use, or that cannot be
 * proven: always on Windows, whose sections exist only while a process
 * holds them, and on macOS, which does not say who maps a segment),
 * SMA_EREPLACED (the name now names another segment than the one
 * judged: left alone; gc never moves a segment away from its name),
 * SMA_EINVAL (unknown flag), and those of sma_info_get(). */
SMA_API int sma_collect(sma_info_t *info, const char *name, unsigned flags);

/** Buffer size of sma_stray_t's label. */
#define SMA_STRAY_LABEL 288

/** A *stray*: a segment of this user's whose creator was killed between
 * its exclusive create and publishing it, so that no name (POSIX) or no
 * record (System V) shows it to sma_list(). Only an object that the
 * creator's *intent entry* names is ever a stray: the creator writes that
 * entry (pid, pid namespace, boot id, start time, the object) in its
 * per-user, owner-checked index directory before creating the object, and
 * drops it once the segment is published. No mode bit and no name pattern
 * make another program's object a stray. Only where create is not atomic:
 * System V, and POSIX without O_TMPFILE (Linux before 3.11); with
 * O_TMPFILE there are none. */
typedef struct sma_stray {
  char label[SMA_STRAY_LABEL]; /**< "NAME (unpublished: WHERE)": the name it
                                    was being created under, then the OS
                                    object (a /dev/shm path, or "shmid N
                                    key 0xK" as `ipcs -m` shows) */
  int named;                   /**< 0: kept for compatibility (the label is no
                                    segment name) */
  uint64_t creator_pid;        /**< the creator, as its intent names it */
  int creator_alive;           /**< 1 alive, 0 provably gone, -1 cannot be judged
                                    here (another pid namespace, no /proc) */
  uint64_t ident[2];           /**< the OS object's identity, opaque; what
                                    sma_collect_stray() checks it still is */
  uint64_t reserved[8];        /**< Zero. Room for later minor releases' fields
                                    (docs/abi.md). */
} sma_stray_t;

/** Called by sma_list_strays() for each stray; a nonzero return stops
 * the walk and becomes its result. */
typedef int (*sma_stray_fn)(const sma_stray_t *stray, void *user);

/** Calls fn for every stray of this user's: for every intent entry of this
 * user's, the objects it names that still exist unpublished (Linux:
 * /dev/shm, System V keys of this IPC namespace). An intent whose creator
 * is provably gone and whose object no longer exists is dropped on the
 * way. macOS and Windows have none. Errors: SMA_EINVAL, SMA_EOS, or fn's
 * nonzero value. */
SMA_API int sma_list_strays(sma_stray_fn fn, void *user);

/** Removes a stray from sma_list_strays() only when an intent entry names
 * it, the intent's creator is provably gone (another boot; or, in the same
 * pid namespace, no such process, a zombie, or a process of another start
 * time), and nothing holds it: on Linux POSIX a write lease proves that
 * nobody has it open or mapped; on System V the attach count must be zero,
 * read again with the segment's permissions revoked. The object checked is
 * the one removed: it must still be `stray->ident`, unpublished and this
 * user's. flags: SMA_COLLECT_DRY_RUN only checks. Returns 0 when removed
 * (DRY_RUN: when it would be). Errors: SMA_EINVAL, SMA_EINUSE (creator
 * alive or unknown, or held), SMA_EREPLACED (another object now),
 * SMA_ENOENT (gone, or no intent names it). */
SMA_API int sma_collect_stray(const sma_stray_t *stray, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif /* SMA_H */
