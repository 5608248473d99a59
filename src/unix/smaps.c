/* Reading this process's /proc/self/smaps (see smaps.h). */
#include "smaps.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

long long sma__smaps_kb(const void *addr, const char *const *fields) {
#if defined(__linux__)
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) return -1;
  char line[512];
  int inside = 0;
  long long total = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long start, end, kb;
    if (sscanf(line, "%llx-%llx ", &start, &end) == 2) {
      if (inside) break; /* past our mapping */
      inside = start == (unsigned long long)(uintptr_t)addr;
      if (inside) total = 0;
      continue;
    }
    for (size_t i = 0; inside && fields[i] != NULL; i++) {
      size_t n = strlen(fields[i]);
      if (strncmp(line, fields[i], n) == 0 && sscanf(line + n, "%llu kB", &kb) == 1)
        total += (long long)kb;
    }
  }
  fclose(f);
  return total;
#else
  (void)addr;
  (void)fields;
  return -1;
#endif
}
