/* `sma cat` prints NumPy's str() of an array: floating-point digits as
 * NumPy's Dragon4 makes them, for every float and complex dtype.
 *
 * Two kinds of test: fixed arrays whose expected text is what NumPy 1.24
 * prints for them (written down here, so they run where no NumPy is, as
 * under qemu and Wine), and tests/cat_digits.py, which compares `sma cat`
 * with the str() of the installed NumPy over random arrays. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- running `sma cat` on an array made here --------------------------------- */

/* A 1-d segment of `n` elements of `dtype` holding `bytes` (native order). */
static sma_t *make_array(char *name, size_t cap, sma_dtype_t dtype, size_t n, const void *bytes) {
  t_name(name, cap, "cat");
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = &n, .dtype = dtype}), 0);
  cr_assert_eq(sma_create(a, 0), 0, "create %s", name);
  memcpy(sma_view_get(a)->data, bytes, n * sma_dtype_size(dtype));
  return a;
}

/* What `sma cat name` prints on stdout, without the final newline
 * (malloc'd). */
static char *cat_output(const char *name) {
  char *out;
  cr_assert_eq(t_sma(&out, "cat %s", name), 0, "sma cat %s failed", name);
  size_t len = strlen(out);
  if (len > 0 && out[len - 1] == '\n') out[len - 1] = '\0';
  return out;
}

static void expect_cat(sma_dtype_t dtype, size_t n, const void *bytes, const char *want) {
  char name[SMA_NAME_BUF];
  sma_t *a = make_array(name, sizeof name, dtype, n, bytes);
  char *got = cat_output(name);
  sma_unlink(name);
  sma_free(a);
  cr_expect(strcmp(got, want) == 0, "%s array: sma cat printed\n%s\nNumPy prints\n%s",
            sma_dtype_name(dtype), got, want);
  free(got);
}

/* ---- issue 24: the four arrays it names -------------------------------------- */

/* The smallest subnormal beside a value needing 8 digits: every element
 * gets 8 digits after the point, and those of 5e-324 are its own exact
 * digits (4.94065645841...e-324) rounded, not zeros after the shortest. */
Test(cat, subnormal_float64_gets_its_exact_digits_to_the_shared_precision) {
  uint64_t bits[] = {1, 0x3fd5555555555555u}; /* 5e-324, 1/3 */
  double v[2];
  memcpy(v, bits, sizeof v);
  expect_cat(SMA_FLOAT64, 2, v, "[4.94065646e-324 3.33333333e-001]");
}

/* float32: the shortest digits of 4.8145878e-08 are 4.814588e-08; beside
 * 1.2345678 it gets 7 digits after the point, and the 7th is 8, not 0. */
Test(cat, float32_gets_exact_digits_not_zeros_past_its_shortest) {
  float v[] = {4.8145878e-08f, 1.2345678f};
  expect_cat(SMA_FLOAT32, 2, v, "[4.8145878e-08 1.2345678e+00]");
}

/* float16: 0.09998 (0x2e66) is "0.1" alone; in scientific notation with 3
 * digits after the point it is 9.998e-02, not 1.000e-01. */
Test(cat, float16_gets_exact_digits_in_scientific_notation) {
  uint16_t v[] = {0x2e66, 0x5a41}; /* 0.09998, 200.1 */
  expect_cat(SMA_FLOAT16, 2, v, "[9.998e-02 2.001e+02]");
}

/* The imaginary part always has a sign, nan included: 1.+nanj. */
Test(cat, complex_nan_imaginary_part_has_its_plus_sign) {
  double v[] = {1.0, 0.0};
  uint64_t nan_bits = 0x7ff8000000000000u;
  memcpy(&v[1], &nan_bits, sizeof nan_bits);
  expect_cat(SMA_COMPLEX128, 1, v, "[1.+nanj]");
  float w[] = {1.0f, 0.0f, 2.5f, 0.0f};
  uint32_t neg_nan = 0xffc00000u;
  memcpy(&w[1], &neg_nan, sizeof neg_nan);
  expect_cat(SMA_COMPLEX64, 2, w, "[1. +nanj 2.5 +0.j]");
}

/* ---- extremes, each as NumPy 1.24 prints it ---------------------------------- */

Test(cat, float64_extremes_and_specials) {
  uint64_t bits[] = {0x7fefffffffffffffu, 0x0010000000000000u, 0x000fffffffffffffu,
                     0x8000000000000000u, 0xfff0000000000000u, 0x7ff8000000000001u};
  double v[6];
  memcpy(v, bits, sizeof v);
  expect_cat(SMA_FLOAT64, 6, v,
             "[ 1.79769313e+308  2.22507386e-308  2.22507386e-308 -0.00000000e+000\n"
             "             -inf              nan]");
}

Test(cat, float32_and_float16_extremes) {
  uint32_t fbits[] = {0x7f7fffffu, 0x00000001u, 0x80800000u};
  float f[3];
  memcpy(f, fbits, sizeof f);
  expect_cat(SMA_FLOAT32, 3, f, "[ 3.4028235e+38  1.4012985e-45 -1.1754944e-38]");
  uint16_t h[] = {0x7bff, 0x0001, 0x0400, 0xfc00};
  expect_cat(SMA_FLOAT16, 4, h, "[6.550e+04 5.960e-08 6.104e-05      -inf]");
}

/* ---- against the installed NumPy --------------------------------------------- */

static void need_numpy(void) {
  if (SMA_PYTHON[0] == '\0') cr_skip_test("no python3 with NumPy was found at configure time");
  FILE *f = fopen(SMA_PYTHON, "rb"); /* a VM running the cross-built suite has none */
  if (f == NULL) cr_skip_test("%s is not on this machine", SMA_PYTHON);
  fclose(f);
}

/* Every float and complex dtype, at least this many shown values each, in
 * random arrays (tests/cat_digits.py says which); fewer under qemu-user
 * (the Criterion shim there ends a test after 120 s) and the sanitizers,
 * where each `sma` takes ten times as long to start. The unsanitized
 * native builds run the full count. */
#if defined(SMA_TEST_EMULATED)
#  define VALUES_PER_DTYPE "1500"
#elif defined(SMA_TEST_SANITIZED)
#  define VALUES_PER_DTYPE "2500"
#else
#  define VALUES_PER_DTYPE "10000"
#endif

Test(cat, prints_numpys_str_of_random_float_and_complex_arrays, .timeout = 600) {
  need_numpy();
  char prefix[SMA_NAME_BUF];
  t_name(prefix, sizeof prefix, "catd");
  const char *argv[] = {SMA_PYTHON, SMA_CAT_DIGITS_SCRIPT, prefix, VALUES_PER_DTYPE, NULL};
  cr_assert_eq(t_run_script(argv), 0,
               "tests/cat_digits.py found arrays that sma cat prints "
               "unlike NumPy (its output shows them)");
}
