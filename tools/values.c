/* One element of a libsma dtype as a value: parsed from text into its
 * bytes (`sma create --fill`), read from its bytes into numbers (`sma
 * cat`), float16 both ways, and whole sizes as arguments. Here once, so
 * every command reads and writes elements the same way. */
#include "values.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Beyond 65504 only infinities and NaN are meant to reach the top
 * exponent: --fill refuses larger values before, and `sma cat` wants inf
 * for an out-of-range quotient. */
uint16_t value_half_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xffu);
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  exp = exp - 127 + 15;
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
  int shift = 13;
  if (exp <= 0) { /* a subnormal half, or zero */
    if (exp < -10) return sign;
    mant |= 0x800000u;
    shift = 14 - exp;
    exp = 0;
  }
  uint32_t h = ((uint32_t)exp << 10) + (mant >> shift);
  uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (h & 1u))) h++; /* may carry: right */
  return (uint16_t)(sign | h);
}

/* A value is never wrapped, truncated or rounded into another range:
 * the element ranges below are each integer dtype's own. */
const char *value_parse_item(const char *text, sma_dtype_t dtype, unsigned char *item, char *why,
                             size_t cap) {
  static const struct {
    sma_dtype_t dtype;
    long long min;
    unsigned long long max;
  } ints[] = {{SMA_BOOL, 0, 1},
              {SMA_INT8, INT8_MIN, INT8_MAX},
              {SMA_INT16, INT16_MIN, INT16_MAX},
              {SMA_INT32, INT32_MIN, INT32_MAX},
              {SMA_INT64, INT64_MIN, INT64_MAX},
              {SMA_UINT8, 0, UINT8_MAX},
              {SMA_UINT16, 0, UINT16_MAX},
              {SMA_UINT32, 0, UINT32_MAX},
              {SMA_UINT64, 0, UINT64_MAX}};
  char *end;
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    if (ints[i].dtype != dtype) continue;
    errno = 0;
    int negative = text[strspn(text, " \t")] == '-';
    unsigned long long u = 0;
    long long v = 0;
    if (negative)
      v = strtoll(text, &end, 10);
    else
      u = strtoull(text, &end, 10);
    int bad = end == text || *end != '\0' || errno == ERANGE ||
              (negative ? v < ints[i].min : u > ints[i].max);
    if (bad) {
      snprintf(why, cap, "--fill %s: %s takes an integer from %lld to %llu", text,
               sma_dtype_name(dtype), ints[i].min, ints[i].max);
      return why;
    }
    size_t size = sma_dtype_size(dtype);
    uint64_t bits = negative ? (uint64_t)v : (uint64_t)u; /* two's complement */
    if (size == 1) {
      uint8_t b = (uint8_t)bits;
      memcpy(item, &b, 1);
    } else if (size == 2) {
      uint16_t b = (uint16_t)bits;
      memcpy(item, &b, 2);
    } else if (size == 4) {
      uint32_t b = (uint32_t)bits;
      memcpy(item, &b, 4);
    } else {
      memcpy(item, &bits, 8);
    }
    return NULL;
  }
  double value = strtod(text, &end);
  double max = dtype == SMA_FLOAT16                             ? 65504.0
               : dtype == SMA_FLOAT32 || dtype == SMA_COMPLEX64 ? (double)FLT_MAX
                                                                : DBL_MAX;
  if (end == text || *end != '\0' || (isfinite(value) && fabs(value) > max)) {
    snprintf(why, cap, "--fill %s: %s takes a number from %g to %g, inf or nan", text,
             sma_dtype_name(dtype), -max, max);
    return why;
  }
  if (dtype == SMA_FLOAT16) {
    uint16_t h = value_half_from_float((float)value);
    memcpy(item, &h, 2);
  } else if (dtype == SMA_FLOAT32 || dtype == SMA_COMPLEX64) {
    float f = (float)value; /* complex: the real part; imaginary 0 */
    memcpy(item, &f, 4);
  } else {
    memcpy(item, &value, 8);
  }
  return NULL;
}

float value_float_from_half(uint16_t h) {
  int exp = h >> 10 & 0x1f, mant = h & 0x3ff;
  float v = exp == 0    ? ldexpf((float)mant, -24)
            : exp == 31 ? (mant ? NAN : INFINITY)
                        : ldexpf((float)(mant | 0x400), exp - 25);
  return h & 0x8000 ? -v : v;
}

value_t value_read(const void *p, sma_dtype_t t) {
  value_t v = {0, 0, 0, 0};
  switch (t) {
  case SMA_BOOL: v.u = *(const unsigned char *)p != 0; break;
  case SMA_INT8: v.i = *(const int8_t *)p; break;
  case SMA_INT16: v.i = *(const int16_t *)p; break;
  case SMA_INT32: v.i = *(const int32_t *)p; break;
  case SMA_INT64: v.i = *(const int64_t *)p; break;
  case SMA_UINT8: v.u = *(const uint8_t *)p; break;
  case SMA_UINT16: v.u = *(const uint16_t *)p; break;
  case SMA_UINT32: v.u = *(const uint32_t *)p; break;
  case SMA_UINT64: v.u = *(const uint64_t *)p; break;
  case SMA_FLOAT16: v.re = value_float_from_half(*(const uint16_t *)p); break;
  case SMA_FLOAT32: v.re = *(const float *)p; break;
  case SMA_FLOAT64: v.re = *(const double *)p; break;
  case SMA_COMPLEX64: v.re = ((const float *)p)[0], v.im = ((const float *)p)[1]; break;
  case SMA_COMPLEX128: v.re = ((const double *)p)[0], v.im = ((const double *)p)[1]; break;
  default: break;
  }
  return v;
}

int value_parse_size(const char *text, size_t *out) {
  if (*text < '0' || *text > '9') return 0;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (*end != '\0' || errno == ERANGE || v > SIZE_MAX) return 0;
  *out = (size_t)v;
  return 1;
}
