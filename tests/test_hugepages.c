/* SMA_CREATE_HUGEPAGES takes effect wherever the OS can honour it, and
 * sma_effective_flags() says so only when the kernel really maps huge
 * pages (checked here against /proc/self/smaps, not against libsma).
 * POSIX: a private /dev/shm mounted with huge=advise / never, as a user
 * would configure it (root, Linux; skipped elsewhere). System V: the
 * hugetlb pool, filled for the test and given back. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

#define MIB ((size_t)1 << 20)

#if defined(__linux__)
/* Bytes of the mapping at addr that are PMD-mapped, as smaps says. The
 * test's own reading, independent of the library's: the whole file is
 * read, the mapping's block is found by its header text ("start-") and
 * ends at the next header, which is the only line with a '-' before its
 * first space. */
static unsigned long long field_kb(const char *block, const char *end, const char *key) {
  const char *hit = strstr(block, key);
  return hit != NULL && hit < end ? strtoull(hit + strlen(key), NULL, 10) : 0;
}

static size_t pmd_mapped(const void *addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  cr_assert_not_null(f);
  static char text[1 << 22];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  cr_assert_lt(n, sizeof text - 1, "smaps fits the buffer");
  text[n] = '\0';
  char head[40];
  snprintf(head, sizeof head, "\n%llx-", (unsigned long long)(uintptr_t)addr);
  const char *block = strstr(text, head);
  cr_assert_not_null(block, "the mapping is in smaps");
  const char *end = block + 1;
  while ((end = strchr(end, '\n')) != NULL && end[1] != '\0') {
    end++;
    const char *space = strchr(end, ' '), *dash = strchr(end, '-');
    if (dash != NULL && space != NULL && dash < space) break; /* next header */
  }
  if (end == NULL) end = text + n;
  return (size_t)(field_kb(block, end, "ShmemPmdMapped:") +
                  field_kb(block, end, "FilePmdMapped:")) *
         1024;
}
#endif

static void need_private_dev_shm(const char *opts) {
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("POSIX backend only");
  sma_caps_t caps;
  sma_caps_get(&caps);
  if (!caps.proves_unused) cr_skip_test("no /dev/shm in this build's personality");
  if (t_private_dev_shm(opts) != 0) cr_skip_test("needs root and Linux for a private /dev/shm");
}

/* A private /dev/shm mounted huge=advise, where huge pages can be seen
 * (not under qemu-user, which accepts MADV_HUGEPAGE and does nothing). */
static void need_huge_advise_mount(void) {
  need_private_dev_shm("size=64m,huge=advise");
#if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user accepts MADV_HUGEPAGE and does nothing: no huge pages to see");
#endif
}

static sma_t *create(const char *tag, size_t bytes, unsigned flags, int *rc) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, tag);
  size_t shape[1] = {bytes};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  *rc = sma_create(a, flags);
  return a;
}

/* Regression: with huge=advise the flag never took effect (the pages were
 * allocated small by posix_fallocate before any advice), and whether it
 * was reported depended on shmem_enabled, which does not govern tmpfs. */
Test(hugepages, posix_huge_advise_mount_gives_huge_pages) {
  need_huge_advise_mount();
#if defined(__linux__)
  const unsigned modes[] = {0, SMA_CREATE_NORESERVE, SMA_CREATE_PREFAULT};
  for (size_t i = 0; i < 3; i++) {
    int rc;
    sma_t *a = create("huge", 8 * MIB, SMA_CREATE_HUGEPAGES | modes[i], &rc);
    cr_assert_eq(rc, 0, "%s", sma_strerror(rc));
    cr_assert(sma_effective_flags(a) & SMA_CREATE_HUGEPAGES, "mode %zu: reported", i);
    memset(sma_data(a), 7, 8 * MIB);
    cr_assert_geq(pmd_mapped(sma_data(a)), 4 * MIB, "mode %zu: the kernel maps huge pages", i);
    cr_assert_eq(sma_unlink(sma_name(a)), 0);
    sma_free(a);
  }
  int rc;
  sma_t *plain = create("small", 8 * MIB, 0, &rc);
  cr_assert_eq(rc, 0);
  memset(sma_data(plain), 7, 8 * MIB);
  cr_assert_not(sma_effective_flags(plain) & SMA_CREATE_HUGEPAGES);
  cr_assert_eq(pmd_mapped(sma_data(plain)), 0, "huge=advise: only when asked");
  sma_unlink(sma_name(plain));
  sma_free(plain);
#endif
}

/* docs/performance.md: "workers that open the segment get the huge mappings without
 * asking". A real second process opens it by name, reads it, and looks at
 * its own mapping in its own smaps. */
Test(hugepages, posix_a_worker_maps_a_huge_segment_huge) {
  need_huge_advise_mount();
#if defined(__linux__)
  int rc;
  sma_t *a = create("worker", 8 * MIB, SMA_CREATE_HUGEPAGES, &rc);
  cr_assert_eq(rc, 0, "%s", sma_strerror(rc));
  cr_assert(sma_effective_flags(a) & SMA_CREATE_HUGEPAGES);
  pid_t child = fork();
  cr_assert_neq(child, -1);
  if (child == 0) {
    sma_t *w;
    if (sma_open(&w, sma_name(a), NULL, 0) != 0) _exit(2);
    const volatile unsigned char *p = sma_data(w);
    for (size_t i = 0; i < sma_nbytes(w); i += 4096) (void)p[i]; /* fault each page in */
    _exit(pmd_mapped(sma_data(w)) >= 4 * MIB ? 0 : 1);
  }
  int status;
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the worker's mapping is huge");
  sma_unlink(sma_name(a));
  sma_free(a);
#endif
}

