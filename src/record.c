/*
 * The metadata record that ends every segment libsma creates, so that a
 * segment can be opened by name alone and checked on every load.
 *
 * Layout of a segment: [array bytes][padding][record], the record ending
 * the (granularity-rounded) segment, so a reader finds it from the OS size
 * alone. Offset 0 stays exactly what NumPy expects.
 *
 * The record's bytes, field by field, are specified in docs/format.md (the
 * one specification; the OFF_* constants below follow it). Readers check
 * magic, version, size, checksum and every field's bounds before trusting
 * any of it.
 */
#include "sma_int.h"

#include <stdint.h> /* PTRDIFF_MAX */
#include <string.h>

static const unsigned char record_magic[8] = {0x89, 'S', 'M', 'A', '\r', '\n', 0x1a, '\n'};
enum {
  RECORD_VERSION = 1,
  OFF_MAGIC = 0,
  OFF_VERSION = 8,
  OFF_SIZE = 12,
  OFF_DATA_BYTES = 16,
  OFF_NDIM = 24,
  OFF_FLAGS = 28,
  OFF_DTYPE = 32,
  DTYPE_LEN = 8,
  OFF_PID = 40,
  OFF_CREATED = 48,
  OFF_BOOT = 56,
  OFF_PIDNS = 72,
  OFF_SHAPE = 80,
  OFF_START = 592,
  OFF_NAME = 336,
  OFF_CRC = 636
};
enum { FLAG_PERSISTENT = 1u << 0, FLAGS_KNOWN = FLAG_PERSISTENT };

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int sma__array_bytes(size_t ndim, const size_t *shape, size_t itemsize, size_t *bytes) {
  /* Zero-length dimensions make the array empty, but the strides of the
   * other dimensions must still fit: check the product of the non-zero
   * extents, bounded by PTRDIFF_MAX so every stride is representable. */
  size_t nonzero = itemsize, total = itemsize;
  for (size_t d = 0; d < ndim; d++) {
    if (shape[d] == 0) {
      total = 0;
      continue;
    }
    if (!sma__mul_ok(nonzero, shape[d], &nonzero) || nonzero > (size_t)PTRDIFF_MAX)
      return SMA_EOVERFLOW;
    total *= shape[d];
  }
  *bytes = total;
  return 0;
}

int sma__record_layout(size_t data_bytes, size_t granularity, size_t *segment_size) {
  size_t padded, total;
  if (!sma__round_up_ok(data_bytes, SMA__DATA_ALIGN, &padded) ||
      !sma__add_ok(padded, SMA__RECORD_SIZE, &total) ||
      !sma__round_up_ok(total, granularity, segment_size))
    return SMA_EOVERFLOW;
  return 0;
}

void sma__record_encode(const sma__record_t *rec, unsigned char r[SMA__RECORD_SIZE]) {
  memset(r, 0, SMA__RECORD_SIZE);
  memcpy(r + OFF_MAGIC, record_magic, sizeof record_magic);
  put_u32(r + OFF_VERSION, RECORD_VERSION);
  put_u32(r + OFF_SIZE, SMA__RECORD_SIZE);
  put_u64(r + OFF_DATA_BYTES, rec->data_bytes);
  put_u32(r + OFF_NDIM, (uint32_t)rec->ndim);
  put_u32(r + OFF_FLAGS, rec->persistent ? FLAG_PERSISTENT : 0);
  const char *typestr = sma_dtype_str(rec->dtype);
  memcpy(r + OFF_DTYPE, typestr, strlen(typestr));
  put_u64(r + OFF_PID, rec->creator_pid);
  put_u64(r + OFF_CREATED, (uint64_t)rec->created_ns);
  memcpy(r + OFF_BOOT, rec->boot_id, sizeof rec->boot_id);
  put_u64(r + OFF_PIDNS, rec->pidns);
  put_u64(r + OFF_START, rec->creator_start);
  for (size_t d = 0; d < rec->ndim; d++) put_u64(r + OFF_SHAPE + 8 * d, rec->shape[d]);
  memcpy(r + OFF_NAME, rec->name, strlen(rec->name));
  put_u32(r + OFF_CRC, sma__crc32(r, OFF_CRC));
}

/* Checks the shape and sizes of a decoded record against each other and
 * against the segment. */
