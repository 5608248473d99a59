/*
 * Garbage collection: removing a segment only when it is provably
 * orphaned. Every verdict is here, once for every backend: whose creator
 * counts as gone (sma__creator_state), which unknowns keep a segment, what
 * proves that an object without a record is libsma's (an intent entry).
 * The backends supply facts and mechanism only: the facts of an object
 * (sma__os_stat, sma__os_intent_objects), and removing the very object
 * judged, if at that moment nobody holds it (sma__os_remove_unused,
 * sma__os_remove_stray).
 */
#include "sma_int.h"

#include <string.h>

int sma__creator_state(uint64_t pid, uint64_t pidns, const unsigned char boot_id[16],
                       uint64_t start) {
  static const unsigned char zero[16];
  unsigned char boot[16];
  sma__os_boot_id(boot);
  if (memcmp(boot_id, zero, 16) != 0 && memcmp(boot, zero, 16) != 0 &&
      memcmp(boot_id, boot, 16) != 0)
    return 0; /* another boot: whatever the pid says now */
  /* Where the OS has pid namespaces (ours is not 0), a pid means nothing
   * unless both namespaces were read and are the same one: a creator that
   * could not read its own (no /proc) wrote 0 or SMA__PIDNS_UNKNOWN, and a
   * gc without /proc cannot place itself. kill() in the wrong namespace
   * would ask about another process. */
  uint64_t mine = sma__os_pidns();
  if (mine == SMA__PIDNS_UNKNOWN) return -1;
  if (mine != 0 && pidns != mine) return -1;
  if (pid == 0) return -1;
  int alive = sma__os_pid_alive(pid);
  if (alive == 1 && start != 0) {
    uint64_t now = sma__os_pid_start(pid);
    if (now != 0 && now != start) return 0; /* the pid was given to another */
  }
  return alive;
}

/* ---- Recovery: what a killed gc left half-done ---------------------------
 * A backend that makes a candidate unreachable while it removes it
 * (System V: mode 0) announces that in an intent entry first and drops
 * the entry after (sma__os_restore_revoked in platform.h). An entry that
 * outlives its gc is judged here by the one rule for creators: only a gc
 * provably gone (dead pid of this pid namespace and boot, or a pid given
 * to another process) has its change undone; a gc that runs, is stopped,
 * or cannot be judged keeps it (unknown means keep). A live gc that
 * announced the same change (the same object line: the same segment, at
 * the same key, with the same mode to give back) owns it now: left to it.
 * Run before listing, since a revoked segment cannot be read to be listed. */

typedef struct recover_walk {
  const sma__intent_t *dead; /* the entry being judged */
  int claimed;               /* another entry, of a gc not gone, names it */
} recover_walk_t;

static int claimed_by_another(const sma__intent_t *it, void *user) {
  recover_walk_t *w = user;
  if (strcmp(it->entry, w->dead->entry) == 0 || strcmp(it->object, w->dead->object) != 0) return 0;
  if (sma__creator_state(it->pid, it->pidns, it->boot_id, it->start) == 0) return 0;
  w->claimed = 1;
  return 1;
}

static int recover_one(const sma__intent_t *it, void *user) {
  (void)user;
  if (sma__creator_state(it->pid, it->pidns, it->boot_id, it->start) != 0) return 0;
  recover_walk_t w = {it, 0};
  sma__intent_walk(claimed_by_another, &w);
  if (w.claimed) return 0;
  int os_err = 0;
  if (sma__os_restore_revoked(it->object, &os_err) != 0) return 0; /* not one, or kept */
  char entry[32];
  memcpy(entry, it->entry, sizeof entry);
  sma__intent_drop(entry);
  return 0;
}

void sma__gc_recover(void) {
  if (!sma__caps().proves_unused) return; /* nothing is ever revoked there */
  sma__intent_walk(recover_one, NULL);
}

int sma_collect(sma_info_t *info, const char *name, unsigned flags) {
  if ((flags & ~SMA_COLLECT_DRY_RUN) != 0) return sma__named_result(SMA_EINVAL, 0);
  if (!sma__in_listing()) sma__gc_recover(); /* a listing's walk has, once */
  sma_info_t local;
  sma_info_t *in = info != NULL ? info : &local;
  uint64_t ident[2];
  int rc = sma__inspect(name, in, ident, false);
  if (rc != 0) return rc; /* its reason is left already */
  /* Meant to outlive its creator (SMA_CREATE_PERSIST): only sma_unlink()
   * removes it. A persistent segment still marked being created is not
   * yet the data that promise was about (an interrupted load or create),
   * and is judged as any other. */
  if (in->persistent && !in->creating) return sma__named_result(SMA_EINUSE, 0);
  /* A creator alive, or one we cannot judge (another pid namespace, no
   * pid), keeps the segment; so does any process seen mapping it. An
   * unknown attach count (-1) is not decided here: the backend may still
   * prove that nobody holds the segment. */
  if (in->creator_alive != 0 || in->attached > 0) return sma__named_result(SMA_EINUSE, 0);
  /* Where nothing can be proven unused (macOS POSIX, Windows), the
   * backend is not asked: everything is kept. */
  if (!sma__caps().proves_unused) return sma__named_result(SMA_EINUSE, 0);
  int os_err = 0;
  bool dry_run = (flags & SMA_COLLECT_DRY_RUN) != 0;
  char os_name[SMA_NAME_BUF];
  rc = sma__os_name(name, os_name);
  if (rc != 0) return sma__named_result(rc, 0);
  rc = sma__os_remove_unused(os_name, ident, dry_run, &os_err);
  if (rc == 0 && !dry_run) sma__index_forget(os_name);
  return sma__named_result(rc, os_err);
}

