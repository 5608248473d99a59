/* Text from outside (segment names, stray labels: any bytes) shown
 * safely: on a terminal, no control character that could carry an escape
 * sequence; in JSON, a valid string whatever the bytes. */
#ifndef SMA_TOOLS_SAFE_TEXT_H
#define SMA_TOOLS_SAFE_TEXT_H

#include <stddef.h>

/* s for a terminal in out (cap bytes, NUL-terminated, cut on a whole
 * character): every control character or invalid UTF-8 byte becomes '?'. */
void safe_text_for_terminal(const char *s, char *out, size_t cap);

/* Writes s to stdout as a JSON string, quotes included: invalid UTF-8 as
 * U+FFFD, control characters as \u escapes. */
void safe_text_print_json(const char *s);

#endif
