/*
 * System V backend: shmget / shmat / shmdt / shmctl.
 *
 * System V segments have integer keys, not names. The key of a name is
 * derived deterministically so that any process knowing the name finds
 * the segment:
 *     h = FNV-1a-32(name bytes)
 *     key(i) = h + i * 0x9E3779B9 (mod 2^32), i = 0 .. PROBES-1,
 *     skipping IPC_PRIVATE (0), which is replaced by 1.
 * Two names can hash to the same key, so the metadata record ending each
 * segment (common code) holds the full name.
 *
 * Trust. A probe's segment counts as carrying a name only if its record
 * (CRC-checked) says so AND its permissions are ones libsma gives: no
 * access for others (mode & 007 == 0) and owner == creator. Another uid's
 * 0666 segment planted at an earlier probe is therefore someone else's
 * segment, never yours; among candidates, open() prefers a complete
 * segment owned by the caller's uid, so an unremovable squatter cannot
 * hide your own segment either.
 *
 * Exclusive create without a lock. A segment being created carries the
 * owner-execute bit (0700/0770; meaningless for shared memory) from shmget
 * until publish() clears it with IPC_SET. create():
 *   1. walks all probes; the name anywhere (complete or being created) is
 *      SMA_EEXIST;
 *   2. shmget(IPC_CREAT|IPC_EXCL) on the free probes in order, going on
 *      past a key another process took meanwhile (whatever its name);
 *   3. attaches and writes its record: from here on it is visible as
 *      "mine, being created" to every scanner;
 *   4. walks every other probe again: a complete segment with the name
 *      makes it lose; so does one being created at a lower probe, or one
 *      being created whose creator is gone (shm_nattch == 0: a creator
 *      stays attached until publish); one being created at a higher probe
 *      by a live creator is waited for until it is complete (lose) or
 *      gone (go on). Segments without a valid record yet are ignored.
 *   The loser removes its segment and returns SMA_EEXIST.
 * Why exactly one of several racing creators wins: consider two, A and B,
 * each writing its record (3) before scanning (4). If A's scan reads B's
 * probe before B's record is there, then B's scan starts after A's record
 * is written, so B sees A: A at a lower probe makes B lose at once; A at
 * a higher probe makes B wait until A completes (A saw no rival, so it
 * wins), then lose. If both see each other, the lower probe wins, the
 * higher loses without waiting, so waits only go from lower to higher
 * probes and cannot cycle. A completed segment only ever makes others
 * lose, and the lowest probe being created only loses to a completed one,
 * so one of any set of racers completes, unless it is killed: then its
 * marked segment holds the name until `sma gc` removes it.
 */
#define _GNU_SOURCE
#include "../platform.h"

#include "../unix/fault.h"
#include "../unix/os.h"
#include "../unix/smaps.h"
#include "../unix/personality.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#if defined(__APPLE__)
#  include <sys/sysctl.h>
#endif
#include <unistd.h>

enum { PROBES = 8 };
/* seg->ident[1] of every System V segment: the identity is the shmid, and
 * shmid 0 (the first segment of an IPC namespace) must not read as "no
 * identity" (all zero) to the mapping cache. */
#define SYSV_IDENT_TAG 1u

/* Lists /proc/sysvipc/shm on Linux; elsewhere common code keeps the per-user index. */
#define USE_INDEX (!sma__unix_personality()->sysv_proc)

/* The kernel's shmmax now (a tunable), 0 if it cannot be read. */
uint64_t sma__os_max_segment(void) {
  unsigned long long v = 0;
#if defined(__APPLE__)
  uint64_t max = 0;
  size_t len = sizeof max;
  if (sysctlbyname("kern.sysv.shmmax", &max, &len, NULL, 0) == 0) v = max;
#else
  FILE *f = fopen("/proc/sys/kernel/shmmax", "re");
  if (f != NULL) {
    if (fscanf(f, "%llu", &v) != 1) v = 0;
    fclose(f);
  }
#endif
  return (uint64_t)v;
}

void sma__os_caps(sma_caps_t *caps) {
  sma__unix_caps(caps); /* IPC_RMID waits for the last detach */
  caps->backend = "sysv";
  caps->max_name = SMA_NAME_BUF - 1; /* the record's name field */
  caps->size_is_exact = 1;           /* IPC_STAT shm_segsz */
  caps->can_list = !USE_INDEX;
  caps->proves_unused = 1;   /* shm_nattch */
  caps->reserves_memory = 1; /* shmget charges shmall at create */
}

