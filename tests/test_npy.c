/* NumPy .npy files in and out: sma_npy_write() and sma_npy_read() through
 * streams in memory (the header NumPy writes, C order of any view, the
 * conversions, hostile and truncated files leaving nothing behind), then
 * `sma save`, `sma load` and `sma cat` against real NumPy
 * (tests/npy_interop.py), which needs only files, so it runs on every
 * backend. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <signal.h>
#  include <unistd.h>
#endif

#ifndef SMA_PYTHON
#  define SMA_PYTHON ""
#endif

/* ---- streams in memory -------------------------------------------------------- */

typedef struct sink {
  unsigned char buf[1 << 16];
  size_t len;
  size_t fail_after; /* take no byte past this many; 0: no limit */
} sink_t;

static size_t to_sink(const void *buf, size_t n, void *user) {
  sink_t *s = user;
  size_t room = sizeof s->buf - s->len;
  if (s->fail_after) room = s->fail_after > s->len ? s->fail_after - s->len : 0;
  size_t k = n < room ? n : room;
  memcpy(s->buf + s->len, buf, k);
  s->len += k;
  return k;
}

typedef struct source {
  const unsigned char *p;
  size_t left;
} source_t;

static size_t from_source(void *buf, size_t n, void *user) {
  source_t *s = user;
  size_t k = n < s->left ? n : s->left;
  memcpy(buf, s->p, k);
  s->p += k;
  s->left -= k;
  return k;
}

static int read_npy(sma_t **out, const char *name, const unsigned char *bytes, size_t n) {
  source_t src = {bytes, n};
  return sma_npy_read(out, name, 0, from_source, &src);
}

/* A file: magic, version 1.0, the header padded to 64, then data. */
static size_t make_file(unsigned char *out, size_t cap, const char *header, const void *data,
                        size_t data_len) {
  size_t hl = strlen(header), total = (10 + hl + 1 + 63) / 64 * 64;
  cr_assert_leq(total + data_len, cap);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (unsigned char)((total - 10) & 0xff);
  out[9] = (unsigned char)((total - 10) >> 8);
  memcpy(out + 10, header, hl);
  memset(out + 10 + hl, ' ', total - 10 - hl - 1);
  out[total - 1] = '\n';
  memcpy(out + total, data, data_len);
  return total + data_len;
}

/* A 4x5 float64 array a[i][j] = 10 i + j, and a view of it. */
static sma_t *make_grid(char *name, const char *slice_text, sma_t **view) {
  size_t shape[2] = {4, 5};
  sma_t *a;
  t_name(name, SMA_NAME_BUF, "npy");
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT64}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  double *d = sma_data(a);
  for (int i = 0; i < 20; i++) d[i] = 10 * (i / 5) + i % 5;
  sma_slice_t s[2];
  size_t n;
  cr_assert_eq(sma_slice_parse(s, 2, &n, slice_text), 0);
  cr_assert_eq(sma_open(view, name, s, n), 0);
  return a;
}

Test(npy, a_view_is_written_with_numpys_header_in_c_order) {
  char name[SMA_NAME_BUF];
  sma_t *v, *a = make_grid(name, "::-1, 1::2", &v);
  static sink_t out;
  out.len = 0, out.fail_after = 0;
  cr_assert_eq(sma_npy_write(v, to_sink, &out), 0);
  cr_assert_eq(memcmp(out.buf, "\x93NUMPY\x01\x00", 8), 0, "magic, version 1.0");
  size_t header_len = out.buf[8] | (size_t)out.buf[9] << 8, data = 10 + header_len;
  cr_assert_eq(data % 64, 0, "data starts at a multiple of 64");
  char want[128];
  snprintf(want, sizeof want, "{'descr': '%s', 'fortran_order': False, 'shape': (4, 2), }",
           t_native("<f8"));
  cr_assert_eq(memcmp(out.buf + 10, want, strlen(want)), 0, "%.*s", (int)strlen(want),
               out.buf + 10);
  cr_assert_eq(out.buf[data - 1], '\n');
  cr_assert_eq(out.len, data + 8 * sizeof(double));
  double got[8];
  memcpy(got, out.buf + data, sizeof got);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      cr_assert_eq(got[2 * i + j], 10 * (3 - i) + 1 + 2 * j, "[%d][%d]", i, j);

  char copy[SMA_NAME_BUF];
  t_name(copy, sizeof copy, "npycopy");
  sma_t *b;
  cr_assert_eq(read_npy(&b, copy, out.buf, out.len), 0);
  cr_assert_eq(sma_ndim(b), 2);
  cr_assert_eq(sma_shape(b)[0], 4);
  cr_assert_eq(sma_shape(b)[1], 2);
  cr_assert_eq(sma_dtype_get(b), SMA_FLOAT64);
  cr_assert_eq(memcmp(sma_data(b), got, sizeof got), 0, "read back as written");
  cr_assert_eq(sma_unlink(copy), 0);
  sma_free(b);
  sma_free(v);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
}

