/* The array object: create, load, open, close, unlink, clone, attributes,
 * and every error they document. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

static sma_t *make(const char *tag, size_t ndim, const size_t *shape, sma_dtype_t dtype,
                   char *name_out) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, tag);
  if (name_out) strcpy(name_out, name);
  sma_t *a = NULL;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = ndim, .shape = shape, .dtype = dtype}),
      0);
  return a;
}

Test(array, new_copies_description_and_is_unloaded) {
  size_t shape[2] = {3, 4};
  sma_slice_t s[1] = {{1, SMA_NONE, SMA_NONE}};
  sma_t *a;
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "desc",
                                               .ndim = 2,
                                               .shape = shape,
                                               .dtype = SMA_INT16,
                                               .slice = s,
                                               .nslice = 1}),
               0);
  shape[0] = 99; /* copied, not borrowed */
  cr_assert_str_eq(sma_name(a), "desc");
  cr_assert_eq(sma_ndim(a), 2);
  cr_assert_eq(sma_shape(a)[0], 3);
  cr_assert_eq(sma_shape(a)[1], 4);
  cr_assert_eq(sma_dtype_get(a), SMA_INT16);
  cr_assert_eq(sma_itemsize(a), 2);
  cr_assert_eq(sma_nbytes(a), 24);
  size_t n;
  cr_assert_eq(sma_slice_get(a, &n)[0].start, 1);
  cr_assert_eq(n, 1);
  cr_assert_eq(sma_is_loaded(a), 0);
  cr_assert_null(sma_view_get(a));
  cr_assert_null(sma_data(a));
  cr_assert_eq(sma_os_handle(a), -1);
  sma_free(a);
}

/* sma_array_desc_t: a NULL description is refused, and members left out
 * of a designated initializer are their defaults (0-d, no slice). */
Test(array, new_takes_a_description_with_zero_defaults) {
  sma_t *a = (sma_t *)1;
  cr_assert_eq(sma_new(&a, NULL), SMA_EINVAL);
  cr_assert_null(a, "*out is NULL on failure");
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "scalar", .dtype = SMA_FLOAT64}), 0);
  cr_assert_eq(sma_ndim(a), 0);
  cr_assert_eq(sma_nbytes(a), 8);
  size_t count = 99;
  cr_assert_null(sma_slice_get(a, &count), "no slice: NULL, as sma.h says");
  cr_assert_eq(count, 0, "no slice");
  cr_assert_str_eq(sma_name(a), "scalar");
  sma_free(a);
}

Test(array, new_rejects_bad_descriptions) {
  size_t shape[SMA_MAX_DIMS + 1];
  for (size_t i = 0; i <= SMA_MAX_DIMS; i++) shape[i] = 1;
  sma_slice_t s[3] = {SMA_SLICE_ALL, SMA_SLICE_ALL, SMA_SLICE_ALL};
  sma_t *a = (sma_t *)1;
  cr_assert_eq(
      sma_new(NULL,
              &(sma_array_desc_t){.name = "x", .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      SMA_EINVAL);
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "x",
                                               .ndim = SMA_MAX_DIMS + 1,
                                               .shape = shape,
                                               .dtype = SMA_UINT8}),
               SMA_ENDIM);
  cr_assert_null(a, "*out is NULL on failure");
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = "x", .ndim = SMA_MAX_DIMS, .shape = shape, .dtype = SMA_UINT8}),
               0);
  sma_free(a);
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "x", .ndim = 2, .dtype = SMA_UINT8}),
               SMA_EINVAL);
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = "x", .ndim = 1, .shape = shape, .dtype = SMA_DTYPE_COUNT}),
               SMA_EDTYPE);
  cr_assert_eq(
      sma_new(
          &a,
          &(sma_array_desc_t){
              .name = "x", .ndim = 2, .shape = shape, .dtype = SMA_UINT8, .slice = s, .nslice = 3}),
      SMA_ETOOMANYSLICES);
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){
                  .name = "x", .ndim = 2, .shape = shape, .dtype = SMA_UINT8, .nslice = 1}),
      SMA_EINVAL);
  s[0].step = 0;
  cr_assert_eq(
      sma_new(
          &a,
          &(sma_array_desc_t){
              .name = "x", .ndim = 2, .shape = shape, .dtype = SMA_UINT8, .slice = s, .nslice = 1}),
      SMA_ESTEP);
  size_t huge[2] = {SIZE_MAX / 2, 4};
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = "x", .ndim = 2, .shape = huge, .dtype = SMA_UINT8}),
      SMA_EOVERFLOW);
  size_t strides_overflow[3] = {0, SIZE_MAX / 4, 8}; /* x8 overflows */
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "x",
                                               .ndim = 3,
                                               .shape = strides_overflow,
                                               .dtype = SMA_FLOAT64}),
               SMA_EOVERFLOW, "a zero dimension does not hide stride overflow");
  size_t fits_exactly[1] = {(size_t)PTRDIFF_MAX / 8};
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = "x", .ndim = 1, .shape = fits_exactly, .dtype = SMA_FLOAT64}),
               0);
  sma_free(a);
}

