/* Shapes as text: the one parser and formatter (sma_shape_parse,
 * sma_shape_format) behind descriptors, `sma create --shape` and the
 * tests' helper. */
#include "sma.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void expect(const char *text, size_t ndim, const size_t *shape) {
  size_t got[SMA_MAX_DIMS], n = 99;
  cr_assert_eq(sma_shape_parse(got, SMA_MAX_DIMS, &n, text), 0, "\"%s\"", text);
  cr_assert_eq(n, ndim, "\"%s\": %zu dims", text, n);
  for (size_t d = 0; d < ndim; d++) cr_assert_eq(got[d], shape[d], "\"%s\" dim %zu", text, d);
}

Test(shape, spellings_of_the_same_shape) {
  size_t s45[] = {4, 5}, s7[] = {7}, s0[] = {0, 3};
  expect("4,5", 2, s45);
  expect("(4, 5)", 2, s45);
  expect(" ( 4 ,5 ) ", 2, s45);
  expect("7", 1, s7);
  expect("(7,)", 1, s7);
  expect("0,3", 2, s0);
  expect("()", 0, NULL);
  expect("", 0, NULL);
  expect("( )", 0, NULL);
}

Test(shape, malformed_texts_are_refused) {
  const char *bad[] = {"4,,5", "4,",    ",4", "a",   "-1",   "4;5", "4 5",   "(4,5",
                       "4,5)", "(4,),", "+4", "4.0", "0x10", "(,)", "((4))", "4,5,"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t shape[SMA_MAX_DIMS], n = 99;
    cr_assert_eq(sma_shape_parse(shape, SMA_MAX_DIMS, &n, bad[i]), SMA_ESHAPE, "\"%s\"", bad[i]);
    cr_assert_eq(n, 0, "\"%s\": nothing reported", bad[i]);
  }
}

Test(shape, limits) {
  size_t shape[SMA_MAX_DIMS], n;
  char many[SMA_MAX_DIMS * 2 + 8] = "";
  for (int d = 0; d <= SMA_MAX_DIMS; d++) strcat(many, d ? ",1" : "1");
  cr_assert_eq(sma_shape_parse(shape, SMA_MAX_DIMS, &n, many), SMA_ENDIM);
  cr_assert_eq(sma_shape_parse(shape, 2, &n, "1,2,3"), SMA_ENDIM, "cap is respected");
  cr_assert_eq(sma_shape_parse(shape, SMA_MAX_DIMS, &n, "99999999999999999999999"), SMA_EOVERFLOW,
               "beyond 64 bits: never wrapped");
  /* Fits 64 bits; fits size_t only where size_t has 64. */
  int rc = sma_shape_parse(shape, SMA_MAX_DIMS, &n, "5000000000");
  if (SIZE_MAX > 0xffffffffu) {
    cr_assert_eq(rc, 0);
    cr_assert_eq(shape[0], (size_t)5000000000u);
  } else {
    cr_assert_eq(rc, SMA_EOVERFLOW, "32-bit size_t: never truncated");
  }
  cr_assert_eq(sma_shape_parse(shape, 1, &n, NULL), SMA_EINVAL);
  cr_assert_eq(sma_shape_parse(shape, 1, NULL, "1"), SMA_EINVAL);
}

Test(shape, format_round_trips_and_reports_the_size_needed) {
  size_t shapes[][3] = {{512, 512, 0}, {7, 0, 0}, {0, 3, 9}};
  size_t ndims[] = {2, 1, 3};
  const char *texts[] = {"512,512", "7", "0,3,9"};
  for (size_t i = 0; i < 3; i++) {
    char buf[64];
    size_t size = sizeof buf, back[SMA_MAX_DIMS], n;
    cr_assert_eq(sma_shape_format(shapes[i], ndims[i], buf, &size), 0);
    cr_assert_str_eq(buf, texts[i]);
    cr_assert_eq(size, strlen(texts[i]));
    cr_assert_eq(sma_shape_parse(back, SMA_MAX_DIMS, &n, buf), 0);
    cr_assert_eq(n, ndims[i]);
    for (size_t d = 0; d < n; d++) cr_assert_eq(back[d], shapes[i][d]);
  }
  char buf[8];
  size_t size = sizeof buf;
  cr_assert_eq(sma_shape_format(NULL, 0, buf, &size), 0);
  cr_assert_str_eq(buf, "()");
  size_t big[] = {123456789, 2};
  size = 4;
  cr_assert_eq(sma_shape_format(big, 2, buf, &size), SMA_ENOBUFS);
  cr_assert_str_eq(buf, "");
  cr_assert_eq(size, strlen("123456789,2") + 1);
  cr_assert_eq(sma_shape_format(NULL, 1, buf, &(size_t){8}), SMA_EINVAL);
}

Test(shape, error_is_explained) {
  cr_assert_str_neq(sma_strerror(SMA_ESHAPE), sma_strerror(-9999));
  cr_assert_str_eq(sma_err_name(SMA_ESHAPE), "SMA_ESHAPE");
}
