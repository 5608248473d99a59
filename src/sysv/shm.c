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
 * segment (common code) holds the full name. open() walks the probe
 * sequence and takes the first segment whose record carries the name;
 * create() refuses a name already present at any probe (SMA_EEXIST) and
 * otherwise takes the first free key. A key holding another name, a
 * segment without a record, or one this user may not attach counts as
 * occupied. Two processes creating the same name at the same instant may
 * race (the record is written just after shmget); names from
 * sma_build_name() never meet that case.
 */
#define _GNU_SOURCE
#include "../platform.h"
#include "../sma_int.h"

#include "../unix/fault.h"
#include "../unix/index.h"
#include "../unix/os.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

enum { PROBES = 8 };

/* Lists /proc/sysvipc/shm on Linux; elsewhere the per-user index. */
#define USE_INDEX SMA__UNIX_USE_INDEX

void sma__os_caps(sma__os_caps_t *caps) {
  sma__unix_caps(caps); /* IPC_RMID waits for the last detach */
  caps->backend = "sysv";
  caps->max_name = SMA_NAME_BUF - 1; /* the record's name field */
  caps->size_is_exact = 1;           /* IPC_STAT shm_segsz */
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
  case ENOSPC: return SMA_ELIMIT; /* shmmni or shmall */
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

static key_t key_of(const char *name, int probe) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 16777619u;
  h += (uint32_t)probe * 0x9E3779B9u;
  key_t key = (key_t)h;
  return key == IPC_PRIVATE ? (key_t)1 : key;
}

/* Attaches segment `id` and fills seg with its mapping and exact size. */
static int attach(int id, sma__os_segment_t *seg) {
  struct shmid_ds ds;
  if (SMA__INJECT(shmctl(id, IPC_STAT, &ds), -1, EIO) != 0) return errno;
  void *addr = SMA__INJECT(shmat(id, NULL, 0), (void *)-1, ENOMEM);
  if (addr == (void *)-1) return errno;
  seg->addr = addr;
  seg->size = (size_t)ds.shm_segsz;
  seg->handle = id;
  return 0;
}

/* Does the attached segment carry our name in its record? */
static int holds_name(const sma__os_segment_t *seg, const char *name) {
  sma__record_t rec;
  return sma__record_read(seg->addr, seg->size, &rec) == 0 &&
         strcmp(rec.name, name) == 0;
}

/* Walks the probe sequence for `name`. Returns 0 with *seg attached when
 * found; otherwise the errno to report: ENOENT, or EACCES when a probe
 * held a segment this user may not examine. Any other failure to examine
 * a probe is returned as it is: skipping that key could hide the name and
 * let create() make a second segment of the same name. *first_free gets
 * the first probe with no segment (-1 if none). */
static int find(const char *name, sma__os_segment_t *seg, int *first_free) {
  int denied = 0;
  *first_free = -1;
  for (int i = 0; i < PROBES; i++) {
    int id = SMA__INJECT(shmget(key_of(name, i), 0, 0), -1, EIO);
    int e = id < 0 ? errno : attach(id, seg);
    if (e == ENOENT && id < 0 && *first_free < 0) *first_free = i;
    if (e == ENOENT || e == EACCES) {
      denied |= e == EACCES;
      continue;
    }
    if (e != 0) return e;
    if (holds_name(seg, name)) return 0;
    shmdt(seg->addr);
  }
  return denied ? EACCES : ENOENT;
}

int sma__os_create(const char *name, size_t size, unsigned flags,
                   sma__os_segment_t *seg, int *os_err) {
  int mode = (flags & SMA__OS_GROUP) ? 0660 : 0600; /* no umask in SysV */
  int first_free;
  int e = find(name, seg, &first_free);
  if (e == 0) {
    shmdt(seg->addr);
    return fail(EEXIST, 1, os_err);
  }
  if (e != ENOENT && e != EACCES) return fail(e, 0, os_err); /* unexamined */
  if (first_free < 0) return fail(ENOSPC, 1, os_err); /* every probe taken */
  key_t key = key_of(name, first_free);
  int id = -1;
  seg->effective = flags & SMA__OS_GROUP;
#if defined(SHM_HUGETLB)
  /* Huge pages need reserved hugetlb pages; without them, normal pages. */
  if (flags & SMA__OS_HUGEPAGES) {
    id = shmget(key, size, IPC_CREAT | IPC_EXCL | SHM_HUGETLB | mode);
    if (id >= 0) seg->effective |= SMA__OS_HUGEPAGES;
  }
#endif
  if (id < 0) id = SMA__INJECT(shmget(key, size, IPC_CREAT | IPC_EXCL | mode), -1, ENOSPC);
  if (id < 0) return fail(errno, 1, os_err);
  e = attach(id, seg);
  if (e != 0) {
    shmctl(id, IPC_RMID, NULL);
    return fail(e, 1, os_err);
  }
  if (USE_INDEX) sma__unix_index_add(name);
  return 0;
}

int sma__os_open(const char *name, sma__os_segment_t *seg, int *os_err) {
  int first_free;
  int e = find(name, seg, &first_free);
  return e == 0 ? 0 : fail(e, 0, os_err);
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  int e = 0;
  if (seg->addr != NULL && shmdt(seg->addr) != 0) e = errno;
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? fail(e, 0, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  sma__os_segment_t seg;
  int first_free;
  int e = find(name, &seg, &first_free);
  if (e == 0) {
    e = SMA__INJECT(shmctl((int)seg.handle, IPC_RMID, NULL), -1, EIO) == 0 ? 0 : errno;
    shmdt(seg.addr);
  }
  if (USE_INDEX && (e == 0 || e == ENOENT)) sma__unix_index_remove(name);
  return e == 0 ? 0 : fail(e, 0, os_err);
}

int sma__os_stat(const char *name, sma__os_stat_t *st, int *os_err) {
  sma__os_segment_t seg;
  int first_free;
  int e = find(name, &seg, &first_free);
  if (e != 0) return fail(e, 0, os_err);
  shmdt(seg.addr); /* not counting ourselves */
  struct shmid_ds ds;
  st->attached = shmctl((int)seg.handle, IPC_STAT, &ds) == 0
                     ? (int)ds.shm_nattch : -1;
  return 0;
}

static int segment_exists(const char *name) {
  sma__os_segment_t seg;
  int first_free;
  int e = find(name, &seg, &first_free);
  if (e == 0) shmdt(seg.addr);
  return e != ENOENT;
}

int sma__os_list(int (*fn)(const char *name, void *user), void *user,
                 int *os_err) {
  if (USE_INDEX) return sma__unix_index_list(fn, user, segment_exists);
  FILE *f = fopen("/proc/sysvipc/shm", "re");
  if (f == NULL) return fail(errno, 0, os_err);
  char line[512];
  int rc = 0;
  if (fgets(line, sizeof line, f) == NULL) line[0] = '\0'; /* header */
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    int key, id;
    if (sscanf(line, "%d %d", &key, &id) != 2) continue;
    sma__os_segment_t seg;
    if (attach(id, &seg) != 0) continue; /* not ours to read */
    sma__record_t rec;
    int named = sma__record_read(seg.addr, seg.size, &rec) == 0;
    shmdt(seg.addr);
    if (named) rc = fn(rec.name, user);
  }
  fclose(f);
  return rc;
}