Test(array, create_views_whole_array_and_load_applies_slice) {
  size_t shape[2] = {6, 8};
  char name[SMA_NAME_BUF];
  sma_t *a = make("create", 2, shape, SMA_INT32, name);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert(sma_is_loaded(a) && sma_is_creator(a));
  cr_assert_geq(sma_os_handle(a), 0);
  const sma_view_t *v = sma_view_get(a);
  cr_assert_eq((uintptr_t)v->data % 64, 0, "data is cache-line aligned");
  cr_assert(v->shape[0] == 6 && v->shape[1] == 8);
  cr_assert(v->strides[0] == 32 && v->strides[1] == 4);
  int32_t *data = v->data;
  for (int i = 0; i < 48; i++) data[i] = i;
  cr_assert_eq(sma_creator_pid(a) != 0, 1);
  cr_assert_gt(sma_created_ns(a), 0);

  sma_slice_t s[2] = {{1, 5, 2}, {SMA_NONE, SMA_NONE, -3}};
  sma_t *b;
  cr_assert_eq(sma_new(&b, &(sma_array_desc_t){.name = name,
                                               .ndim = 2,
                                               .shape = shape,
                                               .dtype = SMA_INT32,
                                               .slice = s,
                                               .nslice = 2}),
               0);
  cr_assert_eq(sma_load(b), 0);
  cr_assert_eq(sma_is_creator(b), 0);
  const sma_view_t *w = sma_view_get(b);
  cr_assert(w->shape[0] == 2 && w->shape[1] == 3);
  cr_assert(w->strides[0] == 64 && w->strides[1] == -12);
  size_t idx[2] = {1, 2};
  void *p;
  cr_assert_eq(sma_at(&p, b, idx), 0);
  cr_assert_eq(*(int32_t *)p, 3 * 8 + 1, "[3, 7::-3][2] is column 1");
  *(int32_t *)p = -1; /* the same memory as a's */
  cr_assert_eq(data[3 * 8 + 1], -1);
  idx[1] = 3;
  cr_assert_eq(sma_at(&p, b, idx), SMA_EBOUNDS);
  cr_assert_eq(sma_close(b), 0);
  cr_assert_eq(sma_at(&p, b, idx), SMA_ESTATE);
  sma_free(b);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
  cr_assert(t_segment_absent(name));
}

Test(array, create_is_exclusive_and_leaves_existing_data_alone) {
  size_t shape[1] = {16};
  char name[SMA_NAME_BUF];
  sma_t *a = make("excl", 1, shape, SMA_UINT8, name);
  cr_assert_eq(sma_create(a, 0), 0);
  memset(sma_data(a), 7, 16);
  sma_t *b = make("unused", 1, shape, SMA_UINT8, NULL);
  sma_free(b);
  cr_assert_eq(
      sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(b, 0), SMA_EEXIST);
  cr_assert_eq(sma_os_error(b), T_OS_EEXIST);
  cr_assert_eq(sma_is_loaded(b), 0);
  cr_assert_eq(((unsigned char *)sma_data(a))[15], 7);
  cr_assert_eq(sma_create(a, 0), SMA_ESTATE, "already loaded");
  cr_assert_eq(sma_create(b, 0x100), SMA_EINVAL, "unknown flag");
  sma_free(b);
  sma_unlink(name);
  sma_free(a);
}

#if !defined(_WIN32)
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <unistd.h>

Test(array, owner_only_by_default_whatever_the_umask) {
  umask(0);
  size_t shape[1] = {4};
  char n1[SMA_NAME_BUF], n2[SMA_NAME_BUF];
  sma_t *a = make("perm", 1, shape, SMA_UINT8, n1);
  sma_t *b = make("permg", 1, shape, SMA_UINT8, n2);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_create(b, SMA_CREATE_GROUP), 0);
  umask(0777);
  int ma = t_segment_mode(n1), mb = t_segment_mode(n2);
  sma_unlink(n1);
  sma_unlink(n2);
  sma_free(a);
  sma_free(b);
  cr_assert_eq(ma, 0600, "mode %o", ma);
  cr_assert_eq(mb, 0660, "mode %o", mb);
}