Test(npy, zero_d_and_empty_arrays_round_trip) {
  static sink_t out;
  size_t empty_shape[2] = {3, 0};
  struct {
    size_t ndim;
    const size_t *shape;
    sma_dtype_t dtype;
    const char *shape_text;
  } cases[] = {{0, NULL, SMA_INT16, "'shape': (), }"},
               {2, empty_shape, SMA_FLOAT32, "'shape': (3, 0), }"}};
  for (int k = 0; k < 2; k++) {
    char name[SMA_NAME_BUF], copy[SMA_NAME_BUF];
    t_name(name, sizeof name, "npy0");
    t_name(copy, sizeof copy, "npy0copy");
    sma_t *a, *b;
    cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = name,
                                                 .ndim = cases[k].ndim,
                                                 .shape = cases[k].shape,
                                                 .dtype = cases[k].dtype}),
                 0);
    cr_assert_eq(sma_create(a, 0), 0);
    if (k == 0) *(int16_t *)sma_data(a) = -7;
    out.len = 0, out.fail_after = 0;
    cr_assert_eq(sma_npy_write(a, to_sink, &out), 0);
    cr_assert_not_null(strstr((const char *)out.buf + 10, cases[k].shape_text), "case %d", k);
    cr_assert_eq(read_npy(&b, copy, out.buf, out.len), 0);
    cr_assert_eq(sma_ndim(b), cases[k].ndim);
    cr_assert_eq(sma_nbytes(b), sma_nbytes(a));
    if (k == 0) cr_assert_eq(*(int16_t *)sma_data(b), -7);
    sma_unlink(copy);
    sma_unlink(name);
    sma_free(b);
    sma_free(a);
  }
}

/* Fortran order and the other byte order, as a file from a machine of
 * the other order would hold them: a[i][j] = 10 i + j stored column by
 * column, each int32 byte-reversed. */
Test(npy, fortran_order_and_the_other_byte_order_are_converted) {
  char header[128];
  snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': True, 'shape': (2, 3), }",
           t_native(">i4"));
  unsigned char data[24], file[256];
  for (int k = 0; k < 6; k++) {
    int i = k % 2, j = k / 2; /* first index fastest */
    uint32_t v = (uint32_t)(10 * i + j), swapped = 0;
    for (int b = 0; b < 4; b++) swapped |= ((v >> (8 * b)) & 0xffu) << (8 * (3 - b));
    memcpy(data + 4 * k, &swapped, 4);
  }
  size_t n = make_file(file, sizeof file, header, data, sizeof data);
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "npyf");
  sma_t *a;
  cr_assert_eq(read_npy(&a, name, file, n), 0);
  cr_assert_eq(sma_dtype_get(a), SMA_INT32);
  const int32_t *d = sma_data(a);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) cr_assert_eq(d[3 * i + j], 10 * i + j, "[%d][%d]", i, j);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
}

Test(npy, every_cut_of_a_file_is_an_error_that_leaves_nothing) {
  char name[SMA_NAME_BUF], copy[SMA_NAME_BUF];
  sma_t *v, *a = make_grid(name, "", &v);
  static sink_t out;
  out.len = 0, out.fail_after = 0;
  cr_assert_eq(sma_npy_write(v, to_sink, &out), 0);
  t_name(copy, sizeof copy, "npycut");
  for (size_t cut = 0; cut < out.len; cut++) {
    sma_t *b = (sma_t *)1;
    int rc = read_npy(&b, copy, out.buf, cut);
    cr_assert_eq(rc, SMA_ENPY, "cut at %zu: %s", cut, sma_err_name(rc));
    cr_assert_null(b);
    cr_assert(t_segment_absent(copy), "cut at %zu left a segment", cut);
    cr_assert_eq(sma_unlink(copy), SMA_ENOENT, "cut at %zu", cut);
  }
  sma_free(v);
  sma_unlink(name);
  sma_free(a);
}

