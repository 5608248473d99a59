/*
 * The mapping cache: every load of a segment used to map all of it again
 * and every close to unmap it, and for gridr's pattern (thousands of tiles
 * of one large array, each loaded, used and closed) the page faults and
 * the munmap were nearly all of a tile's cost. Now a process holds one
 * mapping per OS object, shared by every loaded sma_t of it, counted, and
 * released with the last close (policy documented in sma.h).
 *
 * Each load still asks the OS what the name names now (one stat-sized
 * call, sma__os_identify()): a name unlinked and made again is another
 * object, so it gets its own mapping, and the old one lives on for its
 * holders. The record is read again through a system call on every load
 * and compared with the bytes checked when the mapping was made: equal
 * bytes need no new check; different bytes are checked in full, as
 * without the cache.
 *
 * A read-only load (SMA_OPEN_READONLY) and a read-write load of one object
 * never share a mapping: the access is part of the key. A read-only load
 * handed a writable mapping would not fault on a write, and one that
 * needed only read permission would write where it may not; a read-write
 * load handed a read-only mapping would fault.
 *
 * The table is a list behind one process-wide lock (a process holds few
 * segments); the lock covers only the list and the counts, never an OS
 * call, so loads in many threads do their system calls in parallel.
 *
 * A child made by _Fork() or a raw clone() runs no at-fork handler: its
 * copy of the lock may be held by a thread it lacks, and its copy of the
 * table is its parent's. The backend refuses it the lock (without
 * waiting), and the child then works as without the cache: its loads map
 * afresh, and the closes of arrays it inherited loaded leave their shared
 * mappings alone (they live until it exits or execs).
 *
 * A release that is refused the lock is not dropped: it is deferred (a
 * count on the mapping, and the mapping on a lock-free list), and whoever
 * holds the lock settles every deferred release before letting it go,
 * then looks again once it is free. The backend refuses a release where
 * it cannot tell whether the table is this process's and the lock is
 * busy (a pid 1 that lost /proc, whose other threads hold it), and a
 * fork() child's handler registered before libsma's runs while the child
 * is not yet its table's owner: in both the reference is settled by the
 * next holder (in the child: libsma's own child handler), not leaked. In
 * a copy that never owns the table, nothing ever settles it: that copy's
 * mappings live until it exits, as above.
 */
#include "map_cache.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct sma__map {
  sma__map_t *next;
  sma__os_segment_t seg; /* the mapping, shared; seg.ident is the key */
  size_t refs;           /* loads holding it; under the lock */
  /* Releases refused the lock, not yet taken off refs; on the deferred
   * list (by deferred_next) while not 0. */
  atomic_size_t deferred_drops;
  sma__map_t *deferred_next;
  /* What the record check gave when the mapping was made (immutable). */
  int record_rc; /* 0 or SMA_ENORECORD */
  sma__record_t rec;
  unsigned char bytes[SMA__RECORD_SIZE];
};

static sma__map_t *maps; /* under sma__os_maps_lock() */
/* How many mappings the table holds, also read without the lock: a load
 * in a process that holds none (every cold attach) skips the identity
 * call, which could only miss, and opens at once. A stale read costs only
 * that call or its saving: the open path looks the object up again. */
static atomic_size_t held_count;
/* Mappings with deferred releases (a lock-free stack, emptied whole). */
static _Atomic(sma__map_t *) deferred;

/* SMA_MAP_CACHE=0 in the environment turns the cache off (read once per
 * process): every load then maps the segment afresh, as before 0.2. */
static int cache_enabled(void) {
  static atomic_int state; /* 0 unknown, 1 on, 2 off */
  int s = atomic_load_explicit(&state, memory_order_relaxed);
  if (s == 0) {
    const char *v = getenv("SMA_MAP_CACHE");
    s = v != NULL && strcmp(v, "0") == 0 ? 2 : 1;
    atomic_store_explicit(&state, s, memory_order_relaxed);
  }
  return s == 1;
}

static bool same_mapping(const sma__map_t *m, const uint64_t ident[2], size_t size, int readonly) {
  return m->seg.ident[0] == ident[0] && m->seg.ident[1] == ident[1] && m->seg.size == size &&
         m->seg.readonly == readonly;
}

/* The mapping of (ident, size, access) with one more reference, or NULL.
 * Under the lock. */
static sma__map_t *find_and_hold(const uint64_t ident[2], size_t size, int readonly) {
  for (sma__map_t *m = maps; m != NULL; m = m->next)
    if (same_mapping(m, ident, size, readonly)) {
      m->refs++;
      return m;
    }
  return NULL;
}

