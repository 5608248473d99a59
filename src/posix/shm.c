/*
 * POSIX backend, the segments: shm_open / posix_fallocate / mmap /
 * munmap / shm_unlink. The OS name of "x" is "/x" (Linux shows it as
 * /dev/shm/x). What /dev/shm and /proc show of the segments (listing,
 * who maps them) and gc's removals are src/posix/gc.c's.
 */
#define _GNU_SOURCE /* MAP_POPULATE etc. on glibc; harmless elsewhere */
#include "../platform.h"
#include "backend.h"

#include "../unix/fault.h"
#include "../unix/os.h"
#include "hugepages.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* /dev/shm's free space decides, not a fixed limit. */
uint64_t sma__os_max_segment(void) { return 0; }

void sma__os_caps(sma_caps_t *caps) {
  sma__unix_caps(caps);
  caps->backend = "posix";
  caps->max_name = OS->posix_max_name;
  caps->size_is_exact = OS->posix_exact_size;
  caps->can_list = !USE_INDEX;
  caps->proves_unused = OS->posix_shm_dir; /* leases and /proc/PID/maps */
  caps->reserves_memory = OS->posix_reserve;
}

/* The one errno translation of this backend. */
static int from_errno(int e) {
  switch (e) {
  case 0: return 0;
  case EEXIST: return SMA_EEXIST;
  case ENOENT: return SMA_ENOENT;
  case EACCES:
  case EPERM: return SMA_EACCES;
  case ENAMETOOLONG: return SMA_ENAMETOOLONG;
  case ENOSPC:
  case EFBIG: return SMA_ENOSPC;
  case ENOMEM: return SMA_ENOMEM;
  case EMFILE:
  case ENFILE: return SMA_ELIMIT;
  case EINVAL: return SMA_EINVAL;
  default: return SMA_EOS;
  }
}

/* Records errno for the caller and translates it. */
int sma__posix_fail(int e, int *os_err) {
  *os_err = e;
  errno = e;
  return from_errno(e);
}

static int os_name(const char *name, char *buf, size_t cap) {
  size_t len = strlen(name);
  if (len + 2 > cap) return SMA_ENAMETOOLONG;
  buf[0] = '/';
  memcpy(buf + 1, name, len + 1);
  return 0;
}