Test(npy, hostile_headers_are_refused_and_leave_nothing) {
  const struct {
    const char *header;
    int rc;
  } cases[] = {
      {"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", SMA_EDTYPE},
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", SMA_EDTYPE},
      {"{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,), }", SMA_EDTYPE},
      {"{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", SMA_EDTYPE},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", SMA_ENPY},
      {"{'descr': '<f4', 'fortran_order': False, }", SMA_ENPY},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", SMA_ENPY},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", SMA_ENPY},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", SMA_ENPY},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", SMA_ENPY},
      {"{'descr': '<f4\\', 'fortran_order': False, 'shape': (2,), }", SMA_EDTYPE},
      {"['descr', '<f4']", SMA_ENPY},
      {"", SMA_ENPY},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
       SMA_EOVERFLOW},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
       SMA_EOVERFLOW},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }",
       SMA_ENPY}, /* lies: 16 bytes follow */
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
       "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }",
       SMA_ENDIM},
  };
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "npyhostile");
  unsigned char file[1024], data[16] = {0};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    size_t n = make_file(file, sizeof file, t_native(cases[k].header), data, sizeof data);
    sma_t *a = (sma_t *)1;
    int rc = read_npy(&a, name, file, n);
    cr_assert_eq(rc, cases[k].rc, "%s: %s", cases[k].header, sma_err_name(rc));
    cr_assert_null(a);
    cr_assert(t_segment_absent(name), "%s left a segment", cases[k].header);
    cr_assert_eq(sma_unlink(name), SMA_ENOENT, "%s", cases[k].header);
  }
  /* The preamble itself: magic, version, a header NUL, an over-long one. */
  size_t n =
      make_file(file, sizeof file, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                data, sizeof data);
  const struct {
    size_t at;
    unsigned char byte;
  } bad[] = {{0, 0x92}, {1, 'n'}, {6, 4}, {6, 0}, {7, 1}, {20, '\0'}, {9, 0xff}};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    unsigned char copy[1024];
    memcpy(copy, file, n);
    copy[bad[k].at] = bad[k].byte;
    sma_t *a;
    cr_assert_eq(read_npy(&a, name, copy, n), SMA_ENPY, "byte %zu = %u", bad[k].at, bad[k].byte);
    cr_assert(t_segment_absent(name), "byte %zu = %u left a segment", bad[k].at, bad[k].byte);
    cr_assert_eq(sma_unlink(name), SMA_ENOENT);
  }
  unsigned char v2[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0x10, 0}; /* 1 MiB header */
  sma_t *a;
  cr_assert_eq(read_npy(&a, name, v2, sizeof v2), SMA_ENPY, "over-long header");
}

