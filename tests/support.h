/* Helpers shared by the test files: unique names, real child processes,
 * and backend-neutral checks on segments. */
#ifndef SMA_TEST_SUPPORT_H
#define SMA_TEST_SUPPORT_H

#include "sma.h"

#include <stddef.h>
#include <stdint.h>

/* Every name a test makes starts with this, so a leak check can find them. */
#define T_PREFIX "smatest"

/* Writes "smatest-<pid>-<tag>-<n>" to buf: unique across parallel ctest
 * runs and within a test. */
void t_name(char *buf, size_t cap, const char *tag);
/* A prefix for sma_build_name() and for names of this test: T_PREFIX-tag
 * and the pid, or without the pid where the backend's name limit (30 on
 * macOS POSIX) leaves no room for it beside the short form's counter and
 * 13 random characters. Tags are short and unique per test. */
void t_prefix(char *buf, size_t cap, const char *tag);

/* T_FORKED_CHILD_CAN_ALLOCATE: 0 in AddressSanitizer and ThreadSanitizer
 * builds, whose allocators (clang 14's and GCC 12's runtimes) can leave a
 * child forked while other threads allocate blocked for good in its first
 * malloc(), in SizeClassAllocator64::GetFromAllocator, whatever the code
 * it runs. ASan's allocator registers no at-fork handler. TSan's locks
 * itself around fork(), yet a 25-line program with no libsma in it, six
 * threads calling calloc() and free() while the main thread forks 300
 * children that do the same, lost 10 children (clang 14) and 6 (GCC 12)
 * to that hang; with glibc's malloc, which the other builds use, none.
 * A test that forks beside allocating threads lets its children exit at
 * once there, and so still checks the parent's side, where libsma's
 * at-fork handlers meet the running threads and where TSan would see a
 * race; T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE() skips one whose point is
 * the child's own work. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define T_FORKED_CHILD_CAN_ALLOCATE 0
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define T_FORKED_CHILD_CAN_ALLOCATE 0
#  endif
#endif
#if !defined(T_FORKED_CHILD_CAN_ALLOCATE)
#  define T_FORKED_CHILD_CAN_ALLOCATE 1
#endif
#if T_FORKED_CHILD_CAN_ALLOCATE
#  define T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE() ((void)0)
#else
#  define T_SKIP_IF_FORKED_CHILD_CANNOT_ALLOCATE()                                                 \
    cr_skip_test("the sanitizer's allocator can hang a child forked beside allocating threads "    \
                 "in its first malloc")
#endif

/* How many rounds a loop that repeats a race or a load for confidence
 * runs: `native` natively, a fifth of it (at least 1) where the suite runs
 * under an emulator (qemu-user, or a kernel under qemu-system), where a
 * round costs many times its native time. The native configurations run
 * the full count. */
#if defined(SMA_TEST_EMULATED) || defined(SMA_TEST_ON_EMULATED_KERNEL)
#  define T_ROUNDS(native) ((native) / 5 > 0 ? (native) / 5 : 1)
#else
#  define T_ROUNDS(native) (native)
#endif

/* This process's id. */
unsigned long t_pid(void);

/* 1 if a segment with this name exists, 0 if not (asks the backend). */
int t_segment_exists(const char *name);

/* 1 once no segment has this name, 0 if one still does. Windows deletes a
 * section when its last reference goes, and under Wine that release
 * sometimes trails the last CloseHandle() by a few milliseconds (seen
 * about once in a thousand closes, never in a plain API loop; nothing in
 * libsma runs in the background to hold it): there the check is repeated
 * for up to 2 s. Elsewhere it asks once. */
int t_segment_absent(const char *name);

/* How many lines of /proc/self/maps map the /dev/shm file `name` (the name
 * itself, not a longer one it begins); -1 where that cannot be read (no
 * /proc, not Linux). */
int t_shm_mappings(const char *name);

/* Starts the helper executable with the given arguments (NULL-terminated,
 * not including the program), waits for it and returns its exit code,
 * or -1 if it could not be started or did not exit normally. */
int t_run_helper(const char *const *args);

/* Starts a command (argv[0] is the program path) and returns its exit code
 * as t_run_helper does. */
int t_run(const char *const *argv);

