/* The fuzzers' input as a NUL-terminated string (malloc'd; free it). */
#ifndef SMA_FUZZ_TEXT_H
#define SMA_FUZZ_TEXT_H

#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const unsigned char *data, size_t size) {
  char *text = malloc(size + 1);
  if (text != NULL) {
    memcpy(text, data, size);
    text[size] = '\0';
  }
  return text;
}

#endif