Test(npy, a_failing_stream_is_eio_and_arguments_are_checked) {
  char name[SMA_NAME_BUF];
  sma_t *v, *a = make_grid(name, "", &v);
  static sink_t out;
  for (size_t limit = 5; limit <= 200; limit += 195) { /* in the header, in the data */
    out.len = 0, out.fail_after = limit;
    cr_assert_eq(sma_npy_write(v, to_sink, &out), SMA_EIO, "stream stops at %zu", limit);
  }
  cr_assert_eq(sma_npy_write(NULL, to_sink, &out), SMA_EINVAL);
  cr_assert_eq(sma_npy_write(v, NULL, &out), SMA_EINVAL);
  sma_t *unloaded;
  size_t shape[1] = {4};
  cr_assert_eq(
      sma_new(&unloaded,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_npy_write(unloaded, to_sink, &out), SMA_ESTATE);
  sma_free(unloaded);
  sma_t *b = (sma_t *)1;
  cr_assert_eq(sma_npy_read(&b, NULL, 0, from_source, NULL), SMA_EINVAL);
  cr_assert_null(b);
  cr_assert_eq(sma_npy_read(&b, name, 0, NULL, NULL), SMA_EINVAL);
  cr_assert_eq(sma_npy_read(NULL, name, 0, from_source, NULL), SMA_EINVAL);
  out.len = 0, out.fail_after = 0;
  cr_assert_eq(sma_npy_write(v, to_sink, &out), 0);
  cr_assert_eq(read_npy(&b, name, out.buf, out.len), SMA_EEXIST, "create is exclusive");
  sma_free(v);
  sma_unlink(name);
  sma_free(a);
}

/* ---- the `sma` command against real NumPy -------------------------------------- */

static void need_numpy(void) {
  if (SMA_PYTHON[0] == '\0') cr_skip_test("no python3 with NumPy was found at configure time");
  FILE *f = fopen(SMA_PYTHON, "rb"); /* a VM running the cross-built suite has none */
  if (f == NULL) cr_skip_test("%s is not on this machine", SMA_PYTHON);
  fclose(f);
}

/* The script gets the command that starts `sma` (with the build's
 * emulator in front, if any) and this build's byte order, which is what
 * `sma save` writes (the host's NumPy may have the other one). */
static void run_script(const char *mode, const char *tag) {
  need_numpy();
  char prefix[SMA_NAME_BUF];
  t_name(prefix, sizeof prefix, tag);
  const char *argv[] = {SMA_PYTHON, SMA_NPY_SCRIPT, mode, prefix, t_native("<"), NULL};
  cr_assert_eq(t_run_script(argv), 0, "tests/npy_interop.py %s failed (its output says why)", mode);
}

/* np.save -> sma load -> sma cat (== str()) and sma save (== np.save's
 * bytes, np.load equal): every dtype, 0-d to 4-d, empty arrays, C and
 * Fortran order, both byte orders. Under qemu-user and the sanitizers,
 * where each of the thousand `sma` runs starts ten times slower, every
 * dtype in every order and byte order still runs, in three of the seven
 * shapes (0-d, 4-d, empty 2-d: tests/npy_interop.py); the unsanitized
 * native builds run them all. */
#if defined(SMA_TEST_EMULATED) || defined(SMA_TEST_SANITIZED)
#  define ROUNDTRIP_MODE "roundtrip-few-shapes"
#else
#  define ROUNDTRIP_MODE "roundtrip"
#endif
Test(npy, numpy_files_round_trip_through_sma_for_every_dtype, .timeout = 900) {
  run_script(ROUNDTRIP_MODE, "npyrt");
}

Test(npy, saved_slices_with_negative_steps_are_numpys_slices, .timeout = 120) {
  run_script("slices", "npysl");
}

/* Objects, strings, structured records, truncated and lying files: sma
 * load exits 1 saying why, and no segment is left. */
Test(npy, refused_files_leave_no_segment, .timeout = 120) { run_script("refuse", "npyno"); }

Test(npy, sma_save_to_an_unwritable_path_fails_and_leaves_no_file) {
  char name[SMA_NAME_BUF];
  sma_t *v, *a = make_grid(name, "", &v);
  const char *argv[] = {"save", name, "/nonexistent-dir/x.npy", NULL};
  cr_assert_eq(t_sma_run(NULL, NULL, argv), 1);
  FILE *f = fopen("/nonexistent-dir/x.npy", "rb");
  cr_assert_null(f);
  const char *missing[] = {"load", "/nonexistent-dir/x.npy", NULL};
  cr_assert_eq(t_sma_run(NULL, NULL, missing), 1);
  const char *usage[] = {"save", name, NULL};
  cr_assert_eq(t_sma_run(NULL, NULL, usage), 2);
  sma_free(v);
  sma_unlink(name);
  sma_free(a);
}

/* ---- a load is published only when complete --------------------------------- */
#if !defined(_WIN32)
/* A running `sma load /dev/stdin NAME` fed through a pipe by the test, so
 * the test decides how far the load has got: a write returns only once
 * the loader has taken all but a pipe's buffer (64 KiB) of it. */
typedef struct feed {
  t_sma_job_t loader;  /* fed through its stdin_fd */
  unsigned char *file; /* the whole .npy: float64 ones */
  size_t len, sent;
} feed_t;

enum { FEED_ITEMS = 1 << 18 }; /* 2 MiB of data: 32 pipe buffers */

static void feed_start(feed_t *f, const char *name) {
  static double ones[FEED_ITEMS];
  for (size_t i = 0; i < FEED_ITEMS; i++) ones[i] = 1.0;
  char header[128];
  snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }",
           t_native("<f8"), FEED_ITEMS);
  f->file = malloc(sizeof ones + 256);
  cr_assert_not_null(f->file);
  f->len = make_file(f->file, sizeof ones + 256, header, ones, sizeof ones);
  f->sent = 0;
  signal(SIGPIPE, SIG_IGN); /* a loader that dies must fail a write, not the test */
  const char *args[] = {"load", "/dev/stdin", name, NULL};
  t_sma_opts_t opts = {.feed_stdin = 1};
  cr_assert_eq(t_sma_start(&f->loader, &opts, args), 0);
}

