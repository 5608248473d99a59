/*
 * The platform contract: the whole of what a backend (src/posix, src/sysv,
 * src/win32) implements. Common code in src/ calls nothing else of the OS
 * and includes no OS header; all policy (name rules, sizes, the metadata
 * record, slicing, error choice for bad input) lives in common code.
 * It is also the whole of what a backend sees of common code (the
 * services below): no backend includes sma_int.h (ci/test.sh's lint), so
 * what both sides need is declared here, with its contract.
 *
 * Rules shared by every function here, stated once:
 *  - Pointer arguments are non-NULL; names are OS object names, which
 *    common code derives from valid segment names (src/os_name.c: the
 *    name itself, or a digest of it where it is longer than this
 *    backend's caps.max_name) and checks against the record's full name.
 *  - Functions returning int return 0 on success or a negative SMA_E*
 *    code; on failure of an OS call, *os_err receives errno or
 *    GetLastError() (0 when no OS call failed), and the backend leaves no
 *    OS object behind that the call created.
 *  - A backend translates OS errors with one function of its own.
 *  - Functions are thread-safe unless said otherwise.
 */
#ifndef SMA_PLATFORM_H
#define SMA_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sma.h"

/* One attached segment: the mapping and the OS handle behind it. */
typedef struct sma__os_segment {
  void *addr;         /* start of the mapping, NULL if size is 0 */
  size_t size;        /* mapped bytes: the whole segment */
  intptr_t handle;    /* fd, shmid or HANDLE; -1 when none */
  unsigned effective; /* create(): the SMA_CREATE_* flags that took effect */
  int creating;       /* open(): the OS object still carries the mark
                         create() puts on it until publish() */
  int readonly;       /* open(): mapped read-only (a write faults) */
  int unnamed;        /* backend's own: created but not yet named */
  char staged[48];    /* backend's own: the private name a create
                         builds under before publish() renames it */
  intptr_t mark;      /* backend's own: the being-created mark's
                         handle (Windows), 0 when none */
  uint64_t ident[2];  /* open(): the OS object's identity (POSIX:
                         device, inode; System V: shmid, and a
                         nonzero tag, since shmid 0 exists), which
                         remove_unused() and the mapping cache
                         compare; all zero where there is none */
  char intent[32];    /* create(): the intent entry written for this
                         create (sma__intent_write), "" when none */
} sma__os_segment_t;

/* ---- Services common code offers backends --------------------------------
 * An intent entry (src/intent.c) is the one piece of evidence that lets gc
 * remove an object that holds no record: written in the per-user,
 * owner-checked index directory BEFORE the exclusive create of a named
 * object, it names the object (`object`: a line of text of the backend's
 * own making, starting with the backend's name, which only that backend's
 * sma__os_intent_objects() reads back) and the creator (pid, pid
 * namespace, boot id, start time). The backend drops it once the object
 * is published or removed. Writing it is best-effort: where it cannot be
 * written, the create goes on and a creator killed before its record
 * leaves an object that gc never removes (unknown means keep). */
void sma__intent_write(const char *object, char entry[32]);
void sma__intent_drop(char entry[32]);

/* The mapping cache (src/map_cache.c), for a fork() child's handler that
 * took the cache's lock (free in the child's copy) to make the copied
 * table its own. sma__maps_intact(): whether every mapping the table
 * names is whole in this process (sma__os_segment_intact()); if not, the
 * child must not use it. sma__maps_unlock_and_settle(): lets the lock go
 * after settling the releases deferred while it was refused (a close made
 * by a program's handler registered before libsma's, or by a thread it
 * started), rather than leaving them for a later load that may never
 * come. */
int sma__maps_intact(void);
void sma__maps_unlock_and_settle(void);

/* The metadata record (src/record.c; bytes in docs/format.md) is common
 * code's: a backend only stores the SMA__RECORD_SIZE bytes it is given
 * at the end of a new segment (create()), and reads back the name a
 * record carries where it finds segments by something other than their
 * name (System V keys). */