Test(array, foreign_segment_without_record_loads_by_size) {
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("raw POSIX segment");
  char name[SMA_NAME_BUF], path[SMA_NAME_BUF + 2] = "/";
  t_name(name, sizeof name, "foreign");
  strcat(path, name);
  int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(ftruncate(fd, 100), 0); /* like Python: exact, no record */
  close(fd);
  /* Where the OS reports page-rounded sizes (macOS), the segment has a
   * whole page. */
  size_t seen = t_caps().size_is_exact ? 100 : t_caps().granularity;
  size_t ok[1] = {seen / 4}, too_big[1] = {seen / 4 + 1};
  sma_t *a, *b, *c;
  sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = ok, .dtype = SMA_FLOAT32});
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = too_big, .dtype = SMA_FLOAT32});
  cr_assert_eq(sma_load(a), 0);
  cr_assert_eq(sma_creator_pid(a), 0, "no record, no creator");
  cr_assert_eq(sma_load(b), SMA_ETOOSMALL);
  cr_assert_eq(sma_is_loaded(b), 0);
  cr_assert_eq(sma_open(&c, name, NULL, 0), SMA_ENORECORD);
  cr_assert_null(c);
  sma_free(a);
  sma_free(b);
  shm_unlink(path);
}

/* Sizes that fit 64 bits but not a 32-bit size_t: an array described
 * beyond it is SMA_EOVERFLOW, and a 5 GiB segment that a 64-bit process
 * made (sparse here) is SMA_ETOOBIG for a 32-bit one, where before it
 * was SMA_EOS (stat's EOVERFLOW, without a 64-bit off_t). */
Test(array, sizes_beyond_32_bits) {
  int wide = SIZE_MAX > UINT32_MAX;
  size_t shape[2] = {(size_t)1 << 20, (size_t)1 << 13}; /* 2^36 bytes as f8 */
  sma_t *a = NULL;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = "x", .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64}),
      wide ? 0 : SMA_EOVERFLOW);
  sma_free(a);
  if (strcmp(sma_backend(), "posix") != 0) return;
  char name[SMA_NAME_BUF], path[SMA_NAME_BUF + 2] = "/";
  t_name(name, sizeof name, "fivegib");
  strcat(path, name);
  int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  cr_assert_geq(fd, 0);
  int sized = ftruncate(fd, (off_t)5 << 30);
  close(fd);
  sma_t *c = NULL;
  int rc = sized == 0 ? sma_open(&c, name, NULL, 0) : 0;
  shm_unlink(path);
  cr_assert_eq(sized, 0, "a sparse 5 GiB file: needs a 64-bit off_t");
  cr_assert_eq(rc, wide ? SMA_ENORECORD : SMA_ETOOBIG, "%s", sma_err_name(rc));
  cr_assert_null(c);
}

#endif

Test(array, corrupt_record_is_an_error_not_a_crash) {
  size_t shape[1] = {10};
  char name[SMA_NAME_BUF];
  sma_t *a = make("corrupt", 1, shape, SMA_FLOAT64, name);
  cr_assert_eq(sma_create(a, 0), 0);
  t_raw_t raw;
  cr_assert_eq(t_raw_map(name, &raw), 0);
  /* The record's first shape entry: 640 - 80 bytes before the end. */
  raw.bytes[raw.size - (640 - 80)] ^= 0xff;
  sma_t *b, *c;
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT64});
  int loaded = sma_load(b);
  int opened = sma_open(&c, name, NULL, 0);
  raw.bytes[raw.size - (640 - 80)] ^= 0xff;
  t_raw_unmap(&raw);
  if (strcmp(sma_backend(), "sysv") == 0) {
    /* System V finds segments through the record's name: a damaged
     * record makes the name unfindable rather than corrupt. */
    cr_assert_eq(loaded, SMA_ENOENT);
    cr_assert_eq(opened, SMA_ENOENT);
  } else {
    cr_assert_eq(loaded, SMA_ECORRUPT);
    cr_assert_eq(opened, SMA_ECORRUPT);
  }
  cr_assert_eq(sma_load(b), 0, "repaired");
  sma_free(b);
  sma_unlink(name);
  sma_free(a);
}

