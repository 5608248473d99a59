/*
 * The OS object's name for a segment name. libsma accepts names of 1 to
 * SMA__NAME_MAX (255) bytes on every backend, so that a program runs
 * unchanged on every OS; where the OS limits its object names to fewer
 * bytes (macOS POSIX: 30, Windows: 240), a longer name is given to the OS
 * as a digest of fixed form:
 *
 *     PREFIX~HASH
 *
 * PREFIX: the name's first bytes (cut on a character boundary, so the
 * object's name is valid UTF-8 and still tells a person what it is); HASH:
 * 13 lower-case base-32 characters (RFC 4648 alphabet) of the 64-bit
 * FNV-1a hash of the whole name; together at most the OS limit. A name
 * that fits the OS limit is its own object's name, as it always was.
 *
 * Two names may share an object name (two long names with the same
 * prefix and hash, or a short name spelling another's digest). The record
 * at the end of every segment keeps the full name, so every open checks
 * it: an object whose record names another name of the same object name
 * is a collision, which a create meets as SMA_EEXIST (the object exists)
 * and an open as SMA_ENOENT (the requested segment does not exist).
 * Only common code derives names; backends see object names alone.
 */
#include "sma_int.h"

#include <string.h>

#if defined(SMA_FAULT_INJECTION)
#  include <stdlib.h> /* getenv */
#endif

enum { HASH_CHARS = 13, DIGEST_CHARS = 1 + HASH_CHARS };
#define DIGEST_MARK '~'

size_t sma__os_name_max(void) { return sma__caps().max_name; }

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325u;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3u;
  }
  return h;
}

/* Test builds can keep only the low SMA_TEST_NAME_HASH_BITS bits of the
 * hash (1..63), so that tests can make two names collide on purpose. */
static uint64_t name_hash(const char *name) {
  uint64_t h = fnv1a64(name);
#if defined(SMA_FAULT_INJECTION)
  const char *bits = getenv("SMA_TEST_NAME_HASH_BITS");
  long n = bits != NULL ? strtol(bits, NULL, 10) : 0;
  if (n > 0 && n < 64) h &= ((uint64_t)1 << n) - 1;
#endif
  return h;
}

/* Length of the longest prefix of name of at most max bytes that does
 * not cut a UTF-8 sequence. */
static size_t character_prefix(const char *name, size_t max) {
  size_t n = max;
  while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80) n--;
  return n;
}

void sma__name_digest(const char *name, char out[14]) {
  static const char digits[] = "abcdefghijklmnopqrstuvwxyz234567";
  uint64_t h = name_hash(name);
  for (int i = HASH_CHARS - 1; i >= 0; i--) {
    out[i] = digits[h & 31];
    h >>= 5;
  }
  out[HASH_CHARS] = '\0';
}

int sma__os_name(const char *name, char out[SMA_NAME_BUF]) {
  size_t len = strlen(name), max = sma__os_name_max();
  if (len > SMA__NAME_MAX) return SMA_ENAMETOOLONG;
  if (len <= max) {
    memcpy(out, name, len + 1);
    return 0;
  }
  if (max <= DIGEST_CHARS) return SMA_ENAMETOOLONG; /* no such OS known */
  size_t keep = character_prefix(name, max - DIGEST_CHARS);
  memcpy(out, name, keep);
  out[keep] = DIGEST_MARK;
  sma__name_digest(name, out + keep + 1);
  return 0;
}

/* Whether os_name has the form of a digest: only then can the segment
 * behind it have a longer name than its object's. */
static bool may_be_digest(const char *os_name) {
  size_t len = strlen(os_name);
  if (len <= DIGEST_CHARS || os_name[len - DIGEST_CHARS] != DIGEST_MARK) return false;
  for (size_t i = len - HASH_CHARS; i < len; i++) {
    char c = os_name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

bool sma__os_name_shared(const char *name, const char *os_name) {
  return strcmp(name, os_name) != 0 || may_be_digest(os_name);
}

int sma__segment_name(const char *os_name, char name[SMA_NAME_BUF]) {
  size_t len = strlen(os_name);
  if (len >= SMA_NAME_BUF) return SMA_ENAMETOOLONG;
  memcpy(name, os_name, len + 1);
  if (!may_be_digest(os_name)) return 0;
  sma__os_segment_t seg;
  sma__record_t rec;
  int os_err = 0;
  int rc = sma__os_open(os_name, 1, &seg, &os_err);
  if (rc != 0) return rc;
  rc = sma__record_fetch(&seg, &rec, &os_err);
  int ignored;
  sma__os_close(&seg, &ignored);
  char derived[SMA_NAME_BUF];
  if ((rc == 0 || rc == SMA_EBYTEORDER) && sma_name_validate(rec.name) == 0 &&
      sma__os_name(rec.name, derived) == 0 && strcmp(derived, os_name) == 0)
    memcpy(name, rec.name, sizeof rec.name);
  return 0;
}

int sma__record_names(const sma__record_t *rec, const char *name) {
  if (strcmp(rec->name, name) == 0) return 0;
  char mine[SMA_NAME_BUF], theirs[SMA_NAME_BUF];
  if (sma_name_validate(rec->name) == 0 && sma__os_name(rec->name, theirs) == 0 &&
      sma__os_name(name, mine) == 0 && strcmp(mine, theirs) == 0)
    return SMA_ENOENT; /* another name's segment holds our object name */
  return SMA_ECORRUPT; /* another segment's record: a link or a copy */
}

/* Where the object may also be another name's, only a record naming
 * `name` makes it name's: an object with no record yet (another name's
 * create between making the object and writing its record, or a creator
 * killed there) is, as far as `name` can tell, not its segment. Unknown
 * means keep: open and info say SMA_ENOENT and unlink leaves it alone. */
int sma__record_verdict(int fetched, const sma__record_t *rec, const char *name) {
  if (fetched == 0 || fetched == SMA_EBYTEORDER) { /* the name is trusted in both */
    int named = sma__record_names(rec, name);
    return named != 0 ? named : fetched;
  }
  if (fetched != SMA_ENORECORD) return fetched;
  char os_name[SMA_NAME_BUF];
  if (sma__os_name(name, os_name) != 0 || sma__os_name_shared(name, os_name)) return SMA_ENOENT;
  return SMA_ENORECORD; /* its own name: a segment another program made */
}
