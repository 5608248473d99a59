/* Compiled by ctest: with -DUSE_OLD the gridr-style alias must warn as
 * deprecated; without it the file must compile cleanly. */
#include "sma.h"

int use(char *buf, size_t cap);
int use(char *buf, size_t cap) {
#ifdef USE_OLD
  return sma_build_sma_name(buf, cap, "x");
#else
  return sma_build_name(buf, &cap, "x");
#endif
}
