/*
 * `sma cat`: an array's values as NumPy's str() prints them (NumPy's
 * default print options: 75 columns, summaries past 1000 elements with 3
 * items at each edge, up to 8 fractional digits, the shortest digits that
 * read back as the same value). One format per array, chosen over the
 * elements shown, as numpy/core/arrayprint.py does: integers right-aligned
 * to one width; floats positional, or scientific when the shown non-zero
 * magnitudes reach 1e8, go below 1e-4 or span more than 1000x; complex
 * numbers as a real and a signed imaginary format.
 */
#include "cli.h"
#include "sma.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE_WIDTH = 75, THRESHOLD = 1000, EDGE = 3, PRECISION = 8 };

/* ---- a growable string ----------------------------------------------------- */

typedef struct out {
  char *s;
  size_t len, cap;
  int failed;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->len + n + 1) cap *= 2;
    char *s2 = realloc(o->s, cap);
    if (s2 == NULL) {
      o->failed = 1;
      return;
    }
    o->s = s2, o->cap = cap;
  }
  memcpy(o->s + o->len, s, n);
  o->len += n;
  o->s[o->len] = '\0';
}
static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }
static void spaces(out_t *o, int n) {
  for (int i = 0; i < n; i++) put(o, " ", 1);
}

/* ---- one element ------------------------------------------------------------ */

typedef struct value {
  double re, im;       /* floats, complex, and integers that fit */
  long long i;         /* signed integers */
  unsigned long long u;
} value_t;

static float half_to_float(uint16_t h) {
  int exp = h >> 10 & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? ldexpf((float)mant, -24)
          : exp == 31 ? (mant ? NAN : INFINITY)
                      : ldexpf((float)(mant | 0x400), exp - 25);
  return h & 0x8000 ? -v : v;
}

static value_t value_at(const void *p, sma_dtype_t t) {
  value_t v = {0, 0, 0, 0};
  switch (t) {
  case SMA_BOOL: v.u = *(const unsigned char *)p != 0; break;
  case SMA_INT8: v.i = *(const int8_t *)p; break;
  case SMA_INT16: v.i = *(const int16_t *)p; break;
  case SMA_INT32: v.i = *(const int32_t *)p; break;
  case SMA_INT64: v.i = *(const int64_t *)p; break;
  case SMA_UINT8: v.u = *(const uint8_t *)p; break;
  case SMA_UINT16: v.u = *(const uint16_t *)p; break;
  case SMA_UINT32: v.u = *(const uint32_t *)p; break;
  case SMA_UINT64: v.u = *(const uint64_t *)p; break;
  case SMA_FLOAT16: v.re = half_to_float(*(const uint16_t *)p); break;
  case SMA_FLOAT32: v.re = *(const float *)p; break;
  case SMA_FLOAT64: v.re = *(const double *)p; break;
  case SMA_COMPLEX64: v.re = ((const float *)p)[0], v.im = ((const float *)p)[1]; break;
  case SMA_COMPLEX128: v.re = ((const double *)p)[0], v.im = ((const double *)p)[1]; break;
  default: break;
  }
  return v;
}

static int is_signed(sma_dtype_t t) {
  return t == SMA_INT8 || t == SMA_INT16 || t == SMA_INT32 || t == SMA_INT64;
}
static int is_float(sma_dtype_t t) { return t >= SMA_FLOAT16; }

/* Whether the decimal text reads back as x in the array's precision. */
static int reads_back(const char *text, double x, sma_dtype_t t) {
  double d = strtod(text, NULL);
  if (t == SMA_FLOAT64 || t == SMA_COMPLEX128) return d == x;
  float f = strtof(text, NULL);
  if (t == SMA_FLOAT16) return cli_half_from_float(f) == cli_half_from_float((float)x);
  return f == (float)x;
}

/* The shortest text of x with at most PRECISION digits after the point,
 * positional ('f') or scientific ('e'), trailing zeros trimmed but the
 * point kept ("1.", "0.25", "1.5e-05"). */
static void shortest(double x, sma_dtype_t t, char kind, char *buf, size_t cap) {
  char fmt[8] = {'%', '.', '*', kind, '\0'};
  for (int k = 0; k <= PRECISION; k++) {
    snprintf(buf, cap, fmt, k, x);
    if (reads_back(buf, x, t) || k == PRECISION) break;
  }
  char *e = strchr(buf, 'e'), exp[16] = "";
  if (e != NULL) {
    snprintf(exp, sizeof exp, "%s", e);
    *e = '\0';
  }
  if (strchr(buf, '.') == NULL) strcat(buf, ".");
  size_t n = strlen(buf);
  while (n > 0 && buf[n - 1] == '0') buf[--n] = '\0';
  strcat(buf, exp);
}

