/*
 * `sma cat`: an array's values as NumPy's str() prints them (NumPy's
 * default print options: 75 columns, summaries past 1000 elements with 3
 * items at each edge, up to 8 fractional digits). One format per array,
 * chosen over the elements shown, as numpy/core/arrayprint.py does:
 * integers right-aligned to one width; floats positional, or scientific
 * when the shown non-zero magnitudes reach 1e8, go below 1e-4 or span more
 * than 1000x (the ratio rounded to the dtype); complex numbers as a real
 * and a signed imaginary format. Digits come from float_digits.c, which
 * makes them as NumPy's Dragon4 does: the unique digits in a first pass,
 * then, in scientific notation, every element to the longest fraction of
 * the first pass with its own exact digits past its unique ones.
 */
#include "cli.h"
#include "float_digits.h"
#include "sma.h"
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] = "usage: sma cat NAME [--slice TEXT]\n"
                           "Prints the array's values as NumPy's str() does: nested brackets, one\n"
                           "width per array, lines wrapped at 75 columns, and over 1000 elements\n"
                           "summarised with ... (3 items at each edge).\n";

enum { LINE_WIDTH = 75, THRESHOLD = 1000, EDGE = 3, PRECISION = 8 };

/* Room for one element's text: NumPy's widest here is a positional
 * float64 below 1e16 or 17 digits and an exponent, padded to the widest
 * of the array; the formats cut nothing shorter than this. */
enum { FLOAT_TEXT_CAP = 512 };

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

static int is_signed(sma_dtype_t t) {
  return t == SMA_INT8 || t == SMA_INT16 || t == SMA_INT32 || t == SMA_INT64;
}
static int is_float(sma_dtype_t t) { return t >= SMA_FLOAT16; }

/* The float's bits, for its digits: the element's own dtype (float16 and
 * float32 values travel as doubles here, exactly). */
static float_parts_t parts_of(double x, sma_dtype_t t) {
  if (t == SMA_FLOAT16) return float_parts_half(value_half_from_float((float)x));
  if (t == SMA_FLOAT32 || t == SMA_COMPLEX64) return float_parts_single((float)x);
  return float_parts_double(x);
}

/* ---- one format per array: NumPy's FloatingFormat --------------------------- */

typedef struct ffmt {
  int exp, plus; /* scientific; '+' before non-negative values */
  int precision, min_digits, pad_left, pad_right, exp_size;
  float_trim_t trim;
  /* the widest parts of the first pass's texts */
  int int_len, frac_len, exp_len;
} ffmt_t;

typedef struct fmt {
  sma_dtype_t dtype;
  int width; /* integers and booleans */
  ffmt_t re, im;
} fmt_t;

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

/* max / min as NumPy computes it: a division of two scalars of the
 * array's dtype, rounded to that dtype (float16: through float32, as
 * NumPy's half arithmetic does). Both are positive and finite. */
static double ratio_in_dtype(double max, double min, sma_dtype_t t) {
  /* The casts drop the excess precision x87 may carry (i386 builds). */
  if (t == SMA_FLOAT64 || t == SMA_COMPLEX128) return (double)(max / min);
  /* A double quotient rounded once more to float is the float quotient
   * (53 >= 2 * 24 + 2 bits); an out-of-range one becomes inf. */
  float q = (float)(max / min);
  if (t != SMA_FLOAT16) return q;
  return value_float_from_half(value_half_from_float(q));
}

static int wants_exp(const part_stats_t *s, sma_dtype_t t) {
  return s->any_nonzero && (s->max_abs >= 1e8 || s->min_abs < 1e-4 ||
                            ratio_in_dtype(s->max_abs, s->min_abs, t) > 1e3);
}

/* The layout of the first pass (unique digits, at most PRECISION after
 * the point, zeros trimmed) and of the second (the array's widths). */
static float_style_t first_pass_style(const ffmt_t *f) {
  float_style_t st = {.scientific = f->exp,
                      .fractional = 1,
                      .precision = PRECISION,
                      .min_digits = -1,
                      .plus = f->plus,
                      .trim = FLOAT_TRIM_ZEROS,
                      .pad_left = -1,
                      .pad_right = -1,
                      .exp_digits = -1};
  return st;
}

