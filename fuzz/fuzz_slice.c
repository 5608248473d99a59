/* libFuzzer: sma_slice_parse on arbitrary text. Whatever parses must
 * format and parse back to the same slices, and resolve against any
 * length to a view inside that length. */
#include "sma.h"
#include "text.h"
#include "../src/sma_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (text == NULL) return 0;
  sma_slice_t s[SMA_MAX_DIMS], t[SMA_MAX_DIMS];
  size_t n, m;
  if (sma_slice_parse(s, SMA_MAX_DIMS, &n, text) == 0) {
    char buf[SMA_MAX_DIMS * 64];
    if (sma_slice_format(s, n, buf, &(size_t){sizeof buf}) != 0 ||
        sma_slice_parse(t, SMA_MAX_DIMS, &m, buf) != 0 || m != n ||
        memcmp(s, t, n * sizeof *s) != 0)
      abort();
    size_t len = size % 50;
    for (size_t i = 0; i < n; i++) {
      int64_t start, step;
      size_t count;
      if (sma__slice_resolve(&s[i], len, &start, &step, &count) != 0) abort();
      if (count > len) abort();
      if (count > 0) {
        int64_t last = start + (int64_t)(count - 1) * step;
        if (start < 0 || (size_t)start >= len || last < 0 || (size_t)last >= len) abort();
      }
    }
  }
  free(text);
  return 0;
}