Test(array, prefault_and_hugepage_requests_never_fail) {
  size_t shape[2] = {1024, 1024};
  char name[SMA_NAME_BUF];
  sma_t *a = make("prefault", 2, shape, SMA_UINT8, name);
  unsigned want = SMA_CREATE_PREFAULT | SMA_CREATE_HUGEPAGES | SMA_CREATE_GROUP;
  int rc = sma_create(a, want);
  cr_assert_eq(rc, 0, "%s (OS error %d)", sma_strerror(rc), sma_os_error(a));
  unsigned got = sma_effective_flags(a);
  cr_assert_eq(got & ~want, 0, "only requested flags are reported");
  cr_assert(got & SMA_CREATE_PREFAULT, "prefault always happens (fallback: touching)");
  cr_assert(got & SMA_CREATE_GROUP);
  unsigned char *d = sma_data(a);
  cr_assert_eq(d[0] | d[1024 * 1024 - 1], 0, "prefaulting keeps the zeros");
  memset(d, 0xab, 1024 * 1024);
  sma_t *b;
  cr_assert_eq(sma_open(&b, name, NULL, 0), 0, "the record survived prefaulting");
  cr_assert_eq(((unsigned char *)sma_data(b))[777], 0xab);
  cr_assert_eq(sma_effective_flags(b), 0, "loading creates nothing");
  sma_free(b);
  sma_unlink(name);
  sma_free(a);
}

Test(array, load_checks_against_the_record) {
  size_t shape[2] = {4, 4};
  char name[SMA_NAME_BUF];
  sma_t *a = make("mismatch", 2, shape, SMA_FLOAT32, name);
  cr_assert_eq(sma_create(a, 0), 0);
  size_t flat[1] = {16}, bigger[2] = {4, 5};
  sma_t *b;
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = flat, .dtype = SMA_FLOAT32});
  cr_assert_eq(sma_load(b), SMA_EMISMATCH, "same bytes, other shape");
  sma_free(b);
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_INT32});
  cr_assert_eq(sma_load(b), SMA_EMISMATCH, "same size, other dtype");
  sma_free(b);
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = bigger, .dtype = SMA_FLOAT32});
  cr_assert_eq(sma_load(b), SMA_EMISMATCH);
  sma_free(b);
  size_t huge[2] = {1000, 1000};
  sma_new(&b, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = huge, .dtype = SMA_FLOAT32});
  cr_assert_eq(sma_load(b), SMA_ETOOSMALL);
  sma_free(b);
  sma_unlink(name);
  sma_free(a);
}

Test(array, open_by_name_alone) {
  size_t shape[3] = {2, 3, 4};
  char name[SMA_NAME_BUF];
  sma_t *a = make("open", 3, shape, SMA_UINT16, name);
  cr_assert_eq(sma_create(a, 0), 0);
  uint16_t *d = sma_data(a);
  for (int i = 0; i < 24; i++) d[i] = (uint16_t)(100 + i);
  sma_slice_t s[1] = {{-1, SMA_NONE, SMA_NONE}};
  sma_t *b;
  cr_assert_eq(sma_open(&b, name, s, 1), 0);
  cr_assert_eq(sma_ndim(b), 3);
  cr_assert_eq(sma_dtype_get(b), SMA_UINT16);
  cr_assert_eq(sma_shape(b)[2], 4);
  cr_assert_eq(sma_view_get(b)->shape[0], 1);
  cr_assert_eq(*(uint16_t *)sma_data(b), 112);
  cr_assert_eq(sma_creator_pid(b), sma_creator_pid(a));
  cr_assert_eq(sma_created_ns(b), sma_created_ns(a));
  sma_free(b);
  sma_slice_t too_many[4] = {SMA_SLICE_ALL, SMA_SLICE_ALL, SMA_SLICE_ALL, SMA_SLICE_ALL};
  cr_assert_eq(sma_open(&b, name, too_many, 4), SMA_ETOOMANYSLICES);
  cr_assert_null(b);
  sma_unlink(name);
  sma_free(a);
  cr_assert(t_segment_absent(name));
  cr_assert_eq(sma_open(&b, name, NULL, 0), SMA_ENOENT);
}

