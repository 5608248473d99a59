/* Who maps which /dev/shm file, read from /proc/PID/maps (Linux): the
 * backend's half of sma__os_mappers_take() (platform.h). One pass over
 * /proc builds a table of every /dev/shm inode mapped and by how many
 * processes, so a listing reads each process once rather than once per
 * segment. Elsewhere there is no table (take() gives NULL). */
#ifndef SMA_POSIX_MAPPERS_H
#define SMA_POSIX_MAPPERS_H

#include "../platform.h"

#include <sys/stat.h>

/* One pass over /proc: the table (sma__os_mappers_free() releases it).
 * NULL for want of memory, and where there is no /proc to read. */
sma__os_mappers_t *sma__mappers_build(void);

/* What the table says of the file `sb` (fstat of the opened segment):
 * processes seen mapping it (> 0); 0 when every process of the machine
 * was examined and none maps it; -1 when none was seen but some process
 * could not be examined; SMA__MAPPERS_CANNOT_SAY when the table does not
 * speak for that file: another device, or a file made or changed (ctime)
 * since the table was begun, which a process may have mapped after its
 * maps were read. */
#define SMA__MAPPERS_CANNOT_SAY (-2)
int sma__mappers_attached(const sma__os_mappers_t *m, const struct stat *sb);

/* The same answer, read now for one file: a table built and dropped (the
 * cost of one pass over /proc). Never SMA__MAPPERS_CANNOT_SAY. */
int sma__mappers_attached_now(const struct stat *sb);

#endif