#define SMA__RECORD_SIZE 640u

/* The name the record ending a mapped segment of segment_size bytes
 * carries, for a backend whose mapping cannot fault (System V): 0 and
 * the name, the record being intact; SMA_EBYTEORDER and the name, intact
 * but its data of the other byte order (the segment can still be found);
 * SMA_ENORECORD (NULL, too small, no magic) or SMA_ECORRUPT, name
 * untouched. */
int sma__record_name_read(const void *segment, size_t segment_size, char name[SMA_NAME_BUF]);

/* sma__os_read() for backends whose segments cannot shrink or fault under
 * a reader (System V, Windows SEC_COMMIT, macOS): n bytes at `offset`
 * copied from the mapping, or SMA_ETOOSMALL beyond its end. */
int sma__read_mapped(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n);

/* Whether n, a 64-bit size or extent, fits size_t. A function of a 64-bit
 * argument, so that where size_t is 32 bits the test is neither a
 * constant nor a wide constant cast to size_t. */
static inline bool sma__fits_size_t(uint64_t n) { return n <= SIZE_MAX; }

/* Fills *caps (the public sma_caps_t) but max_segment; max_name is the
 * OS's limit on an object name (public sma_caps_get() reports libsma's 255
 * instead). Cannot fail; cheap enough to call on every create/load. */
void sma__os_caps(sma_caps_t *caps);

/* sma__os_caps() as a value, for either side (cheap to fill; no caching,
 * no global). */
static inline sma_caps_t sma__caps(void) {
  sma_caps_t caps;
  sma__os_caps(&caps);
  return caps;
}

/* The largest segment the OS allows now (System V: shmmax, read from the
 * kernel each call), 0 where no fixed limit applies. */
uint64_t sma__os_max_segment(void);

/* Creates the segment `name` exclusively (SMA_EEXIST if it exists, or if
 * another process creating the same name at the same instant wins), of
 * exactly `size` bytes (a multiple of caps.granularity, > 0), with
 * permissions 0600 (0660 with SMA_CREATE_GROUP) whatever the umask, reserves
 * its memory where the OS allows (SMA_ENOSPC if it cannot), maps it
 * read-write and fills *seg. `flags` are the caller's SMA_CREATE_* bits:
 * PREFAULT and HUGEPAGES are requests (common code touches pages itself
 * when the backend did not prefault; huge pages are never a reason to
 * fail), NORESERVE sizes without reserving; the backend sets in
 * seg->effective those it honoured (and GROUP).
 *
 * Crash consistency: `record` (SMA__RECORD_SIZE bytes) is stored at the
 * end of the segment, through a call that reports errors (never a fault
 * on a full /dev/shm), before any long step (reservation, prefault), and
 * the segment carries a "being created" mark until publish(). So a
 * creator killed at any later moment leaves either nothing visible, or a
 * marked segment whose record names its creator, which gc can judge.
 * Where create is not atomic (no unnamed object that publish() names),
 * the backend calls sma__intent_write() before its exclusive create and
 * sma__intent_drop() after publish() or on failure: the intent is the only
 * evidence on which gc removes an object without a record.
 * Post: seg->size == size. On failure the name does not exist afterwards
 * and nothing is left open. */
int sma__os_create(const char *name, size_t size, unsigned flags, const unsigned char *record,
                   sma__os_segment_t *seg, int *os_err);

/* Ends a create(): removes the "being created" mark, or gives the unnamed
 * object its name, so that loads see a complete segment. On failure the
 * segment is removed and closed (seg as after close()), and the name does
 * not exist afterwards; SMA_EEXIST if the name appeared meanwhile. */
int sma__os_publish(const char *name, sma__os_segment_t *seg, int *os_err);

/* Ends a create() without publish(): the segment is removed and closed
 * (seg as after close()), so no reader ever finds it, neither under its
 * name nor half-filled. Used when filling a new segment failed before
 * publication (sma_npy_read() on a stream cut short). Pre: seg was filled
 * by create(`name`) and not published. */