/* The record bytes at the end of `seg`, read with a system call (never
 * through the mapping: a truncated segment would raise SIGBUS) and
 * checked: 0, SMA_ENORECORD or an error, as sma__record_fetch(). */
static int read_record(const sma__os_segment_t *seg, unsigned char bytes[SMA__RECORD_SIZE],
                       sma__record_t *rec, int *os_err) {
  if (seg->size < SMA__RECORD_SIZE) return SMA_ENORECORD;
  int rc = sma__os_read(seg, seg->size - SMA__RECORD_SIZE, bytes, SMA__RECORD_SIZE, os_err);
  if (rc == SMA_ETOOSMALL) return SMA_ENORECORD; /* shrank since it was sized */
  return rc != 0 ? rc : sma__record_decode(bytes, seg->size, rec);
}

/* The record must name the segment by the name it was opened by (another
 * name of the same object is a link, a copy or a collision of digests),
 * as in sma__segment_open(). */
static int check_name(int rc, const sma__record_t *rec, const char *name) {
  return sma__record_verdict(rc, rec, name);
}

/* A load of a mapping already held: the record is read again, and only
 * bytes that changed since it was checked are checked again. */
static int check_held(const sma__map_t *m, const char *name, sma__record_t *rec, int *os_err) {
  unsigned char bytes[SMA__RECORD_SIZE];
  if (m->seg.size < SMA__RECORD_SIZE) return SMA_ENORECORD;
  int rc = sma__os_read(&m->seg, m->seg.size - SMA__RECORD_SIZE, bytes, sizeof bytes, os_err);
  if (rc == SMA_ETOOSMALL) return SMA_ENORECORD;
  if (rc != 0) return rc;
  if (memcmp(bytes, m->bytes, sizeof bytes) == 0) {
    *rec = m->rec;
    rc = m->record_rc;
  } else {
    rc = sma__record_decode(bytes, m->seg.size, rec);
  }
  return check_name(rc, rec, name);
}

/* Drops `n` references of m; whether the last went (m is then out of the
 * table, for the caller to close). Under the lock. */
static bool drop_refs(sma__map_t *m, size_t n) {
  m->refs -= n < m->refs ? n : m->refs;
  if (m->refs != 0) return false;
  for (sma__map_t **p = &maps; *p != NULL; p = &(*p)->next)
    if (*p == m) {
      *p = m->next;
      break;
    }
  atomic_fetch_sub_explicit(&held_count, 1, memory_order_relaxed);
  return true;
}

/* Records a release that was refused the lock. Only the first deferred
 * release of a mapping puts it on the list: one that settles it reads its
 * link before taking its count, so a later push never meets a reader. */
static void defer_release(sma__map_t *m) {
  if (atomic_fetch_add_explicit(&m->deferred_drops, 1, memory_order_acq_rel) != 0) return;
  sma__map_t *head = atomic_load_explicit(&deferred, memory_order_acquire);
  do m->deferred_next = head;
  while (!atomic_compare_exchange_weak_explicit(&deferred, &head, m, memory_order_acq_rel,
                                                memory_order_acquire));
}

/* Applies every deferred release; the mappings whose last reference went,
 * out of the table and chained by next. Under the lock. */
static sma__map_t *settle_deferred(void) {
  sma__map_t *closing = NULL;
  if (atomic_load_explicit(&deferred, memory_order_acquire) == NULL) return NULL; /* the norm */
  sma__map_t *m = atomic_exchange_explicit(&deferred, NULL, memory_order_acq_rel);
  while (m != NULL) {
    sma__map_t *next = m->deferred_next;
    size_t n = atomic_exchange_explicit(&m->deferred_drops, 0, memory_order_acq_rel);
    if (drop_refs(m, n)) {
      m->next = closing;
      closing = m;
    }
    m = next;
  }
  return closing;
}

/* Lets the lock go, settling deferred releases first and again while one
 * arrives and the lock can be had, so that none is left behind by the
 * last holder; the mappings they free are closed outside the lock. The
 * fence pairs with the one in release(): a releaser that pushes and then
 * finds the lock held, and a holder that lets it go and then finds the
 * list empty, cannot both happen (a store then a load on each side, which
 * only sequentially consistent fences keep in order). */
void sma__maps_unlock_and_settle(void) {
  do {
    sma__map_t *closing = settle_deferred();
    sma__os_maps_unlock();
    atomic_thread_fence(memory_order_seq_cst);
    while (closing != NULL) {
      sma__map_t *next = closing->next;
      int ignored;
      sma__os_close(&closing->seg, &ignored);
      free(closing);
      closing = next;
    }
  } while (atomic_load_explicit(&deferred, memory_order_acquire) != NULL &&
           sma__os_maps_lock_to_release() == 0);
}

