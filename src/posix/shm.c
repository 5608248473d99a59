/*
 * POSIX backend: shm_open / posix_fallocate / mmap / munmap / shm_unlink.
 * The OS name of "x" is "/x" (Linux shows it as /dev/shm/x).
 */
#define _GNU_SOURCE /* MAP_POPULATE etc. on glibc; harmless elsewhere */
#include "../platform.h"
#include "sma.h"

#include "../unix/fault.h"
#include "../unix/index.h"
#include "../unix/os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Lists /dev/shm on Linux; elsewhere the per-user index (index.h). */
#define USE_INDEX SMA__UNIX_USE_INDEX

void sma__os_caps(sma__os_caps_t *caps) {
  sma__unix_caps(caps);
  caps->backend = "posix";
  caps->max_name = POSIX_MAX_NAME;
#if defined(__APPLE__)
  caps->size_is_exact = 0; /* fstat reports page-rounded sizes */
#else
  caps->size_is_exact = 1;
#endif
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
    fd = SMA__INJECT(shm_open(path, oflag | O_CLOEXEC, mode), -1, EIO);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

/* Gives the new object its size, reserving the memory where possible so a
 * full /dev/shm is ENOSPC now rather than SIGBUS at first touch. */
static int reserve(int fd, size_t size, int lazy) {
#if defined(__APPLE__)
  (void)lazy;
  return ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
#else
  if (lazy) return SMA__INJECT(ftruncate(fd, (off_t)size), -1, EIO) == 0 ? 0 : errno;
  int rc;
  do {
    rc = SMA__INJECT(posix_fallocate(fd, 0, (off_t)size), errno, ENOSPC);
  } while (rc == EINTR);
  if (rc == EOPNOTSUPP || rc == EINVAL || rc == ENOSYS)
    rc = SMA__INJECT(ftruncate(fd, (off_t)size), -1, EIO) == 0 ? 0 : errno;
  return rc;
#endif
}

static int map_fd(int fd, size_t size, int populate, sma__os_segment_t *seg) {
  void *addr = NULL;
  int extra = 0;
#if defined(MAP_POPULATE)
  if (populate) extra = MAP_POPULATE;
#else
  (void)populate;
#endif
  if (size > 0) {
    addr = SMA__INJECT(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | extra, fd, 0),
                       MAP_FAILED, ENOMEM);
    if (addr == MAP_FAILED) return errno;
  }
  seg->addr = addr;
  seg->size = size;
  seg->handle = fd;
  return 0;
}

/* Asks for transparent huge pages on the mapping. They only take effect
 * when the kernel's shmem THP mode is not "never"/"deny", so report
 * success only then. */
static int advise_hugepages(void *addr, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (madvise(addr, size, MADV_HUGEPAGE) != 0) return 0;
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");
  if (f == NULL) return 0;
  char mode[128] = "";
  char *got = fgets(mode, sizeof mode, f);
  fclose(f);
  /* The selected mode is in brackets: "always within_size advise [never]". */
  return got != NULL && strstr(mode, "[never]") == NULL &&
         strstr(mode, "[deny]") == NULL && strchr(mode, '[') != NULL;
#else
  (void)addr;
  (void)size;
  return 0;
#endif
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
  int e = SMA__INJECT(fchmod(fd, mode), -1, EPERM) == 0 ? 0 : errno;
  if (e == 0) e = reserve(fd, size, (flags & SMA__OS_NORESERVE) != 0);
  if (e == 0) e = map_fd(fd, size, (flags & SMA__OS_PREFAULT) != 0, seg);
  if (e != 0) {
    shm_unlink(path);
    close(fd);
    return fail(e, os_err);
  }
  seg->effective = flags & (SMA__OS_GROUP | SMA__OS_NORESERVE);
#if defined(MAP_POPULATE)
  seg->effective |= flags & SMA__OS_PREFAULT;
#endif
  if ((flags & SMA__OS_HUGEPAGES) && advise_hugepages(seg->addr, size))
    seg->effective |= SMA__OS_HUGEPAGES;
  if (USE_INDEX) sma__unix_index_add(name);
  return 0;
}

int sma__os_open(const char *name, sma__os_segment_t *seg, int *os_err) {
  char path[SMA_NAME_BUF + 2];
  int rc = os_name(name, path, sizeof path);
  if (rc != 0) return rc;
  int fd = open_retry(path, O_RDWR, 0);
  if (fd < 0) return fail(errno, os_err);
  struct stat st;
  int e = SMA__INJECT(fstat(fd, &st), -1, EIO) == 0 ? 0 : errno;
  if (e == 0 && (uintmax_t)st.st_size > SIZE_MAX) e = EFBIG;
  if (e == 0) e = map_fd(fd, (size_t)st.st_size, 0, seg);
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
  int e = SMA__INJECT(shm_unlink(path), -1, EIO) == 0 ? 0 : errno;
  if (USE_INDEX && (e == 0 || e == ENOENT)) sma__unix_index_remove(name);
  return e == 0 ? 0 : fail(e, os_err);
}

#if defined(__linux__)
/* Does this /proc/<pid>/maps map /dev/shm/<name>? */
static int maps_segment(const char *maps_path, const char *file) {
  FILE *f = fopen(maps_path, "re");
  if (f == NULL) return 0;
  char line[4096];
  size_t flen = strlen(file);
  int found = 0;
  while (!found && fgets(line, sizeof line, f) != NULL) {
    char *p = strstr(line, file);
    /* The path ends the line, maybe followed by " (deleted)". */
    found = p != NULL && p[-1] == ' ' &&
            (p[flen] == '\n' || strncmp(p + flen, " (deleted)", 10) == 0);
  }
  fclose(f);
  return found;
}
#endif

int sma__os_stat(const char *name, sma__os_stat_t *st, int *os_err) {
  (void)os_err;
  st->attached = -1;
#if defined(__linux__)
  /* Count processes whose maps show the file: those this user may read. */
  char file[SMA_NAME_BUF + 16];
  snprintf(file, sizeof file, "/dev/shm/%s", name);
  DIR *proc = opendir("/proc");
  if (proc == NULL) return 0;
  int count = 0;
  struct dirent *e;
  while ((e = readdir(proc)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char maps[64];
    snprintf(maps, sizeof maps, "/proc/%.20s/maps", e->d_name);
    count += maps_segment(maps, file);
  }
  closedir(proc);
  st->attached = count;
#else
  (void)name;
#endif
  return 0;
}

static int segment_exists(const char *name) {
  char path[SMA_NAME_BUF + 2];
  if (os_name(name, path, sizeof path) != 0) return 0;
  int fd = open_retry(path, O_RDONLY, 0);
  if (fd >= 0) close(fd);
  return fd >= 0 || errno != ENOENT;
}

int sma__os_list(int (*fn)(const char *name, void *user), void *user,
                 int *os_err) {
  if (USE_INDEX) return sma__unix_index_list(fn, user, segment_exists);
  DIR *d = opendir("/dev/shm");
  if (d == NULL) return fail(errno, os_err);
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') rc = fn(e->d_name, user);
  closedir(d);
  return rc;
}
