#include "sma.h"
#include "../src/sma_int.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SMA_SLICE_TABLE
#  error "SMA_SLICE_TABLE must name tests/data/slices.tsv"
#endif

static size_t parse_list(const char *text, long long *out) {
  size_t n = 0;
  while (*text) {
    char *end;
    out[n++] = strtoll(text, &end, 10);
    text = *end == ',' ? end + 1 : end;
  }
  return n;
}

/* The table's strides, each with whether it fits this machine's
 * ptrdiff_t (the table holds the exact product where NumPy's overflowed:
 * see gen_slices.py). */
static size_t parse_strides(const char *text, long long *out, int *fits) {
  size_t n = 0;
  while (*text) {
    char *end;
    errno = 0;
    out[n] = strtoll(text, &end, 10);
    fits[n] = errno != ERANGE && out[n] <= PTRDIFF_MAX && out[n] >= PTRDIFF_MIN;
    n++;
    text = *end == ',' ? end + 1 : end;
  }
  return n;
}

static sma_slice_t sl(int64_t a, int64_t b, int64_t c) {
  sma_slice_t s = {a, b, c};
  return s;
}

/* Every row of the NumPy-generated table: same view shape, strides and
 * (for non-empty views) offset of the first element. A stride that does
 * not fit ptrdiff_t (NumPy's product overflowed: a step that jumps past
 * the end) belongs to a dimension of at most one element, and is 0. */
Test(slice, numpy_table) {
  FILE *f = fopen(SMA_SLICE_TABLE, "r");
  cr_assert_not_null(f, "cannot open %s", SMA_SLICE_TABLE);
  char line[1024];
  size_t rows = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    line[strcspn(line, "\n")] = '\0';
    char *fields[6];
    char *p = line;
    for (int i = 0; i < 6; i++) {
      fields[i] = p;
      p = strchr(p, '\t');
      if (i < 5) {
        cr_assert_not_null(p, "row %zu: too few fields", rows + 1);
        *p++ = '\0';
      }
    }
    long long shape_ll[SMA_MAX_DIMS], want_shape[SMA_MAX_DIMS], want_strides[SMA_MAX_DIMS];
    size_t ndim = parse_list(fields[0], shape_ll);
    size_t shape[SMA_MAX_DIMS];
    for (size_t d = 0; d < ndim; d++) shape[d] = (size_t)shape_ll[d];
    size_t itemsize = (size_t)atoi(fields[1]);
    sma_dtype_t dtype = itemsize == 1   ? SMA_UINT8
                        : itemsize == 2 ? SMA_INT16
                        : itemsize == 4 ? SMA_FLOAT32
                        : itemsize == 8 ? SMA_FLOAT64
                                        : SMA_COMPLEX128;
    sma_slice_t slices[SMA_MAX_DIMS];
    size_t nslice;
    cr_assert_eq(sma_slice_parse(slices, SMA_MAX_DIMS, &nslice, fields[2]), 0,
                 "row %zu: parse '%s'", rows + 1, fields[2]);
    sma_view_t v;
    static char base[1];
    cr_assert_eq(sma__view_build(&v, base, ndim, shape, dtype, slices, nslice), 0);
    size_t n1 = parse_list(fields[3], want_shape);
    int fits[SMA_MAX_DIMS];
    size_t n2 = parse_strides(fields[4], want_strides, fits);
    cr_assert_eq(n1, ndim);
    cr_assert_eq(n2, ndim);
    int empty = 0;
    for (size_t d = 0; d < ndim; d++) {
      cr_assert_eq((long long)v.shape[d], want_shape[d],
                   "row %zu dim %zu: shape %zu != %lld (%s on %s)", rows + 1, d, v.shape[d],
                   want_shape[d], fields[2], fields[0]);
      long long want = fits[d] ? want_strides[d] : 0;
      cr_assert(fits[d] || v.shape[d] <= 1, "row %zu dim %zu: overflow in %zu elements", rows + 1,
                d, v.shape[d]);
      cr_assert_eq((long long)v.strides[d], want, "row %zu dim %zu: stride %td != %lld (%s on %s)",
                   rows + 1, d, v.strides[d], want, fields[2], fields[0]);
      empty |= v.shape[d] == 0;
    }
    if (!empty)
      cr_assert_eq((long long)((char *)v.data - base), atoll(fields[5]), "row %zu: offset",
                   rows + 1);
    rows++;
  }
  fclose(f);
  cr_assert_geq(rows, 200, "the table has %zu rows", rows);
}

