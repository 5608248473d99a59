#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

static sma_dtype_t parse_ok(const char *text) {
  sma_dtype_t d = SMA_DTYPE_COUNT;
  int rc = sma_dtype_parse(&d, text);
  cr_assert_eq(rc, 0, "'%s' should parse, got %s", text, sma_err_name(rc));
  return d;
}

Test(dtype, sizes_and_names_of_every_dtype) {
  static const struct {
    sma_dtype_t d;
    size_t size;
    const char *name, *str;
  } want[] = {
      {SMA_BOOL, 1, "bool", "|b1"},           {SMA_INT8, 1, "int8", "|i1"},
      {SMA_INT16, 2, "int16", "<i2"},         {SMA_INT32, 4, "int32", "<i4"},
      {SMA_INT64, 8, "int64", "<i8"},         {SMA_UINT8, 1, "uint8", "|u1"},
      {SMA_UINT16, 2, "uint16", "<u2"},       {SMA_UINT32, 4, "uint32", "<u4"},
      {SMA_UINT64, 8, "uint64", "<u8"},       {SMA_FLOAT16, 2, "float16", "<f2"},
      {SMA_FLOAT32, 4, "float32", "<f4"},     {SMA_FLOAT64, 8, "float64", "<f8"},
      {SMA_COMPLEX64, 8, "complex64", "<c8"}, {SMA_COMPLEX128, 16, "complex128", "<c16"},
  };
  cr_assert_eq(sizeof want / sizeof want[0], SMA_DTYPE_COUNT);
  for (size_t i = 0; i < SMA_DTYPE_COUNT; i++) {
    cr_assert_eq(sma_dtype_size(want[i].d), want[i].size);
    cr_assert_str_eq(sma_dtype_name(want[i].d), want[i].name);
    /* Native spellings: '<' here, '>' on big-endian machines (s390x). */
    const char *native = t_native(want[i].str);
    cr_assert_str_eq(sma_dtype_str(want[i].d), native);
    cr_assert_eq(parse_ok(want[i].name), want[i].d);
    cr_assert_eq(parse_ok(native), want[i].d);
    cr_assert_eq(parse_ok(want[i].str + 1), want[i].d); /* "f4" */
  }
}

Test(dtype, numpy_spellings) {
  cr_assert_eq(parse_ok("float32"), SMA_FLOAT32);
  cr_assert_eq(parse_ok("f4"), SMA_FLOAT32);
  cr_assert_eq(parse_ok(t_native("<f4")), SMA_FLOAT32);
  cr_assert_eq(parse_ok("=f4"), SMA_FLOAT32);
  cr_assert_eq(parse_ok("|u1"), SMA_UINT8);
  cr_assert_eq(parse_ok(">u1"), SMA_UINT8); /* order is moot for 1 byte */
  cr_assert_eq(parse_ok("?"), SMA_BOOL);
  cr_assert_eq(parse_ok("b1"), SMA_BOOL);
  cr_assert_eq(parse_ok("b"), SMA_INT8);
  cr_assert_eq(parse_ok("B"), SMA_UINT8);
  cr_assert_eq(parse_ok("h"), SMA_INT16);
  cr_assert_eq(parse_ok("i"), SMA_INT32);
  cr_assert_eq(parse_ok("q"), SMA_INT64);
  cr_assert_eq(parse_ok("Q"), SMA_UINT64);
  cr_assert_eq(parse_ok("e"), SMA_FLOAT16);
  cr_assert_eq(parse_ok("f"), SMA_FLOAT32);
  cr_assert_eq(parse_ok("d"), SMA_FLOAT64);
  cr_assert_eq(parse_ok("F"), SMA_COMPLEX64);
  cr_assert_eq(parse_ok("D"), SMA_COMPLEX128);
  cr_assert_eq(parse_ok("c16"), SMA_COMPLEX128);
  cr_assert_eq(parse_ok("double"), SMA_FLOAT64);
  cr_assert_eq(parse_ok("float"), SMA_FLOAT64);
  cr_assert_eq(parse_ok("single"), SMA_FLOAT32);
  cr_assert_eq(parse_ok("bool_"), SMA_BOOL);
}

Test(dtype, foreign_byte_order_is_rejected) {
  sma_dtype_t d = SMA_INT8;
  cr_assert_eq(sma_dtype_parse(&d, t_native(">f4")), SMA_EBYTEORDER);
  cr_assert_eq(sma_dtype_parse(&d, t_native(">c16")), SMA_EBYTEORDER);
  /* '!' is network order, big-endian: foreign only on little-endian. */
  int big = strcmp(t_native("<"), ">") == 0;
  cr_assert_eq(sma_dtype_parse(&d, "!i8"), big ? 0 : SMA_EBYTEORDER);
  d = SMA_INT8;
  cr_assert_eq(sma_dtype_parse(&d, t_native(">i8")), SMA_EBYTEORDER);
  cr_assert_eq(d, SMA_INT8, "output untouched on error");
}

Test(dtype, unknown_spellings_are_rejected) {
  const char *bad[] = {"",         "float128", "f3",  "f04",  "i16", "g",    "O",
                       "U8",       "S10",      "<",   "<<f4", "int", "long", "l",
                       "float32 ", "Float32",  "f4x", "c4",   "b2",  "V8",   "M8"};
  sma_dtype_t d;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(sma_dtype_parse(&d, bad[i]), SMA_EDTYPE, "'%s'", bad[i]);
  cr_assert_eq(sma_dtype_parse(&d, NULL), SMA_EINVAL);
  cr_assert_eq(sma_dtype_parse(NULL, "f4"), SMA_EINVAL);
}

Test(dtype, out_of_range_values) {
  cr_assert_eq(sma_dtype_size(SMA_DTYPE_COUNT), 0);
  cr_assert_null(sma_dtype_name((sma_dtype_t)-1));
  cr_assert_null(sma_dtype_str(SMA_DTYPE_COUNT));
}