/* t_run() for a program of this build (the `sma` command): under the
 * build's emulator, if any (a cross build run by qemu-user). */
int t_run_built(const char *const *argv);

/* The `sma` command of this build, run the one way every test runs it:
 * t_sma_run(), and the shorthands below it (t_sma_line, t_sma, t_sma_said,
 * t_sma_as), which all run through it.
 *
 * The command gets the arguments unchanged (argv, no shell), an empty
 * standard input, and a process group of its own (a terminal job's: a test
 * may signal the whole group, as Ctrl-C does). Under a cross build's
 * emulator (qemu-user) it runs through the emulator, as t_run_built()
 * does; on Windows (Wine too) through CreateProcess. Its standard output
 * and error are captured separately, each cut at T_SMA_OUTPUT_MAX bytes
 * (the rest is read and dropped, so the command never blocks on a full
 * pipe). A run that outlives its timeout is killed, with its group.
 * Every callback runs on the calling thread. Not thread-safe on Windows,
 * which passes the pipes as this process's standard handles. */
enum { T_SMA_OUTPUT_MAX = 1 << 20 };
/* The status of a run that did not exit by itself: T_SMA_SIGNALED + the
 * signal's number (POSIX; Windows reports the exit code as it is),
 * T_SMA_TIMED_OUT (killed at the timeout), and -1 when the command could
 * not be started (or its argument line was wrong: over 64 words, an
 * unbalanced quote, an option the OS cannot honour). */
enum { T_SMA_SIGNALED = 1000, T_SMA_TIMED_OUT = 2000 };

/* How a run of the `sma` command ended, and what it printed. out and err
 * are NUL-terminated and malloc'd (empty strings, never NULL, once
 * t_sma_run() returned); release them with t_sma_run_free(). */
typedef struct t_sma_run {
  int status; /* exit code, or one of the statuses above */
  char *out;
  char *err;
  int out_cut, err_cut; /* 1 where T_SMA_OUTPUT_MAX cut the text */
} t_sma_run_t;

/* How to run it; a zeroed struct (or NULL) is the default: as this user,
 * the default timeout, no line callback. */
typedef struct t_sma_opts {
  int as_user; /* 1: run as uid with gid as its only group (needs root; not Windows) */
  unsigned uid, gid;
  unsigned timeout_s; /* 0: T_SMA_TIMEOUT_S */
  /* Called with each line of standard output as it arrives (without its
   * newline; a longer line than 4 KiB comes in pieces) and the command's
   * process id, while it runs: a test kills or signals it from here. */
  void (*on_line)(void *user, long pid, const char *line);
  /* Called once the command started, before its output is read: a test
   * acts while it runs (paused at a fault-injection pause point, say).
   * Output beyond a pipe's buffer (64 KiB) waits until it returns. */
  void (*during)(void *user, long pid);
  /* POSIX only: called in the forked child before the command starts (a
   * namespace to enter); nonzero makes the child exit with 96 instead. */
  int (*in_child)(void *user);
  void *user; /* given to the three callbacks */
  /* Environment changes for the command only: "NAME=value" sets, "NAME"
   * removes; NULL-terminated (NULL: none). */
  const char *const *env;
  /* A command that runs `sma` (POSIX: `unshare -p -f --mount-proc`,
   * `setpriv ...`): its words, NULL-terminated, put before the `sma`
   * command (and its emulator). NULL: none. The timeout kills the
   * wrapper's process group, which its children share unless they leave
   * it. Its own status is the run's. */
  const char *const *wrapper;
  /* 1: the command's standard input is a pipe the caller writes through
   * t_sma_job_t's stdin_fd (t_sma_start() only; POSIX). 0: empty. */
  int feed_stdin;
} t_sma_opts_t;
/* Below the Criterion stand-in's default bound on a test (120 s), so that
 * a command that blocks fails its test with T_SMA_TIMED_OUT. */
enum { T_SMA_TIMEOUT_S = 90 };

/* Runs `sma ARGS...` (args: NULL-terminated, without the program) and
 * fills *run (NULL: the output is dropped). Returns run's status. */
int t_sma_run(t_sma_run_t *run, const t_sma_opts_t *opts, const char *const *args);