Test(array, zero_byte_and_zero_dim_arrays) {
  size_t shape[2] = {0, 5};
  char name[SMA_NAME_BUF];
  sma_t *a = make("zero", 2, shape, SMA_FLOAT64, name);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_nbytes(a), 0);
  cr_assert_eq(sma_view_size(sma_view_get(a)), 0);
  sma_t *b;
  cr_assert_eq(sma_open(&b, name, NULL, 0), 0);
  cr_assert_eq(sma_shape(b)[0], 0);
  cr_assert_eq(sma_shape(b)[1], 5);
  sma_free(b);
  sma_unlink(name);
  sma_free(a);

  sma_t *scalar = make("scalar", 0, NULL, SMA_COMPLEX128, name);
  cr_assert_eq(sma_create(scalar, 0), 0);
  cr_assert_eq(sma_nbytes(scalar), 16, "a 0-d array holds one element");
  void *p;
  cr_assert_eq(sma_at(&p, scalar, NULL), 0);
  cr_assert_eq(p, sma_data(scalar));
  sma_unlink(name);
  sma_free(scalar);
}

Test(array, close_is_idempotent_and_never_unlinks) {
  size_t shape[1] = {8};
  char name[SMA_NAME_BUF];
  sma_t *a = make("close", 1, shape, SMA_UINT8, name);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_close(a), 0);
  cr_assert_null(sma_view_get(a));
  cr_assert_null(sma_data(a));
  cr_assert_eq(sma_close(a), 0, "second close is a no-op");
  cr_assert_eq(t_segment_exists(name), 1);
  cr_assert_eq(sma_load(a), 0, "reload after close");
  cr_assert_eq(sma_load(a), SMA_ESTATE, "already loaded");
  cr_assert_eq(sma_close(NULL), SMA_EINVAL);
  sma_free(a);
  cr_assert_eq(t_segment_exists(name), 1, "free does not unlink either");
  cr_assert_eq(sma_unlink(name), 0);
  cr_assert_eq(sma_unlink(name), SMA_ENOENT);
  sma_free(NULL);
}

Test(array, unlink_keeps_existing_mappings) {
  size_t shape[1] = {1024};
  char name[SMA_NAME_BUF];
  sma_t *a = make("unlinkmap", 1, shape, SMA_INT64, name);
  cr_assert_eq(sma_create(a, 0), 0);
  int64_t *d = sma_data(a);
  cr_assert_eq(sma_unlink(name), 0);
  for (int i = 0; i < 1024; i++) d[i] = i;
  cr_assert_eq(d[1023], 1023);
  cr_assert_eq(sma_load(a), SMA_ESTATE);
  sma_free(a);
  cr_assert(t_segment_absent(name));
}

Test(array, load_of_a_missing_name_keeps_the_os_error) {
  size_t shape[1] = {8};
  sma_t *a = make("missing", 1, shape, SMA_UINT8, NULL);
  cr_assert_eq(sma_load(a), SMA_ENOENT);
  cr_assert_eq(sma_os_error(a), T_OS_ENOENT);
  cr_assert_eq(t_last_os_error(), T_OS_ENOENT, "left in errno/GetLastError");
  cr_assert_eq(sma_is_loaded(a), 0);
  sma_free(a);
}

Test(array, clone_with_overrides) {
  size_t shape[2] = {10, 20}, other[3] = {1, 2, 3};
  sma_slice_t s[1] = {{2, 8, 2}};
  sma_t *src, *c;
  cr_assert_eq(sma_new(&src, &(sma_array_desc_t){.name = "orig",
                                                 .ndim = 2,
                                                 .shape = shape,
                                                 .dtype = SMA_FLOAT32,
                                                 .slice = s,
                                                 .nslice = 1}),
               0);
  cr_assert_eq(sma_clone(&c, src, NULL), 0);
  cr_assert_str_eq(sma_name(c), "orig");
  cr_assert_eq(sma_ndim(c), 2);
  cr_assert_eq(sma_dtype_get(c), SMA_FLOAT32);
  size_t n;
  cr_assert_eq(sma_slice_get(c, &n)[0].step, 2);
  sma_free(c);
  sma_override_t ov = {0};
  ov.set = SMA_SET_NAME | SMA_SET_SHAPE;
  ov.name = "new_name";
  ov.ndim = 3;
  ov.shape = other;
  cr_assert_eq(sma_clone(&c, src, &ov), 0);
  cr_assert_str_eq(sma_name(c), "new_name");
  cr_assert_eq(sma_ndim(c), 3);
  cr_assert_eq(sma_shape(c)[2], 3);
  cr_assert_eq(sma_dtype_get(c), SMA_FLOAT32, "not overridden");
  cr_assert_eq(sma_slice_get(c, &n)[0].start, 2);
  sma_free(c);
  ov.set = SMA_SET_DTYPE | SMA_SET_SLICE;
  ov.dtype = SMA_UINT8;
  ov.slice = NULL;
  ov.nslice = 0;
  cr_assert_eq(sma_clone(&c, src, &ov), 0);
  cr_assert_eq(sma_dtype_get(c), SMA_UINT8);
  sma_slice_get(c, &n);
  cr_assert_eq(n, 0, "slice cleared");
  sma_free(c);
  ov.set = SMA_SET_SHAPE;
  ov.ndim = 0;
  cr_assert_eq(sma_clone(&c, src, &ov), SMA_ETOOMANYSLICES,
               "the kept slice must still fit the new shape");
  cr_assert_null(c);
  ov.set = SMA_SET_NAME;
  ov.name = "bad/name";
  cr_assert_eq(sma_clone(&c, src, &ov), SMA_ENAME);
  ov.set = 1u << 20;
  cr_assert_eq(sma_clone(&c, src, &ov), SMA_EINVAL);
  cr_assert_eq(sma_clone(&c, NULL, NULL), SMA_EINVAL);
  sma_free(src);
}

