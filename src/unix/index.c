/* The per-user index of created names (see index.h). */
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

/* Writes the index directory's path, creating it if needed; 0 on success. */
static int index_dir(char *buf, size_t cap) {
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] != '/') tmp = "/tmp";
  int n = snprintf(buf, cap, "%s/libsma-%lu", tmp, (unsigned long)getuid());
  if (n < 0 || (size_t)n >= cap) return -1;
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
  struct stat st;
  /* Not a directory of ours (a squatter, a symlink): do not use it. */
  if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 0077) != 0)
    return -1;
  return 0;
}

static int entry_path(const char *name, char *buf, size_t cap) {
  char dir[PATH_MAX];
  if (index_dir(dir, sizeof dir) != 0) return -1;
  int n = snprintf(buf, cap, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void sma__unix_index_add(const char *name) {
  char path[PATH_MAX];
  if (entry_path(name, path, sizeof path) != 0) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) close(fd);
}

void sma__unix_index_remove(const char *name) {
  char path[PATH_MAX];
  if (entry_path(name, path, sizeof path) == 0) unlink(path);
}

int sma__unix_index_list(int (*fn)(const char *name, void *user), void *user,
                         int (*exists)(const char *name)) {
  char dir[PATH_MAX];
  if (index_dir(dir, sizeof dir) != 0) return 0; /* no index: nothing made */
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (exists(e->d_name))
      rc = fn(e->d_name, user);
    else
      sma__unix_index_remove(e->d_name);
  }
  closedir(d);
  return rc;
}