/* Sends the file up to byte `upto`. */
static void feed_to(feed_t *f, size_t upto) {
  while (f->sent < upto) {
    ssize_t w = write(f->loader.stdin_fd, f->file + f->sent, upto - f->sent);
    cr_assert_gt(w, 0, "the loader stopped reading");
    f->sent += (size_t)w;
  }
}

/* Ends the input, collects the loader: its status (run: what it said). */
static int feed_end(feed_t *f, t_sma_run_t *run) {
  free(f->file);
  return t_sma_wait(&f->loader, run);
}

/* What a reader must get while a load runs: no such name (Linux: the
 * segment is still unnamed) or "being created", never an array. */
static void assert_not_openable(const char *name, const char *when) {
  sma_t *r = NULL;
  int rc = sma_open(&r, name, NULL, 0);
  if (rc == 0) /* the defect: say how much of what it got is not the data */
    fprintf(stderr, "%s: a reader opened %s, %zu of its %d elements not loaded yet\n", when, name,
            t_count_not(sma_view_get(r), 1.0), FEED_ITEMS);
  sma_free(r);
  cr_assert(rc == SMA_ENOENT || rc == SMA_EBUSY, "%s: sma_open gave %s", when, sma_err_name(rc));
  sma_info_t in;
  rc = sma_info_get(&in, name);
  cr_assert(rc == SMA_ENOENT || (rc == 0 && in.creating == 1),
            "%s: sma_info_get says %s, creating %d", when, sma_err_name(rc), in.creating);
}

Test(npy, a_reader_during_a_load_sees_no_array_until_all_of_it_is_in, .timeout = 120) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "npyslow");
  feed_t f;
  feed_start(&f, name);
  for (int step = 1; step < 8; step++) {
    feed_to(&f, f.len / 8 * (size_t)step);
    char when[64];
    snprintf(when, sizeof when, "after %d/8 of the file", step);
    assert_not_openable(name, when);
  }
  feed_to(&f, f.len);
  t_sma_run_t run;
  cr_assert_eq(feed_end(&f, &run), 0, "the load failed: %s", run.err);
  t_sma_run_free(&run);
  sma_t *r = NULL;
  cr_assert_eq(sma_open(&r, name, NULL, 0), 0);
  cr_assert_eq(t_count_not(sma_view_get(r), 1.0), 0);
  sma_free(r);
  cr_assert_eq(sma_unlink(name), 0);
}

Test(npy, a_load_killed_halfway_leaves_nothing_openable_and_gc_reclaims_it, .timeout = 120) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "npykill");
  feed_t f;
  feed_start(&f, name);
  feed_to(&f, f.len / 2); /* the loader is filling the new segment */
  assert_not_openable(name, "halfway");
  kill((pid_t)f.loader.pid, SIGKILL);
  feed_end(&f, NULL);
  assert_not_openable(name, "after the loader was killed");
  if (!t_caps().proves_unused) { /* gc keeps everything here: clean up */
    sma_unlink(name);
    return;
  }
  /* Linux POSIX leaves nothing at all (the file was never named);
   * elsewhere a marked segment whose record names the dead loader. */
  const char *gc[] = {"gc", "--prefix", name, NULL};
  cr_assert_eq(t_sma_run(NULL, NULL, gc), 0);
  cr_assert(t_segment_absent(name), "gc left the killed load's segment");
}
#endif
