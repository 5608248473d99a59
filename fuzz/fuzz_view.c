/* libFuzzer: view building from random shapes, dtypes and slice texts,
 * the path descriptors from other processes reach. Input: one byte of
 * dtype, one of ndim, then 8 bytes per extent (little-endian), then the
 * slice text. Whatever shape sma__array_bytes accepts must build a view
 * (or fail with SMA_EOVERFLOW / a slice error), and every element of a
 * non-empty view must lie inside the array's bytes. */
#include "sma.h"
#include "text.h"
#include "../src/sma_int.h"

#include <stdlib.h>
#include <string.h>

/* Byte offset of the view's element at the corner picked by `bits`
 * (bit d: first or last index of dimension d), from the view's start. */
static long double corner_offset(const sma_view_t *v, unsigned bits) {
  long double off = 0;
  for (size_t d = 0; d < v->ndim; d++)
    if (bits >> (d % 8) & 1) off += (long double)(v->shape[d] - 1) * v->strides[d];
  return off;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (size < 2) return 0;
  sma_dtype_t dtype = (sma_dtype_t)(data[0] % SMA_DTYPE_COUNT);
  size_t ndim = data[1] % (SMA_MAX_DIMS + 1);
  data += 2;
  size -= 2;
  if (size < ndim * 8) return 0;
  size_t shape[SMA_MAX_DIMS];
  for (size_t d = 0; d < ndim; d++) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | data[d * 8 + (size_t)i];
    /* Mostly small extents, sometimes huge ones. */
    shape[d] = (v >> 63) ? (size_t)v : (size_t)(v % 17);
  }
  data += ndim * 8;
  size -= ndim * 8;
  char *text = fuzz_text(data, size);
  if (text == NULL) return 0;
  sma_slice_t s[SMA_MAX_DIMS];
  size_t n, bytes;
  if (sma_slice_parse(s, SMA_MAX_DIMS, &n, text) == 0 && n <= ndim &&
      sma__array_bytes(ndim, shape, sma_dtype_size(dtype), &bytes) == 0) {
    static char base[1];
    sma_view_t v;
    int rc = sma__view_build(&v, base, ndim, shape, dtype, s, n);
    if (rc != 0 && rc != SMA_EOVERFLOW && rc != SMA_ESTEP) abort();
    if (rc == 0 && sma_view_size(&v) > 0) {
      long double start = (long double)((char *)v.data - base);
      for (unsigned bits = 0; bits < 256; bits++) {
        long double at = start + corner_offset(&v, bits);
        if (at < 0 || at + (long double)v.itemsize > (long double)bytes) abort();
      }
    }
  }
  free(text);
  return 0;
}
