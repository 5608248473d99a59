/* Read-only attach (SMA_OPEN_READONLY): a reader that must not modify an
 * array says so, gets a mapping that faults on a write (seen in a child
 * process, never in the test process), needs only read permission (a 0640
 * segment of another uid whose group it is in: real uids 65533 and 65534,
 * so those tests need root and skip otherwise), and never shares a
 * mapping with a read-write load of the same segment in one process. The
 * `sma` commands that only read use it. */
#define _GNU_SOURCE /* F_SETLEASE */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 4, COLS = 8 };

/* The value the tests store at flat index i. */
static uint16_t pattern(size_t i) { return (uint16_t)(i * 3 + 1); }

static sma_t *make_filled(const char *name, unsigned flags) {
  size_t shape[2] = {ROWS, COLS};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_UINT16}),
      0);
  cr_assert_eq(sma_create(a, flags), 0);
  uint16_t *d = sma_data(a);
  for (size_t i = 0; i < ROWS * COLS; i++) d[i] = pattern(i);
  return a;
}

/* 1 if the loaded array `a` shows the pattern (through its slice, if any:
 * the tests' slices are whole rows from `first_row`). */
static int shows_pattern(const sma_t *a, size_t first_row) {
  const sma_view_t *v = sma_view_get(a);
  for (size_t r = 0; r < v->shape[0]; r++)
    for (size_t c = 0; c < COLS; c++)
      if (*(const uint16_t *)sma_view_at2(v, r, c) != pattern((first_row + r) * COLS + c)) return 0;
  return 1;
}

Test(readonly, open_reads_and_reports_it) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-open");
  sma_t *w = make_filled(name, 0);
  cr_assert_eq(sma_is_readonly(w), 0, "a creator maps read-write");

  sma_t *r;
  cr_assert_eq(sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY), 0);
  cr_assert_eq(sma_is_readonly(r), 1);
  cr_assert_neq(sma_data(r), NULL, "the data pointer is still given");
  cr_assert(shows_pattern(r, 0));
  cr_assert_neq(sma_data(r), sma_data(w), "never the writable mapping");
  /* A write by the owner shows through the read-only mapping. */
  ((uint16_t *)sma_data(w))[5] = 777;
  cr_assert_eq(((const uint16_t *)sma_data(r))[5], 777);
  ((uint16_t *)sma_data(w))[5] = pattern(5);

  cr_assert_eq(sma_open_as(&(sma_t *){NULL}, name, NULL, 0, 1u << 7), SMA_EINVAL, "unknown flag");
  cr_assert_eq(sma_load_as(r, 1u << 7), SMA_EINVAL);
  cr_assert_eq(sma_load_as(r, SMA_OPEN_READONLY), SMA_ESTATE, "already loaded");
  cr_assert_eq(sma_is_readonly(NULL), 0);

  sma_t *plain;
  cr_assert_eq(sma_open(&plain, name, NULL, 0), 0);
  cr_assert_eq(sma_is_readonly(plain), 0, "sma_open() stays read-write");
  sma_free(plain);
  sma_free(r);
  sma_unlink(name);
  sma_free(w);
}

Test(readonly, clone_and_slice_stay_readonly) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-clone");
  sma_t *w = make_filled(name, 0);
  sma_t *r;
  cr_assert_eq(sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY), 0);

  sma_slice_t rows[1] = {{2, 4, 1}};
  sma_override_t ov = {.set = SMA_SET_SLICE, .slice = rows, .nslice = 1};
  sma_t *c;
  cr_assert_eq(sma_clone(&c, r, &ov), 0);
  cr_assert_eq(sma_is_readonly(c), 1, "an unloaded clone of a read-only array");
  cr_assert_eq(sma_load(c), 0);
  cr_assert_eq(sma_is_readonly(c), 1, "its slice loads read-only");
  cr_assert(shows_pattern(c, 2));

  /* An explicit read-write load makes it read-write; a failed one leaves
   * it as it was. */
  cr_assert_eq(sma_close(c), 0);
  cr_assert_eq(sma_is_readonly(c), 1, "closing keeps the mode for the next load");
  cr_assert_eq(sma_load_as(c, 0), 0);
  cr_assert_eq(sma_is_readonly(c), 0);
  cr_assert_eq(sma_close(c), 0);
  cr_assert_eq(sma_load_as(c, SMA_OPEN_READONLY), 0);
  cr_assert_eq(sma_close(c), 0);
  sma_t *gone;
  char other[SMA_NAME_BUF];
  t_name(other, sizeof other, "ro-none");
  sma_override_t ov_name = {.set = SMA_SET_NAME, .name = other};
  cr_assert_eq(sma_clone(&gone, c, &ov_name), 0);
  cr_assert_eq(sma_load_as(gone, 0), SMA_ENOENT);
  cr_assert_eq(sma_is_readonly(gone), 1, "a failed load changes nothing");
  /* Creating maps the new segment read-write: the object is no longer
   * read-only. */
  cr_assert_eq(sma_create(gone, 0), 0);
  cr_assert_eq(sma_is_readonly(gone), 0);
  ((uint16_t *)sma_data(gone))[0] = 9;
  sma_unlink(other);
  sma_free(gone);
  sma_free(c);
  sma_free(r);
  sma_unlink(name);
  sma_free(w);
}

