/* Inspecting segments: one segment's record and OS state, and listing. */
#include "sma_int.h"

#include <string.h>

/* The snapshot of who maps what that the sma_list() running on this
 * thread took (NULL when none runs, or the backend needs none): sma_info_get()
 * and sma_collect() called from its callback count from it, so that a
 * listing, and `sma gc` over one, reads every process once rather than
 * once per segment (issue 27). Per thread: another thread's call is not
 * part of this walk and looks for itself. */
static _Thread_local const sma__os_mappers_t *walk_mappers;
static _Thread_local int listing_depth;

bool sma__in_listing(void) { return listing_depth > 0; }

int sma_info_get(sma_info_t *out, const char *name) {
  uint64_t ident[2];
  return sma__inspect(name, out, ident, true);
}

int sma__inspect(const char *name, sma_info_t *out, uint64_t ident[2], bool huge_pages) {
  if (out == NULL) return sma__named_result(SMA_EINVAL, 0);
  memset(out, 0, sizeof *out);
  int rc = sma_name_validate(name);
  if (rc != 0) return sma__named_result(rc, 0);
  sma__os_segment_t seg;
  int os_err = 0;
  sma__record_t rec;
  /* Read-only: inspecting a segment needs only read permission (`sma ls`
   * and `sma info` on a group's segment the caller may only read). */
  rc = sma__segment_open(name, 1, &seg, &rec, &os_err);
  if (rc != 0 && rc != SMA_ENORECORD) return sma__named_result(rc, os_err);
  size_t size = seg.size;
  int creating = seg.creating;
  int huge = rc == 0 && huge_pages ? sma__os_huge_mapped(&seg) : -1;
  ident[0] = seg.ident[0];
  ident[1] = seg.ident[1];
  int ignored;
  sma__os_close(&seg, &ignored);                /* before counting who maps it */
  if (rc != 0) return sma__named_result(rc, 0); /* no record: not the OS's doing */

  memcpy(out->name, rec.name, sizeof out->name);
  out->dtype = rec.dtype;
  out->ndim = rec.ndim;
  memcpy(out->shape, rec.shape, sizeof out->shape);
  out->nbytes = (size_t)rec.data_bytes;
  out->segment_size = size;
  out->creator_pid = rec.creator_pid;
  out->created_ns = rec.created_ns;
  out->creator_alive =
      sma__creator_state(rec.creator_pid, rec.pidns, rec.boot_id, rec.creator_start);
  out->creating = creating;
  out->huge_pages = huge;
  out->persistent = rec.persistent;
  sma__os_stat_t st;
  char os_name[SMA_NAME_BUF];
  out->attached =
      sma__os_name(name, os_name) == 0 && sma__os_stat(os_name, walk_mappers, &st, &ignored) == 0
          ? st.attached
          : -1;
  return 0;
}

typedef struct list_ctx {
  sma_list_fn fn;
  void *user;
} list_ctx_t;

/* Reports libsma segments by their full names (the OS lists object
 * names, which may be digests: os_name.c); skips other programs' segments
 * and those that vanished or cannot be read between listing and opening.
 * No page is mapped to tell huge pages (-1): a listing only reads. */
static int visit(const char *os_name, void *user) {
  list_ctx_t *ctx = user;
  sma_info_t info;
  uint64_t ident[2];
  char name[SMA_NAME_BUF];
  if (sma_name_validate(os_name) != 0 || sma__segment_name(os_name, name) != 0 ||
      sma__inspect(name, &info, ident, false) != 0)
    return 0;
  return ctx->fn(&info, ctx->user);
}

int sma_list(sma_list_fn fn, void *user) {
  if (fn == NULL) return sma__named_result(SMA_EINVAL, 0);
  list_ctx_t ctx = {fn, user};
  int os_err = 0;
  sma__gc_recover(); /* a segment a killed gc left revoked is listed again */
  /* Without a snapshot (none here, or no memory) each segment is looked
   * at by itself: slower, the same answers. */
  sma__os_mappers_t *mappers = NULL;
  int ignored;
  sma__os_mappers_take(&mappers, &ignored);
  const sma__os_mappers_t *outer = walk_mappers; /* a listing inside a callback */
  walk_mappers = mappers;
  listing_depth++;
  int rc = sma__index_used() ? sma__index_list(visit, &ctx, &os_err)
                             : sma__os_list(visit, &ctx, &os_err);
  listing_depth--;
  walk_mappers = outer;
  sma__os_mappers_free(mappers);
  return sma__named_result(rc, os_err);
}

int sma_index_path(char *buf, size_t *size) {
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  if (!sma__index_used()) return SMA_ENOTSUP;
  char path[4096];
  if ((rc = sma__os_index_path(path, sizeof path)) != 0) return rc;
  sma__text_put(&out, path);
  return sma__text_end(&out, size);
}
