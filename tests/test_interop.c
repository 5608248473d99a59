/* NumPy interop: offset 0 of a libsma segment is exactly what NumPy's
 * ndarray(shape, dtype, buffer=SharedMemory(name).buf) expects, both ways. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#ifndef SMA_PYTHON
#  define SMA_PYTHON ""
#endif

static void need_python(void) {
  if (SMA_PYTHON[0] == '\0')
    cr_skip_test(
        "no python3 here that binds this build's libsma (none with NumPy, or a cross build)");
  if (strcmp(sma_backend(), "posix") != 0)
    cr_skip_test("Python's SharedMemory uses POSIX shm_open names");
}

/* 1 if the Python that runs NumPy has this machine's byte order, 0 if
 * not: a cross build run under qemu-user (s390x) beside the host's
 * little-endian NumPy. */
static int python_same_byte_order(void) {
  const char *big = strcmp(t_native("<"), ">") == 0 ? "big" : "little";
  char code[96];
  snprintf(code, sizeof code, "import sys; sys.exit(sys.byteorder != '%s')", big);
  const char *argv[] = {SMA_PYTHON, "-c", code, NULL};
  return t_run(argv) == 0;
}

/* Sharing array data with NumPy needs NumPy of this byte order. */
static void need_numpy_peer(void) {
  need_python();
  if (!python_same_byte_order())
    cr_skip_test("NumPy here has the other byte order (qemu-user): see "
                 "a_segment_of_the_other_byte_order_is_refused");
}

/* A segment of the other byte order, which qemu-user makes visible on one
 * machine (the host's NumPy beside an s390x build): the record reads
 * identically, and its type string says the data is foreign, so loads and
 * the tools report SMA_EBYTEORDER, not a corrupt record. */
Test(interop, a_segment_of_the_other_byte_order_is_refused) {
  need_python();
  if (python_same_byte_order())
    cr_skip_test("NumPy here has this machine's byte order (run in the s390x build)");
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-foreign");
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "sma-create", name,
                        "3,5,2",    "float64",          NULL};
  cr_assert_eq(t_run(argv), 0);
  sma_t *a = NULL;
  int open_rc = sma_open(&a, name, NULL, 0);
  sma_info_t info;
  int info_rc = sma_info_get(&info, name);
  cr_assert_eq(sma_unlink(name), 0);
  cr_assert_eq(open_rc, SMA_EBYTEORDER, "%s", sma_err_name(open_rc));
  cr_assert_null(a);
  cr_assert_eq(info_rc, SMA_EBYTEORDER, "%s", sma_err_name(info_rc));
}

Test(interop, numpy_reads_what_c_wrote) {
  need_numpy_peer();
  size_t shape[3] = {6, 5, 4};
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-read");
  sma_t *a;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 3, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  float *d = sma_data(a);
  for (int i = 0; i < 120; i++) d[i] = (float)i;
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "read", name, "6,5,4",
                        "<f4",      "1:5:2, ::-1, -2:", NULL};
  cr_assert_eq(t_run(argv), 0);
  d[7] = -1; /* the check can fail */
  cr_assert_eq(t_run(argv), 1);
  sma_unlink(name);
  sma_free(a);
}

Test(interop, c_loads_what_numpy_created_through_a_slice) {
  need_numpy_peer();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-made");
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "create", name, "10,8", "<i8", NULL};
  cr_assert_eq(t_run(argv), 0);
  size_t shape[2] = {10, 8};
  sma_slice_t s[2] = {{8, 1, -3}, {1, SMA_NONE, 2}};
  sma_t *a;
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = name,
                                               .ndim = 2,
                                               .shape = shape,
                                               .dtype = SMA_INT64,
                                               .slice = s,
                                               .nslice = 2}),
               0);
  cr_assert_eq(sma_load(a), 0, "no record: loads by size");
  const sma_view_t *v = sma_view_get(a);
  cr_assert(v->shape[0] == 3 && v->shape[1] == 4);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) {
      size_t idx[2] = {i, j};
      int64_t want = (int64_t)((8 - 3 * i) * 8 + 1 + 2 * j);
      cr_assert_eq(*(int64_t *)sma_view_at(v, idx), want);
    }
  sma_t *by_name;
  cr_assert_eq(sma_open(&by_name, name, NULL, 0), SMA_ENORECORD);
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
}

/* python/sma opens a C-created segment by name alone (the record gives
 * shape and dtype) and writes through a slice; C sees the write. */
