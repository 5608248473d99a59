/* The `sma` command keeps its promises (issue 24), through the real
 * binary: the demo worker writes only inside the views it is given, `sma
 * save` refuses to overwrite the segment it reads, a name that is not a
 * segment is reported with the OS's reason, and a huge slice step that
 * selects one element is NumPy's one-element view. POSIX only (sockets,
 * device nodes); the command runs through t_sma_said() (support.h). */
#define _XOPEN_SOURCE 700 /* mknod */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static sma_t *make(const char *name, size_t ndim, const size_t *shape, sma_dtype_t dtype) {
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = ndim, .shape = shape, .dtype = dtype}),
      0);
  cr_assert_eq(sma_create(a, 0), 0, "create %s", name);
  return a;
}

static void describe(const sma_t *a, char *buf, size_t cap) {
  cr_assert_eq(sma_describe(a, buf, &(size_t){cap}), 0);
}

/* ---- 1. the demo worker writes only inside its views ------------------- */

/* The two image descriptors of a valid 8x8 worker job. */
typedef struct job {
  char in_name[SMA_NAME_BUF], out_name[SMA_NAME_BUF];
  sma_t *in, *out;
  char din[SMA_DESCRIPTOR_MAX], dout[SMA_DESCRIPTOR_MAX];
} job_t;

static void job_make(job_t *j) {
  size_t shape[2] = {8, 8};
  t_name(j->in_name, sizeof j->in_name, "pr-wk-in");
  t_name(j->out_name, sizeof j->out_name, "pr-wk-out");
  j->in = make(j->in_name, 2, shape, SMA_FLOAT32);
  j->out = make(j->out_name, 2, shape, SMA_FLOAT32);
  describe(j->in, j->din, sizeof j->din);
  describe(j->out, j->dout, sizeof j->dout);
}

static void job_free(job_t *j) {
  sma_unlink(j->in_name), sma_unlink(j->out_name);
  sma_free(j->in), sma_free(j->out);
}

static int run_worker(const job_t *j, const char *progress_descriptor) {
  char *out;
  int rc = t_sma_said(&out, "__demo-worker gauss5 '%s' '%s' '%s' 0 0 8 0", j->din, j->dout,
                      progress_descriptor);
  cr_log_info("worker: %s", out);
  free(out);
  return rc;
}

/* Regression (issue 24): a progress descriptor sliced to the last byte of
 * a uint8 array passed the worker's check (the whole array has room for
 * the 8-byte counter) and the counter was written over the 7 bytes after
 * the array: there, the segment's own record. */
Test(cli_promises, demo_worker_refuses_a_progress_view_too_small_for_the_counter) {
  job_t j;
  job_make(&j);
  char name[SMA_NAME_BUF], d[SMA_DESCRIPTOR_MAX];
  t_name(name, sizeof name, "pr-wk-prog");
  size_t shape[1] = {3456}; /* a multiple of 64: the record follows at once */
  sma_t *prog = make(name, 1, shape, SMA_UINT8);
  sma_free(prog);
  const char *slices[] = {"3455:", "3448:", ":0", "::-1", "3455::-8"};
  for (size_t i = 0; i < sizeof slices / sizeof slices[0]; i++) {
    sma_slice_t s[1];
    size_t n;
    cr_assert_eq(sma_slice_parse(s, 1, &n, slices[i]), 0);
    cr_assert_eq(sma_new(&prog, &(sma_array_desc_t){.name = name,
                                                    .ndim = 1,
                                                    .shape = shape,
                                                    .dtype = SMA_UINT8,
                                                    .slice = s,
                                                    .nslice = n}),
                 0);
    describe(prog, d, sizeof d);
    sma_free(prog);
    cr_expect_eq(run_worker(&j, d), 2, "slice %s of uint8: a usage error", slices[i]);
    sma_info_t info;
    cr_expect_eq(sma_info_get(&info, name), 0, "slice %s: the record is intact", slices[i]);
  }
  /* The same place as a uint64 element is the counter's own. */
  size_t shape64[1] = {432}; /* 3456 bytes */
  sma_unlink(name);
  prog = make(name, 1, shape64, SMA_UINT64);
  sma_slice_t last[1] = {{431, SMA_NONE, SMA_NONE}};
  sma_t *view;
  cr_assert_eq(sma_new(&view, &(sma_array_desc_t){.name = name,
                                                  .ndim = 1,
                                                  .shape = shape64,
                                                  .dtype = SMA_UINT64,
                                                  .slice = last,
                                                  .nslice = 1}),
               0);
  describe(view, d, sizeof d);
  sma_free(view);
  cr_expect_eq(run_worker(&j, d), 0, "the last uint64 element holds the counter");
  cr_expect_eq(((const uint64_t *)sma_data(prog))[431], 8, "8 rows done");
  sma_slice_t none[1] = {{432, SMA_NONE, SMA_NONE}};
  cr_assert_eq(sma_new(&view, &(sma_array_desc_t){.name = name,
                                                  .ndim = 1,
                                                  .shape = shape64,
                                                  .dtype = SMA_UINT64,
                                                  .slice = none,
                                                  .nslice = 1}),
               0);
  describe(view, d, sizeof d);
  sma_free(view);
  cr_expect_eq(run_worker(&j, d), 2, "an empty view has no place for the counter");
  sma_info_t info;
  cr_expect_eq(sma_info_get(&info, name), 0, "the record is intact");
  sma_unlink(name);
  sma_free(prog);
  job_free(&j);
}

