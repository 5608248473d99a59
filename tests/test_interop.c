/* NumPy interop: offset 0 of a libsma segment is exactly what NumPy's
 * ndarray(shape, dtype, buffer=SharedMemory(name).buf) expects, both ways. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

#ifndef SMA_PYTHON
#define SMA_PYTHON ""
#endif

static void need_python(void) {
  if (SMA_PYTHON[0] == '\0')
    cr_skip_test("no python3 with NumPy was found at configure time");
  if (strcmp(sma_backend(), "posix") != 0)
    cr_skip_test("Python's SharedMemory uses POSIX shm_open names");
}

Test(interop, numpy_reads_what_c_wrote) {
  need_python();
  size_t shape[3] = {6, 5, 4};
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-read");
  sma_t *a;
  cr_assert_eq(sma_new(&a, name, 3, shape, SMA_FLOAT32, NULL, 0), 0);
  cr_assert_eq(sma_create(a, 0), 0);
  float *d = sma_data(a);
  for (int i = 0; i < 120; i++) d[i] = (float)i;
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "read", name, "6,5,4",
                        "<f4", "1:5:2, ::-1, -2:", NULL};
  cr_assert_eq(t_run(argv), 0);
  d[7] = -1; /* the check can fail */
  cr_assert_eq(t_run(argv), 1);
  sma_unlink(name);
  sma_free(a);
}

Test(interop, c_loads_what_numpy_created_through_a_slice) {
  need_python();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-made");
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "create", name, "10,8",
                        "<i8", NULL};
  cr_assert_eq(t_run(argv), 0);
  size_t shape[2] = {10, 8};
  sma_slice_t s[2] = {{8, 1, -3}, {1, SMA_NONE, 2}};
  sma_t *a;
  cr_assert_eq(sma_new(&a, name, 2, shape, SMA_INT64, s, 2), 0);
  cr_assert_eq(sma_load(a), 0, "no record: loads by size");
  const sma_view_t *v = sma_view(a);
  cr_assert(v->shape[0] == 3 && v->shape[1] == 4);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) {
      size_t idx[2] = {i, j};
      int64_t want = (int64_t)((8 - 3 * i) * 8 + 1 + 2 * j);
      cr_assert_eq(*(int64_t *)sma_view_at(v, idx), want);
    }
  sma_t *by_name;
  cr_assert_eq(sma_open(&by_name, name, NULL, 0), SMA_ENORECORD);
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
}
