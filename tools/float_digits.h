/* Decimal text of binary floating-point numbers as NumPy prints them.
 *
 * NumPy's str() and repr() of floats come from its Dragon4
 * (numpy/core/src/multiarray/dragon4.c, after Steele & White and Burger &
 * Dybvig): the shortest digits that read back as the same value ("unique"
 * digits), cut at a requested precision, or continued past the unique ones
 * with the value's exact digits up to a requested minimum, then rounded
 * the way that code rounds; then laid out positionally ("123.45") or in
 * scientific notation ("1.2345e+02") with NumPy's trimming and padding.
 * `sma cat` needs every one of those choices to print NumPy's exact text,
 * so this module makes them the same way, with exact big-integer
 * arithmetic, for IEEE binary16, binary32 and binary64 (subnormals,
 * infinities, NaNs and -0.0 included).
 *
 * Pure computation: no allocation, no global state; thread-safe. */
#ifndef SMA_TOOLS_FLOAT_DIGITS_H
#define SMA_TOOLS_FLOAT_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* A float taken apart: value = mantissa * 2^exponent when finite. */
typedef enum float_kind { FLOAT_FINITE, FLOAT_INF, FLOAT_NAN } float_kind_t;

typedef struct float_parts {
  float_kind_t kind;
  int negative;      /* the sign bit (NaNs have one too, never printed) */
  uint64_t mantissa; /* 0 for zeros */
  int32_t exponent;
  uint32_t mantissa_bit; /* index of the mantissa's highest set bit */
  int unequal_margins;   /* a power of two above the smallest normal: the
                            next value below is half as far as the next above */
} float_parts_t;

float_parts_t float_parts_half(uint16_t bits);
float_parts_t float_parts_single(float x);
float_parts_t float_parts_double(double x);

/* What to do with trailing zeros and the decimal point (NumPy's `trim`). */
typedef enum float_trim {
  FLOAT_TRIM_NONE,     /* 'k': keep zeros (pad to min_digits), keep the point */
  FLOAT_TRIM_ONE_ZERO, /* '0': trim zeros but one after the point: "1.0" */
  FLOAT_TRIM_ZEROS,    /* '.': trim zeros, keep the point: "1." */
  FLOAT_TRIM_POINT     /* '-': trim zeros and a bare point: "1" */
} float_trim_t;

/* The layout, as the arguments of NumPy's format_float_positional and
 * format_float_scientific (digits are always "unique"). -1 means "none"
 * in each int field. Values are clamped to [-1, 1000]. */
typedef struct float_style {
  int scientific; /* 1: d.ddde+XX; 0: positional */
  int fractional; /* positional only: precision and min_digits count the
                     digits after the point (1) or all digits (0) */
  int precision;  /* at most this many digits (after the point in
                     scientific notation and in fractional positional) */
  int min_digits; /* at least this many: exact digits past the unique ones */
  int plus;       /* '+' before non-negative values */
  float_trim_t trim;
  int pad_left;   /* spaces before, so sign and integer part are this wide */
  int pad_right;  /* positional: spaces after, so the fraction is this wide */
  int exp_digits; /* scientific: at least this many exponent digits (-1: 2) */
} float_style_t;

/* At most this many significant digits are generated (NumPy's limit is its
 * 16 KiB buffer); far more than a binary64 value ever needs as unique
 * digits, so only an explicit precision or min_digits above it is cut. */
enum { FLOAT_MAX_DIGITS = 96 };

/* Writes the text of `value` laid out as `style` says to buf (cap bytes,
 * always NUL-terminated when cap > 0, cut if too small) and returns the
 * length of the whole text, as snprintf() does. Infinities print as "inf"
 * with their sign (or '+' with style->plus), NaNs as "nan" without one,
 * neither padded: NumPy's Dragon4 leaves those to its callers. */
size_t float_format(const float_parts_t *value, const float_style_t *style, char *buf, size_t cap);

#endif
