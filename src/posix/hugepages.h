/* Transparent huge pages for POSIX shared memory on Linux, where a tmpfs
 * mount's huge= option (not /sys/.../shmem_enabled, which governs System V,
 * memfd and anonymous memory) decides whether a file's pages can be huge,
 * and a mapping's MADV_HUGEPAGE is what huge=advise waits for. Elsewhere
 * every function says "no". */
#ifndef SMA_POSIX_HUGEPAGES_H
#define SMA_POSIX_HUGEPAGES_H

#include <stddef.h>

/* Bytes of one PMD-mapped huge page (2 MiB on x86-64 and arm64 with 4 KiB
 * pages), 0 where there are none. */
size_t sma__huge_size(void);

/* Whether the tmpfs mounted at `dir` may give a file huge pages (huge=
 * always, within_size or advise, and not overridden by shmem_enabled's
 * "deny"). */
int sma__huge_mount_allows(const char *dir);

/* MADV_HUGEPAGE on the mapping; 0 or errno. */
int sma__huge_advise(void *addr, size_t size);

/* Allocates and maps every page of a shared mapping writable now, through
 * the mapping, so its advice applies (posix_fallocate allocates through
 * the file, where huge=advise gives small pages); a full tmpfs is an error
 * (ENOSPC), never SIGBUS. 0, or errno (EINVAL: the kernel predates
 * MADV_POPULATE_WRITE, Linux 5.14). */
int sma__huge_populate(void *addr, size_t size);

/* Bytes of the mapping at `addr` that the kernel maps with PMD huge pages
 * now (/proc/self/smaps: ShmemPmdMapped + FilePmdMapped). */
size_t sma__huge_pmd_mapped(const void *addr);

/* Maps the pages of [addr, addr + size) readable as a read would, but
 * with an error instead of SIGBUS where the file has shrunk
 * (MADV_POPULATE_READ, Linux 5.14). 0, or errno (EINVAL: not here). */
int sma__huge_touch(const void *addr, size_t size);

#endif
