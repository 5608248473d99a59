/*
 * What the two halves of the POSIX backend share: src/posix/shm.c (the
 * segments: create, open, map, publish, unlink) and src/posix/gc.c
 * (what /dev/shm and /proc show of them: listing, who maps them, gc's
 * removals). Where the objects live, the private name a staged create
 * takes, the OS's behaviour as data, and the backend's one errno
 * translation, so that both halves name files and report errors alike.
 */
#ifndef SMA_POSIX_BACKEND_H
#define SMA_POSIX_BACKEND_H

#include "../platform.h"
#include "../unix/personality.h"

#include <stdio.h>

#define SHM_DIR "/dev/shm" /* where glibc's shm_open puts names */

/* The start of the private name under which a create without O_TMPFILE
 * builds its segment (shm.c) and which gc's stray removal alone touches
 * (gc.c): random after it, so no create takes it twice. */
#define STAGED_PREFIX ".sma-new-"

/* The file behind `name` in SHM_DIR (names are at most NAME_MAX bytes). */
typedef struct shm_file {
  char path[SMA_NAME_BUF + sizeof SHM_DIR + 1];
} shm_file_t;

static inline shm_file_t shm_file(const char *name) {
  shm_file_t f;
  snprintf(f.path, sizeof f.path, SHM_DIR "/%s", name);
  return f;
}

/* The OS's behaviour as data (personality.h). */
#define OS (sma__unix_personality())

/* Lists /dev/shm on Linux; elsewhere common code keeps the per-user index. */
#define USE_INDEX (!OS->posix_shm_dir)

/* The backend's one errno translation: records e for the caller (*os_err
 * and errno) and returns the SMA_E* code it means. */
int sma__posix_fail(int e, int *os_err);

#endif
