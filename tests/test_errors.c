#include "sma.h"

#include <criterion/criterion.h>
#include <string.h>

Test(errors, every_code_has_a_distinct_message_and_name) {
  int codes[] = {
#define CODE(name, value, msg) SMA_##name,
      SMA_ERRNO_MAP(CODE)
#undef CODE
  };
  size_t n = sizeof codes / sizeof codes[0];
  cr_assert_geq(n, 20);
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(codes[i], 0, "codes are negative");
    cr_assert_str_neq(sma_strerror(codes[i]), "unknown error");
    cr_assert_eq(strncmp(sma_err_name(codes[i]), "SMA_E", 5), 0);
    for (size_t j = i + 1; j < n; j++) {
      cr_assert_neq(codes[i], codes[j]);
      cr_assert_str_neq(sma_strerror(codes[i]), sma_strerror(codes[j]));
    }
  }
}

Test(errors, success_and_unknown_codes) {
  cr_assert_str_eq(sma_strerror(0), "success");
  cr_assert_str_eq(sma_err_name(0), "SMA_OK");
  cr_assert_str_eq(sma_strerror(-9999), "unknown error");
  cr_assert_str_eq(sma_strerror(5), "unknown error");
  cr_assert_str_eq(sma_err_name(-9999), "SMA_EUNKNOWN");
  cr_assert_str_eq(sma_err_name(SMA_EEXIST), "SMA_EEXIST");
}

Test(errors, version_matches_header) {
  cr_assert_eq(sma_version(),
               SMA_VERSION_MAJOR * 10000u + SMA_VERSION_MINOR * 100u + SMA_VERSION_PATCH);
  cr_assert_not_null(sma_backend());
}

/* Every public function given NULL where it expects a pointer: a specific
 * error (or a documented neutral value), never a crash. */
Test(errors, null_pointers_everywhere) {
  sma_t *a = NULL;
  sma_registry_t *r = NULL;
  sma_dtype_t d;
  sma_slice_t s[1];
  size_t n, shape[1] = {1};
  char buf[64];
  sma_info_t info;
  cr_assert_eq(sma_dtype_parse(&d, NULL), SMA_EINVAL);
  cr_assert_eq(sma_dtype_parse(NULL, "f4"), SMA_EINVAL);
  cr_assert_eq(sma_slice_parse(s, 1, &n, NULL), SMA_EINVAL);
  cr_assert_eq(sma_slice_parse(NULL, 1, &n, ":"), SMA_EINVAL);
  cr_assert_eq(sma_slice_parse(s, 1, NULL, ":"), SMA_EINVAL);
  cr_assert_eq(sma_slice_format(NULL, 1, buf, &(size_t){sizeof buf}), SMA_EINVAL);
  cr_assert_eq(sma_slice_format(s, 0, NULL, &(size_t){8}), SMA_EINVAL);
  cr_assert_eq(sma_view_size(NULL), 0);
  cr_assert_eq(
      sma_new(NULL,
              &(sma_array_desc_t){.name = "x", .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      SMA_EINVAL);
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = NULL, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      SMA_EINVAL);
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "x", .ndim = 1, .dtype = SMA_UINT8}),
               SMA_EINVAL);
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){
                  .name = "x", .ndim = 1, .shape = shape, .dtype = SMA_UINT8, .nslice = 1}),
      SMA_EINVAL);
  cr_assert_eq(sma_create(NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_load(NULL), SMA_EINVAL);
  cr_assert_eq(sma_open(NULL, "x", NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_open(&a, NULL, NULL, 0), SMA_EINVAL);
  cr_assert_eq(sma_close(NULL), SMA_EINVAL);
  cr_assert_eq(sma_unlink(NULL), SMA_EINVAL);
  cr_assert_eq(sma_clear_buffers(NULL, 2), SMA_EINVAL);
  cr_assert_eq(sma_clone(NULL, a, NULL), SMA_EINVAL);
  cr_assert_eq(sma_clone(&a, NULL, NULL), SMA_EINVAL);
  cr_assert_null(sma_name(NULL));
  cr_assert_eq(sma_ndim(NULL), 0);
  cr_assert_null(sma_shape(NULL));
  cr_assert_eq(sma_dtype_get(NULL), SMA_DTYPE_COUNT);
  cr_assert_eq(sma_itemsize(NULL), 0);
  cr_assert_eq(sma_nbytes(NULL), 0);
  cr_assert_null(sma_slice_get(NULL, &n));
  cr_assert_eq(n, 0);
  cr_assert_eq(sma_is_loaded(NULL), 0);
  cr_assert_eq(sma_is_creator(NULL), 0);
  cr_assert_eq(sma_effective_flags(NULL), 0);
  cr_assert_null(sma_view_get(NULL));
  cr_assert_null(sma_data(NULL));
  cr_assert_eq(sma_os_handle(NULL), -1);
  cr_assert_eq(sma_os_error(NULL), 0);
  cr_assert_eq(sma_creator_pid(NULL), 0);
  cr_assert_eq(sma_created_ns(NULL), 0);
  cr_assert_eq(sma_at((void **)&a, NULL, shape), SMA_EINVAL);
  cr_assert_eq(sma_name_validate(NULL), SMA_EINVAL);
  cr_assert_eq(sma_build_name("p", NULL, &(size_t){64}), SMA_EINVAL);
  cr_assert_eq(sma_registry_new(NULL), SMA_EINVAL);
  cr_assert_eq(sma_registry_add(NULL, "x"), SMA_EINVAL);
  cr_assert_eq(sma_registry_count(NULL), 0);
  cr_assert_null(sma_registry_name(NULL, 0));
  cr_assert_eq(sma_registry_clear(NULL), SMA_EINVAL);
  cr_assert_eq(sma_create_and_register(
                   NULL, r, &(sma_array_desc_t){.ndim = 1, .shape = shape, .dtype = SMA_UINT8}, 0),
               SMA_EINVAL);
  cr_assert_eq(sma_wrap(NULL, NULL, 1, NULL, NULL), SMA_EINVAL);
  cr_assert_eq(sma_describe(NULL, buf, &(size_t){sizeof buf}), SMA_EINVAL);
  cr_assert_eq(sma_parse(NULL, NULL, "sma/1"), SMA_EINVAL);
  cr_assert_eq(sma_info_get(&info, NULL), SMA_EINVAL);
  cr_assert_eq(sma_info_get(NULL, "x"), SMA_EINVAL);
  cr_assert_eq(sma_list(NULL, NULL), SMA_EINVAL);
  sma_free(NULL);
  sma_registry_free(NULL);
  sma_caps_get(NULL);
}
