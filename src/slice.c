/* NumPy basic slicing: resolving start:stop:step, building views, and the
 * text form "10:20, ::2, -5:". */
#include "sma_int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Python's PySlice_AdjustIndices for one bound: negative values count from
 * the end, then the result is clamped to [lo, hi] where the limits depend
 * on the step's sign (-1 and len-1 going backwards, 0 and len forwards). */
static int64_t clamp_bound(int64_t v, int64_t len, bool backwards) {
  if (v < 0) {
    v += len;
    if (v < 0) v = backwards ? -1 : 0;
  } else if (v >= len) {
    v = backwards ? len - 1 : len;
  }
  return v;
}

int sma__slice_resolve(const sma_slice_t *s, size_t len, int64_t *start, int64_t *step,
                       size_t *count) {
  int64_t st = s->step == SMA_NONE ? 1 : s->step;
  if (st == 0) return SMA_ESTEP;
  /* Dimensions are bounded by the overflow check on the byte size, so a
   * length always fits in int64. */
  int64_t n = (int64_t)len;
  bool back = st < 0;
  int64_t b = s->start == SMA_NONE ? (back ? n - 1 : 0) : clamp_bound(s->start, n, back);
  int64_t e = s->stop == SMA_NONE ? (back ? -1 : n) : clamp_bound(s->stop, n, back);
  uint64_t c = 0;
  if (back && e < b)
    c = (uint64_t)(b - e - 1) / (uint64_t)(-st) + 1; /* st > INT64_MIN */
  else if (!back && b < e)
    c = (uint64_t)(e - b - 1) / (uint64_t)st + 1;
  /* An empty result is normalised as NumPy does (start 0, step 1), so the
   * view's strides match NumPy's even for empty dimensions. */
  *start = c == 0 ? 0 : b;
  *step = c == 0 ? 1 : st;
  *count = (size_t)c;
  return 0;
}

/* *out = a x b in ptrdiff_t; false on overflow. */
static bool mul_ptrdiff(ptrdiff_t a, ptrdiff_t b, ptrdiff_t *out) {
  if (a == 0 || b == 0) {
    *out = 0;
    return true;
  }
  if (a > 0 ? (b > 0 ? a > PTRDIFF_MAX / b : b < PTRDIFF_MIN / a)
            : (b > 0 ? a < PTRDIFF_MIN / b : a < PTRDIFF_MAX / b))
    return false;
  *out = a * b;
  return true;
}

/* *out = a + b in ptrdiff_t; false on overflow. */
static bool add_ptrdiff(ptrdiff_t a, ptrdiff_t b, ptrdiff_t *out) {
  if ((b > 0 && a > PTRDIFF_MAX - b) || (b < 0 && a < PTRDIFF_MIN - b)) return false;
  *out = a + b;
  return true;
}

/* C-order byte strides of the whole array, last dimension fastest, as
 * NumPy computes them: a zero-length dimension does not multiply the
 * strides of the dimensions before it (shape (3,0) float32 has strides
 * (4,4)). SMA_EOVERFLOW if a stride does not fit (a shape that did not
 * pass sma__array_bytes). */
static int base_strides(sma_view_t *v, const size_t *shape) {
  ptrdiff_t stride = (ptrdiff_t)v->itemsize;
  for (size_t d = v->ndim; d-- > 0;) {
    v->strides[d] = stride;
    if (shape[d] == 0) continue;
    if (shape[d] > (size_t)PTRDIFF_MAX || !mul_ptrdiff(stride, (ptrdiff_t)shape[d], &stride))
      return SMA_EOVERFLOW;
  }
  return 0;
}

/* The stride of a sliced dimension: stride x step, as NumPy computes it.
 * The step is any int64, so the product can overflow (ptrdiff_t, or the
 * step itself where ptrdiff_t is 32 bits), but only when the step jumps
 * past the end at once: two elements or more lie inside the array, whose
 * strides fit. A dimension of at most one element never uses its stride,
 * so there the overflow is no error (NumPy gives a one-element view, with
 * the product wrapped around) and the stride is 0. */
static int step_stride(ptrdiff_t stride, int64_t step, size_t count, ptrdiff_t *out) {
  if (step <= PTRDIFF_MAX && step >= PTRDIFF_MIN && mul_ptrdiff(stride, (ptrdiff_t)step, out))
    return 0;
  if (count > 1) return SMA_EOVERFLOW; /* cannot happen: see above */
  *out = 0;
  return 0;
}

