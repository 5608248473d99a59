/* Shapes as text: the one parser and formatter the descriptor, the `sma`
 * command and the tests use. */
#include "sma_int.h"

#include <string.h>

/* One decimal extent at *p, advanced past it. */
static int parse_extent(const char **p, size_t *out) {
  const char *q = *p;
  if (*q < '0' || *q > '9') return SMA_ESHAPE;
  uint64_t x = 0;
  bool too_big = false;
  for (; *q >= '0' && *q <= '9'; q++) {
    if (x > (UINT64_MAX - 9) / 10)
      too_big = true;
    else
      x = x * 10 + (unsigned)(*q - '0');
  }
  *p = q;
  /* A number, but an extent no array here can have (a 32-bit size_t):
   * the same error as a shape whose byte size overflows. */
  if (too_big || !sma__fits_size_t(x)) return SMA_EOVERFLOW;
  *out = (size_t)x;
  return 0;
}

int sma_shape_parse(size_t *shape, size_t cap, size_t *ndim, const char *text) {
  if (text == NULL || (shape == NULL && cap > 0) || ndim == NULL) return SMA_EINVAL;
  *ndim = 0;
  const char *p = sma__skip_blanks(text);
  bool tuple = *p == '(';
  if (tuple) p = sma__skip_blanks(p + 1);
  size_t n = 0;
  while (*p >= '0' && *p <= '9') {
    size_t extent;
    int rc = parse_extent(&p, &extent);
    if (rc != 0) return rc;
    if (n == cap) return SMA_ENDIM;
    shape[n++] = extent;
    p = sma__skip_blanks(p);
    if (*p != ',') break;
    p = sma__skip_blanks(p + 1);
    /* "4," ends a tuple only inside parentheses, as in Python: "(4,)". */
    if (*p == ')' && tuple) break;
    if (*p < '0' || *p > '9') return SMA_ESHAPE;
  }
  if (tuple) {
    if (*p != ')') return SMA_ESHAPE;
    p = sma__skip_blanks(p + 1);
  }
  if (*p != '\0') return SMA_ESHAPE;
  *ndim = n;
  return 0;
}

int sma_shape_format(const size_t *shape, size_t ndim, char *buf, size_t *size) {
  if (shape == NULL && ndim > 0) return SMA_EINVAL;
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  if (ndim == 0) sma__text_put(&out, "()");
  for (size_t d = 0; d < ndim; d++)
    sma__text_putf(&out, "%s%llu", d ? "," : "", (unsigned long long)shape[d]);
  return sma__text_end(&out, size);
}