/* The flag is a request, never a failure, and is not reported where it
 * cannot take effect. */
static void expect_not_reported(const char *mount_opts, size_t bytes) {
  need_private_dev_shm(mount_opts);
  int rc;
  sma_t *a = create("nohuge", bytes, SMA_CREATE_HUGEPAGES, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_not(sma_effective_flags(a) & SMA_CREATE_HUGEPAGES);
  sma_unlink(sma_name(a));
  sma_free(a);
}

Test(hugepages, posix_without_huge_pages_the_flag_is_not_reported) {
  expect_not_reported("size=64m,huge=never", 8 * MIB); /* a mount that gives none */
}

Test(hugepages, posix_small_arrays_are_not_reported_huge) {
  expect_not_reported("size=64m,huge=advise", 64 * 1024); /* under one huge page */
}

/* sma_info_get() (and `sma info`) tell a segment's huge pages to any process:
 * yes for the flag on huge=advise, no without it, and no for a NORESERVE
 * segment nothing was written to, whose pages it must not allocate by
 * looking (the file's blocks stay 0). */
Test(hugepages, posix_sma_info_tells_huge_pages_without_allocating) {
  need_huge_advise_mount();
#if defined(__linux__)
  int rc;
  sma_t *huge = create("infohuge", 8 * MIB, SMA_CREATE_HUGEPAGES, &rc);
  cr_assert_eq(rc, 0, "%s", sma_strerror(rc));
  sma_t *plain = create("infoplain", 8 * MIB, 0, &rc);
  cr_assert_eq(rc, 0);
  sma_t *lazy = create("infolazy", 8 * MIB, SMA_CREATE_NORESERVE, &rc);
  cr_assert_eq(rc, 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, sma_name(huge)), 0);
  cr_assert_eq(in.huge_pages, 1, "the flag on huge=advise");
  cr_assert_eq(sma_info_get(&in, sma_name(plain)), 0);
  cr_assert_eq(in.huge_pages, 0, "huge=advise without the flag");
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", sma_name(lazy));
  struct stat before, after;
  cr_assert_eq(stat(path, &before), 0);
  cr_assert_eq(sma_info_get(&in, sma_name(lazy)), 0);
  cr_assert_eq(stat(path, &after), 0);
  cr_assert_eq(in.huge_pages, 0, "nothing allocated, nothing huge");
  cr_assert_eq(after.st_blocks, before.st_blocks, "looking allocated nothing");
  for (sma_t **a = (sma_t *[]){huge, plain, lazy, NULL}; *a != NULL; a++) {
    sma_unlink(sma_name(*a));
    sma_free(*a);
  }
#endif
}

/* Allocating through the mapping must keep the full-/dev/shm promise:
 * SMA_ENOSPC at create, nothing left behind, no SIGBUS. */
Test(hugepages, posix_full_dev_shm_with_huge_pages_is_enospc) {
  need_private_dev_shm("size=4m,huge=advise");
  int rc;
  sma_t *a = create("full", 16 * MIB, SMA_CREATE_HUGEPAGES, &rc);
  cr_assert_eq(rc, SMA_ENOSPC, "%s", sma_err_name(rc));
  cr_assert(t_segment_absent(sma_name(a)), "nothing left");
  sma_free(a);
}

#if defined(__linux__)
static long read_long(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (f != NULL) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static int write_long(const char *path, long v) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return -1;
  int ok = fprintf(f, "%ld\n", v) > 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}
#endif

/* System V: SHM_HUGETLB from the hugetlb pool when it has pages (reported,
 * and the pool shrinks), normal pages when it has none (not reported). */
Test(hugepages, sysv_hugetlb_pool) {
  if (strcmp(sma_backend(), "sysv") != 0) cr_skip_test("System V backend only");
#if defined(SMA_TEST_EMULATED)
  cr_skip_test("qemu-user: hugetlb segments are not mapped as the kernel maps them");
#endif
#if defined(__linux__)
  const char *pool = "/proc/sys/vm/nr_hugepages";
  long before = read_long(pool);
  if (before < 0 || write_long(pool, before + 8) != 0 || read_long(pool) < before + 4)
    cr_skip_test("cannot reserve hugetlb pages here (root, free memory)");
  /* 1 MiB: within macOS's 4 MiB shmmax too (CI runs this suite under
   * it); the kernel rounds the segment up to one huge page. */
  int rc;
  sma_t *a = create("tlb", MIB, SMA_CREATE_HUGEPAGES, &rc);
  unsigned eff = rc == 0 ? sma_effective_flags(a) : 0;
  sma_info_t in = {.huge_pages = -2};
  if (rc == 0) sma_info_get(&in, sma_name(a));
  if (rc == 0) memset(sma_data(a), 1, MIB);
  if (rc == 0) sma_unlink(sma_name(a));
  sma_free(a);
  write_long(pool, before);
  cr_assert_eq(rc, 0, "%s", sma_strerror(rc));
  cr_assert(eff & SMA_CREATE_HUGEPAGES, "from the pool");
  cr_assert_eq(in.huge_pages, 1, "sma_info_get sees a hugetlb segment");
  sma_t *b = create("notlb", MIB, SMA_CREATE_HUGEPAGES, &rc);
  cr_assert_eq(rc, 0, "an empty pool is no failure");
  if (before == 0) {
    cr_assert_not(sma_effective_flags(b) & SMA_CREATE_HUGEPAGES);
    cr_assert_eq(sma_info_get(&in, sma_name(b)), 0);
    cr_assert_eq(in.huge_pages, 0, "normal pages");
  }
  sma_unlink(sma_name(b));
  sma_free(b);
#endif
}
