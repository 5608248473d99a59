/* Text results written into caller buffers: every function that writes a
 * string follows one contract (libuv's): *size is the buffer's capacity on
 * entry; on success it becomes the length written, without the NUL; when
 * the buffer is too small the call fails with SMA_ENOBUFS, writes "" if it
 * can, and sets *size to the bytes the result needs, NUL included. */
#include "sma_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sma__text_begin(sma__text_t *t, char *buf, const size_t *size) {
  if (size == NULL || (buf == NULL && *size > 0)) return SMA_EINVAL;
  t->buf = buf;
  t->cap = *size;
  t->len = 0;
  if (t->cap > 0) t->buf[0] = '\0';
  return 0;
}

void sma__text_put(sma__text_t *t, const char *s) {
  size_t n = strlen(s);
  if (t->len + n < t->cap) memcpy(t->buf + t->len, s, n + 1);
  t->len += n; /* counted even when it does not fit: the size needed */
}

void sma__text_putf(sma__text_t *t, const char *fmt, ...) {
  char piece[128]; /* every caller formats one number or short word */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(piece, sizeof piece, fmt, ap);
  va_end(ap);
  sma__text_put(t, piece);
}

int sma__text_end(sma__text_t *t, size_t *size) {
  if (t->len < t->cap) {
    *size = t->len;
    return 0;
  }
  if (t->cap > 0) t->buf[0] = '\0';
  *size = t->len + 1;
  return SMA_ENOBUFS;
}

const char *sma__skip_blanks(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}