int sma__os_abandon(const char *name, sma__os_segment_t *seg, int *os_err);

/* Opens the existing segment `name` and maps all of it without touching
 * its pages: read-write, or, with `readonly`, read-only (POSIX O_RDONLY and
 * PROT_READ, System V SHM_RDONLY, Windows FILE_MAP_READ), which needs only
 * read permission and makes any write through the mapping fault. Post:
 * seg->size is the segment's size as the OS reports it (page-rounded on
 * some systems; see caps.size_is_exact); seg->creating tells whether
 * create() has not published it; seg->readonly == readonly. */
int sma__os_open(const char *name, int readonly, sma__os_segment_t *seg, int *os_err);

/* Tells, without opening or mapping anything, which OS object `name`
 * names now: ident as open() would fill seg->ident, the size open() would
 * map, and whether create() has not published it. One stat-sized call
 * (POSIX on Linux: an lstat of the /dev/shm file); the mapping cache
 * (src/map_cache.c) calls it on every load to decide whether a mapping
 * it holds is still the segment of that name. SMA_EACCES (and the OS's
 * reason) when open() with the same `readonly` would refuse the caller,
 * as a shared mapping opens nothing. SMA_ENOTSUP where the OS cannot tell
 * without opening (the cache is then not used). */
int sma__os_identify(const char *name, int readonly, uint64_t ident[2], size_t *size, int *creating,
                     int *os_err);

/* The process-wide lock of the mapping cache. Not recursive; held only
 * for table operations, never across an OS call that may block, nor
 * across fork(): a fork() child owns its copy of the table only if it
 * found the lock free (the table consistent), else it is disowned.
 * Returns 0 with the lock taken, or SMA_EINUSE without waiting where the
 * lock and the table are not (or not yet) this process's: a child made by
 * _Fork() or a raw clone(), which ran no at-fork handler and may have
 * been copied while a thread of its parent held the lock, its fork()
 * children, and a fork() child before its at-fork handler ran. Then the
 * caller must not touch the table (the cache is bypassed). */
int sma__os_maps_lock(void);
/* As sma__os_maps_lock(), for a release (dropping a load's reference):
 * where the backend cannot tell whether this process owns the table (a
 * Linux pid 1 without /proc), it takes the lock if it is free now, never
 * waiting (a copy finds it free only if its table is consistent); refused,
 * the caller defers the release to the lock's next holder. */
int sma__os_maps_lock_to_release(void);
void sma__os_maps_unlock(void);
/* Whether seg's handle still names its object (seg->ident) in this
 * process: a fork() child's descriptors are copied a moment before its
 * memory, so a segment another thread opened in between is in the child's
 * copy of the mapping cache but not among its descriptors (or its number
 * names another file). Backends whose handle is no descriptor (System V's
 * shmid, Windows) answer 1. */
int sma__os_segment_intact(const sma__os_segment_t *seg);

/* Copies n bytes at `offset` of an opened segment into buf through a call
 * that returns an error rather than raising SIGBUS where the segment may
 * be sparse or truncated (POSIX: pread). SMA_ETOOSMALL if the segment
 * ends before offset + n (it shrank since open()). Backends whose
 * segments cannot be truncated or left unbacked (System V, Windows) copy
 * from the mapping. */
int sma__os_read(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n, int *os_err);

/* Whether the kernel maps an opened segment's memory with huge pages: 1
 * yes, 0 no, -1 cannot be told here. May map one page where the segment
 * already holds data (never one a read would allocate) and never raises a
 * signal, even if the segment shrinks meanwhile. Called for one segment
 * (sma_info_get()), never while listing: a listing maps no page to answer. */
int sma__os_huge_mapped(const sma__os_segment_t *seg);

/* Unmaps and releases what create()/open() acquired. Pre: seg was filled
 * by one of them. Post: seg->addr == NULL, seg->handle == -1, even when
 * an error is returned. */
