#include "sma.h"
#include "../src/sma_int.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "data/crc32_zlib.h"

static sma__record_t sample(void) {
  sma__record_t r;
  memset(&r, 0, sizeof r);
  r.ndim = 3;
  r.shape[0] = 4;
  r.shape[1] = 5;
  r.shape[2] = 6;
  r.dtype = SMA_FLOAT32;
  r.data_bytes = 4 * 5 * 6 * 4;
  r.creator_pid = 4242;
  r.created_ns = 1700000000123456789;
  strcpy(r.name, "rec-name");
  return r;
}

Test(record, crc32_is_zlibs) {
  cr_assert_eq(sma__crc32("123456789", 9), 0xCBF43926u);
  cr_assert_eq(sma__crc32("", 0), 0);
  /* Every length around the 8-byte steps agrees with a bitwise CRC. */
  unsigned char buf[40];
  for (int i = 0; i < 40; i++) buf[i] = (unsigned char)(i * 37 + 11);
  for (size_t n = 0; n <= sizeof buf; n++) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
      crc ^= buf[i];
      for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    cr_assert_eq(sma__crc32(buf, n), crc ^ 0xFFFFFFFFu, "length %zu", n);
  }
}

/* The pattern crc32_zlib.h was computed over, written at buf + start. */
static const unsigned char *crc_pattern_at(unsigned char *buf, size_t start) {
  for (size_t i = 0; i < CRC32_ZLIB_MAX; i++) buf[start + i] = (unsigned char)((i * 131 + 7) % 256);
  return buf + start;
}

/* The record's checksum is its on-disk format: every path must give
 * zlib's value for every length (the 16-byte folds, the 64-byte lanes and
 * the table tail all change around 16, 64 and 636) at every alignment. */
Test(record, crc32_tables_match_zlib_at_every_length_and_alignment) {
  static unsigned char buf[CRC32_ZLIB_MAX + 32];
  for (size_t start = 0; start < 16; start++) {
    const unsigned char *p = crc_pattern_at(buf, start);
    for (size_t n = 0; n <= CRC32_ZLIB_MAX; n++)
      cr_assert_eq(sma__crc32_tables(p, n), (uint32_t)crc32_zlib[n], "length %zu at offset %zu", n,
                   start);
  }
}