Test(slice, resolve_python_semantics) {
  int64_t start, step;
  size_t n;
  sma_slice_t all = SMA_SLICE_ALL;
  cr_assert_eq(sma__slice_resolve(&all, 10, &start, &step, &n), 0);
  cr_assert(start == 0 && step == 1 && n == 10);
  sma_slice_t rev = sl(SMA_NONE, SMA_NONE, -1);
  sma__slice_resolve(&rev, 10, &start, &step, &n);
  cr_assert(start == 9 && step == -1 && n == 10);
  sma_slice_t neg = sl(-3, SMA_NONE, SMA_NONE);
  sma__slice_resolve(&neg, 10, &start, &step, &n);
  cr_assert(start == 7 && n == 3);
  sma_slice_t clamp = sl(-100, 100, 3);
  sma__slice_resolve(&clamp, 10, &start, &step, &n);
  cr_assert(start == 0 && step == 3 && n == 4);
  sma_slice_t back = sl(100, -100, -4);
  sma__slice_resolve(&back, 10, &start, &step, &n);
  cr_assert(start == 9 && step == -4 && n == 3);
  sma_slice_t zero = sl(0, 5, 0);
  cr_assert_eq(sma__slice_resolve(&zero, 10, &start, &step, &n), SMA_ESTEP);
  sma_slice_t extreme = sl(INT64_MIN + 1, INT64_MAX, INT64_MAX);
  cr_assert_eq(sma__slice_resolve(&extreme, 10, &start, &step, &n), 0);
  cr_assert_eq(n, 1);
}