/* ---- one format per array: NumPy's FloatingFormat --------------------------- */

typedef struct ffmt {
  int exp, plus;        /* scientific; '+' before non-negative values */
  int pad_left, pad_right, precision, exp_size;
} ffmt_t;

typedef struct fmt {
  sma_dtype_t dtype;
  int width;            /* integers and booleans */
  ffmt_t re, im;
  /* what the shown elements were, gathered before formatting */
  double min_abs, max_abs;
  int any_nonzero, any_finite, any_nonfinite, neg_inf;
} fmt_t;

static void split_number(const char *s, int *int_len, int *frac_len, int *exp_len) {
  const char *dot = strchr(s, '.'), *e = strchr(s, 'e');
  *int_len = (int)(dot - s);
  *frac_len = (int)((e ? e : s + strlen(s)) - dot - 1);
  *exp_len = e ? (int)strlen(e + 2) : 0; /* digits after "e+" */
}

/* First pass over the shown values of one part (real or imaginary). */
typedef struct part_stats {
  double min_abs, max_abs;
  int any_nonzero, any_finite, any_nonfinite, neg_inf;
} part_stats_t;

static void stats_add(part_stats_t *s, double x) {
  if (!isfinite(x)) {
    s->any_nonfinite = 1;
    if (isinf(x) && x < 0) s->neg_inf = 1;
    return;
  }
  s->any_finite = 1;
  double a = fabs(x);
  if (a == 0) return;
  if (!s->any_nonzero || a < s->min_abs) s->min_abs = a;
  if (!s->any_nonzero || a > s->max_abs) s->max_abs = a;
  s->any_nonzero = 1;
}

/* Second pass: the widths, from the texts each finite value would get. */
static void ffmt_measure(ffmt_t *f, double x, sma_dtype_t t) {
  if (!isfinite(x)) return;
  char buf[512];
  shortest(x, t, f->exp ? 'e' : 'f', buf, sizeof buf);
  int il, fl, el;
  split_number(buf, &il, &fl, &el);
  if (f->plus && !signbit(x)) il++;
  if (il > f->pad_left) f->pad_left = il;
  if (fl > f->precision) f->precision = fl;
  if (el > f->exp_size) f->exp_size = el;
}

static void ffmt_finish(ffmt_t *f, const part_stats_t *s) {
  if (f->exp) f->pad_right = f->exp_size + 2 + f->precision;
  else f->pad_right = f->precision;
  if (s->any_nonfinite) {
    int offset = f->pad_right + 1, inflen = 3 + (f->plus || s->neg_inf);
    if (3 - offset > f->pad_left) f->pad_left = 3 - offset;
    if (inflen - offset > f->pad_left) f->pad_left = inflen - offset;
  }
}

static void ffmt_put(out_t *o, const ffmt_t *f, double x, sma_dtype_t t) {
  char buf[512];
  if (!isfinite(x)) {
    snprintf(buf, sizeof buf, "%s%s", isnan(x) ? "" : x < 0 ? "-" : f->plus ? "+" : "",
             isnan(x) ? "nan" : "inf");
    spaces(o, f->pad_left + f->pad_right + 1 - (int)strlen(buf));
    puts_(o, buf);
    return;
  }
  shortest(x, t, f->exp ? 'e' : 'f', buf, sizeof buf);
  int il, fl, el;
  split_number(buf, &il, &fl, &el);
  int sign = f->plus && !signbit(x);
  spaces(o, f->pad_left - il - sign);
  if (sign) puts_(o, "+");
  put(o, buf, (size_t)il + 1 + (size_t)fl); /* "int.frac" */
  if (!f->exp) {
    spaces(o, f->pad_right - fl);
    return;
  }
  for (int i = fl; i < f->precision; i++) puts_(o, "0");
  const char *e = strchr(buf, 'e');
  put(o, e, 2); /* "e+" or "e-" */
  for (int i = el; i < f->exp_size; i++) puts_(o, "0");
  puts_(o, e + 2);
}

/* ---- walking the shown elements ---------------------------------------------- */

typedef struct walk {
  const sma_view_t *v;
  int summarise;
  void (*visit)(struct walk *w, const unsigned char *p);
  fmt_t *f;
  part_stats_t re, im;
  int pass; /* 0: stats, 1: measure */
} walk_t;

static void visit_all(walk_t *w, size_t dim, const unsigned char *p) {
  if (dim == w->v->ndim) {
    w->visit(w, p);
    return;
  }
  size_t n = w->v->shape[dim];
  int cut = w->summarise && n > 2 * EDGE;
  for (size_t i = 0; i < n; i++) {
    if (cut && i == EDGE) i = n - EDGE;
    visit_all(w, dim + 1, p + (ptrdiff_t)i * w->v->strides[dim]);
  }
}

