/* NumPy's decimal digits of binary floats: see float_digits.h.
 *
 * The digit generator follows the algorithm of NumPy's dragon4.c (its
 * estimate of the first digit's power of ten, its margins, its stopping
 * rule and its rounding of the last digit, carries included) because
 * `sma cat` must print exactly NumPy's text, quirks included: the shortest
 * digits by another algorithm (Ryu, or printf and strtod) differ from
 * NumPy's where NumPy keeps digits past the unique ones. The code is
 * written afresh: a small fixed-size big integer, division by repeated
 * subtraction (every quotient is one decimal digit). */
#include "float_digits.h"

#include <string.h>

/* ---- a fixed-size unsigned big integer --------------------------------------- */

/* The largest number held: a binary64's scale 2^1076 (the smallest
 * subnormal's denominator, with two bits of margin), times 10 for the digit
 * being extracted, and a margin that grows tenfold per digit from 2^-53 of
 * it to at most 10^FLOAT_MAX_DIGITS times that: under 2^1350. 48 blocks of
 * 32 bits hold 2^1536. Operations never write past the blocks. */
enum { BIG_BLOCKS = 48 };

typedef struct big {
  uint32_t len; /* blocks in use; the top one is nonzero, 0 for zero */
  uint32_t b[BIG_BLOCKS];
} big_t;

static void big_trim(big_t *x) {
  while (x->len > 0 && x->b[x->len - 1] == 0) x->len--;
}

static void big_set(big_t *x, uint64_t v) {
  x->b[0] = (uint32_t)v;
  x->b[1] = (uint32_t)(v >> 32);
  x->len = 2;
  big_trim(x);
}

static int big_is_zero(const big_t *x) { return x->len == 0; }

static void big_mul_small(big_t *x, uint32_t m) {
  uint64_t carry = 0;
  for (uint32_t i = 0; i < x->len; i++) {
    uint64_t p = (uint64_t)x->b[i] * m + carry;
    x->b[i] = (uint32_t)p;
    carry = p >> 32;
  }
  if (carry != 0 && x->len < BIG_BLOCKS) x->b[x->len++] = (uint32_t)carry;
}

static void big_mul_pow10(big_t *x, int n) {
  for (; n >= 9; n -= 9) big_mul_small(x, 1000000000u);
  static const uint32_t small[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  if (n > 0) big_mul_small(x, small[n]);
}

static void big_shift_left(big_t *x, uint32_t bits) {
  if (big_is_zero(x)) return;
  uint32_t blocks = bits / 32, shift = bits % 32;
  uint32_t len = x->len + blocks + 1;
  if (len > BIG_BLOCKS) len = BIG_BLOCKS;
  for (uint32_t i = len; i-- > 0;) {
    uint64_t hi = i >= blocks && i - blocks < x->len ? x->b[i - blocks] : 0;
    uint64_t lo = i >= blocks + 1 && i - blocks - 1 < x->len ? x->b[i - blocks - 1] : 0;
    x->b[i] = (uint32_t)(((hi << 32 | lo) << shift) >> 32);
  }
  x->len = len;
  big_trim(x);
}

static int big_cmp(const big_t *x, const big_t *y) {
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  for (uint32_t i = x->len; i-- > 0;)
    if (x->b[i] != y->b[i]) return x->b[i] < y->b[i] ? -1 : 1;
  return 0;
}

static void big_add(big_t *sum, const big_t *x, const big_t *y) {
  uint32_t n = x->len > y->len ? x->len : y->len;
  uint64_t carry = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t s = carry + (i < x->len ? x->b[i] : 0) + (i < y->len ? y->b[i] : 0);
    sum->b[i] = (uint32_t)s;
    carry = s >> 32;
  }
  sum->len = n;
  if (carry != 0 && n < BIG_BLOCKS) sum->b[sum->len++] = (uint32_t)carry;
}

/* x -= y, for x >= y. */
static void big_sub(big_t *x, const big_t *y) {
  int64_t borrow = 0;
  for (uint32_t i = 0; i < x->len; i++) {
    int64_t d = (int64_t)x->b[i] - (i < y->len ? y->b[i] : 0) - borrow;
    borrow = d < 0;
    x->b[i] = (uint32_t)(d + (borrow ? (int64_t)1 << 32 : 0));
  }
  big_trim(x);
}

/* The decimal digit floor(x / y), leaving the remainder in x; x < 10 y. */
static uint32_t big_take_digit(big_t *x, const big_t *y) {
  uint32_t q = 0;
  while (q < 9 && big_cmp(x, y) >= 0) {
    big_sub(x, y);
    q++;
  }
  return q;
}

/* ---- the digits: NumPy's Dragon4 --------------------------------------------- */