Test(slice, parse_text_forms) {
  sma_slice_t s[4];
  size_t n;
  cr_assert_eq(sma_slice_parse(s, 4, &n, "10:20, ::2, -5:"), 0);
  cr_assert_eq(n, 3);
  cr_assert(s[0].start == 10 && s[0].stop == 20 && s[0].step == SMA_NONE);
  cr_assert(s[1].start == SMA_NONE && s[1].stop == SMA_NONE && s[1].step == 2);
  cr_assert(s[2].start == -5 && s[2].stop == SMA_NONE);
  cr_assert_eq(sma_slice_parse(s, 4, &n, "::-1"), 0);
  cr_assert(n == 1 && s[0].step == -1);
  cr_assert_eq(sma_slice_parse(s, 4, &n, " "), 0);
  cr_assert_eq(n, 0);
  cr_assert_eq(sma_slice_parse(s, 4, &n, ":,:"), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(sma_slice_parse(s, 4, &n, "1:2,"), 0, "trailing comma");
  cr_assert_eq(n, 1);
  cr_assert_eq(sma_slice_parse(s, 4, &n, " +3 : -4 : +2 "), 0);
  cr_assert(s[0].start == 3 && s[0].stop == -4 && s[0].step == 2);
  cr_assert_eq(sma_slice_parse(s, 4, &n, "9223372036854775807:-9223372036854775807"), 0);
  cr_assert(s[0].start == INT64_MAX && s[0].stop == -INT64_MAX);
}

Test(slice, parse_errors) {
  sma_slice_t s[2];
  size_t n = 99;
  const char *malformed[] = {"5",
                             "1:2:3:4",
                             "a:b",
                             "1::x",
                             ",",
                             "1:2,,3:4",
                             "...",
                             "1 2:3",
                             "--1:",
                             "+:",
                             "9223372036854775808:",
                             "-9223372036854775808:",
                             "1:2;"};
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
    cr_assert_eq(sma_slice_parse(s, 2, &n, malformed[i]), SMA_ESLICE, "'%s'", malformed[i]);
  cr_assert_eq(sma_slice_parse(s, 2, &n, "::0"), SMA_ESTEP);
  cr_assert_eq(sma_slice_parse(s, 2, &n, ":,:,:"), SMA_ETOOMANYSLICES);
  cr_assert_eq(sma_slice_parse(s, 2, &n, NULL), SMA_EINVAL);
  cr_assert_eq(sma_slice_parse(s, 2, NULL, ":"), SMA_EINVAL);
}

Test(slice, format_round_trips) {
  const char *texts[] = {"10:20,::2,-5:", "::-1", ":", "1:2:3,-1:-2:-3,:5"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    sma_slice_t s[4];
    size_t n;
    char buf[128];
    cr_assert_eq(sma_slice_parse(s, 4, &n, texts[i]), 0);
    cr_assert_eq(sma_slice_format(s, n, buf, &(size_t){sizeof buf}), 0);
    cr_assert_str_eq(buf, texts[i]);
  }
  sma_slice_t one = sl(123456, SMA_NONE, SMA_NONE);
  char small[4];
  size_t size = sizeof small;
  cr_assert_eq(sma_slice_format(&one, 1, small, &size), SMA_ENOBUFS);
  cr_assert_str_eq(small, "");
  cr_assert_eq(size, strlen("123456:") + 1, "the size needed, NUL included");
  char exact[8];
  cr_assert_eq(sma_slice_format(&one, 1, exact, &size), 0);
  cr_assert_str_eq(exact, "123456:");
  cr_assert_eq(size, 7);
  size_t none = 0;
  cr_assert_eq(sma_slice_format(NULL, 0, NULL, &none), SMA_ENOBUFS);
  cr_assert_eq(none, 1, "even nothing needs its NUL");
}

Test(slice, view_of_more_slices_than_dims_is_refused) {
  size_t shape[1] = {4};
  sma_slice_t s[2] = {SMA_SLICE_ALL, SMA_SLICE_ALL};
  sma_view_t v;
  cr_assert_eq(sma__view_build(&v, NULL, 1, shape, SMA_UINT8, s, 2), SMA_ETOOMANYSLICES);
}

Test(slice, fixed_rank_helpers_agree_with_sma_view_at) {
  static char base[4096];
  size_t shape3[3] = {4, 5, 6};
  sma_slice_t s[3] = {{3, SMA_NONE, -1}, {1, 5, 2}, {SMA_NONE, SMA_NONE, -2}};
  sma_view_t v;
  cr_assert_eq(sma__view_build(&v, base, 3, shape3, SMA_FLOAT32, s, 3), 0);
  for (size_t i = 0; i < v.shape[0]; i++)
    for (size_t j = 0; j < v.shape[1]; j++)
      for (size_t k = 0; k < v.shape[2]; k++) {
        size_t idx[3] = {i, j, k};
        cr_assert_eq(sma_view_at3(&v, i, j, k), sma_view_at(&v, idx));
      }
  cr_assert_eq(sma__view_build(&v, base, 2, shape3, SMA_FLOAT32, s, 2), 0);
  size_t idx2[2] = {2, 1};
  cr_assert_eq(sma_view_at2(&v, 2, 1), sma_view_at(&v, idx2));
  cr_assert_eq(sma__view_build(&v, base, 1, shape3, SMA_FLOAT32, s, 1), 0);
  size_t idx1[1] = {3};
  cr_assert_eq(sma_view_at1(&v, 3), sma_view_at(&v, idx1));
}

/* Regression: stride x step overflowed (signed overflow, UB) for a huge
 * step, reachable from `sma describe X --slice ::9223372036854775807` and
 * from descriptors other processes send. Such a step selects one element,
 * whose stride is never used: NumPy's one-element view (issue 24; it had
 * become SMA_EOVERFLOW), with stride 0. */
Test(slice, huge_step_is_a_one_element_view_not_ub) {
  static char base[120];
  size_t shape[2] = {5, 3};
  sma_view_t v;
  sma_slice_t huge[1] = {{SMA_NONE, SMA_NONE, INT64_MAX}};
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT64, huge, 1), 0);
  cr_assert(v.shape[0] == 1 && v.shape[1] == 3 && v.strides[0] == 0 && v.strides[1] == 8);
  cr_assert_eq(v.data, base);
  sma_slice_t most_negative[1] = {{SMA_NONE, SMA_NONE, INT64_MIN + 1}};
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT64, most_negative, 1), 0);
  cr_assert(v.shape[0] == 1 && v.strides[0] == 0);
  cr_assert_eq((char *)v.data - base, 4 * 24, "the last row, as NumPy's [::-(2**63-1)]");
  /* The issue's case: 8 x 2**61 is 2**64. */
  size_t five[1] = {5};
  sma_slice_t issue[1] = {{SMA_NONE, SMA_NONE, INT64_C(2305843009213693952)}};
  cr_assert_eq(sma__view_build(&v, base, 1, five, SMA_FLOAT64, issue, 1), 0);
  cr_assert(v.shape[0] == 1 && v.strides[0] == 0 && v.data == base);
  /* A step whose product still fits is NumPy's answer: one element. */
  sma_slice_t big[1] = {{SMA_NONE, SMA_NONE, 1000000}};
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT64, big, 1), 0);
  cr_assert_eq(v.shape[0], 1);
  cr_assert_eq(v.strides[0], 24 * 1000000);
}