static int from_errno(int e, int creating) {
  switch (e) {
  case 0: return 0;
  case EEXIST: return SMA_EEXIST;
  case ENOENT:
  case EIDRM: return SMA_ENOENT;
  case EACCES:
  case EPERM: return SMA_EACCES;
  case EINVAL: return creating ? SMA_ETOOBIG : SMA_EINVAL; /* > shmmax */
  case ENOSPC: return SMA_ELIMIT;                          /* shmmni or shmall */
  case ENOMEM: return SMA_ENOMEM;
  case EMFILE: return SMA_ELIMIT; /* shmseg */
  default: return SMA_EOS;
  }
}

static int fail(int e, int creating, int *os_err) {
  *os_err = e;
  errno = e;
  return from_errno(e, creating);
}

/* The owner-execute bit marks a segment whose create() has not finished. */
#define CREATING_MARK 0100

static key_t key_of(const char *name, int probe) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
  h += (uint32_t)probe * 0x9E3779B9u;
  key_t key = (key_t)h;
  return key == IPC_PRIVATE ? (key_t)1 : key;
}

/* What a probe holds. */
enum probe_kind {
  PROBE_FREE,   /* no segment at this key */
  PROBE_OTHER,  /* another name, no record yet, or not trustworthy */
  PROBE_DENIED, /* a segment this user may not examine */
  PROBE_NAMED   /* a trustworthy segment whose record carries the name */
};

typedef struct probe {
  int kind;
  int probe; /* which probe of the name: key_of(name, probe) */
  int id;
  int may_be_named;   /* PROBE_DENIED: the segment could be the name's */
  struct shmid_ds ds; /* IPC_STAT, taken before our own attach */
} probe_t;

/* Permissions libsma gives its segments: nothing for others, and the
 * owner is still the creator. */
static int trustworthy(const struct shmid_ds *ds) {
  return (ds->shm_perm.mode & 007) == 0 && ds->shm_perm.uid == ds->shm_perm.cuid;
}

static int is_creating(const probe_t *p) { return (p->ds.shm_perm.mode & CREATING_MARK) != 0; }

/* ThreadSanitizer intercepts munmap() but not shmdt(): after a shmdt()
 * it still holds the range's old accesses, and takes a later attach at the
 * same address (the kernel reuses it) for the same memory, so a thread's
 * read of a segment it has detached and another thread's write to a new
 * segment mapped there since read as a race. On Linux an attach is one
 * mapping, and munmap() of it detaches exactly as shmdt() does (the
 * kernel's shm_close() counts the detach either way), so under TSan the
 * detach is a munmap(), through which TSan forgets the range; should it
 * fail (a huge-page segment whose size is not a multiple of the huge
 * page), shmdt() does it. */
#if defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define SMA_UNDER_TSAN 1
#  endif
#endif
#if defined(__SANITIZE_THREAD__)
#  define SMA_UNDER_TSAN 1
#endif

static int detach(void *addr, size_t size) {
#if defined(SMA_UNDER_TSAN) && defined(__linux__)
  if (munmap(addr, size) == 0) return 0;
#else
  (void)size;
#endif
  return shmdt(addr);
}

/* Reads the record of segment `id` (size `size`) through a read-only
 * attach: -1 when it cannot be attached, otherwise what
 * sma__record_name_read() says (0, SMA_ENORECORD, ...), with the name it
 * carries in `name` where the record is intact. */
static int read_record_of(int id, size_t size, char name[SMA_NAME_BUF]) {
  void *addr = shmat(id, NULL, SHM_RDONLY);
  if (addr == (void *)-1) return -1;
  int rc = sma__record_name_read(addr, size, name);
  detach(addr, size);
  return rc;
}

/* Reads the name of segment `id` (size `size`) from its record into
 * name: 1 if the record is intact, 0 if there is none to trust. One of
 * the other byte order names its segment too: opening that segment is
 * then SMA_EBYTEORDER, not SMA_ENOENT. */
static int read_name_of(int id, size_t size, char name[SMA_NAME_BUF]) {
  int rc = read_record_of(id, size, name);
  return rc == 0 || rc == SMA_EBYTEORDER;
}

/* Does segment `id` (size `size`) carry `name` in an intact record? */
static int record_names(int id, size_t size, const char *name) {
  char carried[SMA_NAME_BUF];
  return read_name_of(id, size, carried) && strcmp(carried, name) == 0;
}

/* IPC_STAT of segment `id` without asking for read permission (Linux
 * 4.17 and later: SHM_STAT_ANY over the kernel's indices): 0, or -1 where
 * it cannot be had. */
static int stat_any(int id, struct shmid_ds *ds) {
#if defined(SHM_STAT_ANY) && defined(SHM_INFO)
  struct shm_info info;
  int last = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
  for (int i = 0; i <= last; i++)
    if (shmctl(i, SHM_STAT_ANY, ds) == id) return 0;
#else
  (void)id;
  (void)ds;
#endif
  return -1;
}

