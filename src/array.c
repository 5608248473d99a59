/* The array object: gridr's SharedMemoryArray and its lifecycle. */
#include "sma_int.h"
#include "map_cache.h"

#include <stdlib.h>
#include <string.h>

struct sma {
  char name[SMA_NAME_BUF];
  size_t ndim;
  size_t shape[SMA_MAX_DIMS];
  sma_dtype_t dtype;
  size_t nbytes; /* itemsize x prod(shape) */
  size_t nslice;
  sma_slice_t slice[SMA_MAX_DIMS];
  bool loaded;
  bool creator;
  bool persistent;    /* see sma_is_persistent() */
  bool readonly;      /* loads map read-only: sma_is_readonly() */
  unsigned effective; /* create flags that took effect */
  sma__os_segment_t seg;
  sma__map_t *map; /* the shared mapping seg copies, or NULL */
  sma_view_t view;
  int os_error;
  uint64_t creator_pid;
  int64_t created_ns;
};

const char *sma_backend(void) { return sma__caps().backend; }

void sma_caps_get(sma_caps_t *out) {
  if (out == NULL) return;
  memset(out, 0, sizeof *out);
  sma__os_caps(out);
  out->max_name = SMA__NAME_MAX; /* the OS's limit is os_name.c's business */
  out->max_segment = sma__os_max_segment();
}

static int check_description(const char *name, size_t ndim, const size_t *shape, sma_dtype_t dtype,
                             const sma_slice_t *slice, size_t nslice, size_t *nbytes) {
  int rc = sma_name_validate(name);
  if (rc != 0) return rc;
  if (ndim > SMA_MAX_DIMS) return SMA_ENDIM;
  if ((ndim > 0 && shape == NULL) || (nslice > 0 && slice == NULL)) return SMA_EINVAL;
  if (!sma__dtype_valid(dtype)) return SMA_EDTYPE;
  if (nslice > ndim) return SMA_ETOOMANYSLICES;
  for (size_t d = 0; d < nslice; d++)
    if (slice[d].step == 0) return SMA_ESTEP;
  return sma__array_bytes(ndim, shape, sma_dtype_size(dtype), nbytes);
}

int sma_new(sma_t **out, const sma_array_desc_t *desc) {
  if (out == NULL) return SMA_EINVAL;
  *out = NULL;
  if (desc == NULL) return SMA_EINVAL;
  size_t nbytes;
  int rc = check_description(desc->name, desc->ndim, desc->shape, desc->dtype, desc->slice,
                             desc->nslice, &nbytes);
  if (rc != 0) return rc;
  sma_t *a = calloc(1, sizeof *a);
  if (a == NULL) return SMA_ENOMEM;
  memcpy(a->name, desc->name, strlen(desc->name) + 1);
  a->ndim = desc->ndim;
  if (desc->ndim > 0) memcpy(a->shape, desc->shape, desc->ndim * sizeof *a->shape);
  a->dtype = desc->dtype;
  a->nbytes = nbytes;
  a->nslice = desc->nslice;
  if (desc->nslice > 0) memcpy(a->slice, desc->slice, desc->nslice * sizeof *a->slice);
  a->seg.handle = -1;
  *out = a;
  return 0;
}

void sma_free(sma_t *a) {
  if (a == NULL) return;
  sma_close(a);
  free(a);
}

/* Records an OS failure on the object and passes the code through. */
static int fail_os(sma_t *a, int rc, int os_err) {
  a->os_error = os_err;
  return rc;
}

/* Maps every page by reading and writing back one byte of each: keeps the
 * contents (the record may already be there on some backends) and needs
 * no OS call. The portable fallback for SMA_CREATE_PREFAULT. */
static void touch_pages(void *addr, size_t size, size_t granularity) {
  volatile unsigned char *p = addr;
  for (size_t off = 0; off < size; off += granularity) p[off] = p[off];
}

