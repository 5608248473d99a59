/* Compiled by ctest: with -DUSE_OLD a call of a function marked
 * SMA_DEPRECATED (gridr's `deprecated` decorator) must warn with the
 * macro's message; without it the file must compile cleanly. The header
 * keeps no deprecated names of its own (docs/conventions.md: gridr's names
 * map through a table), so the file declares one. */
#include "sma.h"

SMA_DEPRECATED("use sma_build_name()")
int old_build_name(const char *prefix, char *buf, size_t *size);

int use(char *buf, size_t cap);
int use(char *buf, size_t cap) {
#ifdef USE_OLD
  return old_build_name("x", buf, &cap);
#else
  return sma_build_name("x", buf, &cap);
#endif
}
