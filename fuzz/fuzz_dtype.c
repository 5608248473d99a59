/* libFuzzer: sma_dtype_parse on arbitrary text. Whatever parses must be
 * self-consistent: its name and type string parse back to it. */
#include "sma.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (text == NULL) return 0;
  sma_dtype_t d;
  if (sma_dtype_parse(&d, text) == 0) {
    sma_dtype_t again;
    if (sma_dtype_size(d) == 0 || sma_dtype_parse(&again, sma_dtype_name(d)) != 0 || again != d ||
        sma_dtype_parse(&again, sma_dtype_str(d)) != 0 || again != d)
      abort();
  }
  free(text);
  return 0;
}
