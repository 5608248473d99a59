/*
 * Opening a segment by name: from the segment name to its OS object
 * (sma__os_name), the backend's open, and the record read back through
 * sma__os_read and judged against the name. Separate from the record's
 * codec (record.c), which turns bytes into a record and back and knows
 * nothing of the OS; this is the one place where common code opens a
 * segment, so every load, listing and gc sees the same verdict on it.
 */
#include "sma_int.h"

int sma__record_fetch(const sma__os_segment_t *seg, sma__record_t *rec, int *os_err) {
  if (seg->size < SMA__RECORD_SIZE) return SMA_ENORECORD;
  unsigned char bytes[SMA__RECORD_SIZE];
  int rc = sma__os_read(seg, seg->size - SMA__RECORD_SIZE, bytes, sizeof bytes, os_err);
  /* A segment that shrank under us has no record where its size said. */
  if (rc == SMA_ETOOSMALL) return SMA_ENORECORD;
  return rc != 0 ? rc : sma__record_decode(bytes, seg->size, rec);
}

int sma__segment_open(const char *name, int readonly, sma__os_segment_t *seg, sma__record_t *rec,
                      int *os_err) {
  char os_name[SMA_NAME_BUF];
  int rc = sma__os_name(name, os_name);
  if (rc != 0) return rc;
  rc = sma__os_open(os_name, readonly, seg, os_err);
  if (rc != 0) return rc;
  rc = sma__record_verdict(sma__record_fetch(seg, rec, os_err), rec, name);
  if (rc != 0 && rc != SMA_ENORECORD) {
    int ignored;
    sma__os_close(seg, &ignored);
  }
  return rc;
}