Test(record, crc32_folding_matches_zlib_at_every_length_and_alignment) {
  static unsigned char buf[CRC32_ZLIB_MAX + 32];
  uint32_t crc = 0x5A5A5A5Au;
  if (!sma__crc32_clmul(buf, 64, &crc)) {
    /* Only a build or CPU without the instruction may say so, and then
     * the result is untouched and every load uses the tables. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    cr_assert(!__builtin_cpu_supports("pclmul"),
              "this CPU has PCLMULQDQ but the folding path refused it");
#endif
    cr_assert_eq(crc, 0x5A5A5A5Au);
    return;
  }
  for (size_t start = 0; start < 16; start++) {
    const unsigned char *p = crc_pattern_at(buf, start);
    for (size_t n = 0; n <= CRC32_ZLIB_MAX; n++) {
      cr_assert(sma__crc32_clmul(p, n, &crc));
      cr_assert_eq(crc, (uint32_t)crc32_zlib[n], "length %zu at offset %zu", n, start);
    }
  }
}

/* What a load calls picks one of the paths; whichever, zlib's value. */
Test(record, crc32_matches_zlib_at_every_length_and_alignment) {
  static unsigned char buf[CRC32_ZLIB_MAX + 32];
  for (size_t start = 0; start < 16; start++) {
    const unsigned char *p = crc_pattern_at(buf, start);
    for (size_t n = 0; n <= CRC32_ZLIB_MAX; n++)
      cr_assert_eq(sma__crc32(p, n), (uint32_t)crc32_zlib[n], "length %zu at offset %zu", n, start);
  }
}

Test(record, layout_is_page_rounded_and_overflow_checked) {
  size_t size;
  cr_assert_eq(sma__record_layout(0, 4096, &size), 0);
  cr_assert_eq(size, 4096);
  cr_assert_eq(sma__record_layout(4096 - SMA__RECORD_SIZE, 4096, &size), 0);
  cr_assert_eq(size, 4096);
  cr_assert_eq(sma__record_layout(4096 - SMA__RECORD_SIZE + 1, 4096, &size), 0);
  cr_assert_eq(size, 8192);
  cr_assert_eq(sma__record_layout(SIZE_MAX - 100, 4096, &size), SMA_EOVERFLOW);
}

Test(record, round_trip) {
  size_t size;
  sma__record_t in = sample(), out;
  sma__record_layout(in.data_bytes, 4096, &size);
  unsigned char *seg = calloc(1, size);
  sma__record_encode(&in, (unsigned char *)seg + size - SMA__RECORD_SIZE);
  cr_assert_eq(sma__record_read(seg, size, &out), 0);
  cr_assert_eq(out.ndim, 3);
  cr_assert(out.shape[0] == 4 && out.shape[1] == 5 && out.shape[2] == 6);
  cr_assert_eq(out.dtype, SMA_FLOAT32);
  cr_assert_eq(out.data_bytes, in.data_bytes);
  cr_assert_eq(out.creator_pid, 4242);
  cr_assert_eq(out.created_ns, 1700000000123456789);
  cr_assert_str_eq(out.name, "rec-name");
  /* Little-endian on disk whatever the host: the version field is 1 0 0 0. */
  const unsigned char *r = seg + size - SMA__RECORD_SIZE;
  cr_assert(r[8] == 1 && r[9] == 0 && r[10] == 0 && r[11] == 0);
  free(seg);
}

Test(record, no_record_in_foreign_or_tiny_segments) {
  unsigned char buf[4096];
  sma__record_t out;
  memset(buf, 0xab, sizeof buf);
  cr_assert_eq(sma__record_read(buf, sizeof buf, &out), SMA_ENORECORD);
  cr_assert_eq(sma__record_read(buf, SMA__RECORD_SIZE - 1, &out), SMA_ENORECORD);
  cr_assert_eq(sma__record_read(NULL, 0, &out), SMA_ENORECORD);
}

/* Flipping any single bit of the record is detected: magic bits give "no
 * record", every other bit "corrupt" (checksum, or the checksum itself). */
Test(record, every_single_bit_flip_is_detected) {
  size_t size;
  sma__record_t in = sample(), out;
  sma__record_layout(in.data_bytes, 4096, &size);
  unsigned char *seg = calloc(1, size);
  sma__record_encode(&in, (unsigned char *)seg + size - SMA__RECORD_SIZE);
  unsigned char *r = seg + size - SMA__RECORD_SIZE;
  for (size_t byte = 0; byte < SMA__RECORD_SIZE; byte++) {
    for (int bit = 0; bit < 8; bit++) {
      r[byte] ^= (unsigned char)(1u << bit);
      int rc = sma__record_read(seg, size, &out);
      cr_assert_eq(rc, byte < 8 ? SMA_ENORECORD : SMA_ECORRUPT, "byte %zu bit %d gave %s", byte,
                   bit, sma_err_name(rc));
      r[byte] ^= (unsigned char)(1u << bit);
    }
  }
  cr_assert_eq(sma__record_read(seg, size, &out), 0);
  free(seg);
}

Test(record, record_claiming_more_than_the_segment_is_corrupt) {
  size_t size;
  sma__record_t in = sample(), out;
  in.ndim = 1;
  in.shape[0] = 4096;
  in.dtype = SMA_UINT8;
  in.data_bytes = 4096; /* needs 4096 + record: more than one page */
  unsigned char *seg = calloc(1, 4096);
  size = 4096;
  sma__record_encode(&in, (unsigned char *)seg + size - SMA__RECORD_SIZE);
  cr_assert_eq(sma__record_read(seg, size, &out), SMA_ECORRUPT);
  in.data_bytes = 7; /* disagrees with shape x itemsize */
  in.shape[0] = 8;
  sma__record_encode(&in, (unsigned char *)seg + size - SMA__RECORD_SIZE);
  cr_assert_eq(sma__record_read(seg, size, &out), SMA_ECORRUPT);
  free(seg);
}

/* Flags (bytes 28..31): bit 0 is SMA_CREATE_PERSIST; 0 is what every
 * record before the flag holds; an unknown bit is refused. */
static int decode_with_flags(uint32_t flags, sma__record_t *out) {
  size_t size;
  sma__record_t in = sample();
  sma__record_layout(in.data_bytes, 4096, &size);
  unsigned char *seg = calloc(1, size), *r = seg + size - SMA__RECORD_SIZE;
  sma__record_encode(&in, r);
  for (int i = 0; i < 4; i++) r[28 + i] = (unsigned char)(flags >> (8 * i));
  uint32_t crc = sma__crc32(r, 636);
  for (int i = 0; i < 4; i++) r[636 + i] = (unsigned char)(crc >> (8 * i));
  int rc = sma__record_read(seg, size, out);
  free(seg);
  return rc;
}

Test(record, the_persistent_flag_round_trips_and_unknown_flags_are_refused) {
  size_t size;
  sma__record_t in = sample(), out;
  in.persistent = true;
  sma__record_layout(in.data_bytes, 4096, &size);
  unsigned char *seg = calloc(1, size), *r = seg + size - SMA__RECORD_SIZE;
  sma__record_encode(&in, r);
  cr_assert_eq(sma__record_read(seg, size, &out), 0);
  cr_assert(out.persistent);
  cr_assert(r[28] == 1 && r[29] == 0 && r[30] == 0 && r[31] == 0, "bit 0 of the flags");
  in.persistent = false;
  sma__record_encode(&in, r);
  cr_assert_eq(sma__record_read(seg, size, &out), 0);
  cr_assert(!out.persistent);
  cr_assert_eq(r[28], 0, "a transient record is what earlier versions wrote");
  free(seg);

  cr_assert_eq(decode_with_flags(0, &out), 0);
  cr_assert(!out.persistent, "an older record reads as not persistent");
  cr_assert_eq(decode_with_flags(1, &out), 0);
  cr_assert(out.persistent);
  for (int bit = 1; bit < 32; bit++)
    cr_assert_eq(decode_with_flags(1u | 1u << bit, &out), SMA_ECORRUPT, "unknown bit %d", bit);
}
