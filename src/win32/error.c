/* OS error numbers on Windows: the thread's GetLastError() as the one
 * place a call that takes a name leaves its OS reason, and the system's
 * message for a number. */
#include "../platform.h"

#include <windows.h>
#include <stdio.h>

int sma__os_last_error(void) { return (int)GetLastError(); }

void sma__os_set_last_error(int os_err) { SetLastError((DWORD)os_err); }

void sma__os_error_text(int os_err, char *buf, size_t cap) {
  char message[200];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                           (DWORD)os_err, MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), message,
                           (DWORD)sizeof message, NULL);
  if (n == 0)
    n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                       (DWORD)os_err, 0, message, (DWORD)sizeof message, NULL);
  while (n > 0 && (message[n - 1] == '\r' || message[n - 1] == '\n' || message[n - 1] == ' '))
    n--; /* the system's message ends with a line break */
  message[n] = '\0';
  snprintf(buf, cap, "error %d: %s", os_err, n > 0 ? message : "unknown error");
}
