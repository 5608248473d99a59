/* libFuzzer: sma_parse on arbitrary lines. Whatever parses must describe
 * itself back to a line that parses to the same description. */
#include "sma.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *line = fuzz_text(data, size);
  if (line == NULL) return 0;
  sma_t *a = NULL, *b = NULL;
  const char *bad = NULL;
  if (sma_parse(&a, &bad, line) == 0) {
    char once[4096], twice[4096];
    if (bad != NULL || sma_describe(a, once, &(size_t){sizeof once}) != 0 ||
        sma_parse(&b, NULL, once) != 0 || sma_describe(b, twice, &(size_t){sizeof twice}) != 0 ||
        strcmp(once, twice) != 0)
      abort();
  } else if (a != NULL || bad == NULL) {
    abort();
  }
  sma_free(a);
  sma_free(b);
  free(line);
  return 0;
}