int sma__os_close(sma__os_segment_t *seg, int *os_err);

/* Removes the name (SMA_ENOENT if there is none). Existing mappings stay
 * valid where caps.unlink_keeps_maps says so. */
int sma__os_unlink(const char *name, int *os_err);

/* What the OS says of a segment beyond its bytes (for sma_info_get/sma gc). */
typedef struct sma__os_stat {
  int attached; /* processes seen mapping it; 0 only when proven
                   that none holds it open or mapped (the
                   caller included: it has closed it); -1 when
                   none was seen but that cannot be proven */
} sma__os_stat_t;

/* Who maps what, read once for a whole walk (sma_list(), a gc over a
 * listing): where a backend counts mappers by reading every process's
 * state (Linux POSIX: /proc/PID/maps), one pass builds a table of every
 * shared-memory object mapped and by how many processes, and whether
 * every process of the machine was examined (all readable, initial pid
 * namespace), so that a listing costs O(segments + processes) rather
 * than O(segments x processes). Opaque to common code. */
typedef struct sma__os_mappers sma__os_mappers_t;

/* Takes a snapshot: 0 and *out (free it with mappers_free()), or 0 and
 * *out NULL where the backend needs none (System V: the kernel counts
 * attaches; Windows, macOS: nothing to count) or cannot build one now
 * (no /proc, no memory): stat() then looks by itself. A process that
 * cannot be read, or that exits while it is read, makes the snapshot
 * incomplete, as it would make one stat() incomplete. Never blocks
 * another process. */
int sma__os_mappers_take(sma__os_mappers_t **out, int *os_err);
void sma__os_mappers_free(sma__os_mappers_t *mappers);

/* Fills *st for the existing segment `name` (not mapped by the caller).
 * Facts only, and it never blocks another process: no lease, no lock
 * (`sma ls` and `sma info` call it on every segment they show). With
 * `mappers` (may be NULL: look now, at the cost of reading every
 * process), the count is the snapshot's: as of when it was taken; an
 * object the snapshot cannot speak for (changed or made since it began,
 * another device) is looked at now instead. */
int sma__os_stat(const char *name, const sma__os_mappers_t *mappers, sma__os_stat_t *st,
                 int *os_err);

/* gc: mechanism and facts only; every verdict (whose creator is gone,
 * what counts as libsma's) is common code's (src/collect.c). Called only
 * where caps.proves_unused is 1 (common code keeps everything elsewhere),
 * so a backend that cannot prove an object unused implements the next
 * three as one-line "not here" answers (src/no_gc.c). Only these may take
 * a lease or anything else that makes another process wait, and only on
 * a candidate about to be removed, held only from the last check to the
 * removal. */

/* Removes `name` if, at the moment of removal, it names the object
 * `ident` (from open()) and no process holds that object open or maps it;
 * with dry_run only checks. Check and removal must refer to one object
 * (see sma_collect() in sma.h for how each backend does it). 0 removed
 * (would be); SMA_EINUSE in use or not provably unused; SMA_EREPLACED the
 * name names another object; SMA_ENOENT. */
int sma__os_remove_unused(const char *name, const uint64_t ident[2], int dry_run, int *os_err);

/* A stray: an object that an intent entry names, that this user owns and
 * that was never published, because its creator was killed between the
 * exclusive create and publish() (only where create() has no unnamed
 * path: System V, POSIX without O_TMPFILE). A mode bit or a name pattern
 * never makes a stray: only the intent does. */
typedef struct sma__os_stray {
  char label[SMA_STRAY_LABEL]; /* "NAME (how to find the object)" */
  uint64_t ident[2];           /* everything remove_stray() needs to find and
                                  check the object (System V: shmid, key,
                                  creator pid); never parsed from the label,
                                  which a long name cuts */
  int by_creator_pid;          /* tied to the intent by the OS's creator pid
                                  alone (System V shm_cpid): a process that
                                  now has that pid may have made it */
} sma__os_stray_t;