static int check_sizes(const unsigned char *r, size_t segment_size, sma__record_t *rec) {
  uint64_t data_bytes = get_u64(r + OFF_DATA_BYTES);
  for (size_t d = 0; d < rec->ndim; d++) {
    uint64_t extent = get_u64(r + OFF_SHAPE + 8 * d);
    if (!sma__fits_size_t(extent)) return SMA_ECORRUPT;
    rec->shape[d] = (size_t)extent;
  }
  size_t bytes;
  if (sma__array_bytes(rec->ndim, rec->shape, sma_dtype_size(rec->dtype), &bytes) != 0 ||
      bytes != data_bytes)
    return SMA_ECORRUPT;
  /* The array must end before the record starts. */
  if (bytes > segment_size - SMA__RECORD_SIZE) return SMA_ECORRUPT;
  rec->data_bytes = data_bytes;
  return 0;
}

int sma__record_decode(const unsigned char *r, size_t segment_size, sma__record_t *rec) {
  if (segment_size < SMA__RECORD_SIZE) return SMA_ENORECORD;
  if (memcmp(r + OFF_MAGIC, record_magic, sizeof record_magic) != 0) return SMA_ENORECORD;
  if (get_u32(r + OFF_VERSION) != RECORD_VERSION || get_u32(r + OFF_SIZE) != SMA__RECORD_SIZE ||
      get_u32(r + OFF_CRC) != sma__crc32(r, OFF_CRC))
    return SMA_ECORRUPT;

  sma__record_t out;
  memset(&out, 0, sizeof out);
  uint32_t ndim = get_u32(r + OFF_NDIM);
  uint32_t flags = get_u32(r + OFF_FLAGS);
  if (ndim > SMA_MAX_DIMS || (flags & ~(uint32_t)FLAGS_KNOWN) != 0) return SMA_ECORRUPT;
  out.ndim = ndim;
  out.persistent = (flags & FLAG_PERSISTENT) != 0;

  char typestr[DTYPE_LEN + 1];
  memcpy(typestr, r + OFF_DTYPE, DTYPE_LEN);
  typestr[DTYPE_LEN] = '\0';
  /* A record is little-endian on every machine; its type string gives
   * the data's byte order, which a machine of the other order cannot
   * use (qemu-user shows such a segment on one machine). */
  int drc = sma_dtype_parse(&out.dtype, typestr);
  if (drc != 0 && drc != SMA_EBYTEORDER) return SMA_ECORRUPT;

  const char *name = (const char *)r + OFF_NAME;
  const char *nul = memchr(name, '\0', SMA_NAME_BUF);
  if (nul == NULL || nul == name) return SMA_ECORRUPT;
  size_t name_len = (size_t)(nul - name);
  memcpy(out.name, name, name_len);
  out.name[name_len] = '\0';
  if (drc == SMA_EBYTEORDER) { /* intact, so its name can be trusted */
    memset(rec, 0, sizeof *rec);
    memcpy(rec->name, out.name, name_len + 1);
    return SMA_EBYTEORDER;
  }

  int rc = check_sizes(r, segment_size, &out);
  if (rc != 0) return rc;

  out.creator_pid = get_u64(r + OFF_PID);
  out.created_ns = (int64_t)get_u64(r + OFF_CREATED);
  memcpy(out.boot_id, r + OFF_BOOT, sizeof out.boot_id);
  out.pidns = get_u64(r + OFF_PIDNS);
  out.creator_start = get_u64(r + OFF_START);
  *rec = out;
  return 0;
}

int sma__record_read(const void *segment, size_t segment_size, sma__record_t *rec) {
  if (segment == NULL || segment_size < SMA__RECORD_SIZE) return SMA_ENORECORD;
  return sma__record_decode((const unsigned char *)segment + segment_size - SMA__RECORD_SIZE,
                            segment_size, rec);
}

/* The name alone, for a backend that finds segments by something other
 * than their name (platform.h). */
int sma__record_name_read(const void *segment, size_t segment_size, char name[SMA_NAME_BUF]) {
  sma__record_t rec;
  int rc = sma__record_read(segment, segment_size, &rec);
  if (rc == 0 || rc == SMA_EBYTEORDER) memcpy(name, rec.name, sizeof rec.name);
  return rc;
}