/* The record of a new segment: what sma_open() needs, and who made it. */
static void fill_record(const sma_t *a, bool persistent, sma__record_t *rec) {
  memset(rec, 0, sizeof *rec);
  rec->data_bytes = a->nbytes;
  rec->ndim = a->ndim;
  memcpy(rec->shape, a->shape, sizeof rec->shape);
  rec->dtype = a->dtype;
  rec->creator_pid = sma__os_pid();
  rec->created_ns = sma__os_now_ns();
  sma__os_boot_id(rec->boot_id);
  rec->pidns = sma__os_pidns();
  rec->creator_start = sma__os_pid_start(rec->creator_pid);
  rec->persistent = persistent;
  memcpy(rec->name, a->name, sizeof rec->name);
}

int sma_create(sma_t *a, unsigned flags) { return sma_create_filled(a, flags, NULL, NULL); }

/* Creates the segment os_name, fills it and publishes its name: the
 * steps during which the index entry is held (sma__index_add). */
static int create_published(sma_t *a, const char *os_name, size_t size, unsigned flags,
                            const unsigned char *record, sma_fill_fn fill, void *user,
                            sma__os_segment_t *seg) {
  int os_err = 0;
  int rc = sma__os_create(os_name, size, flags, record, seg, &os_err);
  if (rc != 0) return fail_os(a, rc, os_err);
  if ((flags & SMA_CREATE_PREFAULT) && !(seg->effective & SMA_CREATE_PREFAULT)) {
    touch_pages(seg->addr, seg->size, sma__caps().granularity);
    seg->effective |= SMA_CREATE_PREFAULT;
  }
  /* The data goes in before the name is published: until then a reader
   * finds no name (an unnamed file) or a marked one that open() refuses
   * (SMA_EBUSY), so a creator killed while filling never leaves an array
   * that looks complete, and gc judges it by its record's dead creator. */
  /* The whole array: creation does not apply the slice (gridr). */
  sma__view_build(&a->view, seg->addr, a->ndim, a->shape, a->dtype, NULL, 0);
  if (fill != NULL && (rc = fill(&a->view, user)) != 0) {
    sma__os_abandon(os_name, seg, &os_err);
    memset(&a->view, 0, sizeof a->view);
    return rc;
  }
  rc = sma__os_publish(os_name, seg, &os_err);
  if (rc != 0) {
    memset(&a->view, 0, sizeof a->view);
    return fail_os(a, rc, os_err);
  }
  return 0;
}

int sma_create_filled(sma_t *a, unsigned flags, sma_fill_fn fill, void *user) {
  const unsigned known = SMA_CREATE_GROUP | SMA_CREATE_PREFAULT | SMA_CREATE_HUGEPAGES |
                         SMA_CREATE_NORESERVE | SMA_CREATE_PERSIST;
  if (a == NULL || (flags & ~known) != 0) return SMA_EINVAL;
  if (a->loaded) return SMA_ESTATE;
  /* Persistence is the record's business, not the backend's. */
  bool persistent = (flags & SMA_CREATE_PERSIST) != 0 || a->persistent;
  flags &= ~(unsigned)SMA_CREATE_PERSIST;
  size_t size;
  int rc = sma__record_layout(a->nbytes, sma__caps().granularity, &size);
  if (rc != 0) return rc;

  /* The record goes in first, through the backend's error-returning
   * write, so a creator killed during the long steps leaves a segment
   * that names it (see sma__os_create). */
  sma__record_t rec;
  fill_record(a, persistent, &rec);
  unsigned char bytes[SMA__RECORD_SIZE];
  sma__record_encode(&rec, bytes);
  /* Where listing goes through the per-user index, the entry comes
   * first: a creator killed before publication then leaves a segment that
   * `sma ls` and `sma gc` still find. The index stays held until the name
   * is published, so that no listing drops the entry as stale meanwhile;
   * an entry whose name has no segment (this create failed) is dropped by
   * the next walk. */
  char os_name[SMA_NAME_BUF];
  if ((rc = sma__os_name(a->name, os_name)) != 0) return rc;
  sma__index_hold_t hold;
  sma__index_add(os_name, &hold);
  sma__os_segment_t seg;
  rc = create_published(a, os_name, size, flags, bytes, fill, user, &seg);
  sma__index_release(&hold);
  if (rc != 0) return rc;

  a->seg = seg;
  a->loaded = true;
  a->creator = true;
  a->effective = seg.effective | (persistent ? SMA_CREATE_PERSIST : 0u);
  a->persistent = persistent;
  a->readonly = false; /* the creator maps its new segment read-write */
  a->os_error = 0;
  a->creator_pid = rec.creator_pid;
  a->created_ns = rec.created_ns;
  return 0;
}