/* Facts, no verdict: calls fn(stray, user) for every object that `object`
 * (a line this backend gave sma__intent_write()) names now, that this user
 * owns, that the intent's `creator` pid made where the OS records a
 * creator (System V shm_cpid), and that is not published; *found gets
 * how many there are. Returns 0, fn's nonzero value (which stops the
 * walk), SMA_ENOTSUP when the object is another backend's or of another
 * namespace (another /dev/shm, another IPC namespace), where nothing can
 * be said of it, or an error. */
int sma__os_intent_objects(const char *object, uint64_t creator,
                           int (*fn)(const sma__os_stray_t *stray, void *user), void *user,
                           size_t *found, int *os_err);

/* Removes the object of `stray` if, at the moment of removal, it is still
 * that object, still unpublished and this user's, and no process holds it
 * open or maps it (the same one-object discipline as remove_unused());
 * with dry_run only checks. Common code calls it only once the intent's
 * creator is proven gone. 0 removed (would be); SMA_EINUSE; SMA_EREPLACED;
 * SMA_ENOENT. */
int sma__os_remove_stray(const sma__os_stray_t *stray, int dry_run, int *os_err);

/* Revocations. A backend whose removal makes a candidate unreachable
 * for a moment (System V sets its mode to 0, so that no attach slips in
 * between the last check of the attach count and the removal) announces
 * that change first in an intent entry of its own making
 * (sma__intent_write(); the object line names the change and all that is
 * needed to undo it) and drops the entry once the candidate is removed or
 * restored. A gc killed in between leaves the entry; common code
 * (sma__gc_recover(), src/collect.c) judges its writer as it judges a
 * creator and, only once that gc is provably gone, calls this to undo the
 * change: restores the object that `object` names if it is still that
 * very object (System V: the same shmid at the same key, made by the same
 * creator with the same size, still at mode 0; unknown keeps) and still bears
 * the change. 0 when the entry is spent (restored now, or removed, or no
 * longer in that state: common code drops it); SMA_ENOTSUP when `object`
 * is not a revocation of this backend's, or lies in another namespace
 * (the entry is kept); another error keeps it too. */
int sma__os_restore_revoked(const char *object, int *os_err);

/* Calls fn(name, user) for every segment name this user may see that
 * could be libsma's; fn returning nonzero stops the walk with that value.
 * Called only where caps.can_list is 1; elsewhere common code walks the
 * per-user index (below) instead. */
int sma__os_list(int (*fn)(const char *name, void *user), void *user, int *os_err);

/* ---- The per-user index (used only where caps.can_list is 0) ------------
 * Common code (src/index.c) keeps one empty file per name this user
 * created in a directory of this user's, and decides when entries are
 * added, dropped and listed; entry names come encoded to the characters
 * A-Z a-z 0-9 . _ - %, valid file names on every OS. The backend supplies
 * the directory and the file operations, with the same guarantees on
 * every OS: the directory is opened without following a symlink or
 * reparse point, checked through the opened handle to be a directory
 * owned by this user, and every operation happens inside that very
 * directory even if another user renames or replaces its path meanwhile.
 * A backend where caps.can_list is always 1 may return SMA_ENOTSUP. */

/* Writes the index directory's path (UTF-8), made or not. SMA_ENOTSUP
 * where the backend lists without an index; SMA_ENOBUFS. */
int sma__os_index_path(char *buf, size_t cap);

/* Opens the index directory for the calls below (*dir), creating it
 * (private to this user, whatever the umask) when `create`. SMA_ENOENT:
 * none yet and !create; SMA_EINDEX: not this user's own directory (a
 * symlink, another owner, not a directory); SMA_EOS. */
int sma__os_index_open(int create, intptr_t *dir, int *os_err);

/* Creates the empty file `entry` (a no-op if it exists); removes it
 * (SMA_ENOENT if it does not exist). */
