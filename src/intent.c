/* Intent entries: what a creator writes before an exclusive create whose
 * object could outlive it without a record (System V, POSIX without
 * O_TMPFILE), so that gc can later prove that such an object is libsma's
 * and whose. One file per create in the per-user index directory (the
 * backend opens it without following links and checks that this user owns
 * it, src/unix/index.c), named ".sma-intent-<random>": a leading dot,
 * which no segment name may have (sma_name_validate), so the index never
 * mistakes it for a name. Its one line of text:
 *     sma-intent 1 PID PIDNS BOOTID START OBJECT
 * PID, PIDNS and START in decimal, BOOTID as 32 hex digits, OBJECT the
 * backend's own description of the object (the rest of the line). */
#include "sma_int.h"

#include <stdio.h>
#include <string.h>

#define INTENT_PREFIX ".sma-intent-"
#define INTENT_MAGIC "sma-intent 1 "

void sma__intent_write(const char *object, char entry[32]) {
  entry[0] = '\0';
  unsigned char boot[16];
  int os_err;
  uint64_t pid = sma__os_pid();
  sma__os_boot_id(boot);
  char line[SMA_STRAY_LABEL + 160];
  int n = snprintf(line, sizeof line, INTENT_MAGIC "%llu %llu ", (unsigned long long)pid,
                   (unsigned long long)sma__os_pidns());
  for (int i = 0; i < 16; i++) n += snprintf(line + n, sizeof line - (size_t)n, "%02x", boot[i]);
  n += snprintf(line + n, sizeof line - (size_t)n, " %llu %s\n",
                (unsigned long long)sma__os_pid_start(pid), object);
  if (n < 0 || (size_t)n >= sizeof line) return; /* cannot say it: no intent */
  intptr_t dir;
  if (sma__os_index_open(1, &dir, &os_err) != 0) return;
  /* Unique enough without the CSPRNG (whose failure must not fail a
   * create): the pid and the nanosecond clock; the entry is created
   * exclusively, so a collision (two threads in one nanosecond, a pid of
   * another namespace) only retries. */
  for (uint64_t tries = 0; tries < 8; tries++) {
    char name[32];
    uint64_t mix = ((uint64_t)sma__os_now_ns() + tries) ^ (pid << 44);
    snprintf(name, sizeof name, INTENT_PREFIX "%016llx", (unsigned long long)mix);
    int rc = sma__os_index_put(dir, name, line, (size_t)n, &os_err);
    if (rc == 0) memcpy(entry, name, sizeof name);
    if (rc != SMA_EEXIST) break;
  }
  sma__os_index_close(dir);
}

void sma__intent_drop(char entry[32]) {
  if (entry[0] == '\0') return;
  intptr_t dir;
  int os_err;
  if (sma__os_index_open(0, &dir, &os_err) == 0) {
    sma__os_index_remove(dir, entry, &os_err);
    sma__os_index_close(dir);
  }
  entry[0] = '\0';
}

/* Parses one entry's text; false for anything intent_write() cannot have
 * written (it is then left alone). */
static bool parse(const char *text, sma__intent_t *it) {
  if (strncmp(text, INTENT_MAGIC, strlen(INTENT_MAGIC)) != 0) return false;
  unsigned long long pid, pidns, start;
  char boot[33];
  int at = 0;
  if (sscanf(text + strlen(INTENT_MAGIC), "%llu %llu %32[0-9a-f] %llu %n", &pid, &pidns, boot,
             &start, &at) != 4 ||
      at == 0 || strlen(boot) != 32)
    return false;
  const char *object = text + strlen(INTENT_MAGIC) + at;
  size_t len = strcspn(object, "\n");
  if (len == 0 || len >= sizeof it->object || object[len] != '\n') return false;
  memcpy(it->object, object, len);
  it->object[len] = '\0';
  for (int i = 0; i < 16; i++) {
    unsigned v;
    if (sscanf(boot + 2 * i, "%2x", &v) != 1) return false;
    it->boot_id[i] = (unsigned char)v;
  }
  it->pid = pid;
  it->pidns = pidns;
  it->start = start;
  return true;
}

typedef struct walk {
  intptr_t dir;
  int (*fn)(const sma__intent_t *it, void *user);
  void *user;
} walk_t;

static int visit(const char *entry, void *user) {
  walk_t *w = user;
  if (strncmp(entry, INTENT_PREFIX, strlen(INTENT_PREFIX)) != 0 ||
      strlen(entry) >= sizeof((sma__intent_t *)0)->entry)
    return 0;
  char text[SMA_STRAY_LABEL + 160];
  size_t n = 0;
  int os_err;
  if (sma__os_index_get(w->dir, entry, text, sizeof text - 1, &n, &os_err) != 0) return 0;
  text[n] = '\0';
  sma__intent_t it;
  memset(&it, 0, sizeof it);
  if (!parse(text, &it)) return 0;
  memcpy(it.entry, entry, strlen(entry) + 1);
  return w->fn(&it, w->user);
}

int sma__intent_walk(int (*fn)(const sma__intent_t *it, void *user), void *user) {
  walk_t w = {0, fn, user};
  int os_err;
  int rc = sma__os_index_open(0, &w.dir, &os_err);
  if (rc == SMA_ENOENT) return 0; /* no directory: no intent was written */
  if (rc != 0) return rc;
  rc = sma__os_index_walk(w.dir, visit, &w, &os_err);
  sma__os_index_close(w.dir);
  return rc;
}