#if defined(_WIN32)
/* No fork here: the helper process writes, and its exit code is the
 * exception that ended it. */
Test(readonly, a_write_through_it_faults) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-fault");
  sma_t *w = make_filled(name, 0);
  const char *args[] = {"write-readonly", name, NULL};
  int code = t_run_helper(args);
  cr_assert_eq((unsigned)code, 0xC0000005u, "the helper's write was not an access violation: %d",
               code);
  cr_assert(shows_pattern(w, 0), "nothing was written");
  sma_unlink(name);
  sma_free(w);
}
#endif

#if !defined(_WIN32)
#  include <fcntl.h>
#  include <signal.h>
#  include <sys/stat.h>
#  include <sys/wait.h>
#  include <unistd.h>
#  if defined(SMA_BACKEND_sysv)
#    include <sys/ipc.h>
#    include <sys/shm.h>
#  endif

enum { OWNER = 65533, READER = 65534, GROUP = 65533 };

/* Exit codes of the children below: which step went wrong. */
enum { SURVIVED = 0, BAD_OPEN = 10, BAD_VALUE = 11, BAD_STEP = 12, NO_UID = 99 };

/* In a child: default actions for the fault signals (a sanitizer's
 * handler would turn the fault into an exit), then the write. */
static void write_and_die(void *p) {
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
  *(volatile uint16_t *)p = 4242;
}

/* Waits for the child; asserts that it was killed by SIGSEGV or SIGBUS
 * after every step before the write passed. */
static void expect_fault(pid_t pid, const char *what) {
  (void)what; /* only in the messages, which the test shim does not format */
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(!WIFEXITED(status), "%s: the child exited (%d) instead of faulting", what,
            WEXITSTATUS(status));
  cr_assert(WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS),
            "%s: killed by signal %d, not SIGSEGV/SIGBUS", what, WTERMSIG(status));
}

/* A child opens `name` read-only, checks what it reads, then writes. */
static pid_t spawn_readonly_writer(const char *name, int uid, unsigned gid) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid != 0) return pid;
  if (uid >= 0 && t_become((unsigned)uid, gid) != 0) _exit(NO_UID);
  sma_t *r;
  if (sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY) != 0) _exit(BAD_OPEN);
  if (!shows_pattern(r, 0)) _exit(BAD_VALUE);
  write_and_die(sma_data(r));
  _exit(SURVIVED);
}

Test(readonly, a_write_through_it_faults) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-fault");
  sma_t *w = make_filled(name, 0);
  expect_fault(spawn_readonly_writer(name, -1, 0), "read-only open");
  cr_assert(shows_pattern(w, 0), "nothing was written");
  sma_unlink(name);
  sma_free(w);
}

/* The mapping cache: a read-only load while this process holds a
 * read-write one of the same segment gets a read-only mapping of its own
 * (a write faults), and a read-write load while a read-only one is held
 * gets a writable one. */
