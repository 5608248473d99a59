/* Helpers the Unix backends (src/posix, src/sysv) share, implemented in
 * src/unix/os.c beside the process-level part of the platform contract. */
#ifndef SMA_UNIX_OS_H
#define SMA_UNIX_OS_H

#include "../platform.h"

/* Fills what every Unix backend reports alike: page granularity,
 * mappings surviving unlink, segments surviving their creator, unlink by
 * anyone allowed. The backend then sets its name, name limit, size
 * exactness and listing. */
void sma__unix_caps(sma_caps_t *caps);

#endif
