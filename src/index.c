/* The per-user index of the names this user created, for systems whose OS
 * cannot enumerate named memory (caps.can_list == 0: macOS POSIX, System V
 * off Linux, Windows). One design on every OS: a directory of this user's
 * (the backend opens and checks it: sma__os_index_open) holding one empty
 * file per name, the name encoded so that every OS accepts it as a file
 * name. Entries hold object names (sma__os_name: a digest where the
 * OS's limit is shorter than the name, so an entry stays short), which
 * sma_list() turns back into full names (sma__segment_name); entries of
 * older versions, full names that fit the OS, are their own object names.
 * An object name whose encoding would be longer than ENTRY_MAX (a long
 * name with bytes that take %XX, or one that, in a path, would pass
 * Windows' MAX_PATH) has the entry
 * "~HASH" (or "~HASH-N" where another name of the same digest holds
 * "~HASH": see LONG_ENTRY_SLOTS) instead, holding the object name as its
 * content ('~' is never part of an encoded entry). Keeping the index is best-effort: a failure
 * never fails a create or an unlink. Listing drops the entries whose segment the OS says is gone
 * (SMA_ENOENT); a segment that exists but cannot be opened (another user's name, no permission)
 * keeps its entry. */
#include "sma_int.h"

#include <string.h>

/* The bytes an entry keeps as they are; every other byte becomes %XX. */
static bool is_plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/* Bytes other than A-Z a-z 0-9 . _ - become %XX: no separator, no
 * reserved character, no case folding surprise (Windows) and no '%' left
 * unencoded, so decoding is exact. SMA_ENAMETOOLONG if it does not fit. */