typedef struct digits {
  char d[FLOAT_MAX_DIGITS + 1];
  int n;
  int exp10; /* the power of ten of d[0] */
} digits_t;

/* How many digits to make: at most cutoff_max and, unless the digits are
 * already unique, at least cutoff_min, each counting digits after the
 * point (fractional) or all digits; -1 for no bound. */
typedef struct cutoff {
  int fractional, max, min;
} cutoff_t;

/* The working numbers, all over the common denominator `scale`: the value,
 * and half the distance to the neighbouring floats below and above. */
typedef struct scaled {
  big_t value, scale, margin_low, margin_high, tmp;
  int unequal;
} scaled_t;

static void scaled_margins_times10(scaled_t *s) {
  big_mul_small(&s->margin_low, 10);
  s->margin_high = s->margin_low;
  if (s->unequal) big_mul_small(&s->margin_high, 2);
}

static void scaled_init(scaled_t *s, const float_parts_t *v) {
  /* value = mantissa * 2^exponent, with a factor of 2 (4 with unequal
   * margins) on value and scale so that the margins are integers. */
  uint32_t extra = v->unequal_margins ? 2 : 1;
  uint32_t up = v->exponent > 0 ? (uint32_t)v->exponent : 0;
  uint32_t down = v->exponent < 0 ? (uint32_t)-v->exponent : 0;
  s->unequal = v->unequal_margins;
  big_set(&s->value, v->mantissa);
  big_shift_left(&s->value, up + extra);
  big_set(&s->scale, 1);
  big_shift_left(&s->scale, down + extra);
  big_set(&s->margin_low, 1);
  big_shift_left(&s->margin_low, up);
  s->margin_high = s->margin_low;
  if (s->unequal) big_mul_small(&s->margin_high, 2);
}

/* NumPy's estimate of the first digit's power of ten: exact or one too
 * low, corrected below. */
static int estimate_exp10(const float_parts_t *v) {
  const double log10_2 = 0.30102999566398119521373889472449;
  double x = (double)((int32_t)v->mantissa_bit + v->exponent) * log10_2 - 0.69;
  int k = (int)x; /* toward zero: ceil() for negative x, without libm */
  return (double)k < x ? k + 1 : k;
}

/* Which digit exponents bound the output: the last digit allowed, and
 * the last one that must be reached before stopping at unique digits. */
static void cutoff_exponents(const cutoff_t *c, int k, int *last_max, int *last_min) {
  *last_max = k - FLOAT_MAX_DIGITS;
  if (c->max >= 0) {
    int want = c->fractional ? -c->max : k - c->max;
    if (want > *last_max) *last_max = want;
  }
  *last_min = k;
  if (c->min >= 0) {
    int want = c->fractional ? -c->min : k - c->min;
    if (want < *last_min) *last_min = want;
  }
}

/* Rounds the last digit up, carrying through nines. */
static void round_up(digits_t *out, uint32_t digit) {
  if (digit < 9) {
    out->d[out->n++] = (char)('0' + digit + 1);
    return;
  }
  while (out->n > 0 && out->d[out->n - 1] == '9') out->n--;
  if (out->n == 0) {
    out->d[out->n++] = '1';
    out->exp10++;
    return;
  }
  out->d[out->n - 1]++;
}

static void dragon4(const float_parts_t *v, const cutoff_t *c, digits_t *out) {
  out->n = 0;
  if (v->mantissa == 0) {
    out->d[out->n++] = '0';
    out->exp10 = 0;
    return;
  }
  scaled_t s;
  scaled_init(&s, v);
  int even = (v->mantissa & 1) == 0;

  /* k: the power of ten just above the value, so value / 10^k < 1. A
   * fractional cutoff raises it to the first digit that may be printed. */
  int k = estimate_exp10(v);
  if (c->max >= 0 && c->fractional && k <= -c->max) k = -c->max + 1;
  if (k > 0) {
    big_mul_pow10(&s.scale, k);
  } else if (k < 0) {
    big_mul_pow10(&s.value, -k);
    big_mul_pow10(&s.margin_low, -k);
    s.margin_high = s.margin_low;
    if (s.unequal) big_mul_small(&s.margin_high, 2);
  }
  if (big_cmp(&s.value, &s.scale) >= 0) {
    k++;
  } else {
    big_mul_small(&s.value, 10);
    scaled_margins_times10(&s);
  }
  int last_max, last_min;
  cutoff_exponents(c, k, &last_max, &last_min);
  out->exp10 = k - 1;

  uint32_t digit;
  int low, high;
  for (;;) {
    k--;
    digit = big_take_digit(&s.value, &s.scale);
    /* Stop where the digits so far, rounded, can only read back as this
     * value: the rest is within the margin below or above. */
    big_add(&s.tmp, &s.value, &s.margin_high);
    int cmp_low = big_cmp(&s.value, &s.margin_low), cmp_high = big_cmp(&s.tmp, &s.scale);
    low = even ? cmp_low <= 0 : cmp_low < 0;
    high = even ? cmp_high >= 0 : cmp_high > 0;
    if (((low || high) && k <= last_min) || k == last_max) break;
    out->d[out->n++] = (char)('0' + digit);
    big_mul_small(&s.value, 10);
    scaled_margins_times10(&s);
  }

  /* The last digit: down if only the lower neighbour is out of reach... */
  int down = low;
  if (low == high) { /* ...else to the nearer, ties to an even digit */
    big_shift_left(&s.value, 1);
    int cmp = big_cmp(&s.value, &s.scale);
    down = cmp < 0 || (cmp == 0 && (digit & 1) == 0);
  }
  if (down)
    out->d[out->n++] = (char)('0' + digit);
  else
    round_up(out, digit);
}