int sma__os_index_add(intptr_t dir, const char *entry, int *os_err);
int sma__os_index_remove(intptr_t dir, const char *entry, int *os_err);

/* Calls fn(entry, user) for every file in the directory but "." and "..";
 * fn may remove the entry it is given; nonzero stops the walk with that
 * value. */
int sma__os_index_walk(intptr_t dir, int (*fn)(const char *entry, void *user), void *user,
                       int *os_err);

/* Intent entries (src/intent.c): creates `entry` exclusively (SMA_EEXIST
 * if it exists) holding the n bytes of data; reads at most cap bytes of
 * `entry` into buf (*n: how many). Neither follows a symlink. A backend
 * that never writes intents may return SMA_ENOTSUP. */
int sma__os_index_put(intptr_t dir, const char *entry, const void *data, size_t n, int *os_err);
int sma__os_index_get(intptr_t dir, const char *entry, void *buf, size_t cap, size_t *n,
                      int *os_err);

/* Releases *dir from open(). */
void sma__os_index_close(intptr_t dir);

/* Locks the directory opened as `dir` against every other open of it,
 * in this process or another: shared (waits for an exclusive holder),
 * or exclusive without waiting (SMA_EBUSY while anyone holds it). The
 * lock goes with unlock(), close() or the process's end, so a creator
 * killed while it holds it blocks nobody. SMA_ENOTSUP where the OS has
 * no such lock on a directory. */
int sma__os_index_lock(intptr_t dir, int exclusive, int *os_err);
void sma__os_index_unlock(intptr_t dir);

/* Whether process `pid` (of the caller's pid namespace) can still hold
 * anything: 1 yes, 0 no, -1 cannot tell. A zombie counts as gone: it has
 * released every mapping and descriptor, and only its exit status waits
 * for a parent that may never reap it (a container's pid 1). */
int sma__os_pid_alive(uint64_t pid);

/* When process `pid` started (Linux: /proc/PID/stat's starttime, in clock
 * ticks since boot), 0 when it cannot be told. With the pid, it names one
 * process of one boot: a pid reused by a later process has another. */
uint64_t sma__os_pid_start(uint64_t pid);

/* This boot's identifier (16 bytes), all zero where the OS has none. */
void sma__os_boot_id(unsigned char id[16]);

/* This process's pid namespace (Linux: the inode number of
 * /proc/self/ns/pid), 0 where the OS has no pid namespaces,
 * SMA__PIDNS_UNKNOWN where it has them but this process cannot read its
 * own (no /proc mounted). A pid read from a record names a process of the
 * caller's own only when both namespaces are known and match. */
#define SMA__PIDNS_UNKNOWN UINT64_MAX
uint64_t sma__os_pidns(void);

/* Fills buf with n bytes from the OS's CSPRNG. */
int sma__os_random(void *buf, size_t n, int *os_err);

/* This process's id. */
uint64_t sma__os_pid(void);

/* Wall-clock time: nanoseconds since the Unix epoch, UTC. */
int64_t sma__os_now_ns(void);

/* Adds 1 to the process-wide name counter atomically and returns the new
 * value; sma__os_counter_read() returns the current value. The counter is
 * the one piece of global mutable state the public header documents. */
uint64_t sma__os_counter_next(void);
uint64_t sma__os_counter_read(void);

/* The calling thread's OS error slot: errno, or GetLastError() on
 * Windows. Public calls that take a name rather than an object leave
 * their OS reason there (0 when the failure was not the OS's), for
 * sma_last_os_error(). Cannot fail. */
int sma__os_last_error(void);
void sma__os_set_last_error(int os_err);

/* Writes a description of the OS error number `os_err` to buf (cap > 0
 * bytes; NUL-terminated, cut short if need be): its symbolic name where
 * the backend knows it and the OS's message ("ELOOP: Too many levels of
 * symbolic links"; Windows: "error 5: Access is denied."). Thread-safe. */
void sma__os_error_text(int os_err, char *buf, size_t cap);

#endif /* SMA_PLATFORM_H */