static bool same_shape(const sma_t *a, const sma__record_t *rec) {
  if (a->ndim != rec->ndim || a->dtype != rec->dtype) return false;
  for (size_t d = 0; d < a->ndim; d++)
    if (a->shape[d] != rec->shape[d]) return false;
  return true;
}

/* Lets go of what a load opened: its reference of the shared mapping, or
 * its own mapping. */
static int drop_segment(sma__os_segment_t *seg, sma__map_t *map, int *os_err) {
  if (map == NULL) return sma__os_close(seg, os_err);
  seg->addr = NULL;
  seg->size = 0;
  seg->handle = -1;
  return sma__map_close(map, os_err);
}

/* Finishes a load on an open segment: size and record checks, the slice,
 * the state. On failure the segment is closed. rec is NULL for a segment
 * without a record (made by another program). */
static int finish_load(sma_t *a, sma__os_segment_t *seg, sma__map_t *map,
                       const sma__record_t *rec) {
  int rc = 0;
  if (seg->size < a->nbytes)
    rc = SMA_ETOOSMALL;
  else if (rec != NULL && !same_shape(a, rec))
    rc = SMA_EMISMATCH;
  else
    rc = sma__view_build(&a->view, seg->addr, a->ndim, a->shape, a->dtype, a->slice, a->nslice);
  if (rc != 0) {
    int ignored;
    drop_segment(seg, map, &ignored);
    return rc;
  }
  a->seg = *seg;
  a->map = map;
  a->loaded = true;
  a->creator = false;
  a->os_error = 0;
  a->creator_pid = rec != NULL ? rec->creator_pid : 0;
  a->created_ns = rec != NULL ? rec->created_ns : 0;
  a->persistent = rec != NULL && rec->persistent;
  return 0;
}

/* Opens `name` and reads its record (with a system call, never through
 * the mapping), sharing the mapping this process holds of the same object
 * (map_cache.c). *has_record tells whether there was one; a segment still
 * being created is SMA_EBUSY. On failure nothing stays open. */
static int open_checked(const char *name, bool readonly, sma__os_segment_t *seg, sma__map_t **map,
                        sma__record_t *rec, bool *has_record, int *os_err) {
  int rc = sma__map_open(name, readonly, seg, rec, map, os_err);
  *has_record = rc == 0;
  if (rc == SMA_ENORECORD) return 0;
  if (rc == 0 && seg->creating) {
    int ignored;
    drop_segment(seg, *map, &ignored);
    return SMA_EBUSY;
  }
  return rc;
}

int sma_load(sma_t *a) {
  if (a == NULL) return SMA_EINVAL;
  return sma_load_as(a, a->readonly ? SMA_OPEN_READONLY : 0u);
}

int sma_load_as(sma_t *a, unsigned flags) {
  if (a == NULL || (flags & ~(unsigned)SMA_OPEN_READONLY) != 0) return SMA_EINVAL;
  if (a->loaded) return SMA_ESTATE;
  bool readonly = (flags & SMA_OPEN_READONLY) != 0;
  sma__os_segment_t seg;
  sma__record_t rec;
  bool has_record;
  int os_err = 0;
  sma__map_t *map;
  int rc = open_checked(a->name, readonly, &seg, &map, &rec, &has_record, &os_err);
  if (rc != 0) return fail_os(a, rc, os_err);
  rc = finish_load(a, &seg, map, has_record ? &rec : NULL);
  if (rc == 0) a->readonly = readonly; /* a failed load leaves the object as it was */
  return rc;
}