static void gather(walk_t *w, const unsigned char *p) {
  value_t x = value_at(p, w->v->dtype);
  fmt_t *f = w->f;
  if (!is_float(f->dtype)) {
    char buf[32];
    int n = is_signed(f->dtype) ? snprintf(buf, sizeof buf, "%lld", x.i)
                                : snprintf(buf, sizeof buf, "%llu", x.u);
    if (n > f->width) f->width = n;
    return;
  }
  if (w->pass == 0) {
    stats_add(&w->re, x.re);
    stats_add(&w->im, x.im);
  } else {
    ffmt_measure(&f->re, x.re, f->dtype);
    ffmt_measure(&f->im, x.im, f->dtype);
  }
}

static int wants_exp(const part_stats_t *s) {
  return s->any_nonzero &&
         (s->max_abs >= 1e8 || s->min_abs < 1e-4 || s->max_abs / s->min_abs > 1e3);
}

static void choose_format(const sma_view_t *v, int summarise, fmt_t *f) {
  memset(f, 0, sizeof *f);
  f->dtype = v->dtype;
  if (f->dtype == SMA_BOOL) {
    f->width = 5;
    return;
  }
  walk_t w = {v, summarise, gather, f, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, 0};
  visit_all(&w, 0, v->data);
  if (!is_float(f->dtype)) return;
  f->re.exp = wants_exp(&w.re);
  f->im.exp = wants_exp(&w.im);
  f->im.plus = 1;
  w.pass = 1;
  visit_all(&w, 0, v->data);
  ffmt_finish(&f->re, &w.re);
  ffmt_finish(&f->im, &w.im);
}

static void element(out_t *o, const fmt_t *f, const unsigned char *p) {
  value_t x = value_at(p, f->dtype);
  char buf[64];
  if (f->dtype == SMA_BOOL) {
    puts_(o, x.u ? " True" : "False");
  } else if (!is_float(f->dtype)) {
    int n = is_signed(f->dtype) ? snprintf(buf, sizeof buf, "%lld", x.i)
                                : snprintf(buf, sizeof buf, "%llu", x.u);
    spaces(o, f->width - n);
    puts_(o, buf);
  } else if (f->dtype == SMA_COMPLEX64 || f->dtype == SMA_COMPLEX128) {
    ffmt_put(o, &f->re, x.re, f->dtype);
    out_t im = {NULL, 0, 0, 0};
    ffmt_put(&im, &f->im, x.im, f->dtype);
    size_t used = im.s ? im.len : 0;
    while (used > 0 && im.s[used - 1] == ' ') used--;
    if (im.s) put(o, im.s, used);
    puts_(o, "j");
    if (im.s) put(o, im.s + used, im.len - used);
    free(im.s);
  } else {
    ffmt_put(o, &f->re, x.re, f->dtype);
  }
}

/* ---- the layout: numpy's _formatArray ------------------------------------------ */

typedef struct layout {
  const sma_view_t *v;
  const fmt_t *f;
  int summarise;
  out_t *o;
} layout_t;

static void extend_line(out_t *s, out_t *line, const char *word, size_t width,
                        size_t indent) {
  if (line->len + strlen(word) > width && line->len > indent) {
    size_t n = line->len;
    while (n > 0 && line->s[n - 1] == ' ') n--;
    put(s, line->s, n);
    puts_(s, "\n");
    line->len = 0;
    spaces(line, (int)indent);
  }
  puts_(line, word);
}

static void format_dim(const layout_t *l, size_t dim, const unsigned char *p,
                       size_t indent, size_t width, out_t *s);

static void item_text(const layout_t *l, size_t dim, const unsigned char *p, size_t indent,
                      size_t width, out_t *word) {
  if (dim == l->v->ndim) element(word, l->f, p);
  else format_dim(l, dim, p, indent, width, word);
}

/* Appends "[...]" for dimension dim at p. indent: the hanging indent's
 * width; width: the line width left. */