/* Whether a segment this user may not examine could carry the name: it
 * could if it is this user's (the name's segment revoked to mode 0 by a
 * gc that is removing it or was killed doing so), or if its owner cannot
 * be read (no SHM_STAT_ANY: unknown means taken, or a create would make
 * a second segment for one name at another key). A revocation is an
 * IPC_SET of the mode alone and never changes the owner, so another
 * user's segment, whatever its mode, is never this user's revoked one:
 * it does not hold this user's name. */
static int denied_may_be_named(int id) {
  struct shmid_ds ds;
  if (stat_any(id, &ds) != 0) return 1;
  return ds.shm_perm.uid == geteuid();
}

/* Denies probe p, whose segment `id` could not be examined for errno e:
 * 0, or e when it is not a plain refusal. */
static int deny(probe_t *p, int e) {
  p->kind = PROBE_DENIED;
  p->may_be_named = p->id < 0 || denied_may_be_named(p->id);
  return e == EACCES ? 0 : e;
}

/* Examines probe i of `name`. 0, or the errno of a failure that leaves
 * the probe unknown (skipping it could hide the name). */
static int examine(const char *name, int i, probe_t *p) {
  p->kind = PROBE_FREE;
  p->probe = i;
  p->may_be_named = 0;
  p->id = SMA__INJECT(shmget(key_of(name, i), 0, 0), -1, EIO);
  if (p->id < 0) {
    if (errno == ENOENT) return 0;
    return deny(p, errno);
  }
  if (SMA__INJECT(shmctl(p->id, IPC_STAT, &p->ds), -1, EIO) != 0) {
    if (errno == EIDRM || errno == EINVAL) return 0; /* gone meanwhile */
    return deny(p, errno);
  }
  p->kind = trustworthy(&p->ds) && record_names(p->id, (size_t)p->ds.shm_segsz, name) ? PROBE_NAMED
                                                                                      : PROBE_OTHER;
  /* The state that goes with the record is read after it: a stat taken
   * before could catch a rival between its shmget and its attach (nattch
   * 0) and the read then find the record it wrote since. Together they
   * made a live creator look like a dead one's segment, the lower creator
   * yielded to it, the rival yielded to the lower one, and nobody won. */
  if (p->kind == PROBE_NAMED && SMA__INJECT(shmctl(p->id, IPC_STAT, &p->ds), -1, EIO) != 0) {
    p->kind = PROBE_FREE;
    if (errno == EIDRM || errno == EINVAL) return 0; /* gone meanwhile */
    return deny(p, errno);
  }
  return 0;
}

/* Attaches segment `id` read-write, or read-only (SHM_RDONLY: read
 * permission suffices, a write faults), and fills seg. */
static int attach(int id, int readonly, sma__os_segment_t *seg) {
  struct shmid_ds ds;
  if (SMA__INJECT(shmctl(id, IPC_STAT, &ds), -1, EIO) != 0) return errno;
  void *addr = SMA__INJECT(shmat(id, NULL, readonly ? SHM_RDONLY : 0), (void *)-1, ENOMEM);
  if (addr == (void *)-1) return errno;
  memset(seg, 0, sizeof *seg);
  seg->addr = addr;
  seg->size = (size_t)ds.shm_segsz;
  seg->handle = id;
  seg->creating = (ds.shm_perm.mode & CREATING_MARK) != 0;
  seg->readonly = readonly;
  seg->ident[0] = (uint64_t)id;
  seg->ident[1] = SYSV_IDENT_TAG;
  return 0;
}

/* Finds the segment of `name`: among the probes carrying it, a complete
 * one before one being created, the caller's own uid before another's
 * (group sharing), then the lowest probe. Returns 0 with *best filled,
 * otherwise ENOENT, EACCES (a probe could not be examined) or the errno
 * of a probe that could not be examined at all. */
static int find(const char *name, probe_t *best) {
  int found = 0, denied = 0, best_score = -1;
  uid_t me = geteuid();
  for (int i = 0; i < PROBES; i++) {
    probe_t p;
    int e = examine(name, i, &p);
    if (e != 0) return e;
    denied |= p.kind == PROBE_DENIED;
    if (p.kind != PROBE_NAMED) continue;
    int score = (is_creating(&p) ? 0 : 2) + (p.ds.shm_perm.uid == me ? 1 : 0);
    if (score > best_score) {
      *best = p;
      best_score = score;
      found = 1;
    }
    if (score == 3) break; /* nothing can rank higher */
  }
  return found ? 0 : denied ? EACCES : ENOENT;
}

/* Sleeps ~100 us while a rival creator finishes. */
static void pause_briefly(void) {
  struct timespec ts = {0, 100000};
  nanosleep(&ts, NULL);
}

/* Step 4 of the protocol (file comment): 0 if our segment at probe
 * `mine` wins the name, EEXIST if it loses, or an examination errno. */
