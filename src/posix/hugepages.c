/* Huge pages for POSIX shared memory on Linux (see hugepages.h). */
#define _GNU_SOURCE
#include "hugepages.h"
#include "../unix/smaps.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__linux__) && defined(MADV_HUGEPAGE)

size_t sma__huge_size(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
  unsigned long long n = 0;
  if (f != NULL) {
    if (fscanf(f, "%llu", &n) != 1) n = 0;
    fclose(f);
  }
  return (size_t)n;
}

/* The super options of the last mount at `dir` in /proc/self/mountinfo
 * (the one a path lookup meets), e.g. "rw,size=4g,huge=advise". */
static int mount_options(const char *dir, char *out, size_t cap) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) return -1;
  char line[4096];
  int found = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    /* id parent major:minor root mountpoint ... - fstype source options */
    char mnt[1024], fstype[64], options[2048];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
        sscanf(dash + 3, "%63s %*s %2047s", fstype, options) != 2)
      continue;
    if (strcmp(mnt, dir) == 0 && strcmp(fstype, "tmpfs") == 0 && strlen(options) < cap) {
      strcpy(out, options);
      found = 0;
    }
  }
  fclose(f);
  return found;
}

int sma__huge_mount_allows(const char *dir) {
  char options[2048], policy[128] = "";
  if (mount_options(dir, options, sizeof options) != 0) return 0;
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");
  if (f != NULL) {
    if (fgets(policy, sizeof policy, f) == NULL) policy[0] = '\0';
    fclose(f);
  }
  if (strstr(policy, "[deny]") != NULL) return 0; /* overrides every mount */
  if (strstr(policy, "[force]") != NULL) return 1;
  char *rest = NULL; /* strtok_r: create may run on many threads at once */
  for (char *opt = strtok_r(options, ",", &rest); opt != NULL; opt = strtok_r(NULL, ",", &rest))
    if (strncmp(opt, "huge=", 5) == 0) return strcmp(opt + 5, "never") != 0;
  return 0; /* no huge= option: never */
}

int sma__huge_advise(void *addr, size_t size) {
  return madvise(addr, size, MADV_HUGEPAGE) == 0 ? 0 : errno;
}

int sma__huge_populate(void *addr, size_t size) {
#  if defined(MADV_POPULATE_WRITE)
  int rc;
  do {
    rc = madvise(addr, size, MADV_POPULATE_WRITE) == 0 ? 0 : errno;
  } while (rc == EINTR);
  /* EFAULT: a page could not be had (SIGBUS had it been touched). */
  return rc == EFAULT || rc == ENOMEM ? ENOSPC : rc;
#  else
  (void)addr;
  (void)size;
  return EINVAL;
#  endif
}

size_t sma__huge_pmd_mapped(const void *addr) {
  static const char *const pmd[] = {"ShmemPmdMapped:", "FilePmdMapped:", NULL};
  long long kb = sma__smaps_kb(addr, pmd);
  return kb > 0 ? (size_t)kb * 1024 : 0;
}

int sma__huge_touch(const void *addr, size_t size) {
#  if defined(MADV_POPULATE_READ)
  int rc;
  do {
    rc = madvise((void *)(uintptr_t)addr, size, MADV_POPULATE_READ) == 0 ? 0 : errno;
  } while (rc == EINTR);
  return rc;
#  else
  (void)addr;
  (void)size;
  return EINVAL;
#  endif
}

#else /* no transparent huge pages for shared memory here */

size_t sma__huge_size(void) { return 0; }
int sma__huge_mount_allows(const char *dir) {
  (void)dir;
  return 0;
}
int sma__huge_advise(void *addr, size_t size) {
  (void)addr;
  (void)size;
  return EINVAL;
}
int sma__huge_populate(void *addr, size_t size) {
  (void)addr;
  (void)size;
  return EINVAL;
}
size_t sma__huge_pmd_mapped(const void *addr) {
  (void)addr;
  return 0;
}
int sma__huge_touch(const void *addr, size_t size) {
  (void)addr;
  (void)size;
  return EINVAL;
}

#endif