Test(interop, python_helper_opens_by_name_alone) {
  need_numpy_peer();
  size_t shape[2] = {6, 7};
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-byname");
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_INT16}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  int16_t *d = sma_data(a);
  for (int i = 0; i < 42; i++) d[i] = (int16_t)i;
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "byname", name, "::2, -1:", "-5", NULL};
  cr_assert_eq(t_run(argv), 0);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 7; j++) {
      int16_t want = (i % 2 == 0 && j == 6) ? -5 : (int16_t)(i * 7 + j);
      cr_assert_eq(d[i * 7 + j], want, "[%d,%d]", i, j);
    }
  sma_unlink(name);
  sma_free(a);
}

/* python/sma writes libsma's record, so C opens a Python-made segment
 * knowing only its name. */
Test(interop, c_opens_python_helper_segment_by_name) {
  need_numpy_peer();
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "py-sma");
  const char *argv[] = {SMA_PYTHON, SMA_INTEROP_SCRIPT, "sma-create", name,
                        "3,5,2",    "float64",          NULL};
  cr_assert_eq(t_run(argv), 0);
  sma_t *a;
  cr_assert_eq(sma_open(&a, name, NULL, 0), 0);
  cr_assert_eq(sma_dtype_get(a), SMA_FLOAT64);
  cr_assert_eq(sma_ndim(a), 3);
  cr_assert_eq(sma_shape(a)[1], 5);
  cr_assert_neq(sma_creator_pid(a), 0);
  const double *d = sma_data(a);
  for (int i = 0; i < 30; i++) cr_assert_eq(d[i], (double)i);
  sma_info_t info;
  cr_assert_eq(sma_info_get(&info, name), 0);
  cr_assert_eq(info.creator_alive, 0, "the python process has exited");
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
}

/* Regression: python/sma passed the record's dtype text to np.dtype():
 * a forged "|O" opened an object array whose pointers came from the
 * segment (reading an element segfaulted the worker); strings, datetimes
 * and the other byte order opened too; an undecodable field raised
 * UnicodeDecodeError; creating and unlinking twice made the resource
 * tracker print KeyError tracebacks. tests/python_reader.py forges each. */
Test(interop, python_reader_refuses_hostile_records) {
  need_python();
  /* The script patches records through Python's SharedMemory, which
   * opens the OS object by the name itself: the names stay within the
   * shortest OS limit (macOS: 30 bytes), where no digest names them. */
  char prefix[SMA_NAME_BUF];
  snprintf(prefix, sizeof prefix, T_PREFIX "-%lu-ph", t_pid() % 100000);
  const char *argv[] = {SMA_PYTHON, SMA_PYTHON_READER_SCRIPT, prefix, NULL};
  cr_assert_eq(t_run(argv), 0, "see the script's FAIL lines above");
}

/* Regression: the NumPy example (once the README's, now docs/python.md's)
 * attached with plain SharedMemory(name), whose resource tracker unlinks
 * the segment when the attaching process exits. The doc's block itself
 * is run here, against
 * a C-created segment, which must survive it with the write visible. */
Test(interop, python_doc_numpy_example_keeps_the_segment) {
  need_numpy_peer();
  FILE *f = fopen(SMA_PYTHON_DOC, "r");
  cr_assert_not_null(f);
  static char text[1 << 17];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  const char *section = strstr(text, "### Sharing segments with NumPy");
  cr_assert_not_null(section);
  const char *start = strstr(section, "```python\n");
  cr_assert_not_null(start);
  start += strlen("```python\n");
  const char *end = strstr(start, "```");
  cr_assert_not_null(end);
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "pydoc");
  size_t shape[2] = {4096, 4096};
  if (t_dev_shm_free() >= 0 && t_dev_shm_free() < (long long)(65 << 20))
    cr_skip_test("the docs' 64 MiB example does not fit this /dev/shm (%lld bytes free)",
                 t_dev_shm_free());
  sma_t *a;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  char path[64];
  snprintf(path, sizeof path, "smatest-pydoc-%lu.py", t_pid());
  FILE *py = fopen(path, "w");
  cr_assert_not_null(py);
  const char *placeholder = strstr(start, "\"1-job-...\"");
  cr_assert(placeholder != NULL && placeholder < end, "the block names \"1-job-...\"");
  fwrite(start, 1, (size_t)(placeholder - start), py);
  fprintf(py, "\"%s\"", name);
  const char *rest = placeholder + strlen("\"1-job-...\"");
  fwrite(rest, 1, (size_t)(end - rest), py);
  fclose(py);
  const char *argv[] = {SMA_PYTHON, path, NULL};
  int rc = t_run(argv);
  remove(path);
  cr_assert_eq(rc, 0, "docs/python.md's NumPy block runs");
  cr_assert_eq(t_segment_exists(name), 1, "the segment survives the Python process");
  cr_assert_eq(((float *)sma_data(a))[0], 7.0f, "and its write is there");
  sma_unlink(name);
  sma_free(a);
}
