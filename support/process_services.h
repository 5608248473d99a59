/* The few OS services the `sma` command, the benchmark and the tests need
 * beyond libsma, about this process and its children: child processes
 * (one spawn and one Windows quoting for all three), interruption, time,
 * the terminal. One implementation per OS (process_services_posix.c,
 * process_services_win32.c; process_services.c what they share), built
 * as the internal library sma_process_services. The library itself never
 * uses these, so they live apart from it and from any one of their users.
 * (Not "process.h": MinGW's own <process.h> would be shadowed.) */
#ifndef SMA_SUPPORT_PROCESS_SERVICES_H
#define SMA_SUPPORT_PROCESS_SERVICES_H

#include <stddef.h>
#include <stdint.h>

typedef struct proc {
  intptr_t handle; /* pid on Unix, HANDLE on Windows */
  uint64_t pid;
} proc_t;

/* Starts argv[0] (a path, or a program name looked up in PATH) with argv,
 * each argument passed through unchanged (Windows: quoted so that
 * CommandLineToArgvW reads back exactly argv). stdin_fd: a descriptor the
 * child gets as its standard input, or -1 to inherit the caller's.
 * 0 on success, -1 if the child could not be started. */
int proc_spawn(proc_t *p, const char *const *argv, int stdin_fd);

/* Waits for a started child and returns its exit code, or -1 if it was
 * killed by a signal or cannot be waited for. */
int proc_wait(proc_t *p);

/* proc_spawn() with the caller's stdin, then proc_wait(): the exit code, or
 * -1 if the child could not be started or did not exit. */
int proc_run(const char *const *argv);

/* The argv that starts `argv`, a program of this build: itself, or, in
 * builds meant to run under an emulator (SMA_SPAWN_EMULATOR, a cross
 * build's qemu-user), the emulator followed by `argv` copied into buf (cap
 * entries; cut if longer), since the kernel cannot exec a foreign binary
 * without binfmt_misc. Programs of the host (python3) are spawned as they
 * are. */
const char *const *proc_argv(const char *const *argv, const char **buf, size_t cap);

/* 1 if the child has ended (its status in *how: "exit N" or "signal N",
 * *code: the exit code, or -1 if killed by a signal), 0 if it runs. */
int proc_poll(proc_t *p, int *code, char *how, size_t how_cap);

/* Kills the child (SIGKILL / TerminateProcess) and reaps it. */
void proc_kill(proc_t *p);

/* Sets *flag to 1 on Ctrl-C / SIGINT / SIGTERM instead of dying. */
void proc_catch_interrupt(volatile int *flag);

/* Path of the running executable, for starting workers. */
int proc_self_path(char *buf, size_t cap, const char *argv0);

int proc_cpu_count(void);
double proc_now(void);      /* monotonic seconds */
int64_t proc_wall_ns(void); /* ns since the Unix epoch, UTC */
void proc_sleep_ms(int ms);
int proc_stdout_is_tty(void);

#endif
