/* The per-user index of created names (see index.h).
 *
 * The directory's path is only ever resolved once, by open() with
 * O_NOFOLLOW | O_DIRECTORY; its owner and mode are checked through that
 * descriptor, and every entry is created, listed and removed relative to
 * it. So another user who can write the parent ($TMPDIR shared and not
 * sticky) and swaps the directory for a symlink or another directory
 * between two calls never redirects an operation elsewhere. */
#define _GNU_SOURCE
#include "index.h"

#include "../platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int sma__unix_index_path(char *buf, size_t cap) {
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

/* Opens the index directory (creating it, mode 0700 whatever the umask,
 * when `create`). Returns a descriptor, or a negative SMA_E* code:
 * SMA_ENOENT (no index yet), SMA_EINDEX (not a directory of this user's,
 * or a symlink), SMA_EOS. */
static int open_index(int create) {
  char path[PATH_MAX];
  int rc = sma__unix_index_path(path, sizeof path);
  if (rc != 0) return rc;
  if (create) {
    if (mkdir(path, 0700) == 0)
      fchmodat(AT_FDCWD, path, 0700, AT_SYMLINK_NOFOLLOW); /* undo the umask */
    else if (errno != EEXIST)
      return SMA_EOS;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && repair_mode(path) == 0)
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return SMA_ENOENT;
    return errno == ENOTDIR || errno == ELOOP || errno == EACCES ? SMA_EINDEX : SMA_EOS;
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
  return fd;
}

void sma__unix_index_add(const char *name) {
  int dir = open_index(1);
  if (dir < 0) return; /* best-effort: the create itself succeeded */
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) close(fd);
  close(dir);
}

void sma__unix_index_remove(const char *name) {
  int dir = open_index(0);
  if (dir < 0) return;
  unlinkat(dir, name, 0);
  close(dir);
}

int sma__unix_index_list(int (*fn)(const char *name, void *user), void *user,
                         int (*exists)(const char *name)) {
  int dir = open_index(0);
  if (dir == SMA_ENOENT) return 0; /* no index: nothing was made */
  if (dir < 0) return dir;
  int walk = dup(dir); /* fdopendir owns the descriptor it is given */
  DIR *d = walk >= 0 ? fdopendir(walk) : NULL;
  if (d == NULL) {
    if (walk >= 0) close(walk);
    close(dir);
    return SMA_EOS;
  }
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (exists(e->d_name))
      rc = fn(e->d_name, user);
    else
      unlinkat(dir, e->d_name, 0); /* its segment is gone */
  }
  closedir(d);
  close(dir);
  return rc;
}
