/* One element of a libsma dtype as a value, for every command that reads
 * or writes elements: text parsed into an element's bytes, an element's
 * bytes read into numbers, float16 both ways, whole sizes as arguments. */
#ifndef SMA_TOOLS_VALUES_H
#define SMA_TOOLS_VALUES_H

#include "sma.h"

#include <stddef.h>
#include <stdint.h>

/* An element read as numbers: re (and im) for floats and complex numbers,
 * i for signed integers, u for booleans and unsigned integers. */
typedef struct value {
  double re, im;
  long long i;
  unsigned long long u;
} value_t;

/* The element of dtype t at p (native order, aligned for t). */
value_t value_read(const void *p, sma_dtype_t t);

/* Encodes `text` (`sma create --fill`) as one element of `dtype` in
 * item[] (native order; room for 16 bytes). NULL on success, else `why`
 * holding the message of a usage error (cap bytes): an integer outside
 * its dtype's range, a number beyond the float's largest finite value,
 * anything else than a whole number (integers) or a number, inf or nan
 * (floats, complex numbers: the real part). */
const char *value_parse_item(const char *text, sma_dtype_t dtype, unsigned char *item, char *why,
                             size_t cap);

/* IEEE binary16 nearest to f (ties to even); beyond 65504, infinity. */
uint16_t value_half_from_float(float f);
/* The float32 value of the IEEE binary16 h (exact). */
float value_float_from_half(uint16_t h);

/* A whole decimal size_t in text, nothing else (no sign, no space, no
 * overflow): 1 with *out, else 0. */
int value_parse_size(const char *text, size_t *out);

#endif