Test(readonly, cache_never_mixes_readonly_and_readwrite) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-cache");
  sma_t *w = make_filled(name, 0);
  sma_t *rw;
  cr_assert_eq(sma_open(&rw, name, NULL, 0), 0); /* a read-write load held */

  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    sma_t *r;
    if (sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY) != 0) _exit(BAD_OPEN);
    if (sma_data(r) == sma_data(rw) || !sma_is_readonly(r)) _exit(BAD_STEP);
    write_and_die(sma_data(r));
    _exit(SURVIVED);
  }
  expect_fault(pid, "read-only load beside a read-write one");
  sma_free(rw);

  /* Now only read-only loads are held: a read-write load must write. */
  sma_t *r1, *r2;
  cr_assert_eq(sma_open_as(&r1, name, NULL, 0, SMA_OPEN_READONLY), 0);
  cr_assert_eq(sma_open_as(&r2, name, NULL, 0, SMA_OPEN_READONLY), 0);
  sma_t *later;
  cr_assert_eq(sma_open(&later, name, NULL, 0), 0);
  cr_assert_neq(sma_data(later), sma_data(r1));
  ((uint16_t *)sma_data(later))[3] = 31337; /* faults here if it were read-only */
  cr_assert_eq(((const uint16_t *)sma_data(r2))[3], 31337, "one segment behind both");
  sma_free(later);
  sma_free(r2);
  sma_free(r1);
  sma_unlink(name);
  sma_free(w);
}

static void need_root(void) {
  if (geteuid() != 0) cr_skip_test("needs root to switch to other uids");
}

/* Gives the loaded array's segment the permission bits `mode`. */
static int set_mode(sma_t *a, unsigned mode) {
#  if defined(SMA_BACKEND_posix)
  return fchmod((int)sma_os_handle(a), (mode_t)mode);
#  elif defined(SMA_BACKEND_sysv)
  struct shmid_ds ds;
  int id = (int)sma_os_handle(a);
  if (shmctl(id, IPC_STAT, &ds) != 0) return -1;
  ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | mode;
  return shmctl(id, IPC_SET, &ds);
#  else
  (void)a;
  (void)mode;
  return -1;
#  endif
}

/* Uid OWNER (group GROUP) creates `name`, fills it, makes it 0640 and
 * exits; the segment stays. */
static void make_group_segment(const char *name) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    if (t_become(OWNER, GROUP) != 0) _exit(NO_UID);
    sma_t *a;
    size_t shape[2] = {ROWS, COLS};
    if (sma_new(&a,
                &(sma_array_desc_t){
                    .name = name, .ndim = 2, .shape = shape, .dtype = SMA_UINT16}) != 0 ||
        sma_create(a, SMA_CREATE_GROUP | SMA_CREATE_PERSIST) != 0)
      _exit(BAD_OPEN);
    uint16_t *d = sma_data(a);
    for (size_t i = 0; i < ROWS * COLS; i++) d[i] = pattern(i);
    _exit(set_mode(a, 0640) == 0 ? 0 : BAD_STEP);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "creator as uid %d: status %d", OWNER,
            status);
  cr_assert_eq(t_segment_mode(name), 0640);
}

/* As READER in GROUP: read-only loads work, read-write ones are
 * SMA_EACCES, also while a read-only mapping of it is held (the cache
 * must not hand that one out, nor a writable one). */
static int reader_steps(const char *name) {
  sma_t *r;
  if (sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY) != 0) return BAD_OPEN;
  if (!shows_pattern(r, 0) || !sma_is_readonly(r)) return BAD_VALUE;
  sma_t *rw;
  if (sma_open(&rw, name, NULL, 0) != SMA_EACCES) return BAD_STEP;
  sma_t *c;
  if (sma_clone(&c, r, NULL) != 0 || sma_load_as(c, 0) != SMA_EACCES) return BAD_STEP + 1;
  if (sma_load(c) != 0 || !shows_pattern(c, 0)) return BAD_STEP + 2;
  sma_info_t info;
  if (sma_info_get(&info, name) != 0 || info.ndim != 2) return BAD_STEP + 3;
  sma_free(c);
  sma_free(r);
  return 0;
}

static void need_group_backend(void) {
#  if !defined(SMA_BACKEND_posix) && !defined(SMA_BACKEND_sysv)
  cr_skip_test("no Unix permission bits here");
#  endif
}

Test(readonly, a_group_member_who_may_only_read_can_attach) {
  need_root();
  need_group_backend();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-group");
  make_group_segment(name);

  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    if (t_become(READER, GROUP) != 0) _exit(NO_UID);
    _exit(reader_steps(name));
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "reader died (status %d)", status);
  cr_assert_eq(WEXITSTATUS(status), 0, "reader failed at step %d", WEXITSTATUS(status));

  expect_fault(spawn_readonly_writer(name, READER, GROUP), "another uid's read-only open");
  /* Outside the group: no access at all. */
  pid = fork();
  if (pid == 0) {
    if (t_become(READER, READER) != 0) _exit(NO_UID);
    sma_t *r;
    _exit(sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY) == SMA_EACCES ? 0 : BAD_STEP);
  }
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "outside the group: not EACCES");

  sma_t *check;
  cr_assert_eq(sma_open(&check, name, NULL, 0), 0);
  cr_assert(shows_pattern(check, 0), "nobody wrote");
  sma_free(check);
  cr_assert_eq(sma_unlink(name), 0);
}