int sma_open(sma_t **out, const char *name, const sma_slice_t *slice, size_t nslice) {
  return sma_open_as(out, name, slice, nslice, 0);
}

int sma_open_as(sma_t **out, const char *name, const sma_slice_t *slice, size_t nslice,
                unsigned flags) {
  if (out == NULL) return sma__named_result(SMA_EINVAL, 0);
  *out = NULL;
  if ((flags & ~(unsigned)SMA_OPEN_READONLY) != 0) return sma__named_result(SMA_EINVAL, 0);
  bool readonly = (flags & SMA_OPEN_READONLY) != 0;
  int rc = sma_name_validate(name);
  if (rc != 0) return sma__named_result(rc, 0);
  sma__os_segment_t seg;
  sma__record_t rec;
  bool has_record;
  int os_err = 0;
  sma__map_t *map;
  rc = open_checked(name, readonly, &seg, &map, &rec, &has_record, &os_err);
  if (rc != 0) return sma__named_result(rc, os_err);
  sma_t *a = NULL;
  rc = has_record ? sma_new(&a, &(sma_array_desc_t){.name = name,
                                                    .ndim = rec.ndim,
                                                    .shape = rec.shape,
                                                    .dtype = rec.dtype,
                                                    .slice = slice,
                                                    .nslice = nslice})
                  : SMA_ENORECORD;
  int ignored;
  if (rc != 0) {
    drop_segment(&seg, map, &ignored);
    return sma__named_result(rc, 0);
  }
  rc = finish_load(a, &seg, map, &rec);
  if (rc != 0) {
    free(a);
    return sma__named_result(rc, 0);
  }
  a->readonly = readonly;
  *out = a;
  return 0;
}

int sma_close(sma_t *a) {
  if (a == NULL) return SMA_EINVAL;
  if (!a->loaded) return 0;
  int os_err = 0;
  int rc = drop_segment(&a->seg, a->map, &os_err);
  a->map = NULL;
  a->loaded = false;
  a->creator = false;
  a->effective = 0;
  memset(&a->view, 0, sizeof a->view); /* os_close reset a->seg itself */
  return rc != 0 ? fail_os(a, rc, os_err) : 0;
}

/* Where the object's name is, or looks like, a digest (os_name.c),
 * another name's segment may hold it, so the unlink goes ahead only on
 * positive evidence: a record naming `name`. No record (another name's
 * create that has not written it yet), another name's record: SMA_ENOENT,
 * as for a load; a record that cannot be read or an object that cannot be
 * opened: that error. An unlink never removes a segment it was not asked
 * about. */
static int check_not_other(const char *name, const char *os_name, int *os_err) {
  if (!sma__os_name_shared(name, os_name)) return 0;
  sma__os_segment_t seg;
  sma__record_t rec;
  int rc = sma__segment_open(name, 1, &seg, &rec, os_err);
  if (rc == SMA_EBYTEORDER) return 0; /* closed, and its record names `name` */
  if (rc != 0) return rc;             /* nothing stays open (sma__segment_open) */
  int ignored;
  sma__os_close(&seg, &ignored);
  return 0;
}

int sma_unlink(const char *name) {
  int rc = sma_name_validate(name);
  if (rc != 0) return sma__named_result(rc, 0);
  char os_name[SMA_NAME_BUF];
  int os_err = 0;
  if ((rc = sma__os_name(name, os_name)) != 0 ||
      (rc = check_not_other(name, os_name, &os_err)) != 0)
    return sma__named_result(rc, os_err);
  rc = sma__os_unlink(os_name, &os_err);
  if (rc == 0 || rc == SMA_ENOENT) sma__index_forget(os_name);
  return sma__named_result(rc, os_err);
}

