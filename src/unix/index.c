/* The per-user index's directory and files on Unix (the policy is common:
 * src/index.c). The directory is $TMPDIR/libsma-<euid> (or /tmp/...),
 * mode 0700.
 *
 * Its path is only ever resolved once, by open() with O_NOFOLLOW |
 * O_DIRECTORY; its owner and mode are checked through that descriptor,
 * and every entry is created, listed and removed relative to it. So
 * another user who can write the parent ($TMPDIR shared and not sticky)
 * and swaps the directory for a symlink or another directory between two
 * calls never redirects an operation elsewhere. */
#define _GNU_SOURCE
#include "../platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(int e, int *os_err) {
  *os_err = e;
  return e == ENOENT ? SMA_ENOENT : SMA_EOS;
}

int sma__os_index_path(char *buf, size_t cap) {
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] != '/') tmp = "/tmp";
  int n = snprintf(buf, cap, "%s/libsma-%lu", tmp, (unsigned long)geteuid());
  return n < 0 || (size_t)n >= cap ? SMA_ENOBUFS : 0;
}

/* A directory of ours that we cannot read (an older libsma made it under a
 * umask of 0777: mode 000) gets its mode back. Never follows a symlink,
 * and changes nothing that is not our own directory. */
static int repair_mode(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) return -1;
  return fchmodat(AT_FDCWD, path, 0700, AT_SYMLINK_NOFOLLOW);
}

int sma__os_index_open(int create, intptr_t *dir, int *os_err) {
  char path[PATH_MAX];
  int rc = sma__os_index_path(path, sizeof path);
  if (rc != 0) return rc;
  /* A umask can leave the new directory 000: the open below then repairs
   * it (repair_mode), and the mode is fixed through the descriptor after. */
  if (create && mkdir(path, 0700) != 0 && errno != EEXIST) return fail(errno, os_err);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && repair_mode(path) == 0)
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    *os_err = e;
    if (e == ENOENT) return SMA_ENOENT;
    return e == ENOTDIR || e == ELOOP || e == EACCES ? SMA_EINDEX : SMA_EOS;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
    close(fd);
    return SMA_EINDEX;
  }
  /* Ours: make it private, whatever the umask did at mkdir (0777 gave
   * mode 000) or an earlier version left. */
  if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
    close(fd);
    return SMA_EINDEX;
  }
  *dir = fd;
  return 0;
}

int sma__os_index_add(intptr_t dir, const char *entry, int *os_err) {
  int fd = openat((int)dir, entry, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(errno, os_err);
  close(fd);
  return 0;
}

int sma__os_index_remove(intptr_t dir, const char *entry, int *os_err) {
  return unlinkat((int)dir, entry, 0) == 0 ? 0 : fail(errno, os_err);
}

int sma__os_index_walk(intptr_t dir, int (*fn)(const char *entry, void *user), void *user,
                       int *os_err) {
  int walk = dup((int)dir); /* fdopendir owns the descriptor it is given */
  DIR *d = walk >= 0 ? fdopendir(walk) : NULL;
  if (d == NULL) {
    int e = errno;
    if (walk >= 0) close(walk);
    return fail(e, os_err);
  }
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) rc = fn(e->d_name, user);
  closedir(d);
  return rc;
}

int sma__os_index_put(intptr_t dir, const char *entry, const void *data, size_t n, int *os_err) {
  int fd = openat((int)dir, entry, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno == EEXIST ? SMA_EEXIST : fail(errno, os_err);
  const unsigned char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      close(fd);
      unlinkat((int)dir, entry, 0);
      return fail(e, os_err);
    }
    p += w;
    n -= (size_t)w;
  }
  return close(fd) == 0 ? 0 : fail(errno, os_err);
}

int sma__os_index_get(intptr_t dir, const char *entry, void *buf, size_t cap, size_t *n,
                      int *os_err) {
  *n = 0;
  int fd = openat((int)dir, entry, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return fail(errno, os_err);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { /* a FIFO would block */
    close(fd);
    return SMA_EOS;
  }
  unsigned char *p = buf;
  while (*n < cap) {
    ssize_t r = read(fd, p + *n, cap - *n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return fail(e, os_err);
    }
    if (r == 0) break;
    *n += (size_t)r;
  }
  close(fd);
  return 0;
}

void sma__os_index_close(intptr_t dir) { close((int)dir); }

int sma__os_index_lock(intptr_t dir, int exclusive, int *os_err) {
  int rc;
  do {
    rc = flock((int)dir, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return 0;
  return errno == EWOULDBLOCK ? SMA_EBUSY : fail(errno, os_err);
}

void sma__os_index_unlock(intptr_t dir) { flock((int)dir, LOCK_UN); }