/* Regression (issue 24): the same through a segment made by another
 * program (no record), whose mapping ends right after its last byte: the
 * counter was written 7 bytes past the end of the mapping (SIGSEGV). */
Test(cli_promises, demo_worker_never_writes_past_a_record_less_segment) {
  if (!t_posix_backend()) cr_skip_test("makes a segment without libsma through shm_open");
  job_t j;
  job_make(&j);
  char name[SMA_NAME_BUF], path[SMA_NAME_BUF + 2], d[SMA_DESCRIPTOR_MAX];
  t_name(name, sizeof name, "pr-wk-raw");
  snprintf(path, sizeof path, "/%s", name);
  long page = sysconf(_SC_PAGESIZE);
  int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(ftruncate(fd, page), 0);
  close(fd);
  snprintf(d, sizeof d, "sma/1 backend=posix dtype=uint8 shape=%ld slice=%ld: name=%s", page,
           page - 1, name);
  cr_expect_eq(run_worker(&j, d), 2, "a usage error, not a crash");
  shm_unlink(path);
  job_free(&j);
}

/* ---- 4. a huge step that selects one element ----------------------------- */

/* Regression (issue 24): step x itemsize overflowed, and the command
 * refused with SMA_EOVERFLOW what NumPy gives as a one-element view:
 * np.arange(5.)[::2305843009213693952] is [0.]. */
Test(cli_promises, a_huge_step_selecting_one_element_is_a_view) {
  char name[SMA_NAME_BUF], *out;
  t_name(name, sizeof name, "pr-huge");
  size_t shape[1] = {5};
  sma_t *a = make(name, 1, shape, SMA_FLOAT64);
  for (int i = 0; i < 5; i++) ((double *)sma_data(a))[i] = i + 1;
  cr_expect_eq(t_sma_said(&out, "describe %s --slice ::2305843009213693952", name), 0, "%s", out);
  cr_expect_not_null(strstr(out, "slice=::2305843009213693952 name="), "%s", out);
  free(out);
  cr_expect_eq(t_sma_said(&out, "cat %s --slice ::-9223372036854775807", name), 0, "%s", out);
  cr_expect_str_eq(out, "[5.]\n");
  free(out);
  sma_unlink(name);
  sma_free(a);
}

/* ---- 2. `sma save` never overwrites the segment it reads ----------------- */

/* A float64 segment of 4096 elements holding 0, 1, 2...; its name in buf. */
static sma_t *counting_segment(char *name, size_t cap, const char *tag) {
  t_name(name, cap, tag);
  size_t shape[1] = {4096};
  sma_t *a = make(name, 1, shape, SMA_FLOAT64);
  for (int i = 0; i < 4096; i++) ((double *)sma_data(a))[i] = i;
  return a;
}

