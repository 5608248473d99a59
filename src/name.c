/* Segment names: validation and gridr's build_sma_name. */
#include "sma_int.h"

#include <stdio.h>
#include <string.h>

/* The same on every backend: where the OS's limit is shorter, the OS
 * object gets a digest of the name (os_name.c). */
size_t sma_name_max(void) { return SMA__NAME_MAX; }

/* Length of the UTF-8 sequence starting at p if it is well formed
 * (shortest form, no surrogate, at most U+10FFFF) and not a C1 control
 * (U+0080..U+009F); 0 otherwise. ASCII is handled by the caller. */
static size_t utf8_sequence(const unsigned char *p) {
  unsigned char b = p[0];
  size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
  if (len == 0 || b > 0xf4) return 0; /* stray continuation, or > U+10FFFF */
  uint32_t cp = b & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
    cp = cp << 6 | (p[i] & 0x3f);
  }
  static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < shortest[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return cp <= 0x9f ? 0 : len; /* C1 controls can carry terminal escapes */
}

/* One rule on every backend, so a name valid on one OS is valid on all:
 * valid UTF-8 (Windows names are UTF-16), no C0/C1 control or DEL (they
 * would reach other users' terminals through `sma ls`), no '/' (POSIX
 * paths) or '\' (Windows namespaces), and no leading '.': dot names are
 * libsma's own bookkeeping (an older gc's quarantine ".sma-gc-*", a
 * create's staged ".sma-new-*", intent entries ".sma-intent-*"), which
 * listings and gc skip, so a segment so named would be one nothing lists or collects.
 * This also excludes "." and "..". */
int sma_name_validate(const char *name) {
  if (name == NULL) return SMA_EINVAL;
  if (name[0] == '\0' || name[0] == '.') return SMA_ENAME;
  const unsigned char *p = (const unsigned char *)name;
  size_t len = 0;
  while (p[len] != '\0') {
    unsigned char c = p[len];
    if (c < 0x80) {
      if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return SMA_ENAME;
      len++;
      continue;
    }
    size_t n = utf8_sequence(p + len);
    if (n == 0) return SMA_ENAME;
    len += n;
  }
  if (len > SMA__NAME_MAX) return SMA_ENAMETOOLONG;
  return 0;
}

uint64_t sma_name_counter(void) { return sma__os_counter_read(); }

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm):
 * pure arithmetic, so no gmtime() and its shared static buffer. */
static void civil_from_unix(int64_t seconds, int *y, int *m, int *d, int *hh, int *mm, int *ss) {
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  *hh = (int)(rem / 3600);
  *mm = (int)(rem / 60 % 60);
  *ss = (int)(rem % 60);
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* RFC 4122 version-4 UUID text (36 chars + NUL) from 16 random bytes. */
static void format_uuid4(unsigned char b[16], char out[37]) {
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

/* Lower-case base-32 (RFC 4648 alphabet) of 64 bits: 13 characters. */
static void format_base32(uint64_t v, char out[14]) {
  static const char digits[] = "abcdefghijklmnopqrstuvwxyz234567";
  for (int i = 12; i >= 0; i--) {
    out[i] = digits[v & 31];
    v >>= 5;
  }
  out[13] = '\0';
}

static void format_base36(uint64_t v, char out[14]) {
  char tmp[14];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    v /= 36;
  } while (v != 0);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = '\0';
}

static int build_long(char *buf, size_t cap, uint64_t counter, const char *prefix,
                      unsigned char rnd[16]) {
  int64_t ns = sma__os_now_ns();
  int64_t secs = ns / 1000000000, micros = ns % 1000000000 / 1000;
  int y, mo, d, hh, mi, ss;
  civil_from_unix(secs, &y, &mo, &d, &hh, &mi, &ss);
  char uuid[37];
  format_uuid4(rnd, uuid);
  int n =
      snprintf(buf, cap, "%llu-%s%s%04d%02d%02d-%02d%02d%02d-%06d-%s", (unsigned long long)counter,
               prefix, *prefix ? "-" : "", y, mo, d, hh, mi, ss, (int)micros, uuid);
  return n < 0 ? SMA_EOS : n;
}

static int build_short(char *buf, size_t cap, uint64_t counter, const char *prefix,
                       const unsigned char rnd[16]) {
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits = (bits << 8) | rnd[i];
  char ctr[14], tail[14];
  format_base36(counter, ctr);
  format_base32(bits, tail);
  int n = snprintf(buf, cap, "%s-%s%s%s", ctr, prefix, *prefix ? "-" : "", tail);
  return n < 0 ? SMA_EOS : n;
}

int sma_build_name(const char *prefix, char *buf, size_t *size) {
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  if (prefix == NULL) prefix = "";
  if (*prefix != '\0') {
    rc = sma_name_validate(prefix);
    if (rc == SMA_EINVAL || rc == SMA_ENAME) return rc;
  }
  unsigned char rnd[16];
  int os_err = 0;
  rc = sma__os_random(rnd, sizeof rnd, &os_err);
  if (rc != 0) return rc;

  size_t max = SMA__NAME_MAX;
  uint64_t counter = sma__os_counter_next();
  char tmp[SMA_NAME_BUF + 64];
  int n = build_long(tmp, sizeof tmp, counter, prefix, rnd);
  if (n < 0) return n;
  if ((size_t)n > max || (size_t)n >= out.cap) {
    n = build_short(tmp, sizeof tmp, counter, prefix, rnd);
    if (n < 0) return n;
    if ((size_t)n > max) return SMA_ENAMETOOLONG; /* the prefix */
  }
  sma__text_put(&out, tmp);
  return sma__text_end(&out, size);
}