/* A run of the `sma` command started in the background by t_sma_start()
 * and collected by t_sma_wait(), for a test that acts while it runs (two
 * commands paused at once, input fed piece by piece). The caller owns the
 * struct; priv is the runner's. */
typedef struct t_sma_job {
  long pid;     /* the process started (the wrapper's or emulator's, if any) */
  int stdin_fd; /* with feed_stdin: the write end of its standard input, else -1 */
  void *priv;
} t_sma_job_t;

/* Starts `sma ARGS...` as t_sma_run() does, without waiting: 0, or -1 if
 * it could not be started (then *job needs no t_sma_wait()). Its output
 * is read only by t_sma_wait(): a command that prints more than a pipe's
 * buffer (64 KiB) meanwhile waits for it. The timeout counts from here
 * and is enforced by t_sma_wait(): a command that ended by itself before
 * a late wait keeps its own status. opts' callbacks and env are used
 * before this returns, except on_line, which t_sma_wait() calls. A write
 * to stdin_fd once the command ended raises SIGPIPE unless the test
 * ignores it; a child the test forks (without exec) meanwhile holds
 * stdin_fd open too. */
int t_sma_start(t_sma_job_t *job, const t_sma_opts_t *opts, const char *const *args);

/* Ends the input of a job started with feed_stdin (its stdin_fd becomes
 * -1); nothing if it has none. */
void t_sma_end_input(t_sma_job_t *job);

/* Ends the input (t_sma_end_input()), reads the job's output until it
 * exits (killing its group at its timeout), reaps it and fills *run
 * (NULL: the output is dropped) as t_sma_run() does. Returns run's
 * status. Every started job must be waited for exactly once, also one the
 * caller killed. */
int t_sma_wait(t_sma_job_t *job, t_sma_run_t *run);

/* The words that start this build's `sma` command (the emulator, if any,
 * then its path), NULL-terminated, in buf (cap entries): for a script
 * that runs `sma` itself. */
const char *const *t_sma_command(const char **buf, size_t cap);

/* Runs a script that runs `sma` itself: argv (argv[0] a program of the
 * host, such as python3 or unshare) followed by the words of
 * t_sma_command(); its standard streams are the test's. Its exit code, or
 * -1 if it could not be started or did not exit. */
int t_run_script(const char *const *argv);

/* Runs a bash script, preamble then script, as pid 1 of fresh mount, IPC
 * and pid namespaces (unshare -m -i -p -f --mount-proc: its exit ends
 * them and every process in them), through t_run_script(): $SMA holds the
 * words that start the `sma` command. Its exit code; 77 where it cannot be
 * set up (not root, no bash, not Linux, no temporary file), 1 if it did
 * not exit. Not on Windows. */
int t_run_private_script(const char *preamble, const char *script);

/* t_sma_run() with the arguments printf(fmt, ...) split into words at
 * spaces and tabs; '...' quotes a word as in the shell (no other shell
 * syntax: no escapes, no redirections, no variables). */
int t_sma_line(t_sma_run_t *run, const t_sma_opts_t *opts, const char *fmt, ...);

/* The common case: t_sma_line() with the default options that keeps only
 * standard output, in *out (malloc'd, NUL-terminated) if out is not NULL.
 * Returns the status. */
int t_sma(char **out, const char *fmt, ...);

/* t_sma() that keeps what the command printed on both streams, standard
 * output then standard error, in *said (malloc'd) if said is not NULL:
 * for a test that looks for a message wherever the command printed it. */
int t_sma_said(char **said, const char *fmt, ...);

/* t_sma_said() as uid with gid as its only group (uid -1: as we are; not
 * on Windows). */
int t_sma_as(int uid, unsigned gid, char **said, const char *fmt, ...);

/* Frees run's texts (and leaves it empty). */
void t_sma_run_free(t_sma_run_t *run);

/* Arguments that a naive quoting (Windows' command line) would change:
 * spaces, quotes, backslashes before quotes and at the end, an empty one.
 * NULL-terminated; the helper's "args" scenario checks it got them. */
extern const char *const t_tricky_args[];

/* The OS error numbers the library keeps for "exists" and "missing":
 * errno values on Unix, GetLastError() values on Windows. */