/* The segment is whole: its record reads, its size and data unchanged. */
static void expect_intact(const char *name, const sma_t *a, size_t size) {
  sma_info_t info;
  cr_expect_eq(sma_info_get(&info, name), 0, "the record still reads");
  cr_expect_eq(info.segment_size, size, "not truncated");
  if (info.segment_size != size) return; /* its pages are gone: SIGBUS */
  const double *d = sma_data(a);
  int same = 1;
  for (int i = 0; i < 4096; i++) same &= d[i] == i;
  cr_expect(same, "the data is unchanged");
}

/* Regression (issue 24): `sma save s /dev/shm/s` truncated its own
 * segment, then died of SIGBUS reading it. The file is refused when it is
 * the segment, by whatever path: its name, a hard link, a symlink. */
Test(cli_promises, save_refuses_the_segment_s_own_file) {
  char name[SMA_NAME_BUF], own[SMA_NAME_BUF + 16], link_path[SMA_NAME_BUF + 16], sym[64], *out;
  sma_t *a = counting_segment(name, sizeof name, "pr-save");
  snprintf(own, sizeof own, "/dev/shm/%s", name);
  struct stat st;
  if (!t_posix_backend() || stat(own, &st) != 0) {
    sma_unlink(name), sma_free(a);
    cr_skip_test("segments are not files under /dev/shm here");
  }
  size_t size = (size_t)st.st_size;
  snprintf(link_path, sizeof link_path, "/dev/shm/%s-ln", name);
  cr_assert_eq(link(own, link_path), 0);
  snprintf(sym, sizeof sym, "/tmp/smatest-%lu-save-sym", t_pid());
  unlink(sym);
  cr_assert_eq(symlink(own, sym), 0);
  const char *paths[] = {own, link_path, sym};
  for (size_t i = 0; i < 3; i++) {
    int rc = t_sma_said(&out, "save %s '%s'", name, paths[i]);
    cr_expect_eq(rc, 1, "%s: an error (exit %d), not a crash: %s", paths[i], rc, out);
    cr_expect_not_null(strstr(out, "is the segment itself"), "%s", out);
    free(out);
    expect_intact(name, a, size);
  }
  /* Through a slice too: the view is the segment's all the same. */
  cr_expect_eq(t_sma_said(NULL, "save %s %s --slice 10:20", name, own), 1);
  expect_intact(name, a, size);
  /* `sma load` of the segment's file under its own name only reads it:
   * an error, and nothing is removed or changed. */
  cr_expect_eq(t_sma_said(&out, "load %s %s", own, name), 1);
  cr_expect(strstr(out, "SMA_ENPY") || strstr(out, "SMA_EEXIST"), "%s", out);
  free(out);
  expect_intact(name, a, size);
  /* Another file is written as before. */
  char npy[64];
  snprintf(npy, sizeof npy, "/tmp/smatest-%lu-save.npy", t_pid());
  cr_expect_eq(t_sma_said(NULL, "save %s %s", name, npy), 0);
  cr_expect(stat(npy, &st) == 0 && st.st_size == 128 + 4096 * 8);
  unlink(npy), unlink(sym), unlink(link_path);
  sma_unlink(name);
  sma_free(a);
}

/* A failed save removes the half-written file only when it made a
 * regular file: a device that refuses the bytes (/dev/full) stays. */
Test(cli_promises, a_failed_save_never_removes_a_device) {
  if (geteuid() != 0) cr_skip_test("needs root to make a device node");
  char name[SMA_NAME_BUF], dir[64], node[80], *out;
  sma_t *a = counting_segment(name, sizeof name, "pr-full");
  snprintf(dir, sizeof dir, "/tmp/smatest-%lu-dev-XXXXXX", t_pid());
  cr_assert_not_null(mkdtemp(dir));
  snprintf(node, sizeof node, "%s/full", dir);
  struct stat full;
  cr_assert_eq(stat("/dev/full", &full), 0);
  if (mknod(node, S_IFCHR | 0666, full.st_rdev) != 0) {
    rmdir(dir), sma_unlink(name), sma_free(a);
    cr_skip_test("cannot make a device node here");
  }
  cr_expect_eq(t_sma_said(&out, "save %s %s", name, node), 1, "%s", out);
  cr_expect_not_null(strstr(out, "No space left"), "%s", out);
  free(out);
  struct stat st;
  cr_expect_eq(stat(node, &st), 0, "the device node is still there");
  unlink(node), rmdir(dir);
  sma_unlink(name);
  sma_free(a);
}

