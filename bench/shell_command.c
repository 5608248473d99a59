/*
 * The command line sh (popen) runs for another program: the `sma`
 * command (scaling.c, files.c) or python3 (python_script.c). One quoting
 * for all of them, apart from the sections that only say which program.
 */
#include "bench.h"

static void append(char *buf, size_t cap, size_t *len, const char *text) {
  for (; *text != '\0'; text++, (*len)++)
    if (*len + 1 < cap) buf[*len] = *text;
}

/* For Windows' cmd.exe, which knows no single quotes, the arguments
 * (plain words here) are left bare. */
int shell_command(char *buf, size_t cap, const char *const *argv) {
  size_t len = 0;
#if defined(_WIN32)
  const char *quote = "";
#else
  const char *quote = "'";
#endif
  for (size_t i = 0; argv[i] != NULL; i++) {
    if (i) append(buf, cap, &len, " ");
    append(buf, cap, &len, quote);
    for (const char *p = argv[i]; *p != '\0'; p++) {
      char one[2] = {*p, '\0'};
      append(buf, cap, &len, *p == '\'' && *quote ? "'\\''" : one); /* ' closes, escapes, reopens */
    }
    append(buf, cap, &len, quote);
  }
  if (len + 1 > cap) return -1;
  buf[len] = '\0';
  return 0;
}
