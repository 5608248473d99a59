/* The runner of the Criterion stand-in (criterion/criterion.h): each test
 * runs in a child process, as under Criterion; the parent prints
 * Criterion's report lines. Windows starts this executable again
 * ("--run suite::name"); POSIX forks, so no exec is needed (under
 * qemu-user without binfmt, exec of this binary would fail). */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#  define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep, kill */
#endif
#include "criterion/criterion.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(_WIN32)
#  include <windows.h>
#else
#  include <errno.h>
#  include <signal.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
#endif

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_SKIP = 77 };
/* The bound on one test when it sets no .timeout of its own (Criterion
 * has none by default): a hung test ends as a crash. */
enum { TEST_TIMEOUT_MS = 120000 };

static unsigned timeout_ms(const shim_test_t *t) {
  return t->options->timeout > 0 ? (unsigned)(t->options->timeout * 1000) : TEST_TIMEOUT_MS;
}

static shim_test_t *tests;
static int expect_failed; /* in the test's process */

void shim_register(shim_test_t *test) {
  /* Keep the list sorted by suite then name, as Criterion reports them. */
  shim_test_t **p = &tests;
  while (*p && (strcmp((*p)->suite, test->suite) < 0 ||
                (strcmp((*p)->suite, test->suite) == 0 && strcmp((*p)->name, test->name) < 0)))
    p = &(*p)->next;
  test->next = *p;
  *p = test;
}

/* Prints one report line: what happened (what, then expr), where, and the
 * test's message. */
static void report(const char *file, int line, const char *what, const char *expr, const char *fmt,
                   va_list ap) {
  printf("[----] %s:%d: %s%s", file, line, what, expr);
  if (fmt != NULL) {
    printf(": ");
    vprintf(fmt, ap);
  }
  printf("\n");
  fflush(stdout);
}

void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(file, line, "Assertion failed: ", expr, fmt, ap);
  va_end(ap);
  exit(EXIT_FAIL);
}

void shim_expect_failed(const char *file, int line, const char *expr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(file, line, "Expectation failed: ", expr, fmt, ap);
  va_end(ap);
  expect_failed = 1;
}

void shim_skip(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(file, line, "test skipped", "", fmt, ap);
  va_end(ap);
  exit(EXIT_SKIP);
}

static int run_one(const char *id) {
  for (shim_test_t *t = tests; t; t = t->next) {
    char full[256];
    snprintf(full, sizeof full, "%s::%s", t->suite, t->name);
    if (strcmp(full, id) == 0) {
      t->fn();
      fflush(stdout);
      return expect_failed ? EXIT_FAIL : EXIT_PASS;
    }
  }
  fprintf(stderr, "no test %s\n", id);
  return EXIT_FAIL;
}

static long verdict(long code) {
  return code == EXIT_PASS || code == EXIT_FAIL || code == EXIT_SKIP ? code : -1;
}

/* Runs one test in a child process; returns its exit code, or -1 if it
 * crashed or timed out. */
#if defined(_WIN32)
static long spawn_one(const char *self, const char *id, unsigned limit_ms) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "\"%s\" --run %s", self, id);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return -1;
  long code = -1;
  if (WaitForSingleObject(pi.hProcess, limit_ms) != WAIT_OBJECT_0) {
    TerminateProcess(pi.hProcess, 3);
  } else {
    DWORD c;
    if (GetExitCodeProcess(pi.hProcess, &c)) code = (long)c;
  }
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return verdict(code);
}

static void self_path(char *buf, size_t cap) { GetModuleFileNameA(NULL, buf, (DWORD)cap); }
#else
static long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Waits for the test's process for at most limit_ms, leaving it unreaped
 * (its pid, and so its group's id, cannot be taken meanwhile); 1 once it
 * has ended. */
static int ended_within(pid_t child, unsigned limit_ms) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (elapsed_ms(&start) < (long)limit_ms) {
    siginfo_t info;
    info.si_pid = 0;
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child)
      return 1;
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
  }
  return 0;
}

/* The test runs in a process group of its own, which the runner ends as a
 * whole: a hung test is killed from outside (under qemu-user a guest
 * blocked in the emulator's own locks never acts on its SIGALRM), and a
 * process the test left behind cannot hold ctest's output pipe open (a
 * stuck grandchild kept ctest waiting until its own timeout). */
static long spawn_one(const char *self, const char *id, unsigned limit_ms) {
  (void)self;
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    setpgid(0, 0);
    _exit(run_one(id));
  }
  setpgid(child, child); /* also here, so that the group exists before either goes on */
  int ended = ended_within(child, limit_ms);
  kill(-child, SIGKILL); /* what the test left behind, or the hung test */
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  if (!ended) return -1;
  return WIFEXITED(status) ? verdict(WEXITSTATUS(status)) : -1;
}

static void self_path(char *buf, size_t cap) { snprintf(buf, cap, "-"); }
#endif

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--run") == 0) return run_one(argv[i + 1]);
  char self[4096];
  self_path(self, sizeof self);
  int tested = 0, passing = 0, failing = 0, crashing = 0;
  for (shim_test_t *t = tests; t; t = t->next) {
    char id[256];
    snprintf(id, sizeof id, "%s::%s", t->suite, t->name);
    long code = spawn_one(self, id, timeout_ms(t));
    const char *tag = code == EXIT_PASS   ? "PASS"
                      : code == EXIT_SKIP ? "SKIP"
                      : code == EXIT_FAIL ? "FAIL"
                                          : "CRASH";
    printf("[%s] %s\n", tag, id);
    if (code == EXIT_SKIP) continue;
    tested++;
    passing += code == EXIT_PASS;
    failing += code == EXIT_FAIL;
    crashing += code == -1;
  }
  printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | "
         "Crashing: %d \n",
         tested, passing, failing, crashing);
  return failing + crashing == 0 ? 0 : 1;
}
