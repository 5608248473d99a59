/* sma_bench section "peers" where this build has no C++ compiler or no
 * Boost headers (CMake said so at configure time): one row saying so. */
#include "bench.h"

#include <stdio.h>

int bench_peers(const config_t *c, const char *name) {
  (void)name;
  if (!wanted(c, "peers")) return 0;
  printf(
      "| Boost.Interprocess | — | — | — | — | not built: no C++ compiler or no Boost headers |\n");
  return 0;
}