static float_style_t final_style(const ffmt_t *f) {
  float_style_t st = {.scientific = f->exp,
                      .fractional = 1,
                      .precision = f->precision,
                      .min_digits = f->min_digits,
                      .plus = f->plus,
                      .trim = f->trim,
                      .pad_left = f->pad_left,
                      .pad_right = f->exp ? -1 : f->pad_right,
                      .exp_digits = f->exp ? f->exp_size : -1};
  return st;
}

/* Second pass: the widest integer part, fraction and exponent of the
 * first-pass texts of the finite values. */
static void ffmt_measure(ffmt_t *f, double x, sma_dtype_t t) {
  if (!isfinite(x)) return;
  char buf[FLOAT_TEXT_CAP];
  float_style_t st = first_pass_style(f);
  float_parts_t v = parts_of(x, t);
  float_format(&v, &st, buf, sizeof buf);
  const char *dot = strchr(buf, '.'), *e = strchr(buf, 'e');
  if (dot == NULL) return; /* the first pass always keeps the point */
  int int_len = (int)(dot - buf);
  int frac_len = (int)((e ? e : buf + strlen(buf)) - dot - 1);
  int exp_len = e ? (int)strlen(e + 2) : 0; /* digits after "e+" */
  if (int_len > f->int_len) f->int_len = int_len;
  if (frac_len > f->frac_len) f->frac_len = frac_len;
  if (exp_len > f->exp_len) f->exp_len = exp_len;
}

/* NumPy's fillFormat after the first pass. */
static void ffmt_finish(ffmt_t *f, const part_stats_t *s) {
  if (!s->any_finite) {
    f->pad_left = f->pad_right = 0;
    f->exp_size = -1;
    f->trim = FLOAT_TRIM_ZEROS;
    f->precision = PRECISION;
    f->min_digits = -1;
  } else if (f->exp) {
    f->exp_size = f->exp_len;
    f->precision = f->min_digits = f->frac_len;
    f->trim = FLOAT_TRIM_NONE;
    f->pad_left = f->int_len;
    f->pad_right = f->exp_size + 2 + f->precision;
  } else {
    f->pad_left = f->int_len;
    f->pad_right = f->frac_len;
    f->exp_size = -1;
    f->precision = PRECISION;
    f->min_digits = 0;
    f->trim = FLOAT_TRIM_ZEROS;
  }
  if (s->any_nonfinite) {
    int offset = f->pad_right + 1, inflen = 3 + (f->plus || s->neg_inf);
    if (3 - offset > f->pad_left) f->pad_left = 3 - offset;
    if (inflen - offset > f->pad_left) f->pad_left = inflen - offset;
  }
}

static void ffmt_put(out_t *o, const ffmt_t *f, double x, sma_dtype_t t) {
  char buf[FLOAT_TEXT_CAP];
  if (!isfinite(x)) {
    /* NumPy's own words, padded to the format's width; nan signed only
     * where every value is (imaginary parts: "+nan"). */
    const char *sign = !isnan(x) && x < 0 ? "-" : f->plus ? "+" : "";
    snprintf(buf, sizeof buf, "%s%s", sign, isnan(x) ? "nan" : "inf");
    spaces(o, f->pad_left + f->pad_right + 1 - (int)strlen(buf));
    puts_(o, buf);
    return;
  }
  float_style_t st = final_style(f);
  float_parts_t v = parts_of(x, t);
  size_t n = float_format(&v, &st, buf, sizeof buf);
  put(o, buf, n < sizeof buf ? n : sizeof buf - 1);
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
  value_t x = value_read(p, w->v->dtype);
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
  f->re.exp = wants_exp(&w.re, f->dtype);
  f->im.exp = wants_exp(&w.im, f->dtype);
  f->im.plus = 1;
  w.pass = 1;
  visit_all(&w, 0, v->data);
  ffmt_finish(&f->re, &w.re);
  ffmt_finish(&f->im, &w.im);
}

