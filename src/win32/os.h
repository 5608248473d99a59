/* Helpers the Windows backend's files share, implemented in
 * src/win32/os.c beside the process-level part of the platform contract. */
#ifndef SMA_WIN32_OS_H
#define SMA_WIN32_OS_H

#include <windows.h>

/* The string form of a SID from this process's token (TokenUser,
 * TokenOwner or TokenPrimaryGroup); LocalFree() it. 0 or the error. */
DWORD sma__win32_token_sid(TOKEN_INFORMATION_CLASS cls, wchar_t **out);

/* The one GetLastError() translation of this backend: stores e in
 * *os_err (and as the thread's last error) and returns its SMA_E* code. */
int sma__win32_fail(DWORD e, int *os_err);

#endif