/* The commands that only read work on a segment the user may only read. */
Test(readonly, read_commands_work_for_a_reader) {
  need_root();
  need_group_backend();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-cli");
  make_group_segment(name);
  char npy[128];
  snprintf(npy, sizeof npy, "/tmp/smatest-ro-%lu.npy", t_pid());
  unlink(npy);

  static const char *const commands[] = {"ls", "info", "cat", "save", "describe"};
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    const char *cmd = commands[i];
    char *out = NULL;
    int rc;
    if (strcmp(cmd, "ls") == 0)
      rc = t_sma_as(READER, GROUP, &out, "ls");
    else if (strcmp(cmd, "save") == 0)
      rc = t_sma_as(READER, GROUP, &out, "save '%s' '%s'", name, npy);
    else
      rc = t_sma_as(READER, GROUP, &out, "%s '%s'", cmd, name);
    cr_assert_neq(out, NULL);
    cr_assert_eq(rc, 0, "sma %s as uid %d: exit %d: %s", cmd, READER, rc, out);
    /* Where listing goes through a per-user index (macOS), `sma ls` shows
     * the names this user created only: it must still run. */
    bool unlisted = strcmp(cmd, "ls") == 0 && !t_caps().can_list;
    if (strcmp(cmd, "cat") == 0)
      cr_assert(strstr(out, "94") != NULL, "sma cat shows the last value (3*31+1): %s", out);
    else if (strcmp(cmd, "save") != 0 && !unlisted)
      cr_assert(strstr(out, name) != NULL, "sma %s names the segment: %s", cmd, out);
    free(out);
  }
  FILE *f = fopen(npy, "rb");
  cr_assert_neq(f, NULL, "sma save wrote the file");
  unsigned char magic[6] = {0};
  cr_assert_eq(fread(magic, 1, sizeof magic, f), sizeof magic);
  fclose(f);
  cr_assert_eq(memcmp(magic, "\x93NUMPY", 6), 0);
  unlink(npy);

  /* Outside the group, the same commands are refused. */
  char *out = NULL;
  int rc = t_sma_as(READER, READER, &out, "info '%s'", name);
  cr_assert_neq(rc, 0, "sma info outside the group: %s", out);
  free(out);
  cr_assert_eq(sma_unlink(name), 0);
}

#  if defined(SMA_BACKEND_posix) && defined(__linux__)
/* A read-only open does not block (a FIFO would hold O_RDONLY), so it
 * meets gc's write lease as EWOULDBLOCK, not as a wait: it must still
 * break the lease (gc then keeps the segment: F_GETLEASE is no longer
 * F_WRLCK) and succeed once the lease is gone, as a read-write open does. */
Test(readonly, a_read_only_open_breaks_a_lease_and_waits_for_it) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "ro-lease");
  sma_free(make_filled(name, 0)); /* closed: a lease needs no other opener */
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  int fd = open(path, O_RDONLY);
  if (fd < 0) cr_skip_test("segments are not files under /dev/shm here");
  signal(SIGIO, SIG_IGN); /* the lease-break notice */
  if (fcntl(fd, F_SETLEASE, F_WRLCK) != 0) {
    close(fd);
    sma_unlink(name);
    cr_skip_test("no leases here");
  }
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    sma_t *r;
    if (sma_open_as(&r, name, NULL, 0, SMA_OPEN_READONLY) != 0) _exit(BAD_OPEN);
    _exit(shows_pattern(r, 0) ? 0 : BAD_VALUE);
  }
  int broken = 0;
  for (int i = 0; i < 500 && !broken; i++) { /* up to 5 s */
    broken = fcntl(fd, F_GETLEASE) != F_WRLCK;
    if (!broken) usleep(10000);
  }
  fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(broken, "the read-only open did not break the lease: gc would not see it");
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader: status %d", status);
  sma_unlink(name);
}
#  endif
#endif