static int resolve_rivals(const char *name, int mine) {
  for (int j = 0; j < PROBES; j++) {
    if (j == mine) continue;
    for (;;) {
      probe_t p;
      int e = examine(name, j, &p);
      if (e != 0) return e;
      if (p.kind == PROBE_DENIED && p.may_be_named) return EEXIST;
      if (p.kind != PROBE_NAMED) break;
      if (!is_creating(&p) || j < mine || p.ds.shm_nattch == 0) return EEXIST;
      pause_briefly(); /* a live rival at a higher probe: wait for it */
    }
  }
  return 0;
}

/* Steps 2-3: takes the first free probe still free, attaches it and
 * writes the record. *probe gets its index. */
static int claim_probe(const char *name, size_t size, unsigned flags, const int free_probe[PROBES],
                       const unsigned char *record, sma__os_segment_t *seg, int *probe) {
  int mode = ((flags & SMA_CREATE_GROUP) ? 0660 : 0600) | CREATING_MARK;
  for (int i = 0; i < PROBES; i++) {
    if (!free_probe[i]) continue;
    key_t key = key_of(name, i);
    int id = -1, huge = 0;
#if defined(SHM_HUGETLB)
    /* Huge pages need reserved hugetlb pages; without them, normal pages. */
    if (flags & SMA_CREATE_HUGEPAGES) {
      id = shmget(key, size, IPC_CREAT | IPC_EXCL | SHM_HUGETLB | mode);
      huge = id >= 0;
      if (id < 0 && errno == EEXIST) continue;
    }
#endif
    if (id < 0) id = SMA__INJECT(shmget(key, size, IPC_CREAT | IPC_EXCL | mode), -1, ENOSPC);
    if (id < 0 && errno == EEXIST) continue; /* taken meanwhile: next probe */
    if (id < 0) return errno;
    SMA__PAUSE_POINT(); /* tests: created, not attached, no record yet */
    SMA__PAUSE_AT("created");
    int e = attach(id, 0, seg);
    if (e != 0) {
      shmctl(id, IPC_RMID, NULL);
      return e;
    }
    memcpy((unsigned char *)seg->addr + size - SMA__RECORD_SIZE, record, SMA__RECORD_SIZE);
    atomic_thread_fence(memory_order_seq_cst); /* record before our scan */
    seg->effective = (flags & SMA_CREATE_GROUP) | (huge ? SMA_CREATE_HUGEPAGES : 0);
    *probe = i;
    return 0;
  }
  return ENOSPC; /* every probe taken */
}

/* This process's IPC namespace (Linux: the inode of /proc/self/ns/ipc),
 * 0 when it cannot be read. A key names a segment only in one of them. */