/* ---- taking floats apart ----------------------------------------------------- */

static uint32_t highest_bit(uint64_t x) {
  uint32_t n = 0;
  while (x >>= 1) n++;
  return n;
}

/* IEEE binary formats: `mant_bits` stored mantissa bits, exponent bias. */
static float_parts_t parts_of(int negative, uint32_t biased, uint32_t max_biased, uint64_t fraction,
                              uint32_t mant_bits, int32_t bias) {
  float_parts_t p = {FLOAT_FINITE, negative, 0, 0, 0, 0};
  if (biased == max_biased) {
    p.kind = fraction == 0 ? FLOAT_INF : FLOAT_NAN;
    return p;
  }
  if (biased != 0) { /* normal: the implied leading 1 */
    p.mantissa = (uint64_t)1 << mant_bits | fraction;
    p.exponent = (int32_t)biased - bias - (int32_t)mant_bits;
    p.mantissa_bit = mant_bits;
    p.unequal_margins = biased != 1 && fraction == 0;
  } else { /* subnormal or zero */
    p.mantissa = fraction;
    p.exponent = 1 - bias - (int32_t)mant_bits;
    p.mantissa_bit = highest_bit(fraction);
  }
  return p;
}

float_parts_t float_parts_half(uint16_t bits) {
  return parts_of(bits >> 15, (uint32_t)(bits >> 10) & 0x1f, 0x1f, bits & 0x3ffu, 10, 15);
}

float_parts_t float_parts_single(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return parts_of((int)(bits >> 31), (bits >> 23) & 0xff, 0xff, bits & 0x7fffffu, 23, 127);
}

float_parts_t float_parts_double(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return parts_of((int)(bits >> 63), (uint32_t)(bits >> 52) & 0x7ff, 0x7ff, bits & 0xfffffffffffffu,
                  52, 1023);
}

/* ---- laying the digits out --------------------------------------------------- */

/* The text before padding, at most: 309 integer digits, a point and
 * FLOAT_MAX_DIGITS digits after it, then zeros up to min_digits (<= 1000);
 * or "0." and 323 zeros and the digits, padded to 1000 fraction digits;
 * scientific: one digit, a point, the digits, the zeros, 7 of exponent. */
enum { BODY_CAP = 1536 };

typedef struct body {
  char s[BODY_CAP];
  int len;
  int whole;    /* integer digits (positional) */
  int fraction; /* digits after the point */
} body_t;

static void body_put(body_t *b, char c) {
  if (b->len < BODY_CAP) b->s[b->len++] = c;
}

static void body_zeros(body_t *b, int n) {
  for (int i = 0; i < n; i++) body_put(b, '0');
}

/* Adds zeros up to `want` fraction digits (TRIM_NONE), or trims them. */
static void finish_fraction(body_t *b, float_trim_t trim, int want, int drop_point) {
  if (trim == FLOAT_TRIM_ONE_ZERO && b->fraction == 0) {
    body_put(b, '0');
    b->fraction++;
  } else if (trim == FLOAT_TRIM_NONE && want > b->fraction) {
    body_zeros(b, want - b->fraction);
    b->fraction = want;
  }
  if (trim == FLOAT_TRIM_NONE || b->fraction == 0) return;
  while (b->s[b->len - 1] == '0') {
    b->len--;
    b->fraction--;
  }
  if (b->s[b->len - 1] != '.') return;
  if (trim == FLOAT_TRIM_ONE_ZERO) {
    body_put(b, '0');
    b->fraction++;
  } else if (trim == FLOAT_TRIM_POINT && drop_point) {
    b->len--;
  }
}

