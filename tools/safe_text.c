/* Text from outside (segment names, labels: any bytes) shown safely: on a
 * terminal with no control character to carry an escape sequence, and in
 * JSON as a valid string whatever the bytes. */
#include "safe_text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decodes the UTF-8 sequence at p: its length (1-4) with *cp, or 0 when
 * the bytes are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_next(const unsigned char *p, uint32_t *cp) {
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t len = p[0] < 0x80             ? 1
               : (p[0] & 0xe0) == 0xc0 ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
  if (len == 0) return 0;
  uint32_t c = len == 1 ? p[0] : p[0] & (0x7fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = c << 6 | (p[i] & 0x3fu);
  }
  if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return len;
}

/* C0, DEL and C1: what can carry a terminal escape sequence. */
static int is_control(uint32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

/* Writes s as a JSON string: valid JSON whatever the bytes (not UTF-8:
 * U+FFFD; control characters: \u escapes). */
void safe_text_print_json(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    uint32_t c;
    size_t n = utf8_next(p, &c);
    if (n == 0) {
      fputs("\\ufffd", stdout);
      p++;
      continue;
    }
    if (c == '"' || c == '\\')
      printf("\\%c", (int)c);
    else if (is_control(c))
      printf("\\u%04x", (unsigned)c);
    else
      fwrite(p, 1, n, stdout);
    p += n;
  }
  putchar('"');
}

/* s for a terminal: every control character or invalid byte becomes '?'. */
void safe_text_for_terminal(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < cap;) {
    uint32_t c;
    size_t n = utf8_next(p, &c);
    if (n == 0 || is_control(c)) {
      out[o++] = '?';
      p += n ? n : 1;
      continue;
    }
    memcpy(out + o, p, n);
    o += n;
    p += n;
  }
  out[o] = '\0';
}
