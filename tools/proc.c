#include "proc.h"

#include <stdio.h>
#include <string.h>

/* Shared by both OSes: spawn and wait. */
int proc_run(const char *const *argv) {
  proc_t p;
  return proc_spawn(&p, argv, -1) == 0 ? proc_wait(&p) : -1;
}

#if defined(_WIN32)
#  include <io.h> /* _get_osfhandle */
#  include <windows.h>

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

#else /* POSIX */
#  include <errno.h>
#  include <signal.h>
#  include <spawn.h>
#  include <stdlib.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
extern char **environ;

const char *const *proc_argv(const char *const *argv, const char **buf, size_t cap) {
#  if defined(SMA_SPAWN_EMULATOR)
  size_t n = 0;
  buf[n++] = SMA_SPAWN_EMULATOR;
  for (; argv[n - 1] != NULL && n + 1 < cap; n++) buf[n] = argv[n - 1];
  buf[n] = NULL;
  return buf;
#  else
  (void)buf;
  (void)cap;
  return argv;
#  endif
}

int proc_spawn(proc_t *p, const char *const *argv, int stdin_fd) {
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) return -1;
  pid_t pid;
  int rc = stdin_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0) : 0;
  if (rc == 0) rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  p->handle = pid;
  p->pid = (uint64_t)pid;
  return 0;
}

int proc_wait(proc_t *p) {
  int status;
  while (waitpid((pid_t)p->handle, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int proc_poll(proc_t *p, int *code, char *how, size_t how_cap) {
  int status;
  pid_t r = waitpid((pid_t)p->handle, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return 0;
  if (r < 0) {
    *code = -1;
    snprintf(how, how_cap, "lost (%s)", strerror(errno));
  } else if (WIFEXITED(status)) {
    *code = WEXITSTATUS(status);
    snprintf(how, how_cap, "exit %d", *code);
  } else {
    *code = -1;
    snprintf(how, how_cap, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return 1;
}

void proc_kill(proc_t *p) {
  kill((pid_t)p->handle, SIGKILL);
  while (waitpid((pid_t)p->handle, NULL, 0) < 0 && errno == EINTR) {}
}

static volatile int *interrupt_flag;
static void on_signal(int sig) {
  (void)sig;
  if (interrupt_flag) *interrupt_flag = 1;
}
void proc_catch_interrupt(volatile int *flag) {
  interrupt_flag = flag;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

int proc_self_path(char *buf, size_t cap, const char *argv0) {
#  if defined(__linux__)
  ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
  if (n > 0) {
    buf[n] = '\0';
    return 0;
  }
#  endif
  if (realpath(argv0, buf) != NULL && strlen(buf) < cap) return 0;
  return -1;
}

int proc_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

double proc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t proc_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void proc_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int proc_stdout_is_tty(void) { return isatty(STDOUT_FILENO); }
#endif
