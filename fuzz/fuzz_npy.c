/* libFuzzer: .npy files of arbitrary bytes. The header parser must never
 * read outside its buffer, and a header it accepts must be consistent
 * (dimensions within SMA_MAX_DIMS, data bytes = itemsize x prod(shape),
 * the data starting after the header). Small accepted files also go
 * through sma_npy_read() from a memory stream: it either creates a
 * segment holding exactly that many bytes, or fails with one of its
 * documented errors and leaves no segment behind. */
#include "sma.h"
#include "../src/sma_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct stream {
  const unsigned char *p;
  size_t left;
} stream_t;

static size_t take(void *buf, size_t n, void *user) {
  stream_t *s = user;
  size_t k = n < s->left ? n : s->left;
  memcpy(buf, s->p, k);
  s->p += k;
  s->left -= k;
  return k;
}

static void check_read(const unsigned char *data, size_t size) {
  static char name[SMA_NAME_BUF];
  if (name[0] == '\0' && sma_build_name("fuzznpy", name, &(size_t){sizeof name}) != 0) abort();
  stream_t s = {data, size};
  sma_t *a = NULL;
  int rc = sma_npy_read(&a, name, SMA_CREATE_NORESERVE, take, &s);
  if (rc == 0) {
    if (a == NULL || sma_unlink(name) != 0) abort();
    sma_free(a);
    return;
  }
  if (a != NULL || sma_unlink(name) != SMA_ENOENT) abort(); /* nothing left */
  if (rc != SMA_ENPY && rc != SMA_EDTYPE && rc != SMA_ENDIM && rc != SMA_EOVERFLOW &&
      rc != SMA_ENOMEM && rc != SMA_ENOSPC && rc != SMA_ETOOBIG)
    abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  unsigned char *copy = malloc(size ? size : 1); /* exactly size bytes for ASan */
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  sma__npy_header_t h;
  int rc = sma__npy_header_parse(copy, size, &h);
  if (rc == 0) {
    size_t bytes;
    if (h.ndim > SMA_MAX_DIMS || h.data_offset > size ||
        sma__array_bytes(h.ndim, h.shape, sma_dtype_size(h.dtype), &bytes) != 0 ||
        bytes != h.data_bytes)
      abort();
    if (h.data_bytes <= (1u << 20)) check_read(copy, size);
  } else if (rc != SMA_ENPY && rc != SMA_EDTYPE && rc != SMA_ENDIM && rc != SMA_EOVERFLOW) {
    abort();
  }
  free(copy);
  return 0;
}
