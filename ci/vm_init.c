/*
 * The init of a throwaway Linux VM that runs a cross-built test suite on a
 * real kernel of the target (ci/vm_suite.sh boots it under qemu-system).
 * qemu-user cannot run everything: it mistranslates System V's
 * shm_perm.mode for s390x, so the System V backend only runs there on a
 * kernel of its own.
 *
 * It mounts what the tests expect, runs each line of /manifest (made from
 * ctest's own test list: "name<TAB>directory<TAB>argv0<TAB>argv1...") as a
 * child with a time limit, checks that no System V segment is left (the
 * whole VM is the tests' IPC namespace), prints "N passed, N failed" and
 * powers the VM off. Static, target-only, standard Linux calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ARGS = 32, TEST_SECONDS = 900 };

static void mount_or_say(const char *type, const char *dir) {
  mkdir(dir, 0755);
  if (mount(type, dir, type, 0, NULL) != 0)
    printf("vm-init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Runs argv in dir; 1 if it exited 0 within the limit. It says how long
 * the test took, so that the slow ones can be seen. */
static int run(const char *name, const char *dir, char **argv) {
  printf("\n==== vm: %s\n", name);
  fflush(stdout);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(126);
    execv(argv[0], argv);
    _exit(127);
  }
  if (pid < 0) return 0;
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 50) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (waited_ms >= TEST_SECONDS * 1000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      printf("vm-init: %s killed after %d s\n", name, TEST_SECONDS);
      return 0;
    }
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  printf("vm-init: %s %s (%s %d) after %.1f s\n", name, ok ? "passed" : "FAILED",
         WIFEXITED(status) ? "exit" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), seconds_since(&start));
  return ok;
}

/* System V segments in the whole VM: /proc/sysvipc/shm less its header. */
static int segments_left(void) {
  FILE *f = fopen("/proc/sysvipc/shm", "r");
  if (f == NULL) return -1;
  char line[512];
  int lines = 0;
  while (fgets(line, sizeof line, f) != NULL) lines++;
  fclose(f);
  return lines - 1;
}

int main(void) {
  mount_or_say("proc", "/proc");
  mount_or_say("devtmpfs", "/dev");
  mount_or_say("tmpfs", "/dev/shm");
  /* What udev and a normal boot leave: `sma load /dev/stdin` needs it. */
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");
  mkdir("/tmp", 01777); /* the initramfs is writable; a tmpfs here would
                           hide a build tree that lives under /tmp */
  chmod("/tmp", 01777); /* mkdir's mode went through the umask (01755): other
                           users' files (readonly's reader saves there) */
  setenv("PATH", "/usr/bin:/bin", 1);
  setenv("HOME", "/tmp", 1);
  setenv("SMA_PRIVATE_IPC", "1", 1); /* the VM is the tests' namespace */

  int passed = 0, failed = 0;
  FILE *manifest = fopen("/manifest", "r");
  if (manifest == NULL) {
    printf("vm-init: no /manifest\n");
    failed++;
  }
  char line[8192];
  while (manifest != NULL && fgets(line, sizeof line, manifest) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *fields[MAX_ARGS + 3];
    int n = 0;
    for (char *tok = strtok(line, "\t"); tok != NULL && n < MAX_ARGS + 2; tok = strtok(NULL, "\t"))
      fields[n++] = tok;
    if (n < 3) continue;
    fields[n] = NULL;
    if (run(fields[0], fields[1], fields + 2))
      passed++;
    else
      failed++;
  }
  if (manifest != NULL) fclose(manifest);

  int left = segments_left();
  printf("\n==== vm: no System V segment left: %d\n", left);
  if (left == 0)
    passed++;
  else
    failed++;
  printf("\nvm-init: %d passed, %d failed\n", passed, failed);
  printf("%d passed, %d failed\n", passed, failed);
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