static int encode(const char *name, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    bool plain = is_plain(*p);
    if (n + (plain ? 1 : 3) >= cap) return SMA_ENAMETOOLONG;
    if (plain) {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = '\0';
  return 0;
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The name an entry stands for; false for a file that is not an entry
 * (anything encode() cannot have written). */
static bool decode(const char *entry, char *name, size_t cap) {
  size_t n = 0;
  for (const char *p = entry; *p; p++) {
    if (n + 1 >= cap) return false;
    if (*p == '%') {
      int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
      if (lo < 0) return false;
      name[n++] = (char)(hi * 16 + lo);
      p += 2;
    } else {
      if (!is_plain((unsigned char)*p)) return false;
      name[n++] = *p;
    }
  }
  name[n] = '\0';
  return n > 0 && sma_name_validate(name) == 0;
}

bool sma__index_used(void) { return !sma__caps().can_list; }

/* The longest entry: a file name every OS takes, short enough that the
 * entry's path stays within Windows' MAX_PATH (260) under
 * %LOCALAPPDATA%/libsma/index. */
enum { ENTRY_MAX = 120 };
#define LONG_ENTRY_MARK '~'

/* Two object names may share a digest (a 64-bit hash: rare, not
 * impossible), so a long entry has slots: "~HASH", then "~HASH-1" ...
 * "~HASH-15", each holding one object name; a name takes the first free
 * slot and listing reads every slot. "~HASH" alone is the entry of older
 * versions, so their entries stay readable. Sixteen names of one digest
 * is beyond any accident; past that a name goes unindexed, as when the
 * index cannot be written (best-effort). */
enum { LONG_ENTRY_SLOTS = 16 };

static void long_entry(const char *name, int slot, char entry[ENTRY_MAX + 1]) {
  entry[0] = LONG_ENTRY_MARK;
  sma__name_digest(name, entry + 1);
  char *end = entry + strlen(entry);
  if (slot == 0) return;
  *end++ = '-';
  if (slot >= 10) *end++ = (char)('0' + slot / 10);
  *end++ = (char)('0' + slot % 10);
  *end = '\0';
}

/* The slot of `entry` among name's long entries, or -1 if it is none. */
static int long_entry_slot(const char *entry, const char *name) {
  char mine[ENTRY_MAX + 1];
  for (int slot = 0; slot < LONG_ENTRY_SLOTS; slot++) {
    long_entry(name, slot, mine);
    if (strcmp(mine, entry) == 0) return slot;
  }
  return -1;
}

/* The name a long entry holds, if it is one that long_entry() made for
 * that very name (*slot: which). */
static bool read_long_entry(intptr_t dir, const char *entry, char name[SMA_NAME_BUF], int *slot) {
  size_t n = 0;
  int os_err;
  if (sma__os_index_get(dir, entry, name, SMA_NAME_BUF - 1, &n, &os_err) != 0) return false;
  name[n] = '\0';
  if (n == 0 || strlen(name) != n || sma_name_validate(name) != 0) return false;
  *slot = long_entry_slot(entry, name);
  return *slot >= 0;
}

/* Whether slot `slot` of name's long entries holds name. */
static bool holds(intptr_t dir, const char *name, int slot) {
  char entry[ENTRY_MAX + 1], held[SMA_NAME_BUF];
  int at;
  long_entry(name, slot, entry);
  return read_long_entry(dir, entry, held, &at) && strcmp(held, name) == 0;
}

/* Indexes name in its first free slot, unless a slot holds it already.
 * A slot that exists holds another name of the same digest (or one being
 * written: its content comes after its exclusive create). */
static void add_long(intptr_t dir, const char *name) {
  char entry[ENTRY_MAX + 1];
  int os_err;
  for (int slot = 0; slot < LONG_ENTRY_SLOTS; slot++)
    if (holds(dir, name, slot)) return;
  for (int slot = 0; slot < LONG_ENTRY_SLOTS; slot++) {
    long_entry(name, slot, entry);
    if (sma__os_index_put(dir, entry, name, strlen(name), &os_err) != SMA_EEXIST) return;
  }
}

/* Drops every slot holding name; slots of others of its digest stay. */
static void forget_long(intptr_t dir, const char *name) {
  char entry[ENTRY_MAX + 1];
  int os_err;
  for (int slot = 0; slot < LONG_ENTRY_SLOTS; slot++) {
    if (!holds(dir, name, slot)) continue;
    long_entry(name, slot, entry);
    sma__os_index_remove(dir, entry, &os_err);
  }
}

/* Adds name's entry to the open index `dir`. */
static void add_entry(intptr_t dir, const char *name) {
  char entry[ENTRY_MAX + 1];
  int os_err;
  if (encode(name, entry, sizeof entry) == 0)
    sma__os_index_add(dir, entry, &os_err);
  else
    add_long(dir, name);
}

/* Best-effort, so errors are not reported: a create goes on without its
 * entry (or without the hold where the OS has no lock). */
void sma__index_add(const char *name, sma__index_hold_t *hold) {
  int os_err;
  hold->held = false;
  if (!sma__index_used() || sma__os_index_open(1, &hold->dir, &os_err) != 0) return;
  hold->held = true;
  sma__os_index_lock(hold->dir, 0, &os_err); /* before the entry: see drop_if_gone() */
  add_entry(hold->dir, name);
}

void sma__index_release(sma__index_hold_t *hold) {
  if (!hold->held) return;
  sma__os_index_close(hold->dir); /* the lock goes with it */
  hold->held = false;
}

void sma__index_forget(const char *name) {
  char entry[ENTRY_MAX + 1];
  intptr_t dir;
  int os_err;
  if (!sma__index_used() || sma__os_index_open(0, &dir, &os_err) != 0) return;
  if (encode(name, entry, sizeof entry) == 0)
    sma__os_index_remove(dir, entry, &os_err);
  else
    forget_long(dir, name);
  sma__os_index_close(dir);
}

typedef struct walk {
  intptr_t dir;
  int (*fn)(const char *name, void *user);
  void *user;
} walk_t;

/* Whether the OS has no segment of this name: the only reason an entry
 * is dropped. */
static bool gone(const char *name) {
  sma__os_segment_t seg;
  int os_err;
  int rc = sma__os_open(name, 1, &seg, &os_err);
  if (rc == 0) sma__os_close(&seg, &os_err);
  return rc == SMA_ENOENT;
}

/* Whether a lower slot than `slot` holds name too: two creates of one
 * name can each index it, and a name is listed once. */
static bool held_lower(intptr_t dir, const char *name, int slot) {
  for (int lower = 0; lower < slot; lower++)
    if (holds(dir, name, lower)) return true;
  return false;
}

/* A creator adds its entry before its segment has a name and holds the
 * index (shared) until the name is published (sma__index_add). A walk
 * that finds no segment may have looked just before a creator took the
 * name, so it drops the entry only while no create is under way (the
 * index exclusively its own) and after a second look: a published
 * segment's entry never goes, not even for a moment, which a listing
 * running meanwhile would miss. Where the OS has no lock, it removes,
 * looks again and puts the entry back if the segment exists by then. */
static void drop_if_gone(intptr_t dir, const char *entry, const char *name) {
  int os_err;
  int rc = sma__os_index_lock(dir, 1, &os_err);
  if (rc == 0) {
    if (gone(name)) sma__os_index_remove(dir, entry, &os_err);
    sma__os_index_unlock(dir);
  } else if (rc == SMA_ENOTSUP) {
    if (sma__os_index_remove(dir, entry, &os_err) == 0 && !gone(name)) add_entry(dir, name);
  } /* else a create is under way: unknown, kept */
}

static int visit(const char *entry, void *user) {
  walk_t *w = user;
  char name[SMA_NAME_BUF];
  int slot = 0;
  bool ours = entry[0] == LONG_ENTRY_MARK ? read_long_entry(w->dir, entry, name, &slot)
                                          : decode(entry, name, sizeof name);
  if (!ours) return 0; /* not ours: left alone */
  int os_err;
  if (slot > 0 && held_lower(w->dir, name, slot)) {
    sma__os_index_remove(w->dir, entry, &os_err); /* a duplicate */
    return 0;
  }
  if (!gone(name)) return w->fn(name, w->user);
  drop_if_gone(w->dir, entry, name);
  return 0;
}

int sma__index_list(int (*fn)(const char *name, void *user), void *user, int *os_err) {
  walk_t w = {0, fn, user};
  int rc = sma__os_index_open(0, &w.dir, os_err);
  if (rc == SMA_ENOENT) return 0; /* no index: nothing was made */
  if (rc != 0) return rc;
  rc = sma__os_index_walk(w.dir, visit, &w, os_err);
  sma__os_index_close(w.dir);
  return rc;
}