int sma_clear_buffers(const char *const *names, size_t n) {
  if (names == NULL && n > 0) return sma__named_result(SMA_EINVAL, 0);
  int first = 0, first_os = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = sma_unlink(names[i]);
    if (rc != 0 && first == 0) first = rc, first_os = sma__os_last_error();
  }
  return sma__named_result(first, first_os); /* the first failure's reason */
}

int sma_clone(sma_t **out, const sma_t *src, const sma_override_t *ov) {
  if (out == NULL) return SMA_EINVAL;
  *out = NULL;
  if (src == NULL) return SMA_EINVAL;
  unsigned set = ov != NULL ? ov->set : 0;
  if ((set & ~(unsigned)(SMA_SET_NAME | SMA_SET_SHAPE | SMA_SET_DTYPE | SMA_SET_SLICE)) != 0)
    return SMA_EINVAL;
  bool name = set & SMA_SET_NAME, shape = set & SMA_SET_SHAPE, dtype = set & SMA_SET_DTYPE,
       slice = set & SMA_SET_SLICE;
  int rc = sma_new(out, &(sma_array_desc_t){.name = name ? ov->name : src->name,
                                            .ndim = shape ? ov->ndim : src->ndim,
                                            .shape = shape ? ov->shape : src->shape,
                                            .dtype = dtype ? ov->dtype : src->dtype,
                                            .slice = slice ? ov->slice : src->slice,
                                            .nslice = slice ? ov->nslice : src->nslice});
  if (rc == 0) {
    (*out)->persistent = src->persistent;
    (*out)->readonly = src->readonly; /* a slice of a read-only array stays so */
  }
  return rc;
}

void sma__mark_persistent(sma_t *a) { a->persistent = true; }

/* ---- attributes ------------------------------------------------------------ */

/* Accessors never fail: NULL gives NULL, 0 or -1 rather than a crash. */
const char *sma_name(const sma_t *a) { return a ? a->name : NULL; }
size_t sma_ndim(const sma_t *a) { return a ? a->ndim : 0; }
const size_t *sma_shape(const sma_t *a) { return a ? a->shape : NULL; }
sma_dtype_t sma_dtype_get(const sma_t *a) { return a ? a->dtype : SMA_DTYPE_COUNT; }
size_t sma_itemsize(const sma_t *a) { return a ? sma_dtype_size(a->dtype) : 0; }
size_t sma_nbytes(const sma_t *a) { return a ? a->nbytes : 0; }
int sma_is_loaded(const sma_t *a) { return a ? a->loaded : 0; }
int sma_is_creator(const sma_t *a) { return a ? a->creator : 0; }
int sma_is_persistent(const sma_t *a) { return a ? a->persistent : 0; }
int sma_is_readonly(const sma_t *a) { return a ? a->readonly : 0; }
unsigned sma_effective_flags(const sma_t *a) { return a ? a->effective : 0; }
int sma_os_error(const sma_t *a) { return a ? a->os_error : 0; }
uint64_t sma_creator_pid(const sma_t *a) { return a ? a->creator_pid : 0; }
int64_t sma_created_ns(const sma_t *a) { return a ? a->created_ns : 0; }

const sma_slice_t *sma_slice_get(const sma_t *a, size_t *count) {
  size_t n = a ? a->nslice : 0;
  if (count != NULL) *count = n;
  return n > 0 ? a->slice : NULL;
}

const sma_view_t *sma_view_get(const sma_t *a) { return a && a->loaded ? &a->view : NULL; }

void *sma_data(const sma_t *a) { return a && a->loaded ? a->view.data : NULL; }

intptr_t sma_os_handle(const sma_t *a) { return a && a->loaded ? a->seg.handle : -1; }

int sma_at(void **out, const sma_t *a, const size_t *index) {
  if (a == NULL || out == NULL || (index == NULL && a->ndim > 0)) return SMA_EINVAL;
  *out = NULL;
  if (!a->loaded) return SMA_ESTATE;
  for (size_t d = 0; d < a->view.ndim; d++)
    if (index[d] >= a->view.shape[d]) return SMA_EBOUNDS;
  *out = sma_view_at(&a->view, index);
  return 0;
}