int sma__view_build(sma_view_t *view, void *base, size_t ndim, const size_t *shape,
                    sma_dtype_t dtype, const sma_slice_t *slices, size_t nslice) {
  if (nslice > ndim) return SMA_ETOOMANYSLICES;
  size_t itemsize = sma_dtype_size(dtype);
  sma_view_t v;
  memset(&v, 0, sizeof v);
  v.ndim = ndim;
  v.dtype = dtype;
  v.itemsize = itemsize;
  int rc = base_strides(&v, shape);
  if (rc != 0) return rc;
  ptrdiff_t offset = 0;
  for (size_t d = 0; d < ndim; d++) {
    v.shape[d] = shape[d];
    if (d >= nslice) continue;
    int64_t start, step;
    size_t count;
    rc = sma__slice_resolve(&slices[d], shape[d], &start, &step, &count);
    if (rc != 0) return rc;
    /* start < shape[d], so start x stride and the running offset stay
     * inside the array, whose byte size fits. */
    ptrdiff_t moved;
    if (!mul_ptrdiff(v.strides[d], (ptrdiff_t)start, &moved) ||
        !add_ptrdiff(offset, moved, &offset))
      return SMA_EOVERFLOW;
    rc = step_stride(v.strides[d], step, count, &v.strides[d]);
    if (rc != 0) return rc;
    v.shape[d] = count;
  }
  /* An empty view has no element to point at: it keeps the base rather
   * than an address that may lie outside the mapping. */
  bool empty = false;
  for (size_t d = 0; d < ndim; d++) empty = empty || v.shape[d] == 0;
  v.data = (base == NULL || empty) ? base : (char *)base + offset;
  *view = v;
  return 0;
}

size_t sma_view_size(const sma_view_t *view) {
  if (view == NULL) return 0;
  size_t n = 1;
  for (size_t d = 0; d < view->ndim; d++) n *= view->shape[d];
  return n;
}

/* ---- text form ----------------------------------------------------------- */

/* Parses an optional signed decimal integer at *pp. Leaves SMA_NONE in
 * *value when there is none. SMA_ESLICE when it does not fit int64. */
static int parse_bound(const char **pp, int64_t *value) {
  const char *p = sma__skip_blanks(*pp);
  bool negative = false;
  *value = SMA_NONE;
  if (*p == '+' || *p == '-') {
    negative = *p == '-';
    p++;
    if (*p < '0' || *p > '9') return SMA_ESLICE;
  }
  if (*p < '0' || *p > '9') {
    *pp = p;
    return 0;
  }
  /* Accumulate as a negative number: its range includes INT64_MIN + 1,
   * and INT64_MIN itself is SMA_NONE, so it is refused below. */
  int64_t acc = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    int digit = *p - '0';
    if (acc < (INT64_MIN + digit) / 10) return SMA_ESLICE;
    acc = acc * 10 - digit;
  }
  if (!negative) {
    if (acc == INT64_MIN) return SMA_ESLICE;
    acc = -acc;
  } else if (acc == INT64_MIN) {
    return SMA_ESLICE; /* reserved for SMA_NONE */
  }
  *value = acc;
  *pp = sma__skip_blanks(p);
  return 0;
}

/* One element "start:stop[:step]"; a lone integer is an index, not a
 * slice, and is refused. */
static int parse_one(const char **pp, sma_slice_t *s) {
  const char *p = *pp;
  int rc = parse_bound(&p, &s->start);
  if (rc != 0) return rc;
  if (*p != ':') return SMA_ESLICE;
  p++;
  if ((rc = parse_bound(&p, &s->stop)) != 0) return rc;
  s->step = SMA_NONE;
  if (*p == ':') {
    p++;
    if ((rc = parse_bound(&p, &s->step)) != 0) return rc;
    if (s->step == 0) return SMA_ESTEP;
  }
  *pp = p;
  return 0;
}

int sma_slice_parse(sma_slice_t *out, size_t cap, size_t *count, const char *text) {
  if (text == NULL || count == NULL || (out == NULL && cap > 0)) return SMA_EINVAL;
  *count = 0;
  const char *p = sma__skip_blanks(text);
  if (*p == '\0') return 0;
  size_t n = 0;
  for (;;) {
    sma_slice_t s;
    int rc = parse_one(&p, &s);
    if (rc != 0) return rc;
    if (n == cap) return SMA_ETOOMANYSLICES;
    out[n++] = s;
    p = sma__skip_blanks(p);
    if (*p == '\0') break;
    if (*p != ',') return SMA_ESLICE;
    p = sma__skip_blanks(p + 1);
    if (*p == '\0') break; /* a trailing comma, as in Python tuples */
  }
  *count = n;
  return 0;
}

static void put_bound(sma__text_t *t, int64_t v) {
  if (v != SMA_NONE) sma__text_putf(t, "%lld", (long long)v);
}

int sma_slice_format(const sma_slice_t *slices, size_t count, char *buf, size_t *size) {
  if (slices == NULL && count > 0) return SMA_EINVAL;
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  for (size_t i = 0; i < count; i++) {
    const sma_slice_t *s = &slices[i];
    if (i > 0) sma__text_put(&out, ",");
    put_bound(&out, s->start);
    sma__text_put(&out, ":");
    put_bound(&out, s->stop);
    if (s->step != SMA_NONE) {
      sma__text_put(&out, ":");
      put_bound(&out, s->step);
    }
  }
  return sma__text_end(&out, size);
}
