/* The few OS services the `sma` command needs beyond libsma: child
 * processes, interruption, time, the terminal. One implementation per OS
 * in proc.c; the library itself never uses these. */
#ifndef SMA_TOOLS_PROC_H
#define SMA_TOOLS_PROC_H

#include <stddef.h>
#include <stdint.h>

typedef struct proc {
  intptr_t handle; /* pid on Unix, HANDLE on Windows */
  uint64_t pid;
} proc_t;

/* Starts argv[0] (a path) with argv; 0 on success. */
int proc_spawn(proc_t *p, const char *const *argv);

/* POSIX: the argv to spawn for `argv`: itself, or, in builds meant to run
 * under an emulator (SMA_SPAWN_EMULATOR, a cross build's qemu-user), the
 * emulator followed by `argv` copied into buf (cap entries), since the
 * kernel cannot exec a foreign binary without binfmt_misc. */
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
double proc_now(void); /* monotonic seconds */
int64_t proc_wall_ns(void); /* ns since the Unix epoch, UTC */
void proc_sleep_ms(int ms);
int proc_stdout_is_tty(void);

#endif
