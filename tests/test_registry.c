#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

Test(registry, add_count_name_free) {
  sma_registry_t *r;
  cr_assert_eq(sma_registry_new(&r), 0);
  cr_assert_eq(sma_registry_count(r), 0);
  char name[32];
  for (int i = 0; i < 100; i++) { /* grows past its first capacity */
    snprintf(name, sizeof name, "n%d", i);
    cr_assert_eq(sma_registry_add(r, name), 0);
  }
  cr_assert_eq(sma_registry_count(r), 100);
  cr_assert_str_eq(sma_registry_name(r, 42), "n42");
  cr_assert_null(sma_registry_name(r, 100));
  cr_assert_eq(sma_registry_add(r, "a/b"), SMA_ENAME);
  cr_assert_eq(sma_registry_add(r, NULL), SMA_EINVAL);
  cr_assert_eq(sma_registry_add(NULL, "x"), SMA_EINVAL);
  cr_assert_eq(sma_registry_count(r), 100);
  sma_registry_free(r); /* memory only: nothing was created */
  sma_registry_free(NULL);
  cr_assert_eq(sma_registry_new(NULL), SMA_EINVAL);
}

Test(registry, create_and_register_then_clear) {
  sma_registry_t *r;
  cr_assert_eq(sma_registry_new(&r), 0);
  size_t shape[2] = {16, 16};
  sma_t *arrays[5];
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(
        sma_create_and_register(
            &arrays[i], r,
            &(sma_array_desc_t){.name = T_PREFIX, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32},
            0),
        0);
    cr_assert(sma_is_loaded(arrays[i]) && sma_is_creator(arrays[i]));
    cr_assert_str_eq(sma_registry_name(r, (size_t)i), sma_name(arrays[i]));
    cr_assert_not_null(strstr(sma_name(arrays[i]), T_PREFIX));
  }
  cr_assert_eq(sma_registry_count(r), 5);
  char names[5][SMA_NAME_BUF];
  for (int i = 0; i < 5; i++) {
    strcpy(names[i], sma_name(arrays[i]));
    sma_free(arrays[i]);
    cr_assert_eq(t_segment_exists(names[i]), 1, "closing does not unlink");
  }
  /* One already gone: clear reports it and still unlinks the rest. */
  cr_assert_eq(sma_unlink(names[2]), 0);
  cr_assert_eq(sma_registry_clear(r), SMA_ENOENT);
  cr_assert_eq(sma_registry_count(r), 0);
  for (int i = 0; i < 5; i++) cr_assert(t_segment_absent(names[i]));
  cr_assert_eq(sma_registry_clear(r), 0, "empty registry");
  sma_registry_free(r);
}

/* desc->name is the prefix of the built name; desc's slice is kept for
 * later loads; a NULL desc is refused and registers nothing. */
Test(registry, create_and_register_takes_prefix_and_slice_from_desc) {
  sma_registry_t *r;
  cr_assert_eq(sma_registry_new(&r), 0);
  size_t shape[1] = {10};
  sma_slice_t tail[1] = {{5, SMA_NONE, SMA_NONE}};
  sma_t *a = (sma_t *)1;
  cr_assert_eq(sma_create_and_register(&a, r, NULL, 0), SMA_EINVAL);
  cr_assert_null(a);
  cr_assert_eq(sma_registry_count(r), 0);
  cr_assert_eq(sma_create_and_register(&a, r,
                                       &(sma_array_desc_t){.name = "pfx",
                                                           .ndim = 1,
                                                           .shape = shape,
                                                           .dtype = SMA_UINT8,
                                                           .slice = tail,
                                                           .nslice = 1},
                                       0),
               0);
  cr_assert(strstr(sma_name(a), "-pfx-") != NULL, "%s", sma_name(a));
  cr_assert_eq(sma_view_size(sma_view_get(a)), 10, "create views it whole");
  cr_assert_eq(sma_close(a), 0);
  cr_assert_eq(sma_load(a), 0);
  cr_assert_eq(sma_view_size(sma_view_get(a)), 5, "the slice applies on load");
  sma_free(a);
  cr_assert_eq(sma_registry_clear(r), 0);
  sma_registry_free(r);
}

Test(registry, failed_create_registers_nothing) {
  sma_registry_t *r;
  sma_registry_new(&r);
  size_t huge[2] = {SIZE_MAX / 4, 8};
  sma_t *a = (sma_t *)1;
  cr_assert_eq(sma_create_and_register(
                   &a, r, &(sma_array_desc_t){.ndim = 2, .shape = huge, .dtype = SMA_UINT8}, 0),
               SMA_EOVERFLOW);
  cr_assert_null(a);
  cr_assert_eq(sma_registry_count(r), 0);
  size_t shape[1] = {1};
  cr_assert_eq(
      sma_create_and_register(
          &a, r,
          &(sma_array_desc_t){.name = "bad/px", .ndim = 1, .shape = shape, .dtype = SMA_UINT8}, 0),
      SMA_ENAME);
  cr_assert_eq(sma_create_and_register(
                   &a, NULL, &(sma_array_desc_t){.ndim = 1, .shape = shape, .dtype = SMA_UINT8}, 0),
               SMA_EINVAL);
  cr_assert_eq(sma_registry_count(r), 0);
  sma_registry_free(r);
}