int sma__maps_intact(void) {
  for (const sma__map_t *m = maps; m != NULL; m = m->next)
    if (!sma__os_segment_intact(&m->seg)) return 0;
  return 1;
}

static void release(sma__map_t *m, int *os_err, int *rc) {
  if (sma__os_maps_lock_to_release() != 0) {
    defer_release(m); /* settled by the lock's holder, or by this look */
    atomic_thread_fence(memory_order_seq_cst);
    if (sma__os_maps_lock_to_release() == 0) sma__maps_unlock_and_settle();
    return;
  }
  bool last = drop_refs(m, 1);
  sma__maps_unlock_and_settle();
  if (!last) return;
  int close_rc = sma__os_close(&m->seg, os_err); /* outside the lock: munmap is slow */
  if (rc != NULL) *rc = close_rc;
  free(m);
}

/* No mapping of the object was held: maps it as without the cache, then
 * shares it, unless another thread shared one of the same object
 * meanwhile (then that one is used and this one closed). */
static int open_new(const char *name, const char *os_name, int readonly, sma__os_segment_t *seg,
                    sma__record_t *rec, sma__map_t **map, int *os_err) {
  int rc = sma__os_open(os_name, readonly, seg, os_err);
  if (rc != 0) return rc;
  sma__map_t *m = calloc(1, sizeof *m);
  unsigned char scratch[SMA__RECORD_SIZE];
  rc = check_name(read_record(seg, m != NULL ? m->bytes : scratch, rec, os_err), rec, name);
  bool anonymous = seg->ident[0] == 0 && seg->ident[1] == 0; /* no identity (Windows) */
  if ((rc != 0 && rc != SMA_ENORECORD) || seg->creating || anonymous || m == NULL) {
    if (rc != 0 && rc != SMA_ENORECORD) {
      int ignored;
      sma__os_close(seg, &ignored);
    }
    free(m); /* not shared: the caller owns seg, as without the cache */
    return rc;
  }
  m->seg = *seg;
  m->refs = 1;
  m->record_rc = rc;
  m->rec = *rec;
  if (sma__os_maps_lock() != 0) {
    free(m); /* the table is not this process's: the caller owns seg */
    return rc;
  }
  sma__map_t *held = find_and_hold(seg->ident, seg->size, seg->readonly);
  if (held == NULL) {
    m->next = maps;
    maps = m;
    atomic_fetch_add_explicit(&held_count, 1, memory_order_relaxed);
  }
  sma__maps_unlock_and_settle();
  if (held != NULL) {
    int ignored;
    sma__os_close(seg, &ignored);
    free(m);
    m = held;
    *seg = held->seg;
  }
  *map = m;
  return rc;
}

int sma__map_open(const char *name, int readonly, sma__os_segment_t *seg, sma__record_t *rec,
                  sma__map_t **map, int *os_err) {
  *map = NULL;
  if (!cache_enabled()) return sma__segment_open(name, readonly, seg, rec, os_err);
  char os_name[SMA_NAME_BUF];
  int rc = sma__os_name(name, os_name);
  if (rc != 0) return rc;
  if (atomic_load_explicit(&held_count, memory_order_relaxed) == 0)
    return open_new(name, os_name, readonly, seg, rec, map, os_err); /* nothing held */
  uint64_t ident[2];
  size_t size;
  int creating;
  rc = sma__os_identify(os_name, readonly, ident, &size, &creating, os_err);
  if (rc == SMA_ENOTSUP || (rc == 0 && creating))
    return sma__segment_open(name, readonly, seg, rec, os_err); /* as without the cache */
  if (rc != 0) return rc;
  if (sma__os_maps_lock() != 0) return sma__segment_open(name, readonly, seg, rec, os_err);
  sma__map_t *m = find_and_hold(ident, size, readonly);
  sma__maps_unlock_and_settle();
  if (m == NULL) return open_new(name, os_name, readonly, seg, rec, map, os_err);
  rc = check_held(m, name, rec, os_err);
  if (rc != 0 && rc != SMA_ENORECORD) {
    int ignored;
    release(m, &ignored, NULL);
    return rc;
  }
  *seg = m->seg;
  *map = m;
  return rc;
}

int sma__map_close(sma__map_t *map, int *os_err) {
  int rc = 0;
  release(map, os_err, &rc);
  return rc;
}