/* An overflow that matters stays an error: strides that do not fit. */
Test(slice, strides_beyond_ptrdiff_are_an_overflow_error) {
  static char base[1];
  size_t shape[2] = {(size_t)PTRDIFF_MAX / 4 + 1, 8};
  sma_view_t v;
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT64, NULL, 0), SMA_EOVERFLOW);
}

/* The same through the public API: a loaded segment and huge steps give
 * the one element NumPy gives, read and written through the view. */
Test(slice, huge_step_through_load) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "hugestep");
  size_t shape[1] = {5};
  sma_t *c, *w;
  cr_assert_eq(
      sma_new(&c,
              &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT64}),
      0);
  cr_assert_eq(sma_create(c, 0), 0);
  double *all = sma_data(c);
  for (int i = 0; i < 5; i++) all[i] = i;
  const char *texts[] = {"::2305843009213693952", "::9223372036854775807", "::-9223372036854775807",
                         "2::4611686018427387904"};
  const double want[] = {0, 0, 4, 2};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    sma_slice_t s[1];
    size_t n;
    cr_assert_eq(sma_slice_parse(s, 1, &n, texts[i]), 0);
    cr_assert_eq(sma_open(&w, name, s, n), 0, "%s", texts[i]);
    const sma_view_t *v = sma_view_get(w);
    cr_assert_eq(v->shape[0], 1, "%s", texts[i]);
    cr_assert_eq(*(double *)sma_view_at1(v, 0), want[i], "%s", texts[i]);
    void *p;
    cr_assert_eq(sma_at(&p, w, (size_t[]){0}), 0);
    cr_assert_eq(sma_at(&p, w, (size_t[]){1}), SMA_EBOUNDS);
    sma_free(w);
  }
  sma_free(c);
  cr_assert_eq(sma_unlink(name), 0);
}

/* Regression: an array with a zero-length dimension has NumPy's strides,
 * not zeros: np.ndarray((3,0), 'f4', buffer=b'') has strides (4,4), and
 * [::-1] gives (-4,4). */
Test(slice, empty_dimension_strides_match_numpy) {
  static char base[1];
  sma_view_t v;
  size_t shape[2] = {3, 0};
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT32, NULL, 0), 0);
  cr_assert(v.strides[0] == 4 && v.strides[1] == 4, "(%td,%td)", v.strides[0], v.strides[1]);
  sma_slice_t rev[1] = {{SMA_NONE, SMA_NONE, -1}};
  cr_assert_eq(sma__view_build(&v, base, 2, shape, SMA_FLOAT32, rev, 1), 0);
  cr_assert(v.strides[0] == -4 && v.strides[1] == 4, "(%td,%td)", v.strides[0], v.strides[1]);
  size_t shape4[4] = {0, 3, 0, 2}; /* NumPy: (48, 16, 16, 8) for f8 */
  cr_assert_eq(sma__view_build(&v, base, 4, shape4, SMA_FLOAT64, NULL, 0), 0);
  cr_assert(v.strides[0] == 48 && v.strides[1] == 16 && v.strides[2] == 16 && v.strides[3] == 8);
}