static void format_dim(const layout_t *l, size_t dim, const unsigned char *p,
                       size_t indent, size_t width, out_t *s) {
  size_t n = l->v->shape[dim];
  ptrdiff_t stride = l->v->strides[dim];
  int cut = l->summarise && n > 2 * EDGE;
  size_t left = l->v->ndim - dim;
  out_t body = {NULL, 0, 0, 0};
  if (left == 1) {
    out_t line = {NULL, 0, 0, 0};
    spaces(&line, (int)indent);
    size_t elem_width = width - 1;
    for (size_t i = 0; i < n; i++) {
      if (cut && i == EDGE) {
        extend_line(&body, &line, "...", elem_width, indent);
        puts_(&line, " ");
        i = n - EDGE;
      }
      out_t word = {NULL, 0, 0, 0};
      item_text(l, dim + 1, p + (ptrdiff_t)i * stride, indent + 1, width - 1, &word);
      extend_line(&body, &line, word.s ? word.s : "", elem_width, indent);
      free(word.s);
      if (i + 1 < n) puts_(&line, " ");
    }
    if (line.s) put(&body, line.s, line.len);
    free(line.s);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (cut && i == EDGE) {
        spaces(&body, (int)indent);
        puts_(&body, "...");
        for (size_t k = 1; k < left; k++) puts_(&body, "\n");
        i = n - EDGE;
      }
      spaces(&body, (int)indent);
      item_text(l, dim + 1, p + (ptrdiff_t)i * stride, indent + 1, width - 1, &body);
      if (i + 1 < n)
        for (size_t k = 1; k < left; k++) puts_(&body, "\n");
    }
  }
  puts_(s, "[");
  if (body.s && body.len > indent) put(s, body.s + indent, body.len - indent);
  puts_(s, "]");
  free(body.s);
}

/* A float as NumPy's scalar str() prints it (Python's repr): the shortest
 * digits that read back, positional from 1e-4 up to 1e16 ("1.0", "0.25"),
 * scientific beyond ("1e-05", "1.5e+16"). Complex parts drop a bare
 * ".0", as Python's complex repr does. */
static void scalar_float(out_t *o, double x, sma_dtype_t t, int part, int plus) {
  char buf[512];
  if (!isfinite(x)) {
    snprintf(buf, sizeof buf, "%s%s", isnan(x) ? (plus ? "+" : "") : x < 0 ? "-" : plus ? "+" : "",
             isnan(x) ? "nan" : "inf");
    puts_(o, buf);
    return;
  }
  double a = fabs(x);
  int positional = a == 0 || (a >= 1e-4 && a < 1e16);
  char fmt[8] = {'%', '.', '*', positional ? 'f' : 'e', '\0'};
  for (int k = 0; k <= 40; k++) {
    snprintf(buf, sizeof buf, fmt, k, x);
    if (reads_back(buf, x, t)) break;
  }
  if (positional && strchr(buf, '.') == NULL && !part) strcat(buf, ".0");
  if (plus && !signbit(x)) puts_(o, "+");
  puts_(o, buf);
}

/* A 0-d array prints its one value as NumPy's scalar str() does. */
static void scalar(out_t *o, const sma_view_t *v) {
  value_t x = value_at(v->data, v->dtype);
  char buf[64];
  if (v->dtype == SMA_BOOL) {
    puts_(o, x.u ? "True" : "False");
  } else if (!is_float(v->dtype)) {
    if (is_signed(v->dtype)) snprintf(buf, sizeof buf, "%lld", x.i);
    else snprintf(buf, sizeof buf, "%llu", x.u);
    puts_(o, buf);
  } else if (v->dtype != SMA_COMPLEX64 && v->dtype != SMA_COMPLEX128) {
    scalar_float(o, x.re, v->dtype, 0, 0);
  } else if (x.re == 0 && !signbit(x.re)) {
    scalar_float(o, x.im, v->dtype, 1, 0);
    puts_(o, "j");
  } else {
    puts_(o, "(");
    scalar_float(o, x.re, v->dtype, 1, 0);
    scalar_float(o, x.im, v->dtype, 1, 1);
    puts_(o, "j)");
  }
}

int cmd_cat(int argc, char **argv) {
  sma_t *a;
  int status = cli_open_arg("cat", argc, argv, NULL, &a);
  if (status != CLI_OK) return status;
  const sma_view_t *v = sma_view(a);
  size_t count = 1;
  for (size_t d = 0; d < v->ndim; d++) count *= v->shape[d];
  out_t o = {NULL, 0, 0, 0};
  if (v->ndim == 0) {
    scalar(&o, v);
  } else if (count == 0) {
    puts_(&o, "[]");
  } else {
    fmt_t f;
    int summarise = count > THRESHOLD;
    choose_format(v, summarise, &f);
    layout_t l = {v, &f, summarise, &o};
    format_dim(&l, 0, v->data, 1, LINE_WIDTH, &o);
  }
  if (o.failed) cli_fail("cat", sma_name(a), SMA_ENOMEM);
  sma_free(a);
  if (o.failed) {
    free(o.s);
    return CLI_ERR;
  }
  printf("%s\n", o.s ? o.s : "");
  free(o.s);
  return CLI_OK;
}