static void positional(const float_parts_t *v, const float_style_t *st, body_t *b) {
  digits_t d;
  cutoff_t c = {st->fractional, st->precision, st->min_digits};
  dragon4(v, &c, &d);
  if (d.exp10 >= 0) {
    b->whole = d.exp10 + 1;
    if (d.n <= b->whole) {
      for (int i = 0; i < d.n; i++) body_put(b, d.d[i]);
      body_zeros(b, b->whole - d.n);
    } else {
      for (int i = 0; i < b->whole; i++) body_put(b, d.d[i]);
      body_put(b, '.');
      for (int i = b->whole; i < d.n; i++) body_put(b, d.d[i]);
      b->fraction = d.n - b->whole;
    }
  } else {
    b->whole = 1;
    body_put(b, '0');
    body_put(b, '.');
    body_zeros(b, -(d.exp10 + 1));
    for (int i = 0; i < d.n; i++) body_put(b, d.d[i]);
    b->fraction = -(d.exp10 + 1) + d.n;
  }
  if (st->trim != FLOAT_TRIM_POINT && b->fraction == 0) body_put(b, '.');
  int add = st->min_digits;
  int want = add < 0 ? 0 : add;
  if (!st->fractional) want = add - b->whole;
  finish_fraction(b, st->trim, want, 1);
}

static void scientific(const float_parts_t *v, const float_style_t *st, body_t *b) {
  digits_t d;
  cutoff_t c = {0, st->precision < 0 ? -1 : st->precision + 1,
                st->min_digits < 0 ? -1 : st->min_digits + 1};
  dragon4(v, &c, &d);
  body_put(b, d.d[0]);
  b->whole = 1;
  if (d.n > 1) {
    body_put(b, '.');
    for (int i = 1; i < d.n; i++) body_put(b, d.d[i]);
    b->fraction = d.n - 1;
  }
  if (st->trim != FLOAT_TRIM_POINT && b->fraction == 0) body_put(b, '.');
  /* NumPy's scientific layout trims zeros but never a point left bare. */
  finish_fraction(b, st->trim, st->min_digits < 0 ? 0 : st->min_digits, 0);

  int e = d.exp10, min_exp = st->exp_digits < 0 ? 2 : st->exp_digits > 5 ? 5 : st->exp_digits;
  body_put(b, 'e');
  body_put(b, e < 0 ? '-' : '+');
  if (e < 0) e = -e;
  char rev[8];
  int n = 0;
  for (; e > 0 && n < 5; e /= 10) rev[n++] = (char)('0' + e % 10);
  while (n < min_exp) rev[n++] = '0'; /* NumPy's: none at all for e+0 with 0 */
  while (n > 0) body_put(b, rev[--n]);
}

/* ---- output ------------------------------------------------------------------ */

typedef struct sink {
  char *buf;
  size_t cap, len;
} sink_t;

static void sink_put(sink_t *o, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++, o->len++)
    if (o->len + 1 < o->cap) o->buf[o->len] = s[i];
}

static void sink_spaces(sink_t *o, int n) {
  for (int i = 0; i < n; i++) sink_put(o, " ", 1);
}

static int clamp(int x) { return x < -1 ? -1 : x > 1000 ? 1000 : x; }

size_t float_format(const float_parts_t *value, const float_style_t *style, char *buf, size_t cap) {
  sink_t o = {buf, cap, 0};
  float_style_t st = *style;
  st.precision = clamp(st.precision);
  st.min_digits = clamp(st.min_digits);
  st.pad_left = clamp(st.pad_left);
  st.pad_right = clamp(st.pad_right);
  char sign = value->negative ? '-' : st.plus ? '+' : '\0';
  if (value->kind == FLOAT_NAN) {
    sink_put(&o, "nan", 3);
  } else if (value->kind == FLOAT_INF) {
    if (sign) sink_put(&o, &sign, 1);
    sink_put(&o, "inf", 3);
  } else if (st.scientific) {
    body_t b = {.len = 0};
    scientific(value, &st, &b);
    sink_spaces(&o, st.pad_left - 1 - (sign != '\0'));
    if (sign) sink_put(&o, &sign, 1);
    sink_put(&o, b.s, (size_t)b.len);
  } else {
    body_t b = {.len = 0};
    positional(value, &st, &b);
    sink_spaces(&o, st.pad_left - b.whole - (sign != '\0'));
    if (sign) sink_put(&o, &sign, 1);
    sink_put(&o, b.s, (size_t)b.len);
    if (st.pad_right >= b.fraction) {
      if (st.trim == FLOAT_TRIM_POINT && b.fraction == 0) sink_spaces(&o, 1);
      sink_spaces(&o, st.pad_right - b.fraction);
    }
  }
  if (cap > 0) buf[o.len < cap ? o.len : cap - 1] = '\0';
  return o.len;
}
