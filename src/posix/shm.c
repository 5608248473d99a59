/*
 * POSIX backend: shm_open / posix_fallocate / mmap / munmap / shm_unlink.
 * The OS name of "x" is "/x" (Linux shows it as /dev/shm/x).
 */
#define _GNU_SOURCE /* MAP_POPULATE etc. on glibc; harmless elsewhere */
#include "../platform.h"
#include "sma.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__APPLE__)
/* PSHMNAMLEN is 31 including the leading '/'. */
#define POSIX_MAX_NAME 30
#else
#define POSIX_MAX_NAME 255 /* NAME_MAX of the /dev/shm file */
#endif

void sma__os_caps(sma__os_caps_t *caps) {
  long page = sysconf(_SC_PAGESIZE);
  caps->backend = "posix";
  caps->max_name = POSIX_MAX_NAME;
  caps->granularity = page > 0 ? (size_t)page : 4096;
#if defined(__APPLE__)
  caps->size_is_exact = 0; /* fstat reports page-rounded sizes */
  caps->can_list = 0;
#else
  caps->size_is_exact = 1;
  caps->can_list = 1; /* /dev/shm */
#endif
  caps->unlink_keeps_maps = 1;
  caps->outlives_creator = 1;
  caps->unlink_by_creator_only = 0;
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
static int fail(int e, int *os_err) {
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
    fd = shm_open(path, oflag | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

/* Gives the new object its size, reserving the memory where possible so a
 * full /dev/shm is ENOSPC now rather than SIGBUS at first touch. */
static int reserve(int fd, size_t size) {
#if defined(__APPLE__)
  return ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
#else
  int rc;
  do {
    rc = posix_fallocate(fd, 0, (off_t)size);
  } while (rc == EINTR);
  if (rc == EOPNOTSUPP || rc == EINVAL || rc == ENOSYS)
    rc = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
  return rc;
#endif
}

static int map_fd(int fd, size_t size, sma__os_segment_t *seg) {
  void *addr = NULL;
  if (size > 0) {
    addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) return errno;
  }
  seg->addr = addr;
  seg->size = size;
  seg->handle = fd;
  return 0;
}

int sma__os_create(const char *name, size_t size, unsigned flags,
                   sma__os_segment_t *seg, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  if (size > (size_t)(((uint64_t)1 << 62))) return SMA_EOVERFLOW;
  mode_t mode = (flags & SMA__OS_GROUP) ? 0660 : 0600;
  int fd = open_retry(path, O_RDWR | O_CREAT | O_EXCL, mode);
  if (fd < 0) return fail(errno, os_err);
  /* The umask may have removed bits we asked for; set them exactly. */
  int e = fchmod(fd, mode) == 0 ? 0 : errno;
  if (e == 0) e = reserve(fd, size);
  if (e == 0) e = map_fd(fd, size, seg);
  if (e != 0) {
    shm_unlink(path);
    close(fd);
    return fail(e, os_err);
  }
  return 0;
}

int sma__os_open(const char *name, sma__os_segment_t *seg, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  int fd = open_retry(path, O_RDWR, 0);
  if (fd < 0) return fail(errno, os_err);
  struct stat st;
  int e = fstat(fd, &st) == 0 ? 0 : errno;
  if (e == 0 && (uintmax_t)st.st_size > SIZE_MAX) e = EFBIG;
  if (e == 0) e = map_fd(fd, (size_t)st.st_size, seg);
  if (e != 0) {
    close(fd);
    return fail(e, os_err);
  }
  return 0;
}

int sma__os_close(sma__os_segment_t *seg, int *os_err) {
  int e = 0;
  if (seg->addr != NULL && munmap(seg->addr, seg->size) != 0) e = errno;
  if (seg->handle >= 0 && close((int)seg->handle) != 0 && e == 0) e = errno;
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return e != 0 ? fail(e, os_err) : 0;
}

int sma__os_unlink(const char *name, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  return shm_unlink(path) == 0 ? 0 : fail(errno, os_err);
}