static int open_retry(const char *path, int oflag, mode_t mode) {
  int fd;
  do {
    fd = SMA__INJECT(shm_open(path, oflag | O_CLOEXEC, mode), -1, EIO);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

/* Reserves the memory of the sized object so a full /dev/shm is ENOSPC
 * now rather than SIGBUS at first touch. */
static int reserve(int fd, size_t size) {
  if (!OS->posix_reserve) return 0; /* plain memory: ftruncate is all */
#if defined(__APPLE__)
  (void)fd;
  (void)size;
  return 0; /* no posix_fallocate to call */
#else
  int rc;
  do {
    rc = SMA__INJECT(posix_fallocate(fd, 0, (off_t)size), errno, ENOSPC);
  } while (rc == EINTR);
  if (rc == EOPNOTSUPP || rc == EINVAL || rc == ENOSYS) rc = 0; /* sized */
  return rc;
#endif
}

static int map_fd(int fd, size_t size, int populate, int readonly, sma__os_segment_t *seg) {
  void *addr = NULL;
  int extra = 0;
#if defined(MAP_POPULATE)
  if (populate) extra = MAP_POPULATE;
#else
  (void)populate;
#endif
  if (size > 0) {
    int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
    addr = SMA__INJECT(mmap(NULL, size, prot, MAP_SHARED | extra, fd, 0), MAP_FAILED, ENOMEM);
    if (addr == MAP_FAILED) return errno;
  }
  seg->addr = addr;
  seg->size = size;
  seg->handle = fd;
  seg->readonly = readonly;
  return 0;
}

/* Writes all of buf at offset with pwrite: on a full tmpfs this is ENOSPC,
 * where a store through the mapping would be SIGBUS. */
static int write_at(int fd, const void *buf, size_t n, off_t offset) {
  const unsigned char *p = buf;
  while (n > 0) {
    ssize_t w = SMA__INJECT(pwrite(fd, p, n, offset), -1, ENOSPC);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    p += w;
    n -= (size_t)w;
    offset += w;
  }
  return 0;
}

/* Mark of a segment being created: the owner's execute bit, which means
 * nothing for shared memory. publish() clears it. */
#define CREATING_MARK S_IXUSR

#if defined(__linux__) && defined(O_TMPFILE)
/* Linux: the segment is made as an unnamed tmpfs file and only linked
 * under its name once complete, so a creator killed at any moment leaves
 * nothing at all (the file goes with its last descriptor). -1 with errno
 * EOPNOTSUPP where O_TMPFILE is unavailable: the caller falls back. */
static int open_unnamed(const char *name, mode_t mode, int long_build) {
  if (!OS->posix_shm_dir) {
    errno = EOPNOTSUPP; /* no /dev/shm directory to make it in */
    return -1;
  }
  shm_file_t file = shm_file(name);
  /* Fail fast on a taken name rather than after a long reservation or
   * prefault (a create without either has nothing long to save, and
   * skips the call); linkat() in publish() is what makes create
   * exclusive. */
  struct stat st;
  if (long_build && fstatat(AT_FDCWD, file.path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    errno = EEXIST;
    return -1;
  }
  int fd = SMA__INJECT(open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, mode), -1, EOPNOTSUPP);
  if (fd < 0 && (errno == EISDIR || errno == EINVAL || errno == ENOENT || errno == ENOTDIR))
    errno = EOPNOTSUPP; /* old kernel, or no /dev/shm directory */
  return fd;
}

/* Gives the unnamed file its name: linkat() fails with EEXIST rather than
 * replace anything (a file, a symlink) that took the name meanwhile. */
static int link_name(int fd, const char *name) {
  shm_file_t file = shm_file(name);
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  if (SMA__INJECT(linkat(AT_FDCWD, self, AT_FDCWD, file.path, AT_SYMLINK_FOLLOW), -1, ENOSPC) == 0)
    return 0;
  if (errno != ENOENT) return errno;
  /* No /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH on older kernels). */
  return linkat(fd, "", AT_FDCWD, file.path, AT_EMPTY_PATH) == 0 ? 0 : errno;
}
#else
static int open_unnamed(const char *name, mode_t mode, int long_build) {
  (void)name;
  (void)mode;
  (void)long_build;
  errno = EOPNOTSUPP;
  return -1;
}
static int link_name(int fd, const char *name) {
  (void)fd;
  (void)name;
  return EOPNOTSUPP;
}
#endif

/* Whether huge pages can back a segment of `size` bytes here: /dev/shm
 * (not the index personality), at least one huge page, a mount that
 * grants them. */
static int huge_possible(size_t size) {
  size_t huge = OS->posix_shm_dir ? sma__huge_size() : 0;
  return huge > 0 && size >= huge && sma__huge_mount_allows(SHM_DIR);
}

/* Whether every byte of the file has its memory: what the populate below
 * is trusted for (an old kernel refuses it, an emulator such as qemu-user
 * accepts it and does nothing). */
static int fully_allocated(int fd, size_t size) {
  struct stat st;
  return fstat(fd, &st) == 0 && (uint64_t)st.st_blocks * 512 >= (uint64_t)size;
}

/* Huge pages, on a tmpfs that may give them: map first (the kernel aligns
 * a shmem mapping to the huge page size itself), advise, then allocate
 * through the mapping. The order matters: posix_fallocate allocates
 * through the file, which under huge=advise gives small pages that stay
 * small. Reserving (the default) or PREFAULT allocates every page now;
 * NORESERVE alone leaves them to the first write, huge then too. Where
 * the allocation did not happen, the default reserves as without the
 * flag, so a full /dev/shm stays ENOSPC. */
static int build_huge(int fd, size_t size, unsigned flags, sma__os_segment_t *seg) {
  int e = map_fd(fd, size, 0, 0, seg);
  if (e != 0) return e;
  int advised = sma__huge_advise(seg->addr, size) == 0;
  int allocate = !(flags & SMA_CREATE_NORESERVE) || (flags & SMA_CREATE_PREFAULT);
  if (allocate) {
    e = sma__huge_populate(seg->addr, size);
    if (e != 0 && e != EINVAL) return e; /* EINVAL: before Linux 5.14 */
    if (e == 0 && fully_allocated(fd, size))
      seg->effective |= flags & SMA_CREATE_PREFAULT; /* every page is mapped */
    else if (!(flags & SMA_CREATE_NORESERVE) && (e = reserve(fd, size)) != 0)
      return e;
  }
  /* The truth: what the kernel mapped, or, with nothing allocated yet,
   * what it has been asked for on a mount that grants it. */
  if (advised && (!allocate || sma__huge_pmd_mapped(seg->addr) > 0))
    seg->effective |= SMA_CREATE_HUGEPAGES;
  return 0;
}

/* Sizes the new object, stores the record at its end and reserves and
 * maps it: the steps after the name (or the unnamed file) exists. */
static int build(int fd, size_t size, unsigned flags, const unsigned char *record,
                 sma__os_segment_t *seg) {
  off_t at = (off_t)(size - SMA__RECORD_SIZE);
  /* The one ftruncate of the object's life: Darwin refuses a second. */
  int e = SMA__INJECT(ftruncate(fd, (off_t)size), -1, EIO) == 0 ? 0 : errno;
  int populate = (flags & SMA_CREATE_PREFAULT) != 0;
  if (!OS->posix_fd_io) {
    /* Objects that take neither pread nor pwrite: through the map. */
    if (e == 0) e = map_fd(fd, size, populate, 0, seg);
    if (e == 0) memcpy((unsigned char *)seg->addr + at, record, SMA__RECORD_SIZE);
    return e;
  }
  if (e == 0) e = write_at(fd, record, SMA__RECORD_SIZE, at);
  if (e == 0 && (flags & SMA_CREATE_HUGEPAGES) && huge_possible(size))
    return build_huge(fd, size, flags, seg);
  if (e == 0 && !(flags & SMA_CREATE_NORESERVE)) e = reserve(fd, size);
  if (e == 0) e = map_fd(fd, size, populate, 0, seg);
  return e;
}

/* Whether a file of n bytes has an off_t size; a function of a 64-bit
 * argument, like sma__fits_size_t(). */
static int fits_off_t(uint64_t n) {
  uint64_t off_max = ((uint64_t)1 << (sizeof(off_t) * CHAR_BIT - 1)) - 1;
  return n <= off_max;
}

/* Linux without O_TMPFILE: the segment is built under a private name,
 * "/.sma-new-<random>" (STAGED_PREFIX), and renamed to its own only once complete, so no
 * incomplete segment ever carries the name. An intent entry naming that
 * private name, this /dev/shm and the creator is written before the
 * exclusive create: it is what lets gc remove what a killed creator left
 * there (nothing else does: not the name pattern, not a mode bit). */
static int stage_name(char *buf, size_t cap, int *os_err) {
  unsigned char r[16];
  int rc = sma__os_random(r, sizeof r, os_err);
  if (rc != 0) return rc;
  int n = snprintf(buf, cap, "/" STAGED_PREFIX);
  for (size_t i = 0; i < sizeof r; i++) n += snprintf(buf + n, cap - (size_t)n, "%02x", r[i]);
  return 0;
}

/* The intent's object: "posix DEV STAGED NAME", DEV the /dev/shm it is in
 * (another mount namespace's /dev/shm is another directory). */
static void stage_intent(const char *staged, const char *name, char entry[32]) {
  struct stat st;
  entry[0] = '\0';
  if (stat(SHM_DIR, &st) != 0) return;
  char object[SMA_STRAY_LABEL];
  int n = snprintf(object, sizeof object, "posix %llu %s %s", (unsigned long long)st.st_dev,
                   staged + 1, name);
  if (n > 0 && (size_t)n < sizeof object) sma__intent_write(object, entry);
}

/* Opens the object create() builds: unnamed (O_TMPFILE), staged under a
 * private name with an intent (Linux without O_TMPFILE), or under its name
 * with the being-created mark (Darwin, where nothing can be renamed and
 * gc never removes anything). *how: 1, 2 or 0 respectively. */
static int open_new(const char *name, const char *path, mode_t mode, int long_build,
                    sma__os_segment_t *seg, int *how, int *os_err) {
  int fd = open_unnamed(name, mode, long_build);
  *how = 1;
  if (fd >= 0 || errno != EOPNOTSUPP) return fd;
  if (!OS->posix_shm_dir) {
    *how = 0;
    return open_retry(path, O_RDWR | O_CREAT | O_EXCL, mode | CREATING_MARK);
  }
  *how = 2;
  if (stage_name(seg->staged, sizeof seg->staged, os_err) != 0) {
    errno = *os_err != 0 ? *os_err : EIO;
    return -1;
  }
  stage_intent(seg->staged, name, seg->intent);
  SMA__PAUSE_AT("intent"); /* tests: intent written, nothing created yet */
  fd = open_retry(seg->staged, O_RDWR | O_CREAT | O_EXCL, mode | CREATING_MARK);
  if (fd < 0) sma__intent_drop(seg->intent);
  return fd;
}

/* The error a create reports when building the segment failed with `e`:
 * EEXIST if the name is taken, as sma.h promises for an existing name,
 * where the name was not looked at before building (a create with
 * nothing long to save skips that look) and a full /dev/shm, say, failed
 * the build first. */
static int taken_instead(const char *name, int looked_before, int e) {
  struct stat st;
  if (e == EEXIST || looked_before || !OS->posix_shm_dir) return e;
  return fstatat(AT_FDCWD, shm_file(name).path, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST : e;
}

int sma__os_create(const char *name, size_t size, unsigned flags, const unsigned char *record,
                   sma__os_segment_t *seg, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  if (!fits_off_t(size) || size < SMA__RECORD_SIZE) return SMA_EOVERFLOW;
  mode_t mode = (flags & SMA_CREATE_GROUP) ? 0660 : 0600;
  sma__os_segment_t fresh;
  memset(&fresh, 0, sizeof fresh);
  int how;
  int long_build = !(flags & SMA_CREATE_NORESERVE) || (flags & SMA_CREATE_PREFAULT);
  int fd = open_new(name, path, mode, long_build, &fresh, &how, os_err);
  if (fd < 0) return sma__posix_fail(taken_instead(name, long_build, errno), os_err);
  /* The umask may have removed bits we asked for; set them exactly. */
  mode_t now = how == 1 ? mode : mode | CREATING_MARK;
  int e = SMA__INJECT(fchmod(fd, now), -1, EPERM) == 0 ? 0 : errno;
  *seg = fresh;
  if (how != 1) SMA__PAUSE_AT("created"); /* tests: created, no record yet */
  if (how == 0) SMA__PAUSE_POINT();
  if (e == 0) e = build(fd, size, flags, record, seg);
  if (e != 0 && how == 1) e = taken_instead(name, long_build, e);
  if (e != 0) {
    if (seg->addr != NULL) munmap(seg->addr, size);
    if (how != 1) shm_unlink(how == 2 ? fresh.staged : path);
    close(fd);
    sma__intent_drop(fresh.intent);
    memset(seg, 0, sizeof *seg);
    seg->handle = -1;
    return sma__posix_fail(e, os_err);
  }
  seg->unnamed = how;
  memcpy(seg->staged, fresh.staged, sizeof seg->staged);
  memcpy(seg->intent, fresh.intent, sizeof seg->intent);
  seg->effective |= flags & (SMA_CREATE_GROUP | SMA_CREATE_NORESERVE);
#if defined(MAP_POPULATE)
  seg->effective |= flags & SMA_CREATE_PREFAULT;
#endif
  return 0;
}

/* Renames without replacing anything: EEXIST if `to` exists. */
static int rename_noreplace(const char *from, const char *to) {
#if defined(RENAME_NOREPLACE)
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
#endif
  /* link + unlink never replaces either. */
  if (link(from, to) != 0) return errno;
  return unlink(from) == 0 ? 0 : errno;
}

/* Gives a staged segment its name: complete, unmarked, then renamed. */
static int publish_staged(const char *name, sma__os_segment_t *seg, mode_t mode) {
  if (SMA__INJECT(fchmod((int)seg->handle, mode), -1, EPERM) != 0) return errno;
  return rename_noreplace(shm_file(seg->staged + 1).path, shm_file(name).path);
}

/* Removes the name `path` ("/x") that our exclusive create took (how 0:
 * the Darwin path), but only while it still names the object behind fd:
 * during a long fill another process may have removed it (`sma rm`) and
 * created another segment under the name, which is not ours to remove.
 * Where fstat tells no inode (0), the name is taken to be ours, as the
 * exclusive create made it; and no OS offers a conditional shm_unlink, so
 * a replacement in the instant between the check and the unlink cannot
 * be excluded. */
static int unlink_own_name(const char *path, int fd) {
  struct stat ours, now;
  if (fstat(fd, &ours) != 0) return errno;
  /* Non-blocking where shm_open() takes it: a FIFO put under the name
   * must not hang the create (personality.h). */
  int other = shm_open(path, O_RDONLY | (OS->posix_open_nonblock ? O_NONBLOCK : 0), 0);
  if (other < 0) return errno == ENOENT ? 0 : errno;
  int same = fstat(other, &now) == 0 && now.st_dev == ours.st_dev && now.st_ino == ours.st_ino;
  close(other);
  if (!same) return 0; /* another's segment now: left alone */
  return shm_unlink(path) == 0 || errno == ENOENT ? 0 : errno;
}

/* Takes back the name or private name of an unpublished create: an
 * unnamed file (how 1) has none and goes with its descriptor. */
static int unname_unpublished(const char *name, const sma__os_segment_t *seg) {
  char path[SMA_NAME_BUF + 2];
  if (seg->unnamed == 2) return shm_unlink(seg->staged) == 0 ? 0 : errno;
  if (seg->unnamed == 0 && os_name(name, path, sizeof path) == 0)
    return unlink_own_name(path, (int)seg->handle);
  return 0;
}

int sma__os_publish(const char *name, sma__os_segment_t *seg, int *os_err) {
  mode_t mode = (seg->effective & SMA_CREATE_GROUP) ? 0660 : 0600;
  int e = seg->unnamed == 1 ? link_name((int)seg->handle, name)
          : seg->unnamed == 2
              ? publish_staged(name, seg, mode)
              : (SMA__INJECT(fchmod((int)seg->handle, mode), -1, EPERM) == 0 ? 0 : errno);
  if (e != 0) {
    unname_unpublished(name, seg);
    int ignored;
    sma__os_close(seg, &ignored);
    sma__intent_drop(seg->intent);
    return sma__posix_fail(e, os_err);
  }
  sma__intent_drop(seg->intent);
  seg->unnamed = 0;
  return 0;
}

int sma__os_abandon(const char *name, sma__os_segment_t *seg, int *os_err) {
  int e = unname_unpublished(name, seg);
  int rc = sma__os_close(seg, os_err);
  sma__intent_drop(seg->intent);
  return e != 0 ? sma__posix_fail(e, os_err) : rc;
}

/* The size as the OS reports it: where it is not exact, rounded up to the
 * page as Darwin's fstat does (idempotent there). */
static size_t reported_size(const struct stat *st) {
  size_t size = (size_t)st->st_size;
  if (OS->posix_exact_size) return size;
  size_t page = sma__caps().granularity;
  size_t tail = size % page;
  return tail == 0 || size > SIZE_MAX - (page - tail) ? size : size + (page - tail);
}

/* Why shm_open() refused an existing name `path` ("/x"), as errno: glibc
 * reports a directory as EINVAL (an invalid name), which a validated name
 * is not. */
static int open_error(const char *path, int e) {
#if defined(__linux__)
  struct stat st;
  if (e == EINVAL && OS->posix_shm_dir &&
      fstatat(AT_FDCWD, shm_file(path + 1).path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(st.st_mode))
    return EISDIR;
#else
  (void)path;
#endif
  return e;
}

/* How long the kernel lets a lease holder answer a break before it breaks
 * the lease itself (/proc/sys/fs/lease-break-time, in seconds): what a
 * blocking open() waits at most. 45 s, the kernel's default, when it
 * cannot be read. */
static long lease_break_ms(void) {
  long seconds = 45;
#if defined(__linux__)
  FILE *f = fopen("/proc/sys/fs/lease-break-time", "re");
  if (f != NULL) {
    long v;
    if (fscanf(f, "%ld", &v) == 1 && v >= 0 && v <= 24L * 3600) seconds = v;
    fclose(f);
  }
#endif
  return seconds * 1000;
}

static int64_t monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Opens the segment's descriptor. O_RDWR never blocks on a FIFO (Linux),
 * which open() then refuses; O_RDONLY would wait for a writer, so a
 * read-only open does not block (O_NONBLOCK, wherever shm_open() takes
 * it: personality.h). A non-blocking open of a file gc holds a lease on
 * fails (EWOULDBLOCK) instead of waiting for it, but still breaks the
 * lease, which makes gc keep the segment and let go; a gc that is stopped
 * does not let go, and then the kernel breaks the lease after
 * lease-break-time. So the open is retried as long as a blocking open
 * would wait, plus a margin for the kernel's own timer: a read-only open
 * succeeds wherever a read-write one would. */
static int open_segment_fd(const char *path, int readonly) {
  if (!readonly) return open_retry(path, O_RDWR, 0);
  int oflag = O_RDONLY | (OS->posix_open_nonblock ? O_NONBLOCK : 0);
  int fd = open_retry(path, oflag, 0);
  if (fd >= 0 || errno != EWOULDBLOCK) return fd;
  int64_t deadline = monotonic_ms() + lease_break_ms() + 2000;
  long pause_us = 1000; /* gc answers a break at once: look again soon */
  while (fd < 0 && errno == EWOULDBLOCK && monotonic_ms() < deadline) {
    struct timespec pause = {0, pause_us * 1000};
    nanosleep(&pause, NULL);
    if (pause_us < 20000) pause_us *= 2;
    fd = open_retry(path, oflag, 0);
  }
  return fd;
}

int sma__os_open(const char *name, int readonly, sma__os_segment_t *seg, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  int fd = open_segment_fd(path, readonly);
  if (fd < 0) return sma__posix_fail(open_error(path, errno), os_err);
  struct stat st;
  int e = SMA__INJECT(fstat(fd, &st), -1, EIO) == 0 ? 0 : errno;
  /* A FIFO or a device under the name in /dev/shm is no shared-memory
   * object: ENODEV, what mmap() says of a file it cannot map (a FIFO),
   * rather than a segment without a record (its size is 0). (macOS's
   * fstat of a shm object gives no file type: not checked there.) */
  if (e == 0 && OS->posix_shm_dir && !S_ISREG(st.st_mode)) e = ENODEV;
  /* A directory, which a read-only open() opens: EISDIR, as O_RDWR says. */
  if (e == ENODEV && S_ISDIR(st.st_mode)) e = EISDIR;
  /* No name any more: removed while this open() waited, e.g. for gc's
   * lease to end (unlink_unused). A segment gc has just removed is not
   * handed out as if its name still stood for it. */
  if (e == 0 && OS->posix_shm_dir && st.st_nlink == 0) e = ENOENT;
  memset(seg, 0, sizeof *seg);
  seg->handle = -1;
  if (e == 0 && !sma__fits_size_t((uint64_t)st.st_size)) {
    close(fd); /* a 64-bit process's segment, seen from a 32-bit one */
    return SMA_ETOOBIG;
  }
  if (e == 0) e = map_fd(fd, reported_size(&st), 0, readonly, seg);
  if (e != 0) {
    close(fd);
    seg->handle = -1;
    return sma__posix_fail(e, os_err);
  }
  seg->creating = (st.st_mode & CREATING_MARK) != 0;
  seg->ident[0] = (uint64_t)st.st_dev;
  seg->ident[1] = (uint64_t)st.st_ino;
  return 0;
}

/* One lstat of the /dev/shm file: what open() would find there, without
 * opening it. shm_open() does not follow a symlink, and anything but a
 * regular file is left to open() to refuse as it does. */
int sma__os_identify(const char *name, int readonly, uint64_t ident[2], size_t *size, int *creating,
                     int *os_err) {
  if (!OS->posix_shm_dir) return SMA_ENOTSUP; /* no file to stat (Darwin) */
  struct stat st;
  if (fstatat(AT_FDCWD, shm_file(name).path, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return sma__posix_fail(errno, os_err);
  if (!S_ISREG(st.st_mode) || !sma__fits_size_t((uint64_t)st.st_size)) return SMA_ENOTSUP;
  /* A load that shares a held mapping opens nothing, so the permission
   * open() would check is checked here: the owner's own read-write
   * segment at no cost, anything else by the kernel's rule. */
  mode_t own_bits = readonly ? 0400 : 0600;
  int own_ok = st.st_uid == geteuid() && (st.st_mode & own_bits) == own_bits;
  int wanted = readonly ? R_OK : R_OK | W_OK;
  if (!own_ok && faccessat(AT_FDCWD, shm_file(name).path, wanted, AT_EACCESS) != 0)
    return sma__posix_fail(errno, os_err);
  ident[0] = (uint64_t)st.st_dev;
  ident[1] = (uint64_t)st.st_ino;
  *size = reported_size(&st);
  *creating = (st.st_mode & CREATING_MARK) != 0;
  return 0;
}

int sma__os_read(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n, int *os_err) {
  if (!OS->posix_fd_io) return sma__read_mapped(seg, offset, buf, n);
  if (offset > seg->size || n > seg->size - offset) return SMA_ETOOSMALL;
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = SMA__INJECT(pread((int)seg->handle, p, n, (off_t)offset), -1, EIO);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sma__posix_fail(errno, os_err);
    if (r == 0) return SMA_ETOOSMALL; /* truncated since open() */
    p += r;
    n -= (size_t)r;
    offset += (uint64_t)r;
  }
  return 0;
}

/* Huge pages are a property of the file's pages, seen in a mapping once a
 * page is mapped: one page where the file holds data (SEEK_DATA; a hole
 * would be allocated by a read) is mapped with MADV_POPULATE_READ, which
 * fails rather than raising SIGBUS, then smaps says whether it is a PMD. */
int sma__os_huge_mapped(const sma__os_segment_t *seg) {
#if defined(SEEK_DATA)
  if (!OS->posix_shm_dir || seg->addr == NULL) return -1;
  if (sma__huge_size() == 0) return 0;
  off_t data = lseek((int)seg->handle, 0, SEEK_DATA);
  if (data < 0) return errno == ENXIO ? 0 : -1; /* ENXIO: nothing allocated */
  if ((uint64_t)data >= seg->size) return 0;
  size_t page = sma__caps().granularity;
  if (sma__huge_touch((const unsigned char *)seg->addr + data, page) != 0) return -1;
  return sma__huge_pmd_mapped(seg->addr) > 0;
#else
  (void)seg;
  return -1;
#endif
}

int sma__os_segment_intact(const sma__os_segment_t *seg) {
  struct stat st;
  if (seg->handle < 0) return 1; /* nothing of it is a descriptor */
  return fstat((int)seg->handle, &st) == 0 && (uint64_t)st.st_dev == seg->ident[0] &&
         (uint64_t)st.st_ino == seg->ident[1];
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  int e = 0;
  if (seg->addr != NULL && munmap(seg->addr, seg->size) != 0) e = errno;
  if (seg->handle >= 0 && close((int)seg->handle) != 0 && e == 0) e = errno;
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? sma__posix_fail(e, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  int e = SMA__INJECT(shm_unlink(path), -1, EIO) == 0 ? 0 : errno;
  return e == 0 ? 0 : sma__posix_fail(e, os_err);
}