/* ---- 3. a name that is not a segment: the OS's reason -------------------- */

/* Things that are not segments, made under names in /dev/shm. */
typedef struct not_segment {
  const char *tag;
  int os_err; /* what the library reports as the OS's reason */
} not_segment_t;

static const not_segment_t not_segments[] = {
    {"sym", ELOOP}, {"sock", ENXIO}, {"fifo", ENODEV}, {"dir", EISDIR}};

/* Makes not_segments[i] under a fresh name in /dev/shm; 0, or -1 where
 * segments are not files there. A FIFO and a directory are only made
 * where the backend works in /dev/shm (Linux, not the macOS personality,
 * whose real OS has no directory for them to be in): 1, nothing made. */
static int make_not_segment(size_t i, char *name, size_t cap) {
  t_name(name, cap, not_segments[i].tag);
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  struct stat st;
  if (!t_posix_backend() || stat("/dev/shm", &st) != 0) return -1;
  if (i >= 2 && !t_caps().can_list) return 1;
  switch (i) {
  case 0: cr_assert_eq(symlink("/etc/passwd", path), 0); break;
  case 1: {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof sa.sun_path);
    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    close(s); /* the socket file stays */
    break;
  }
  case 2: cr_assert_eq(mkfifo(path, 0600), 0); break;
  default: cr_assert_eq(mkdir(path, 0700), 0); break;
  }
  return 0;
}

static void remove_not_segment(const char *name) {
  char path[SMA_NAME_BUF + 16];
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  if (unlink(path) != 0) rmdir(path);
}

/* Regression (issue 24): `sma info` of a symlink or a socket in /dev/shm
 * said "operating-system error (see sma_os_error)", naming a function of
 * an object the caller never had. Every call that takes a name leaves the
 * OS's reason for sma_last_os_error(); a FIFO neither blocks nor passes
 * for a segment without a record. */
Test(cli_promises, name_based_calls_give_the_os_reason) {
  for (size_t i = 0; i < sizeof not_segments / sizeof not_segments[0]; i++) {
    char name[SMA_NAME_BUF];
    int made = make_not_segment(i, name, sizeof name);
    if (made < 0) cr_skip_test("segments are not files under /dev/shm here");
    if (made > 0) continue;
    int want = not_segments[i].os_err;
    const char *tag = not_segments[i].tag;
    sma_info_t info;
    errno = 0;
    cr_expect_eq(sma_info_get(&info, name), SMA_EOS, "%s", tag);
    cr_expect_eq(sma_last_os_error(), want, "info %s: %d", tag, sma_last_os_error());
    sma_t *a = (sma_t *)&info; /* not NULL: sma_open must clear it */
    cr_expect_eq(sma_open(&a, name, NULL, 0), SMA_EOS, "%s", tag);
    cr_expect_null(a);
    cr_expect_eq(sma_last_os_error(), want, "open %s", tag);
    cr_expect_eq(sma_collect(NULL, name, SMA_COLLECT_DRY_RUN), SMA_EOS, "%s", tag);
    cr_expect_eq(sma_last_os_error(), want, "collect %s", tag);
    remove_not_segment(name);
  }
}

/* A failure that is not the OS's leaves 0, whatever errno held before. */
Test(cli_promises, a_failure_not_of_the_os_leaves_no_os_reason) {
  sma_info_t info;
  errno = EIO;
  cr_expect_eq(sma_info_get(&info, "bad/name"), SMA_ENAME);
  cr_expect_eq(sma_last_os_error(), 0);
  errno = EIO;
  cr_expect_eq(sma_unlink(""), SMA_ENAME);
  cr_expect_eq(sma_last_os_error(), 0);
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "missing");
  cr_expect_eq(sma_unlink(name), SMA_ENOENT);
  cr_expect_eq(sma_last_os_error(), T_OS_ENOENT, "the OS said so");
  const char *names[] = {name, "bad/name"};
  cr_expect_eq(sma_clear_buffers(names, 2), SMA_ENOENT);
  cr_expect_eq(sma_last_os_error(), T_OS_ENOENT, "the first failure's reason");
  if (t_posix_backend()) { /* a plain file: a segment without a record */
    char path[SMA_NAME_BUF + 16];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      close(fd);
      errno = EIO;
      cr_expect_eq(sma_info_get(&info, name), SMA_ENORECORD);
      cr_expect_eq(sma_last_os_error(), 0);
      unlink(path);
    }
  }
}

