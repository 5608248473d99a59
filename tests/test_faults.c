#define _GNU_SOURCE /* unshare, mount */
/* Faults: every OS call of create/load/open failing in turn (a build with
 * -DSMA_FAULT_INJECTION=ON), a /dev/shm too small for the array, System V
 * limits in a private IPC namespace. Each must give a clear error and
 * leave nothing behind: no segment, no descriptor, no mapping. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#if !defined(_WIN32)
#  include <dirent.h>
#  include <sched.h>
#  include <sys/mount.h>
#  include <unistd.h>
#endif

#if defined(SMA_FAULT_INJECTION)
void sma__fault_arm(int n);
int sma__fault_calls(void);
#endif

#if defined(SMA_FAULT_INJECTION)
/* Open file descriptors of this process (Linux), or -1. */
static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  int n = 0;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}
#endif

#if !defined(_WIN32)
/* System V segments this process created (tests running in parallel
 * create theirs in the same namespace), or -1. */
static int sysv_segments(void) { return t_sysv_segments_of((long)getpid()); }
#endif

typedef int (*op_fn)(const char *name, sma_t **out);

static int op_create(const char *name, sma_t **out) {
  size_t shape[2] = {64, 64};
  int rc = sma_new(
      out, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32});
  return rc ? rc : sma_create(*out, SMA_CREATE_PREFAULT | SMA_CREATE_HUGEPAGES);
}

static int op_load(const char *name, sma_t **out) {
  size_t shape[2] = {64, 64};
  int rc = sma_new(
      out, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32});
  return rc ? rc : sma_load(*out);
}

static int op_open(const char *name, sma_t **out) { return sma_open(out, name, NULL, 0); }

/* Fails the 1st, 2nd, ... OS call of `op` until it succeeds untouched;
 * after each failure checks that no descriptor or System V segment was
 * left and that the name exists exactly when it should. Returns the
 * number of faults injected. */
static void need_injection(void) {
#if !defined(SMA_FAULT_INJECTION)
  cr_skip_test("built without -DSMA_FAULT_INJECTION=ON");
#endif
}

static int walk_faults(op_fn op, const char *name, int should_exist) {
#if defined(SMA_FAULT_INJECTION)
  int injected = 0;
  for (int n = 1; n < 100; n++) {
    int fds = open_fds(), segs = sysv_segments();
    sma_t *a = NULL;
    sma__fault_arm(n);
    int rc = op(name, &a);
    int calls = sma__fault_calls();
    sma__fault_arm(0);
    if (rc == 0) {
      sma_free(a);
      if (calls < n) return injected; /* no call failed: the walk is done */
      /* The failed call had a fallback (POSIX without O_TMPFILE): the
       * result must be complete; remove it and fail the next call. */
      cr_assert_eq(n, 1, "call %d failed and create succeeded", n);
      cr_assert_eq(t_segment_exists(name), 1);
      if (!should_exist) cr_assert_eq(sma_unlink(name), 0);
      continue;
    }
    injected++;
    cr_assert_lt(rc, 0);
    cr_assert_str_neq(sma_strerror(rc), "unknown error");
    cr_assert_eq(a == NULL || !sma_is_loaded(a), 1);
    sma_free(a);
    cr_assert_eq(open_fds(), fds, "fault %d (%s) leaked a descriptor", n, sma_err_name(rc));
    cr_assert_eq(sysv_segments(), segs, "fault %d left a System V segment", n);
    cr_assert_eq(t_segment_exists(name), should_exist, "fault %d: %s", n, sma_err_name(rc));
  }
  cr_assert_fail("no success after 100 faults");
  return injected;
#else
  (void)op, (void)name, (void)should_exist;
  return 0;
#endif
}

Test(faults, every_failing_os_call_of_create_leaves_nothing) {
  need_injection();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "fault-create");
  int n = walk_faults(op_create, name, 0);
  fprintf(stderr, "faults: create survived %d injected OS-call failures\n", n);
  cr_assert_gt(n, 2);
  cr_assert_eq(sma_unlink(name), 0);
}

Test(faults, every_failing_os_call_of_load_and_open_leaves_nothing) {
  need_injection(); /* before creating anything the skip would leak */
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "fault-load");
  sma_t *a;
  cr_assert_eq(op_create(name, &a), 0);
  int n = walk_faults(op_load, name, 1) + walk_faults(op_open, name, 1);
  fprintf(stderr, "faults: load/open survived %d injected OS-call failures\n", n);
  cr_assert_gt(n, 2);
  sma_unlink(name);
  sma_free(a);
}

