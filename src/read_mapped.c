/*
 * sma__os_read() by copying from the mapping: what every backend whose
 * segments cannot shrink or fault under a reader (System V, Windows
 * SEC_COMMIT, POSIX on macOS) does. A service of common code offered to
 * backends through platform.h, so that they share one bounds check
 * instead of each writing its own; kept apart from the record and the
 * segment opener, which only call sma__os_read().
 */
#include "platform.h"

#include <string.h>

int sma__read_mapped(const sma__os_segment_t *seg, uint64_t offset, void *buf, size_t n) {
  if (offset > seg->size || n > seg->size - offset) return SMA_ETOOSMALL;
  memcpy(buf, (const unsigned char *)seg->addr + offset, n);
  return 0;
}