/* sma_os_strerror(): the name and the OS's message, in the text contract
 * every formatting call of libsma follows. */
Test(cli_promises, os_strerror_names_the_error) {
  char buf[256];
  size_t size = sizeof buf;
  cr_assert_eq(sma_os_strerror(ELOOP, buf, &size), 0);
  cr_expect_eq(strncmp(buf, "ELOOP: ", 7), 0, "%s", buf);
  cr_expect_eq(size, strlen(buf));
  size = sizeof buf;
  cr_assert_eq(sma_os_strerror(0, buf, &size), 0);
  cr_expect_str_eq(buf, "no OS error");
  size = sizeof buf;
  cr_assert_eq(sma_os_strerror(98765, buf, &size), 0);
  cr_expect_eq(strncmp(buf, "errno 98765: ", 13), 0, "%s", buf);
  char small[4];
  size = sizeof small;
  cr_expect_eq(sma_os_strerror(EACCES, small, &size), SMA_ENOBUFS);
  cr_expect_str_eq(small, "");
  cr_expect_gt(size, 8);
  cr_expect_eq(sma_os_strerror(EACCES, NULL, NULL), SMA_EINVAL);
}

/* The command prints the OS's reason, and a FIFO does not block it. */
Test(cli_promises, commands_print_the_os_reason) {
  static const char *const texts[] = {"ELOOP: ", "ENXIO: ", "ENODEV: ", "EISDIR: "};
  for (size_t i = 0; i < sizeof not_segments / sizeof not_segments[0]; i++) {
    char name[SMA_NAME_BUF], *out;
    int made = make_not_segment(i, name, sizeof name);
    if (made < 0) cr_skip_test("segments are not files under /dev/shm here");
    if (made > 0) continue;
    const char *cmds[] = {"info", "describe", "cat", "info --json"};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
      int rc = t_sma_said(&out, "%s %s", cmds[c], name);
      cr_expect_eq(rc, 1, "%s %s: exit %d: %s", cmds[c], not_segments[i].tag, rc, out);
      cr_expect_not_null(strstr(out, texts[i]), "%s %s: %s", cmds[c], not_segments[i].tag, out);
      cr_expect_null(strstr(out, "see sma_os_error"), "%s", out);
      free(out);
    }
    cr_expect_eq(t_sma_said(&out, "save %s /dev/null", name), 1);
    cr_expect_not_null(strstr(out, texts[i]), "save: %s", out);
    free(out);
    remove_not_segment(name);
  }
}

/* `sma demo` read its numbers with strtoull() and atoi(): "--size 12abc"
 * ran a 12x12 demo and "--workers 2x" two workers, where every other
 * command refuses a number with anything after it. */
Test(cli_promises, demo_refuses_a_number_with_trailing_text) {
  const char *bad[] = {"--size 12abc",         "--size ''",      "--size -16",
                       "--workers 2x",         "--workers ' 2'", "--workers 99999999999",
                       "--worker-delay-ms 5ms"};
  char prefix[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "demo-num");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *out;
    int rc =
        t_sma_said(&out, "demo --size 16 --workers 1 --no-baseline --prefix %s %s", prefix, bad[i]);
    cr_expect_eq(rc, 2, "sma demo ... %s: exit %d (usage is 2):\n%s", bad[i], rc, out);
    cr_expect_neq(strstr(out, "usage: sma demo"), NULL, "%s: no usage:\n%s", bad[i], out);
    free(out);
  }
  char *out;
  cr_expect_eq(t_sma_said(&out, "demo --size 16 --workers 2 --no-baseline --prefix %s", prefix), 0,
               "the same demo with good numbers failed:\n%s", out);
  free(out);
}