Test(array, null_arguments) {
  cr_assert_eq(sma_create(NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_load(NULL), SMA_EINVAL);
  cr_assert_eq(sma_open(NULL, "x", NULL, 0), SMA_EINVAL);
  sma_t *a;
  cr_assert_eq(sma_open(&a, NULL, NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_at(NULL, NULL, NULL), SMA_EINVAL);
  cr_assert_eq(sma_clear_buffers(NULL, 1), SMA_EINVAL);
  cr_assert_eq(sma_clear_buffers(NULL, 0), 0);
}

Test(array, clear_buffers_goes_on_past_missing_names) {
  size_t shape[1] = {4};
  char n1[SMA_NAME_BUF], n2[SMA_NAME_BUF], missing[SMA_NAME_BUF];
  sma_t *a = make("clr", 1, shape, SMA_UINT8, n1);
  sma_t *b = make("clr", 1, shape, SMA_UINT8, n2);
  t_name(missing, sizeof missing, "nothere");
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_create(b, 0), 0);
  const char *names[4] = {missing, n1, "bad/name", n2};
  cr_assert_eq(sma_clear_buffers(names, 4), SMA_ENOENT, "first error");
  sma_free(a);
  sma_free(b);
  cr_assert(t_segment_absent(n1));
  cr_assert(t_segment_absent(n2));
}

/* sma_create_filled(): the fill runs before the name is published, so a
 * reader meanwhile gets no array; a failing fill leaves nothing. */
typedef struct fill_probe {
  const char *name;
  int reader_rc; /* what sma_open() gave during the fill */
  int result;    /* what the fill returns */
} fill_probe_t;

static int probe_fill(const sma_view_t *v, void *user) {
  fill_probe_t *p = user;
  for (size_t i = 0; i < v->shape[0]; i++) ((int32_t *)v->data)[i] = (int32_t)i;
  sma_t *r = NULL;
  p->reader_rc = sma_open(&r, p->name, NULL, 0);
  sma_free(r);
  return p->result;
}

Test(array, create_filled_publishes_only_after_the_fill) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "filled");
  size_t shape[1] = {1000};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT32}),
      0);
  fill_probe_t p = {name, 0, SMA_EIO};
  cr_assert_eq(sma_create_filled(a, 0, probe_fill, &p), SMA_EIO, "the fill's value");
  cr_assert(p.reader_rc == SMA_ENOENT || p.reader_rc == SMA_EBUSY, "%s", sma_err_name(p.reader_rc));
  cr_assert_eq(sma_is_loaded(a), 0);
  cr_assert_null(sma_view_get(a));
  cr_assert(t_segment_absent(name), "an abandoned create leaves nothing");
  p.result = 0;
  cr_assert_eq(sma_create_filled(a, 0, probe_fill, &p), 0);
  cr_assert(p.reader_rc == SMA_ENOENT || p.reader_rc == SMA_EBUSY, "%s", sma_err_name(p.reader_rc));
  sma_t *r;
  cr_assert_eq(sma_open(&r, name, NULL, 0), 0);
  cr_assert_eq(((int32_t *)sma_data(r))[999], 999, "published with its data");
  sma_free(r);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
}
