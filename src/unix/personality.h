/*
 * How the Unix system this build targets behaves where the backends must
 * differ, as data: one table per OS, chosen once at build time. The
 * backends read it instead of testing the OS with #if, so a test build
 * can select Darwin's table on Linux (-DSMA_OS_PERSONALITY=darwin) and
 * run the macOS code paths under the whole suite. What stays behind #if
 * is only whether an OS call exists at all (O_TMPFILE, leases, /proc).
 * Darwin's single ftruncate needs no switch: every OS gets exactly one.
 */
#ifndef SMA_UNIX_PERSONALITY_H
#define SMA_UNIX_PERSONALITY_H

#include <stddef.h>

typedef struct sma__unix_personality {
  const char *os;          /* "linux", "darwin", "unix" */
  size_t posix_max_name;   /* longest POSIX shm name, the slash excluded
                              (Darwin: PSHMNAMLEN 31 with it) */
  int posix_exact_size;    /* fstat reports the size given to ftruncate,
                              not one rounded up to the page */
  int posix_fd_io;         /* pread/pwrite work on a shm object (not on
                              Darwin: the record goes through the map) */
  int posix_reserve;       /* posix_fallocate reserves a shm object's
                              memory (Darwin's shm is plain memory) */
  int posix_shm_dir;       /* objects are files of /dev/shm and /proc shows
                              who maps them: listing, O_TMPFILE create,
                              stat, gc and strays through the directory */
  int sysv_proc;           /* /proc/sysvipc/shm lists System V segments */
  int posix_open_nonblock; /* shm_open() takes O_NONBLOCK: it is open() of a
                              file, and a FIFO may sit under a name */
} sma__unix_personality_t;

/* The table of this build: Darwin's on macOS or when SMA_PERSONALITY_DARWIN
 * is defined, Linux's on Linux, a conservative one elsewhere. */
const sma__unix_personality_t *sma__unix_personality(void);

#endif
