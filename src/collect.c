/*
 * Garbage collection: removing a segment only when it is provably
 * orphaned. The policy (whose creator counts as gone, which unknowns keep
 * a segment) is here; proving that nobody holds the very object that was
 * judged, and removing that object and no other, is the backend's
 * sma__os_remove_unused().
 */
#include "sma_int.h"

int sma_collect(const char *name, unsigned flags, sma_info_t *info) {
  if ((flags & ~SMA_COLLECT_DRY_RUN) != 0) return SMA_EINVAL;
  sma_info_t local;
  sma_info_t *in = info != NULL ? info : &local;
  uint64_t ident[2];
  int rc = sma__inspect(name, in, ident);
  if (rc != 0) return rc;
  /* A creator alive, or one we cannot judge (another pid namespace, no
   * pid), keeps the segment; so does any process seen mapping it. An
   * unknown attach count (-1) is not decided here: the backend may still
   * prove that nobody holds the segment. */
  if (in->creator_alive != 0 || in->attached > 0) return SMA_EINUSE;
  int os_err = 0;
  return sma__os_remove_unused(name, ident, (flags & SMA_COLLECT_DRY_RUN) != 0,
                               &os_err);
}
