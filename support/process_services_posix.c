/* process_services.h on POSIX systems: posix_spawnp, waitpid, signals,
 * clock_gettime, /proc/self/exe where there is one. The Windows side is
 * process_services_win32.c; CMake builds the one for the target. */
#include "process_services.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;

const char *const *proc_argv(const char *const *argv, const char **buf, size_t cap) {
#if defined(SMA_SPAWN_EMULATOR)
  size_t n = 0;
  buf[n++] = SMA_SPAWN_EMULATOR;
  for (; argv[n - 1] != NULL && n + 1 < cap; n++) buf[n] = argv[n - 1];
  buf[n] = NULL;
  return buf;
#else
  (void)buf;
  (void)cap;
  return argv;
#endif
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
#if defined(__linux__)
  ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
  if (n > 0) {
    buf[n] = '\0';
    return 0;
  }
#endif
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
