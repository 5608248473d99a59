/* libFuzzer: the metadata-record reader on a "segment" of arbitrary
 * bytes. It must never read outside the segment, and a record it accepts
 * must be consistent: shape x itemsize = array bytes, the array ends
 * before the record, the name is valid, and a view can be built on it.
 * A record of the other byte order is refused as such (SMA_EBYTEORDER).
 * Random bytes almost never carry a valid CRC, which would stop the
 * fuzzer at the checksum: when the first byte is odd, the harness
 * re-seals the checksum of the mutated record, so the field checks
 * behind it are explored too. The record's format: docs/format.md. */
#include "sma.h"
#include "../src/sma_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  /* A private copy of exactly `size` bytes, so ASan sees any overread. */
  unsigned char *seg = malloc(size ? size : 1);
  if (seg == NULL) return 0;
  memcpy(seg, data, size);
  if (size >= SMA__RECORD_SIZE && (data[0] & 1)) {
    unsigned char *r = seg + size - SMA__RECORD_SIZE;
    uint32_t crc = sma__crc32(r, SMA__RECORD_SIZE - 4);
    for (int i = 0; i < 4; i++) r[SMA__RECORD_SIZE - 4 + i] = (unsigned char)(crc >> (8 * i));
  }
  sma__record_t rec;
  int rc = sma__record_read(seg, size, &rec);
  if (rc == 0) {
    size_t bytes;
    sma_view_t v;
    if (rec.ndim > SMA_MAX_DIMS ||
        sma__array_bytes(rec.ndim, rec.shape, sma_dtype_size(rec.dtype), &bytes) != 0 ||
        bytes != rec.data_bytes || bytes > size - SMA__RECORD_SIZE ||
        sma_name_validate(rec.name) == SMA_EINVAL || rec.name[0] == '\0' ||
        sma__view_build(&v, seg, rec.ndim, rec.shape, rec.dtype, NULL, 0) != 0)
      abort();
  } else if (rc != SMA_ENORECORD && rc != SMA_ECORRUPT && rc != SMA_EBYTEORDER) {
    abort();
  }
  free(seg);
  return 0;
}