#if defined(_WIN32)
#  define T_OS_EEXIST 183 /* ERROR_ALREADY_EXISTS */
#  define T_OS_ENOENT 2   /* ERROR_FILE_NOT_FOUND */
#else
#  include <errno.h>
#  define T_OS_EEXIST EEXIST
#  define T_OS_ENOENT ENOENT
#endif

/* The thread's last OS error: errno, or GetLastError() on Windows. */
int t_last_os_error(void);

/* Permission bits of a segment (0600...), or -1 where the backend has no
 * Unix mode (Windows uses a security descriptor). */
int t_segment_mode(const char *name);

/* Maps a segment raw through the backend (no record check): its bytes
 * and size, or NULL. Release with t_raw_unmap(). */
typedef struct t_raw {
  unsigned char *bytes;
  size_t size;
  void *priv;
} t_raw_t;
int t_raw_map(const char *name, t_raw_t *raw);
void t_raw_unmap(t_raw_t *raw);

/* Sleeps about `ms` milliseconds. */
void t_sleep_ms(unsigned ms);

/* Seconds of a monotonic clock, for timing what a test waits for. */
double t_now(void);

/* In a forked child: makes it die with its parent (Linux; nothing
 * elsewhere), so that it never outlives a failed test. Not on Windows. */
void t_die_with_parent(void);

/* Kills a child with SIGKILL and reaps it. Not on Windows. */
void t_stop(long pid);

/* Reaps a child, killing it first (SIGKILL) if it has not ended within
 * `seconds`: a child's own alarm() is not enough where it can block with
 * every signal blocked (qemu-user's own locks). Returns its exit code,
 * 128 + the signal that ended it, T_OVERDUE if it was killed for being
 * late, or -1 if it could not be waited for. Not on Windows. */
enum { T_OVERDUE = 1000 };
int t_wait_bounded(long pid, double seconds);

/* Runs fn(arg) on n threads at once and waits for all; returns the number
 * of threads whose fn returned nonzero (or that could not start). */
int t_run_threads(int n, int (*fn)(void *arg, int index), void *arg);

/* In a forked child: becomes uid with gid as its only group (needs root).
 * 0, or -1 if the kernel refused; the caller picks its exit code. Not on
 * Windows. */
int t_become(unsigned uid, unsigned gid);

/* In a forked child: t_become(uid, gid), or _exit(97) where the kernel
 * refuses; uid -1 stays as it is. Not on Windows. */
void t_become_or_exit(int uid, unsigned gid);

/* Runs the shell command printf(fmt, ...) as uid with gid as its only
 * group (uid -1: as we are); returns its exit code (-1 if it could not be
 * run or did not exit), and its stdout and stderr in *out (malloc'd) if
 * out is not NULL. Not on Windows. */
int t_shell_as(int uid, unsigned gid, char **out, const char *fmt, ...);

/* Moves this process into a private mount namespace with a fresh tmpfs
 * over /dev/shm (tmpfs options `opts`, e.g. "size=8m") and another over
 * /tmp, as in a container: the per-user index under /tmp is then private
 * too, so listing there never prunes the index entries of tests running
 * outside. A build tree under /tmp (the helper's directory or the working
 * directory, as in a clone made in /tmp) stays at its path on the new
 * /tmp, so the programs of the tree still run by their paths. 0, or -1
 * where the machine cannot give one (not root, not Linux). */
int t_private_dev_shm(const char *opts);

/* How many System V segments of this IPC namespace process `pid`
 * created (shm_cpid, read from /proc/sysvipc/shm, not through libsma);
 * -1 where that file cannot be read. */
int t_sysv_segments_of(long pid);

/* `le`, text with NumPy type strings spelled little-endian as the tests
 * write them, in this machine's byte order: on a big-endian machine every
 * '<' becomes '>' and every '>' becomes '<'. Returns one of a few static
 * buffers, so use it at once. */
const char *t_native(const char *le);

/* Moves the calling process (and the processes it starts later) into an
 * IPC namespace of its own: System V segments of other tests are out of
 * sight there. 0, or -1 where the machine cannot give one. */
int t_private_ipc(void);

/* The exit code of a test's child or script that could not set up its
 * scenario on this machine (the test then skips). */
enum { T_SKIP = 77 };

/* A one-dimensional uint8 array of `n` elements named `name`, created
 * (create != 0) or loaded; NULL on failure. */