/* ---- Strays: proven libsma's by an intent entry --------------------------
 * An object without a published record is removed only when an intent
 * entry of this user's (written before the exclusive create: src/intent.c)
 * names it, the intent's creator is provably gone, and the backend proves,
 * at the moment of removal, that it is still that object, unpublished,
 * this user's, and held by nobody. No mode bit or name pattern counts. */

typedef struct stray_walk {
  sma_stray_fn fn;
  void *user;
  const sma__intent_t *intent;
  int alive;
  int pid_reused;            /* gone, but its pid names a running process */
  const sma_stray_t *wanted; /* sma_collect_stray(): the one to find */
  int found;
  unsigned flags;
  int result;
} stray_walk_t;

static int intent_alive(const sma__intent_t *it) {
  return sma__creator_state(it->pid, it->pidns, it->boot_id, it->start);
}

/* Judges the walk's intent: its creator's state, and whether its pid was
 * given to a process that runs now. */
static void judge_intent(stray_walk_t *w, const sma__intent_t *it) {
  w->intent = it;
  w->alive = intent_alive(it);
  w->pid_reused = w->alive == 0 && sma__os_pid_alive(it->pid) == 1;
}

/* Whether the object's maker may still be at work: the intent's creator
 * runs or cannot be judged, or the object is tied to the intent by its
 * creator pid alone (System V) and that pid's new owner runs: it may be
 * that process's own create, which the kernel records with the same pid. */
static int maker_may_run(const stray_walk_t *w, const sma__os_stray_t *s) {
  return w->alive != 0 || (w->pid_reused && s->by_creator_pid);
}

static void to_public(const stray_walk_t *w, const sma__os_stray_t *s, sma_stray_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->label, s->label, sizeof out->label);
  out->label[sizeof out->label - 1] = '\0';
  out->creator_pid = w->intent->pid;
  out->creator_alive = maker_may_run(w, s) ? (w->alive != 0 ? w->alive : 1) : 0;
  out->ident[0] = s->ident[0];
  out->ident[1] = s->ident[1];
}

static int report_stray(const sma__os_stray_t *s, void *user) {
  stray_walk_t *w = user;
  sma_stray_t out;
  to_public(w, s, &out);
  return w->fn(&out, w->user);
}

static int count_only(const sma__os_stray_t *s, void *user) {
  (void)s;
  (void)user;
  return 0;
}

/* An intent whose creator is gone and whose object does not exist (any
 * more) proves nothing and is dropped; one the backend cannot judge
 * (another namespace) is kept for a gc that can. */
static void drop_if_spent(const sma__intent_t *it, int alive) {
  if (alive != 0) return;
  int os_err = 0;
  size_t found = 0;
  if (sma__os_intent_objects(it->object, it->pid, count_only, NULL, &found, &os_err) != 0 ||
      found != 0)
    return;
  char entry[32];
  memcpy(entry, it->entry, sizeof entry);
  sma__intent_drop(entry);
}

static int list_intent(const sma__intent_t *it, void *user) {
  stray_walk_t *w = user;
  judge_intent(w, it);
  int os_err = 0;
  size_t found = 0;
  int rc = sma__os_intent_objects(it->object, it->pid, report_stray, w, &found, &os_err);
  if (rc != 0 && rc != SMA_ENOTSUP && rc != SMA_EACCES) return rc; /* fn stopped it */
  drop_if_spent(it, w->alive);
  return 0;
}

int sma_list_strays(sma_stray_fn fn, void *user) {
  if (fn == NULL) return sma__named_result(SMA_EINVAL, 0);
  if (!sma__caps().proves_unused) return 0; /* none could be removed */
  stray_walk_t w;
  memset(&w, 0, sizeof w);
  w.fn = fn;
  w.user = user;
  sma__gc_recover();
  return sma__intent_walk(list_intent, &w);
}

static int match_stray(const sma__os_stray_t *s, void *user) {
  stray_walk_t *w = user;
  if (s->ident[0] != w->wanted->ident[0] || s->ident[1] != w->wanted->ident[1]) return 0;
  w->found = 1;
  if (maker_may_run(w, s)) {
    w->result = SMA_EINUSE; /* its creator may still be making it */
    return 1;
  }
  int os_err = 0;
  w->result = sma__os_remove_stray(s, (w->flags & SMA_COLLECT_DRY_RUN) != 0, &os_err);
  return 1;
}

static int find_intent(const sma__intent_t *it, void *user) {
  stray_walk_t *w = user;
  if (it->pid != w->wanted->creator_pid) return 0;
  judge_intent(w, it);
  int os_err = 0;
  size_t found = 0;
  sma__os_intent_objects(it->object, it->pid, match_stray, w, &found, &os_err);
  if (!w->found) return 0;
  if (w->result == 0 && !(w->flags & SMA_COLLECT_DRY_RUN)) drop_if_spent(it, w->alive);
  return 1;
}

/* The policy for one stray: only an object an intent names, and only
 * once that intent's creator is provably gone; the backend then removes
 * it if nothing holds it. */
int sma_collect_stray(const sma_stray_t *stray, unsigned flags) {
  if (stray == NULL || (flags & ~SMA_COLLECT_DRY_RUN) != 0 ||
      memchr(stray->label, '\0', sizeof stray->label) == NULL)
    return sma__named_result(SMA_EINVAL, 0);
  if (!sma__caps().proves_unused) return sma__named_result(SMA_EINUSE, 0);
  stray_walk_t w;
  memset(&w, 0, sizeof w);
  w.wanted = stray;
  w.flags = flags;
  int rc = sma__intent_walk(find_intent, &w);
  if (rc < 0) return rc;
  return w.found ? w.result : SMA_ENOENT; /* no intent names it: not ours */
}
