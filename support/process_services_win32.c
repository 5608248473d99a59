/* process_services.h on Windows: CreateProcess with arguments quoted for
 * CommandLineToArgvW, console Ctrl-C, the performance counter and the
 * precise system time. The POSIX side is process_services_posix.c; CMake
 * builds the one for the target. */
#include "process_services.h"

#include <io.h> /* _get_osfhandle */
#include <stdio.h>
#include <string.h>
#include <windows.h>

/* Wine runs Windows children by itself: no emulator to name. */
const char *const *proc_argv(const char *const *argv, const char **buf, size_t cap) {
  (void)buf;
  (void)cap;
  return argv;
}

/* Quotes one argument the way CommandLineToArgvW reads it back. */
static size_t quote_arg(char *out, size_t cap, size_t len, const char *arg) {
  if (len + 1 < cap) out[len++] = '"';
  for (const char *p = arg;; p++) {
    size_t slashes = 0;
    while (*p == '\\') {
      p++;
      slashes++;
    }
    size_t n = *p == '\0' ? slashes * 2 : *p == '"' ? slashes * 2 + 1 : slashes;
    for (size_t i = 0; i < n && len + 1 < cap; i++) out[len++] = '\\';
    if (*p == '\0') break;
    if (len + 1 < cap) out[len++] = *p;
  }
  if (len + 1 < cap) out[len++] = '"';
  out[len] = '\0';
  return len;
}

int proc_spawn(proc_t *p, const char *const *argv, int stdin_fd) {
  static char cmd[32768]; /* CreateProcess's limit; too big for a stack */
  size_t len = 0;
  cmd[0] = '\0';
  for (size_t i = 0; argv[i]; i++) {
    if (i > 0 && len + 1 < sizeof cmd) cmd[len++] = ' ';
    len = quote_arg(cmd, sizeof cmd, len, argv[i]);
  }
  if (len + 1 >= sizeof cmd) return -1; /* cut: it would run something else */
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  HANDLE in = NULL;
  if (stdin_fd >= 0) {
    /* The child inherits only handles marked inheritable. */
    if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)_get_osfhandle(stdin_fd), GetCurrentProcess(),
                         &in, 0, TRUE, DUPLICATE_SAME_ACCESS))
      return -1;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in;
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  }
  /* A path is run as it is; a bare name is looked up as the shell would. */
  int path = strchr(argv[0], '\\') != NULL || strchr(argv[0], '/') != NULL;
  BOOL ok = CreateProcessA(path ? argv[0] : NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
  if (in != NULL) CloseHandle(in);
  if (!ok) return -1;
  CloseHandle(pi.hThread);
  p->handle = (intptr_t)pi.hProcess;
  p->pid = pi.dwProcessId;
  return 0;
}

int proc_wait(proc_t *p) {
  DWORD c = (DWORD)-1;
  WaitForSingleObject((HANDLE)p->handle, INFINITE);
  GetExitCodeProcess((HANDLE)p->handle, &c);
  CloseHandle((HANDLE)p->handle);
  return (int)c;
}

int proc_poll(proc_t *p, int *code, char *how, size_t how_cap) {
  if (WaitForSingleObject((HANDLE)p->handle, 0) != WAIT_OBJECT_0) return 0;
  DWORD c = 1;
  GetExitCodeProcess((HANDLE)p->handle, &c);
  CloseHandle((HANDLE)p->handle);
  *code = (int)c;
  snprintf(how, how_cap, "exit %lu", (unsigned long)c);
  return 1;
}

void proc_kill(proc_t *p) {
  TerminateProcess((HANDLE)p->handle, 137);
  WaitForSingleObject((HANDLE)p->handle, INFINITE);
  CloseHandle((HANDLE)p->handle);
}

static volatile int *interrupt_flag;
static BOOL WINAPI on_ctrl(DWORD type) {
  (void)type;
  if (interrupt_flag) *interrupt_flag = 1;
  return TRUE;
}
void proc_catch_interrupt(volatile int *flag) {
  interrupt_flag = flag;
  SetConsoleCtrlHandler(on_ctrl, TRUE);
}

int proc_self_path(char *buf, size_t cap, const char *argv0) {
  (void)argv0;
  DWORD n = GetModuleFileNameA(NULL, buf, (DWORD)cap);
  return n > 0 && n < cap ? 0 : -1;
}

int proc_cpu_count(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return (int)si.dwNumberOfProcessors;
}

double proc_now(void) {
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart / (double)f.QuadPart;
}

int64_t proc_wall_ns(void) {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  return (int64_t)(t - 116444736000000000ull) * 100;
}

void proc_sleep_ms(int ms) { Sleep((DWORD)ms); }
int proc_stdout_is_tty(void) {
  DWORD mode;
  return GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}