#if !defined(_WIN32)
/* A private mount namespace with an 8 MiB tmpfs over /dev/shm, as in a
 * small container: a 64 MiB array must fail at create with SMA_ENOSPC and
 * leave nothing, rather than die of SIGBUS at its first write. */
Test(faults, full_dev_shm_fails_at_create_not_with_sigbus) {
  T_NEED_RESERVING_STORE();
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("POSIX /dev/shm only");
  if (t_private_dev_shm("size=8m") != 0)
    cr_skip_test("cannot make a private /dev/shm here (needs root or CAP_SYS_ADMIN)");
  char small[SMA_NAME_BUF], big[SMA_NAME_BUF];
  t_name(small, sizeof small, "fits");
  t_name(big, sizeof big, "toobig");
  size_t s1[1] = {4u << 20}, s2[1] = {64u << 20};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = small, .ndim = 1, .shape = s1, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0, "4 MiB fits in 8");
  memset(sma_data(a), 1, 4u << 20);
  cr_assert_eq(
      sma_new(&b, &(sma_array_desc_t){.name = big, .ndim = 1, .shape = s2, .dtype = SMA_UINT8}), 0);
  int rc = sma_create(b, 0);
  cr_assert_eq(rc, SMA_ENOSPC, "got %s", sma_err_name(rc));
  cr_assert_str_eq(sma_strerror(rc), "no space left for shared memory");
  cr_assert(t_segment_absent(big), "nothing left behind");
  DIR *d = opendir("/dev/shm");
  int entries = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) entries += e->d_name[0] != '.';
  closedir(d);
  cr_assert_eq(entries, 1, "only the array that fits");
  /* The rest of the space is still usable: 3 MiB more fits. */
  size_t s3[1] = {3u << 20};
  sma_t *c;
  cr_assert_eq(
      sma_new(&c, &(sma_array_desc_t){.name = big, .ndim = 1, .shape = s3, .dtype = SMA_UINT8}), 0);
  cr_assert_eq(sma_create(c, 0), 0);
  memset(sma_data(c), 2, 3u << 20);
  sma_unlink(small);
  sma_unlink(big);
  sma_free(a);
  sma_free(b);
  sma_free(c);
}

/* System V limits in a private IPC namespace: beyond shmmax is
 * SMA_ETOOBIG, beyond shmmni SMA_ELIMIT; neither leaves a segment. */
static int write_sysctl(const char *path, unsigned long long v) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return -1;
  int ok = fprintf(f, "%llu\n", v) > 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

Test(faults, sysv_limits_in_a_private_ipc_namespace) {
  if (strcmp(sma_backend(), "sysv") != 0) cr_skip_test("System V only");
  if (t_private_ipc() != 0) cr_skip_test("cannot make a private IPC namespace here");
  if (write_sysctl("/proc/sys/kernel/shmmax", 1u << 20) != 0 ||
      write_sysctl("/proc/sys/kernel/shmmni", 3) != 0)
    cr_skip_test("cannot lower the limits in this namespace");
  size_t big[1] = {2u << 20}, small[1] = {1024};
  char name[SMA_NAME_BUF];
  sma_t *a;
  t_name(name, sizeof name, "shmmax");
  sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = big, .dtype = SMA_UINT8});
  cr_assert_eq(sma_create(a, 0), SMA_ETOOBIG);
  cr_assert_eq(sysv_segments(), 0);
  sma_free(a);
  sma_t *made[4];
  int rc = 0, n = 0;
  for (; n < 4 && rc == 0; n++) {
    t_name(name, sizeof name, "shmmni");
    sma_new(&made[n],
            &(sma_array_desc_t){.name = name, .ndim = 1, .shape = small, .dtype = SMA_UINT8});
    rc = sma_create(made[n], 0);
  }
  cr_assert_eq(rc, SMA_ELIMIT, "the 4th of 3 allowed: %s", sma_err_name(rc));
  cr_assert_eq(sysv_segments(), 3, "the failed one left nothing");
  for (int i = 0; i < n; i++) {
    if (sma_is_loaded(made[i])) sma_unlink(sma_name(made[i]));
    sma_free(made[i]);
  }
  cr_assert_eq(sysv_segments(), 0);
}
#endif