sma_t *t_bytes_array(const char *name, size_t n, int create);

/* Bytes free in /dev/shm for an unprivileged user; -1 where there is no
 * /dev/shm to ask (Windows, macOS). */
long long t_dev_shm_free(void);

/* Linux: how many mappings of segments this process has: of the /dev/shm
 * file of `name` on POSIX (t_shm_mappings), of any System V segment
 * ("/SYSV" lines of /proc/self/maps) on System V; -1 where that cannot be
 * read. */
int t_segment_mappings(const char *name);

/* Linux: how many lines of /proc/self/maps hold `text`; -1 where it
 * cannot be read. */
int t_maps_lines_with(const char *text);

/* Linux: this process's address space in bytes (VmSize of
 * /proc/self/status); -1 where it cannot be read. */
long t_vm_size(void);

/* POSIX: registers at-fork handlers that come before libsma's in the C
 * library's list, as pthread_atfork() would in a program that registered
 * them before libsma was loaded (libsma registers its own when it is
 * loaded): their prepare part runs after libsma's, their parent and child
 * parts before. Up to 4 per process; 0, or -1 when none is left. */
int t_atfork_first(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* Linux: runs fn in a forked child moved by t_private_dev_shm(shm_opts)
 * (and, on System V, t_private_ipc()) into a /dev/shm, /tmp and IPC
 * namespace of its own, ended by SIGALRM after `seconds`. Its exit
 * status: fn's, T_SKIP where the machine cannot, 128 + the signal that
 * ended it, -1 if it could not be waited for. T_SKIP elsewhere. */
int t_in_private_child(int (*fn)(void), const char *shm_opts, unsigned seconds);

/* Linux: runs fn as pid 1 of a new pid namespace (unshare(CLONE_NEWPID),
 * then a fork() with its handlers); its exit status as
 * t_in_private_child()'s (90 if it could not be waited for). */
int t_as_pid1(int (*fn)(void));

/* Linux: clone(SIGCHLD | CLONE_NEWPID) as a raw system call, a fork-like
 * child in a new pid namespace (pid 1 there) that runs no at-fork handler,
 * as container runtimes make. Returns as fork() does; -1 with errno where
 * the kernel or an emulator refuses (qemu-user: EINVAL), or elsewhere. */
long t_raw_clone_newpid(void);

/* Linux: a fork-like child that runs no at-fork handler (glibc's _Fork(),
 * else a raw clone(SIGCHLD)), as Go and some language runtimes make.
 * Returns as fork() does. */
long t_fork_without_handlers(void);

/* The 64-bit FNV-1a hash of a name, by which src/os_name.c digests a name
 * longer than the OS allows (computed here independently, so a change
 * there is caught). */
uint64_t t_fnv1a64(const char *s);

/* The System V key of `name` at `probe`, by the formula src/sysv/shm.c
 * documents (computed here independently, so a change there is caught). */
uint32_t t_sysv_key(const char *name, unsigned probe);

/* The backend's capabilities. */
sma_caps_t t_caps(void);

/* 1 where this build's backend is POSIX shared memory (named objects of
 * /dev/shm), 0 elsewhere (System V, Windows). */
int t_posix_backend(void);

/* Skips the calling test (Criterion's cr_skip_test) where a capability it
 * exercises is absent, with the one reason given for it everywhere. */
#define T_NEED_GC_PROOF()                                                                          \
  do {                                                                                             \
    if (!t_caps().proves_unused)                                                                   \
      cr_skip_test("this OS cannot tell who maps a segment: gc keeps every one");                  \
  } while (0)
#define T_NEED_RESERVING_STORE()                                                                   \
  do {                                                                                             \
    if (!t_caps().reserves_memory)                                                                 \
      cr_skip_test("segments are plain memory here: no store to fill");                            \
  } while (0)

/* Converts between doubles and elements of any dtype (bool: nonzero). */
void t_store(void *p, sma_dtype_t dtype, double value);
double t_load(const void *p, sma_dtype_t dtype);

/* Sets every element of a view to value; counts elements in *n. */
void t_fill_view(const sma_view_t *v, double value);
/* Number of elements of the view that differ from value. */
size_t t_count_not(const sma_view_t *v, double value);

#endif