static void element(out_t *o, const fmt_t *f, const unsigned char *p) {
  value_t x = value_read(p, f->dtype);
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

static void extend_line(out_t *s, out_t *line, const char *word, size_t width, size_t indent) {
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

static void format_dim(const layout_t *l, size_t dim, const unsigned char *p, size_t indent,
                       size_t width, out_t *s);

static void item_text(const layout_t *l, size_t dim, const unsigned char *p, size_t indent,
                      size_t width, out_t *word) {
  if (dim == l->v->ndim)
    element(word, l->f, p);
  else
    format_dim(l, dim, p, indent, width, word);
}

/* Appends "[...]" for dimension dim at p. indent: the hanging indent's
 * width; width: the line width left. */
static void format_dim(const layout_t *l, size_t dim, const unsigned char *p, size_t indent,
                       size_t width, out_t *s) {
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

/* A float as NumPy's scalar str() prints it (numpy's scalartypes.c):
 * the unique digits, positional for zero, nan and magnitudes from 1e-4 up
 * to 1e16, scientific beyond; "1.0" in positional and "1e-05" in
 * scientific notation, but complex parts drop a bare point ("1", "2.5").
 * inf and nan print without padding, nan never with a sign. */
static void scalar_float(out_t *o, double x, sma_dtype_t t, int complex_part, int plus) {
  double a = fabs(x);
  int positional = isnan(x) || a == 0 || (a >= 1e-4 && a < 1e16);
  float_trim_t trim = positional && !complex_part ? FLOAT_TRIM_ONE_ZERO : FLOAT_TRIM_POINT;
  float_style_t st = {.scientific = !positional,
                      .fractional = 0,
                      .precision = -1,
                      .min_digits = -1,
                      .plus = plus,
                      .trim = trim,
                      .pad_left = -1,
                      .pad_right = -1,
                      .exp_digits = -1};
  float_parts_t v = parts_of(x, t);
  char buf[FLOAT_TEXT_CAP];
  size_t n = float_format(&v, &st, buf, sizeof buf);
  put(o, buf, n < sizeof buf ? n : sizeof buf - 1);
}

/* The parts of a complex scalar that are not finite print as words:
 * "nan", "inf", and the imaginary one always signed ("+nan"). */
static void scalar_complex_part(out_t *o, double x, sma_dtype_t t, int imaginary) {
  if (isfinite(x))
    scalar_float(o, x, t, 1, imaginary);
  else if (isnan(x))
    puts_(o, imaginary ? "+nan" : "nan");
  else
    puts_(o, x < 0 ? "-inf" : imaginary ? "+inf" : "inf");
}

/* A 0-d array prints its one value as NumPy's scalar str() does. */
static void scalar(out_t *o, const sma_view_t *v) {
  value_t x = value_read(v->data, v->dtype);
  char buf[64];
  if (v->dtype == SMA_BOOL) {
    puts_(o, x.u ? "True" : "False");
  } else if (!is_float(v->dtype)) {
    if (is_signed(v->dtype))
      snprintf(buf, sizeof buf, "%lld", x.i);
    else
      snprintf(buf, sizeof buf, "%llu", x.u);
    puts_(o, buf);
  } else if (v->dtype != SMA_COMPLEX64 && v->dtype != SMA_COMPLEX128) {
    scalar_float(o, x.re, v->dtype, 0, 0);
  } else if (x.re == 0 && !signbit(x.re)) {
    scalar_float(o, x.im, v->dtype, 1, 0);
    puts_(o, "j");
  } else {
    puts_(o, "(");
    scalar_complex_part(o, x.re, v->dtype, 0);
    scalar_complex_part(o, x.im, v->dtype, 1);
    puts_(o, "j)");
  }
}

static int run(int argc, char **argv) {
  sma_t *a;
  int status = cli_open_arg(&cli_cat, argc, argv, NULL, &a);
  if (status != CLI_OK) return status;
  const sma_view_t *v = sma_view_get(a);
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

const cli_command_t cli_cat = {"cat", help, run};
