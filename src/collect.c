/*
 * Garbage collection: removing a segment only when it is provably
 * orphaned. The policy (whose creator counts as gone, which unknowns keep
 * a segment) is here; proving that nobody holds the very object that was
 * judged, and removing that object and no other, is the backend's
 * sma__os_remove_unused().
 */
#include "sma_int.h"

#include <string.h>

int sma_collect(const char *name, unsigned flags, sma_info_t *info) {
  if ((flags & ~SMA_COLLECT_DRY_RUN) != 0) return sma__named_result(SMA_EINVAL, 0);
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
  rc = sma__os_remove_unused(name, ident, dry_run, &os_err);
  if (rc == 0 && !dry_run) sma__index_forget(name);
  return sma__named_result(rc, os_err);
}

typedef struct stray_walk {
  sma_stray_fn fn;
  void *user;
} stray_walk_t;

static int report_stray(const sma__os_stray_t *s, void *user) {
  stray_walk_t *w = user;
  sma_stray_t out;
  memset(&out, 0, sizeof out);
  memcpy(out.label, s->label, sizeof out.label);
  out.named = s->named;
  out.creator_pid = s->creator > 0 ? (uint64_t)s->creator : 0;
  out.creator_alive = s->creator > 0 ? sma__os_pid_alive((uint64_t)s->creator) : -1;
  out.ident[0] = s->ident[0];
  out.ident[1] = s->ident[1];
  return w->fn(&out, w->user);
}

int sma_list_strays(sma_stray_fn fn, void *user) {
  if (fn == NULL) return sma__named_result(SMA_EINVAL, 0);
  stray_walk_t w = {fn, user};
  int os_err = 0;
  if (!sma__caps().proves_unused) return 0; /* none could be removed */
  return sma__named_result(sma__os_strays(report_stray, &w, &os_err), os_err);
}

/* The policy for one stray: a creator that runs, or that cannot be
 * judged, keeps it; otherwise the backend removes it if nothing holds
 * it. A named (POSIX) stray has no recorded creator, and needs none: a
 * live creator holds the object open until it publishes, which that
 * proof sees. An unnamed (System V) one without a creator pid is never
 * judged gone. */
int sma_collect_stray(const sma_stray_t *stray, unsigned flags) {
  if (stray == NULL || (flags & ~SMA_COLLECT_DRY_RUN) != 0 ||
      memchr(stray->label, '\0', sizeof stray->label) == NULL)
    return sma__named_result(SMA_EINVAL, 0);
  sma__os_stray_t s;
  memset(&s, 0, sizeof s);
  memcpy(s.label, stray->label, sizeof s.label);
  s.named = stray->named != 0;
  s.ident[0] = stray->ident[0];
  s.ident[1] = stray->ident[1];
  s.creator = stray->creator_pid > 0 && stray->creator_pid <= INT64_MAX
                  ? (int64_t)stray->creator_pid : s.named ? 0 : -1;
  if (s.named && sma_name_validate(s.label) != 0) return sma__named_result(SMA_EINVAL, 0);
  if (s.creator != 0 && (s.creator < 0 || sma__os_pid_alive((uint64_t)s.creator) != 0))
    return sma__named_result(SMA_EINUSE, 0);
  if (!sma__caps().proves_unused) return sma__named_result(SMA_EINUSE, 0);
  int os_err = 0;
  int rc = sma__os_remove_stray(&s, (flags & SMA_COLLECT_DRY_RUN) != 0, &os_err);
  return sma__named_result(rc, os_err);
}