static unsigned long long ipc_namespace(void) {
  struct stat st;
  return stat("/proc/self/ns/ipc", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* The intent's object: "sysv IPCNS NAME": the segments at NAME's probes
 * that the intent's creator made (shm_cpid) in that IPC namespace. */
static void write_intent(const char *name, char entry[32]) {
  char object[SMA_STRAY_LABEL];
  entry[0] = '\0';
  int n = snprintf(object, sizeof object, "sysv %llu %s", ipc_namespace(), name);
  if (n > 0 && (size_t)n < sizeof object) sma__intent_write(object, entry);
}

/* Removes our own segment and detaches. */
static void discard(sma__os_segment_t *seg) {
  sma__intent_drop(seg->intent);
  shmctl((int)seg->handle, IPC_RMID, NULL);
  detach(seg->addr, seg->size);
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
}

int sma__os_create(const char *name, size_t size, unsigned flags, const unsigned char *record,
                   sma__os_segment_t *seg, int *os_err) {
  int free_probe[PROBES];
  for (int i = 0; i < PROBES; i++) {
    probe_t p;
    int e = examine(name, i, &p);
    if (e != 0) return fail(e, 0, os_err); /* unexamined */
    if (p.kind == PROBE_NAMED || (p.kind == PROBE_DENIED && p.may_be_named))
      return fail(EEXIST, 1, os_err); /* the name's, or may be: taken */
    free_probe[i] = p.kind == PROBE_FREE;
  }
  int mine = -1;
  char intent[32];
  write_intent(name, intent); /* before any shmget: gc's evidence */
  SMA__PAUSE_AT("intent");    /* tests: intent written, nothing created */
  int e = claim_probe(name, size, flags, free_probe, record, seg, &mine);
  if (e == 0 && mine < 0) e = EIO; /* a failed call that left errno 0 */
  if (e != 0) {
    sma__intent_drop(intent);
    return fail(e, 1, os_err);
  }
  memcpy(seg->intent, intent, sizeof seg->intent);
  e = resolve_rivals(name, mine);
  if (e != 0) {
    discard(seg);
    return fail(e, 1, os_err);
  }
  return 0;
}

int sma__os_publish(const char *name, sma__os_segment_t *seg, int *os_err) {
  (void)name; /* System V names live in the record, written at create */
  struct shmid_ds ds;
  int e = 0;
  if (SMA__INJECT(shmctl((int)seg->handle, IPC_STAT, &ds), -1, EIO) != 0) e = errno;
  if (e == 0) {
    ds.shm_perm.mode &= ~(unsigned)CREATING_MARK;
    if (SMA__INJECT(shmctl((int)seg->handle, IPC_SET, &ds), -1, EPERM) != 0) e = errno;
  }
  if (e != 0) {
    discard(seg);
    return fail(e, 1, os_err);
  }
  sma__intent_drop(seg->intent);
  return 0;
}

int sma__os_abandon(const char *name, sma__os_segment_t *seg, int *os_err) {
  (void)name;
  (void)os_err;
  discard(seg); /* our own shmid, still marked: removed, then detached */
  return 0;
}

int sma__os_open(const char *name, int readonly, sma__os_segment_t *seg, int *os_err) {
  probe_t p;
  int e = find(name, &p);
  if (e == 0) e = attach(p.id, readonly, seg);
  return e == 0 ? 0 : fail(e, 0, os_err);
}

/* The segment the name's probes find, as open() finds it, unattached.
 * find() read its record through a read-only attach, which the kernel
 * allowed only with read permission: what a read-only open needs. */
int sma__os_identify(const char *name, int readonly, uint64_t ident[2], size_t *size, int *creating,
                     int *os_err) {
  (void)readonly;
  probe_t p;
  int e = find(name, &p);
  if (e != 0) return fail(e, 0, os_err);
  ident[0] = (uint64_t)p.id;
  ident[1] = SYSV_IDENT_TAG;
  *size = (size_t)p.ds.shm_segsz;
  *creating = (p.ds.shm_perm.mode & CREATING_MARK) != 0;
  return 0;
}

/* System V segments cannot be truncated and live in the kernel's own
 * shm mount, which has no size limit: reading the mapping cannot fault. */
int sma__os_read(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n, int *os_err) {
  (void)os_err;
  return sma__read_mapped(seg, offset, buf, n);
}

/* A SHM_HUGETLB segment is mapped with the pool's page size from the
 * start: smaps' KernelPageSize says so without touching anything. */
int sma__os_huge_mapped(const sma__os_segment_t *seg) {
  static const char *const field[] = {"KernelPageSize:", NULL};
  if (seg->addr == NULL) return -1;
  long long kb = sma__smaps_kb(seg->addr, field);
  return kb < 0 ? -1 : (size_t)kb * 1024 > sma__caps().granularity;
}

int sma__os_segment_intact(const sma__os_segment_t *seg) {
  (void)seg; /* a shmid is the kernel's, not a descriptor of the process */
  return 1;
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  int e = 0;
  if (seg->addr != NULL && detach(seg->addr, seg->size) != 0) e = errno;
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? fail(e, 0, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  probe_t p;
  int e = find(name, &p);
  if (e == 0) e = SMA__INJECT(shmctl(p.id, IPC_RMID, NULL), -1, EIO) == 0 ? 0 : errno;
  return e == 0 ? 0 : fail(e, 0, os_err);
}

/* No table: the kernel counts attaches (shm_nattch), each stat asks it. */
int sma__os_mappers_take(sma__os_mappers_t **out, int *os_err) {
  (void)os_err;
  *out = NULL;
  return 0;
}

void sma__os_mappers_free(sma__os_mappers_t *mappers) { (void)mappers; }

int sma__os_stat(const char *name, const sma__os_mappers_t *mappers, sma__os_stat_t *st,
                 int *os_err) {
  (void)mappers;
  probe_t p;
  int e = find(name, &p);
  if (e != 0) return fail(e, 0, os_err);
  st->attached = (int)p.ds.shm_nattch;
  return 0;
}

/* Sets the permission bits of segment `id` (described by *ds). */
static int set_mode(int id, struct shmid_ds *ds, unsigned mode) {
  ds->shm_perm.mode = (ds->shm_perm.mode & ~0777u) | mode;
  return shmctl(id, IPC_SET, ds) == 0 ? 0 : errno;
}

/* A revocation's intent entry (its object, for sma__intent_write()):
 *     "sysv-revoked IPCNS SHMID KEY UID GID MODE CUID CPID SEGSZ"
 * UID GID MODE: what the revocation's IPC_SET replaces, everything needed
 * to give it back without reading the segment (a segment at mode 0
 * refuses its non-root owner IPC_STAT; IPC_SET needs only ownership).
 * SHMID KEY CUID CPID SEGSZ: which segment it is. The shmid alone is not
 * an identity: the kernel hands a shmid out again once its 16-bit
 * sequence wraps, and a segment re-created under the name lands at the
 * same key. A segment's creator uid and pid and its size are fixed by
 * shmget and never change; a new segment with the same shmid, key,
 * creator and size would need the creator's pid to have been recycled
 * too, for a segment of the same size at the same key, within one wrap
 * of the sequence. */
#define REVOKED_FORMAT "sysv-revoked %llu %d %u %u %u %o %u %ld %llu"

typedef struct revocation {
  unsigned long long ns;
  int id;
  unsigned key, uid, gid, mode, cuid;
  long cpid;
  unsigned long long size;
} revocation_t;

static void describe_revocation(int id, key_t key, const struct shmid_ds *ds, revocation_t *r) {
  r->ns = ipc_namespace();
  r->id = id;
  r->key = (unsigned)key;
  r->uid = (unsigned)ds->shm_perm.uid;
  r->gid = (unsigned)ds->shm_perm.gid;
  r->mode = (unsigned)(ds->shm_perm.mode & 0777u);
  r->cuid = (unsigned)ds->shm_perm.cuid;
  r->cpid = (long)ds->shm_cpid;
  r->size = (unsigned long long)ds->shm_segsz;
}

static int parse_revocation(const char *object, revocation_t *r) {
  return sscanf(object, REVOKED_FORMAT, &r->ns, &r->id, &r->key, &r->uid, &r->gid, &r->mode,
                &r->cuid, &r->cpid, &r->size) == 9;
}

/* Whether *ds, read now, is the segment revocation r was made on: the
 * facts shmget fixed and nothing changes since (see REVOKED_FORMAT), and
 * the owner the revocation left in place (IPC_SET of the mode alone). */
static int same_segment(const struct shmid_ds *ds, const revocation_t *r) {
  return (unsigned)ds->shm_perm.cuid == r->cuid && (long)ds->shm_cpid == r->cpid &&
         (unsigned long long)ds->shm_segsz == r->size && (unsigned)ds->shm_perm.uid == r->uid;
}

static void write_revocation(int id, key_t key, const struct shmid_ds *ds, char entry[32]) {
  char object[SMA_STRAY_LABEL];
  revocation_t r;
  describe_revocation(id, key, ds, &r);
  entry[0] = '\0';
  int n = snprintf(object, sizeof object, REVOKED_FORMAT, r.ns, r.id, r.key, r.uid, r.gid, r.mode,
                   r.cuid, r.cpid, r.size);
  if (n > 0 && (size_t)n < sizeof object) sma__intent_write(object, entry);
}

/* IPC_STAT of segment `id` at mode 0: its non-root owner may no longer
 * read it (EACCES), so the kernel's table is read without the permission
 * check where it can be. 0, or -1 with errno set. */
static int stat_revoked(int id, struct shmid_ds *ds) {
  if (shmctl(id, IPC_STAT, ds) == 0) return 0;
  if (errno != EACCES) return -1;
  if (stat_any(id, ds) == 0) return 0;
  errno = EACCES;
  return -1;
}

/* Removes segment `id` (at `key`), seen unattached in *ds. The kernel's
 * attach count is exact for every process of this IPC namespace, but
 * between reading it and IPC_RMID a new attach could slip in, so the
 * segment's permissions are first revoked (only CAP_IPC_OWNER can attach
 * then), the count read again, and the segment removed, or its
 * permissions restored.
 * A gc killed while the segment is revoked would leave it at mode 0,
 * which its non-root owner can neither read, list nor remove. So the
 * revocation is announced first in an intent entry of this user's
 * (mode, owner, shmid, key), dropped once the segment is removed or
 * restored; the next gc restores what a provably dead gc revoked
 * (sma__gc_recover() in src/collect.c). No entry, no revocation: a
 * segment that could not be restored after a crash is kept instead. A
 * segment already at mode 0 is under another gc's revocation (root's,
 * which can still read it) and is left to that gc. */
static int remove_unattached(int id, key_t key, struct shmid_ds *ds, int *os_err) {
  unsigned mode = ds->shm_perm.mode & 0777u;
  if (mode == 0 || key == IPC_PRIVATE) return SMA_EINUSE;
  char entry[32];
  write_revocation(id, key, ds, entry);
  if (entry[0] == '\0') return SMA_EINUSE; /* a crash could not be undone */
  int e = set_mode(id, ds, 0);
  if (e != 0) {
    sma__intent_drop(entry);
    return fail(e, 0, os_err);
  }
  SMA__PAUSE_AT("revoked"); /* tests: mode 0, not yet removed or restored */
  struct shmid_ds now;
  int rc = 0;
  if (stat_revoked(id, &now) != 0) {
    e = errno;
    now = *ds;
    set_mode(id, &now, mode);
    /* Unreadable at mode 0 without SHM_STAT_ANY: unknown count, kept. */
    rc = e == EACCES ? SMA_EINUSE : fail(e, 0, os_err);
  } else if (now.shm_nattch != 0) {
    set_mode(id, &now, mode);
    rc = SMA_EINUSE;
  } else if (shmctl(id, IPC_RMID, NULL) != 0) {
    e = errno;
    set_mode(id, &now, mode);
    rc = fail(e, 0, os_err);
  }
  sma__intent_drop(entry);
  return rc;
}

/* Gives segment `id` back the owner, group and mode it had, through
 * IPC_SET, which needs ownership but no read permission. */
static int restore_owner_mode(int id, unsigned uid, unsigned gid, unsigned mode) {
  struct shmid_ds ds;
  memset(&ds, 0, sizeof ds);
  ds.shm_perm.uid = (uid_t)uid;
  ds.shm_perm.gid = (gid_t)gid;
  ds.shm_perm.mode = (unsigned short)(mode & 0777u);
  return shmctl(id, IPC_SET, &ds) == 0 ? 0 : errno;
}

/* The identity is the one REVOKED_FORMAT records: shmget(KEY, 0, 0) asks
 * for no permission, so it answers even for a segment at mode 0 and must
 * give the recorded shmid; then the segment's creator, size and owner,
 * read without read permission (SHM_STAT_ANY; IPC_STAT for root), must
 * be the recorded ones, and its mode must still be 0.
 * Why giving back the recorded mode is right: the recorded owner, group
 * and mode are those of the IPC_STAT the revoking gc judged by, and its
 * revocation was an IPC_SET of those same values with mode 0. A segment
 * that is this one and still at mode 0 therefore still bears exactly that
 * change (a gc never revokes a segment already at mode 0, and a restore
 * leaves it non-zero), so setting the recorded values undoes it and
 * nothing else; the only loss is an owner's own IPC_SET in the
 * microseconds between the gc's IPC_STAT and its revocation, which the
 * gc's own restore would have lost too.
 * Unknown keeps: a segment whose facts cannot be read (no SHM_STAT_ANY)
 * is left revoked, its entry kept, never restored on the shmid's word
 * alone. Only its owner (or root) can restore it: IPC_SET checks that. */
int sma__os_restore_revoked(const char *object, int *os_err) {
  revocation_t r;
  if (!parse_revocation(object, &r)) return SMA_ENOTSUP;
  unsigned long long here = ipc_namespace();
  if (r.ns == 0 || here == 0 || r.ns != here || r.key == 0)
    return SMA_ENOTSUP; /* cannot place it */
  int now = shmget((key_t)r.key, 0, 0);
  if (now < 0 && (errno == ENOENT || errno == EIDRM)) return 0; /* removed: spent */
  if (now < 0) return fail(errno, 0, os_err);
  if (now != r.id) return 0; /* the key names another segment now: not ours to touch */
  struct shmid_ds ds;
  if (stat_revoked(r.id, &ds) != 0) {
    if (errno == EINVAL || errno == EIDRM) return 0;              /* removed meanwhile */
    return errno == EACCES ? SMA_EACCES : fail(errno, 0, os_err); /* unknown: kept */
  }
  if (!same_segment(&ds, &r)) return 0;          /* another segment got the shmid */
  if ((ds.shm_perm.mode & 0777u) != 0) return 0; /* restored already */
  int e = restore_owner_mode(r.id, r.uid, r.gid, r.mode);
  if (e == EINVAL || e == EIDRM) return 0; /* removed meanwhile */
  return e == 0 ? 0 : fail(e, 0, os_err);
}

/* The shmid is the identity: a segment re-created under the name has
 * another. */
int sma__os_remove_unused(const char *name, const uint64_t ident[2], int dry_run, int *os_err) {
  SMA__PAUSE_POINT(); /* tests: the window between judging and removing */
  probe_t p;
  int e = find(name, &p);
  if (e != 0) return fail(e, 0, os_err);
  if ((uint64_t)p.id != ident[0]) return SMA_EREPLACED;
  if (p.ds.shm_nattch != 0) return SMA_EINUSE;
  if (dry_run) return 0;
  return remove_unattached(p.id, key_of(name, p.probe), &p.ds, os_err);
}

/* Whether segment `id` carries a valid record: 1 yes, 0 no (none, or a
 * corrupt one), -1 it cannot be attached to tell. */
static int record_state(int id, size_t size) {
  char name[SMA_NAME_BUF];
  int rc = read_record_of(id, size, name); /* -1: not attached */
  return rc == 0 ? 1 : rc == SMA_ENORECORD || rc == SMA_ECORRUPT ? 0 : -1;
}

/* Is segment `id` (IPC_STAT in *ds) one that `creator` made for this
 * user and never published: created by that pid, owned and created by
 * this user, still marked being created, without a valid record? The
 * mark alone proves nothing (any program may use mode 0700): the intent
 * that led here, and the creator pid the kernel recorded, do. */
static int unpublished_by(int id, const struct shmid_ds *ds, uint64_t creator) {
  return ds->shm_cpid > 0 && (uint64_t)ds->shm_cpid == creator && ds->shm_perm.cuid == geteuid() &&
         ds->shm_perm.uid == geteuid() && (ds->shm_perm.mode & CREATING_MARK) != 0 &&
         record_state(id, (size_t)ds->shm_segsz) == 0;
}

/* A stray's identity, all that removing it needs (never parsed back out
 * of its label, which a long name cuts):
 *     ident[0] = shmid | key << 32   (a shmid is a non-negative int, a
 *                                     key 32 bits)
 *     ident[1] = the creator's pid (shm_cpid)
 * Both words are compared whole by sma_collect_stray(), so a segment
 * found at another key, or made by another creator, is another stray. */
static void stray_ident(sma__os_stray_t *s, int id, key_t key, pid_t cpid) {
  s->ident[0] = (uint64_t)(uint32_t)id | (uint64_t)(uint32_t)key << 32;
  s->ident[1] = (uint64_t)cpid;
}

static int stray_shmid(const sma__os_stray_t *s) {
  return (int)(uint32_t)(s->ident[0] & 0xffffffffu);
}

static key_t stray_key(const sma__os_stray_t *s) { return (key_t)(uint32_t)(s->ident[0] >> 32); }

static uint64_t stray_creator(const sma__os_stray_t *s) { return s->ident[1]; }

/* Shm_cpid is the creator's pid as this pid namespace sees it (Linux 4.17
 * and later; earlier, as the creator's own namespace saw it). Common code
 * calls this only for a creator of its own pid namespace, where both are
 * the same number. */
int sma__os_intent_objects(const char *object, uint64_t creator,
                           int (*fn)(const sma__os_stray_t *stray, void *user), void *user,
                           size_t *found, int *os_err) {
  (void)os_err;
  *found = 0;
  unsigned long long ns;
  int at = 0;
  if (sscanf(object, "sysv %llu %n", &ns, &at) != 1 || at == 0) return SMA_ENOTSUP;
  unsigned long long here = ipc_namespace();
  if (ns == 0 || here == 0 || ns != here) return SMA_ENOTSUP; /* cannot place it */
  const char *name = object + at;
  for (int i = 0; i < PROBES; i++) {
    int id = shmget(key_of(name, i), 0, 0);
    struct shmid_ds ds;
    if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0 || !unpublished_by(id, &ds, creator)) continue;
    sma__os_stray_t s;
    memset(&s, 0, sizeof s);
    key_t key = key_of(name, i);
    /* The label is for people and may be cut (a name has up to 255
     * bytes): what removal needs travels in the identity. */
    snprintf(s.label, sizeof s.label, "%s (unpublished: shmid %d key 0x%08x)", name, id,
             (unsigned)key);
    stray_ident(&s, id, key, ds.shm_cpid);
    s.by_creator_pid = 1;
    (*found)++;
    int rc = fn(&s, user);
    if (rc != 0) return rc;
  }
  return 0;
}

/* The shmid is the identity, with the creator's pid: an id the kernel
 * hands out again also has a new creator. */
int sma__os_remove_stray(const sma__os_stray_t *stray, int dry_run, int *os_err) {
  int id = stray_shmid(stray);
  uint64_t creator = stray_creator(stray);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0)
    return errno == EINVAL || errno == EIDRM ? SMA_ENOENT : fail(errno, 0, os_err);
  if ((uint64_t)ds.shm_cpid != creator) return SMA_EREPLACED;
  if (!unpublished_by(id, &ds, creator) || ds.shm_nattch != 0) return SMA_EINUSE;
  if (dry_run) return 0;
  SMA__PAUSE_POINT(); /* tests: the window between judging and removing */
  return remove_unattached(id, stray_key(stray), &ds, os_err);
}

int sma__os_list(int (*fn)(const char *name, void *user), void *user, int *os_err) {
  if (USE_INDEX) return SMA_ENOTSUP; /* common code walks the index */
  FILE *f = fopen("/proc/sysvipc/shm", "re");
  if (f == NULL) return fail(errno, 0, os_err);
  char line[512];
  int rc = 0;
  if (fgets(line, sizeof line, f) == NULL) line[0] = '\0'; /* header */
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    int key, id;
    if (sscanf(line, "%d %d", &key, &id) != 2) continue;
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0 || !trustworthy(&ds)) continue;
    char name[SMA_NAME_BUF]; /* skipped: not ours to read, or no record */
    if (read_name_of(id, (size_t)ds.shm_segsz, name)) rc = fn(name, user);
  }
  fclose(f);
  return rc;
}
