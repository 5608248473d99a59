/* What Linux says of one of this process's own mappings
 * (/proc/self/smaps), for the Unix backends' huge-page reports. */
#ifndef SMA_UNIX_SMAPS_H
#define SMA_UNIX_SMAPS_H

/* The sum of the named fields ("ShmemPmdMapped:", "KernelPageSize:",
 * ... NULL-terminated) in kB for the mapping that starts at addr; -1 where
 * smaps cannot be read or has no such mapping (not Linux). */
long long sma__smaps_kb(const void *addr, const char *const *fields);

#endif
