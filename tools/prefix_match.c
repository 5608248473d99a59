/* What `--prefix P` of `sma ls` and `sma gc` keeps: names that start with
 * P, and the names sma_build_name() builds with prefix P. */
#include "prefix_match.h"

#include <string.h>

/* Whether t matches `pattern` exactly: '9' a decimal digit, 'x' a
 * lower-case hex digit, 'y' one of 8 9 a b (the UUID variant), 'b' a
 * base-32 digit; any other character stands for itself. */
static int matches(const char *t, const char *pattern) {
  for (; *pattern; pattern++, t++) {
    char c = *t;
    int ok = *pattern == '9'   ? c >= '0' && c <= '9'
             : *pattern == 'x' ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
             : *pattern == 'y' ? c == '8' || c == '9' || c == 'a' || c == 'b'
             : *pattern == 'b' ? (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')
                               : c == *pattern;
    if (!ok) return 0;
  }
  return *t == '\0';
}

/* --prefix P matches names that start with P, and names that have exactly
 * the form sma_build_name() gives with prefix P: COUNTER-P-YYYYMMDD-HHMMSS-
 * MICROS-UUID4 (counter in base 10) or COUNTER36-P-RANDOM13. Another word
 * before P ("job-data" for P = "data") is not a counter. */
int prefix_matches(const char *name, const char *prefix) {
  if (prefix == NULL) return 1;
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) == 0) return 1;
  const char *p = name;
  int decimal = 1;
  for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'); p++) decimal &= *p <= '9';
  if (p == name || *p != '-' || strncmp(p + 1, prefix, n) != 0 || p[1 + n] != '-') return 0;
  const char *tail = p + 2 + n;
  return (decimal &&
          matches(tail, "99999999-999999-999999-xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx")) ||
         matches(tail, "bbbbbbbbbbbbb");
}
