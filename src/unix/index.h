/*
 * A per-user index of the segment names libsma created, for Unix systems
 * whose OS cannot enumerate them (macOS POSIX shm, System V off Linux).
 * One empty file per name in $TMPDIR/libsma-<euid>/ (or /tmp/...), mode
 * 0700, checked through its descriptor to be a real directory owned by
 * this user. Keeping the index is best-effort: a failure never fails the
 * create or unlink; listing reports an unusable index (SMA_EINDEX).
 */
#ifndef SMA_UNIX_INDEX_H
#define SMA_UNIX_INDEX_H

#include <stddef.h>

/* The backends use the index where the personality (personality.h) says
 * the OS cannot enumerate segments. */

/* Writes the index directory's path. SMA_ENOBUFS if cap is too small. */
int sma__unix_index_path(char *buf, size_t cap);

void sma__unix_index_add(const char *name);
void sma__unix_index_remove(const char *name);

/* Calls fn for each indexed name that `exists` says still exists, and
 * drops the others from the index. SMA_EINDEX if the directory is not
 * this user's own (another owner, a symlink, a file in its place). */
int sma__unix_index_list(int (*fn)(const char *name, void *user), void *user,
                         int (*exists)(const char *name));

#endif
