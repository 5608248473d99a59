#if defined(__linux__)
#  define _GNU_SOURCE /* unshare */
#  include <sched.h>
#  include <sys/mount.h>
#  include <sys/prctl.h>
#  include <sys/stat.h> /* mkdir */
#  include <sys/statvfs.h>
#  include <sys/syscall.h>
#endif
#include "support.h"

#include "../src/sma_int.h" /* sma__os_name, and the platform contract */
#include "process_services.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(SMA_BACKEND_posix)
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#elif defined(SMA_BACKEND_sysv)
#  include <sys/ipc.h>
#  include <sys/shm.h>
#endif
#if defined(_WIN32)
#  include <fcntl.h> /* _O_RDONLY */
#  include <io.h>    /* _open */
#  include <windows.h>
#else
#  include <fcntl.h>
#  include <grp.h> /* setgroups */
#  include <poll.h>
#  include <signal.h>
#  include <pthread.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

#ifndef SMA_TEST_HELPER
#  error "SMA_TEST_HELPER must name the helper executable"
#endif

/* T_PREFIX-pid-counter-tag, cut to the backend's name limit (Darwin's
 * POSIX names are 30 bytes): the pid and counter keep names unique, the
 * tag is cut on a character boundary. */
void t_name(char *buf, size_t cap, const char *tag) {
  static unsigned n;
  snprintf(buf, cap, T_PREFIX "-%llu-%u-%s", (unsigned long long)sma__os_pid(), n++, tag);
  size_t len = strlen(buf), max = sma_name_max();
  while (len > max || (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)) len--;
  buf[len] = '\0';
}

void t_prefix(char *buf, size_t cap, const char *tag) {
  snprintf(buf, cap, T_PREFIX "-%s%lu", tag, t_pid());
  if (strlen(buf) + 19 > sma_name_max()) snprintf(buf, cap, T_PREFIX "-%s", tag);
}

unsigned long t_pid(void) { return (unsigned long)sma__os_pid(); }

int t_last_os_error(void) {
#if defined(_WIN32)
  return (int)GetLastError();
#else
  return errno;
#endif
}

#if !defined(_WIN32)
/* Handler slots registered before libsma's: a constructor of priority 101
 * runs before the unprioritised one of libsma's (in the same executable:
 * tests link libsma's objects statically, whichever the build). */
typedef struct {
  void (*prepare)(void);
  void (*parent)(void);
  void (*child)(void);
} handler_slot_t;
enum { FIRST_SLOTS = 4 };
static handler_slot_t first_slots[FIRST_SLOTS];
static int first_slots_used;
static int first_slots_registered;
#  define T_FIRST_SLOT(i)                                                                          \
    static void slot_prepare_##i(void) {                                                           \
      if (first_slots[i].prepare != NULL) first_slots[i].prepare();                                \
    }                                                                                              \
    static void slot_parent_##i(void) {                                                            \
      if (first_slots[i].parent != NULL) first_slots[i].parent();                                  \
    }                                                                                              \
    static void slot_child_##i(void) {                                                             \
      if (first_slots[i].child != NULL) first_slots[i].child();                                    \
    }
T_FIRST_SLOT(0)
T_FIRST_SLOT(1)
T_FIRST_SLOT(2)
T_FIRST_SLOT(3)
__attribute__((constructor(101))) static void register_first_slots(void) {
  first_slots_registered = pthread_atfork(slot_prepare_0, slot_parent_0, slot_child_0) == 0 &&
                           pthread_atfork(slot_prepare_1, slot_parent_1, slot_child_1) == 0 &&
                           pthread_atfork(slot_prepare_2, slot_parent_2, slot_child_2) == 0 &&
                           pthread_atfork(slot_prepare_3, slot_parent_3, slot_child_3) == 0;
}

int t_atfork_first(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  if (!first_slots_registered || first_slots_used == FIRST_SLOTS) return -1;
  first_slots[first_slots_used++] = (handler_slot_t){prepare, parent, child};
  return 0;
}

int t_become(unsigned uid, unsigned gid) {
  gid_t groups[1] = {(gid_t)gid};
  return setgroups(1, groups) == 0 && setgid((gid_t)gid) == 0 && setuid((uid_t)uid) == 0 ? 0 : -1;
}

void t_become_or_exit(int uid, unsigned gid) {
  if (uid >= 0 && t_become((unsigned)uid, gid) != 0) _exit(97);
}

void t_die_with_parent(void) {
#  if defined(__linux__)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
#  endif
}

void t_stop(long pid) {
  kill((pid_t)pid, SIGKILL);
  waitpid((pid_t)pid, NULL, 0);
}

/* A waitpid() status as the runners report it: the exit code, or 128 +
 * the signal that ended the process. */
static int status_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int t_wait_bounded(long pid, double seconds) {
  double start = t_now();
  for (;;) {
    int status;
    pid_t got = waitpid((pid_t)pid, &status, WNOHANG);
    if (got == (pid_t)pid) return status_code(status);
    if (got < 0 && errno != EINTR) return -1;
    if (t_now() - start > seconds) {
      t_stop(pid);
      return T_OVERDUE;
    }
    t_sleep_ms(2);
  }
}

int t_shell_as(int uid, unsigned gid, char **out, const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    t_become_or_exit(uid, gid);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  ssize_t n;
  while (buf != NULL && (n = read(pipefd[0], buf + len, cap - len - 1)) > 0) len += (size_t)n;
  if (buf != NULL) buf[len] = '\0';
  close(pipefd[0]);
  int status;
  waitpid(child, &status, 0);
  if (out)
    *out = buf;
  else
    free(buf);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

int t_sysv_segments_of(long pid) {
  FILE *f = fopen("/proc/sysvipc/shm", "r");
  if (f == NULL) return -1;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    long key, id, size, cpid;
    unsigned perms;
    if (sscanf(line, "%ld %ld %o %ld %ld", &key, &id, &perms, &size, &cpid) == 5 && cpid == pid)
      n++;
  }
  fclose(f);
  return n;
}

const char *t_native(const char *le) {
  static char bufs[4][512];
  static unsigned next;
  char *out = bufs[next++ % 4];
  const uint16_t probe = 1;
  int big = *(const unsigned char *)&probe == 0;
  size_t i = 0;
  for (; le[i] != '\0' && i + 1 < sizeof bufs[0]; i++)
    out[i] = !big ? le[i] : le[i] == '<' ? '>' : le[i] == '>' ? '<' : le[i];
  out[i] = '\0';
  return out;
}

int t_private_ipc(void) {
#if defined(__linux__)
  return unshare(CLONE_NEWIPC) == 0 ? 0 : -1;
#else
  return -1;
#endif
}

long t_raw_clone_newpid(void) {
#if defined(__linux__) && (defined(__s390__) || defined(__CRIS__))
  /* These take clone's stack first and its flags second (a child given a
   * stack of its flags segfaults, and the parent's waitpid() says ECHILD). */
  return syscall(SYS_clone, NULL, (long)(SIGCHLD | CLONE_NEWPID), NULL, NULL, NULL);
#elif defined(__linux__)
  return syscall(SYS_clone, (long)(SIGCHLD | CLONE_NEWPID), NULL, NULL, NULL, NULL);
#else
  errno = ENOSYS;
  return -1;
#endif
}

long t_fork_without_handlers(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  return _Fork();
#elif defined(__linux__) && (defined(__s390__) || defined(__CRIS__))
  return syscall(SYS_clone, NULL, (long)SIGCHLD, NULL, NULL, NULL);
#elif defined(__linux__)
  return syscall(SYS_clone, (long)SIGCHLD, NULL, NULL, NULL, NULL);
#else
  errno = ENOSYS;
  return -1;
#endif
}

#if defined(__linux__)
/* "/tmp/<first component>" of `path` in `top` if path lies under /tmp
 * and that directory exists, else "". */
static void top_under_tmp(const char *path, char *top, size_t cap) {
  top[0] = '\0';
  if (strncmp(path, "/tmp/", 5) != 0 || path[5] == '\0' || path[5] == '/') return;
  size_t len = 5 + strcspn(path + 5, "/");
  struct stat st;
  if (len < cap) snprintf(top, cap, "%.*s", (int)len, path);
  if (stat(top, &st) != 0 || !S_ISDIR(st.st_mode)) top[0] = '\0';
}

/* Keeps the tree `top` (a directory right under /tmp) in reach through
 * the fresh tmpfs that is about to cover /tmp: a bind mount of it parked
 * in the private /dev/shm, then moved to the same path on the new /tmp.
 * The parking directory is removed, so /dev/shm holds nothing of it. */
static int park_tree(const char *top, const char *parked) {
  return mkdir(parked, 0700) != 0 || mount(top, parked, NULL, MS_BIND | MS_REC, NULL) != 0 ? -1 : 0;
}

static int unpark_tree(const char *top, const char *parked) {
  if (mkdir(top, 0755) != 0 || mount(parked, top, NULL, MS_MOVE, NULL) != 0) return -1;
  return rmdir(parked);
}
#endif

int t_private_dev_shm(const char *opts) {
#if defined(__linux__)
  /* The build tree (the helper, the sma command, the scripts) may itself
   * live under /tmp, as in a clone made there: a test that runs a program
   * of the tree by its path must still find it. */
  char full[96], keep[2][256], cwd[4096];
  snprintf(full, sizeof full, "%s,mode=1777", opts);
  top_under_tmp(SMA_TEST_HELPER, keep[0], sizeof keep[0]);
  top_under_tmp(getcwd(cwd, sizeof cwd) ? cwd : "", keep[1], sizeof keep[1]);
  if (strcmp(keep[0], keep[1]) == 0) keep[1][0] = '\0';
  static const char *parked[2] = {"/dev/shm/.t-tree-0", "/dev/shm/.t-tree-1"};
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", "/dev/shm", "tmpfs", 0, full) != 0)
    return -1;
  for (int i = 0; i < 2; i++)
    if (keep[i][0] && park_tree(keep[i], parked[i]) != 0) return -1;
  if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=4m,mode=1777") != 0) return -1;
  for (int i = 0; i < 2; i++)
    if (keep[i][0] && unpark_tree(keep[i], parked[i]) != 0) return -1;
  return 0;
#else
  (void)opts;
  return -1;
#endif
}

uint64_t t_fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325u;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) h = (h ^ *p) * 0x100000001b3u;
  return h;
}

uint32_t t_sysv_key(const char *name, unsigned probe) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
  h += probe * 0x9E3779B9u;
  return h == 0 ? 1 : h;
}

sma_caps_t t_caps(void) {
  sma_caps_t c;
  sma_caps_get(&c);
  return c;
}

int t_posix_backend(void) { return strcmp(sma_backend(), "posix") == 0; }

/* The OS object's name of the segment `name` (a digest where the OS's
 * limit is shorter: src/os_name.c), or name itself if it has none. */
static const char *object_name(const char *name, char buf[SMA_NAME_BUF]) {
  return sma__os_name(name, buf) == 0 ? buf : name;
}

int t_segment_mode(const char *segment) {
  char buf[SMA_NAME_BUF];
  const char *name = object_name(segment, buf);
#if defined(SMA_BACKEND_posix)
  char path[SMA_NAME_BUF + 2] = "/";
  strcat(path, name);
  int fd = shm_open(path, O_RDONLY, 0);
  struct stat st;
  int ok = fd >= 0 && fstat(fd, &st) == 0;
  if (fd >= 0) close(fd);
  return ok ? (int)(st.st_mode & 0777) : -1;
#elif defined(SMA_BACKEND_sysv)
  sma__os_segment_t seg;
  int os_err;
  if (sma__os_open(name, 0, &seg, &os_err) != 0) return -1;
  struct shmid_ds ds;
  int ok = shmctl((int)seg.handle, IPC_STAT, &ds) == 0;
  sma__os_close(&seg, &os_err);
  return ok ? (int)(ds.shm_perm.mode & 0777) : -1;
#else
  (void)name;
  return -1;
#endif
}

int t_raw_map(const char *name, t_raw_t *raw) {
  static sma__os_segment_t seg; /* tests map one raw segment at a time */
  int os_err;
  char buf[SMA_NAME_BUF];
  if (sma__os_open(object_name(name, buf), 0, &seg, &os_err) != 0) return -1;
  raw->bytes = seg.addr;
  raw->size = seg.size;
  raw->priv = &seg;
  return 0;
}

void t_raw_unmap(t_raw_t *raw) {
  int os_err;
  sma__os_close(raw->priv, &os_err);
}

int t_segment_exists(const char *name) {
  sma__os_segment_t seg;
  int os_err;
  char buf[SMA_NAME_BUF];
  if (sma__os_open(object_name(name, buf), 0, &seg, &os_err) != 0) return 0;
  sma__os_close(&seg, &os_err);
  return 1;
}

int t_segment_absent(const char *name) {
#if defined(_WIN32)
  for (int waited = 0; waited < 2000 && t_segment_exists(name); waited += 10) t_sleep_ms(10);
#endif
  return !t_segment_exists(name);
}

int t_shm_mappings(const char *name) {
#if defined(__linux__)
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return -1;
  char line[1024], want[SMA_NAME_BUF + 16];
  snprintf(want, sizeof want, "/dev/shm/%s", name);
  size_t len = strlen(want);
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char *p = strstr(line, want);
    n += p != NULL && (p[len] == '\n' || p[len] == ' ');
  }
  fclose(f);
  return n;
#else
  (void)name;
  return -1;
#endif
}

int t_run(const char *const *argv) { return proc_run(argv); }

const char *const t_tricky_args[] = {
    "plain", "with space", "quote\"inside", "back\\slash", "trailing\\", "space and trailing \\",
    "\\\"",  "",           "tab\there",     "two  spaces", "%PATH%",     NULL};

/* The helper's path. On Windows it is found beside this executable, since
 * the build tree's Unix path means nothing to a program under Wine. */
static const char *helper_path(void) {
#if defined(_WIN32)
  static char path[MAX_PATH];
  DWORD n = GetModuleFileNameA(NULL, path, sizeof path);
  while (n > 0 && path[n - 1] != '\\' && path[n - 1] != '/') n--;
  snprintf(path + n, sizeof path - n, "sma_test_helper.exe");
  return path;
#else
  return SMA_TEST_HELPER;
#endif
}

int t_run_built(const char *const *argv) {
  const char *emulated[40];
  return proc_run(proc_argv(argv, emulated, sizeof emulated / sizeof *emulated));
}

int t_run_helper(const char *const *args) {
  const char *argv[32];
  size_t n = 0;
  argv[n++] = helper_path();
  for (size_t i = 0; args[i] != NULL && n < 31; i++) argv[n++] = args[i];
  argv[n] = NULL;
  return t_run_built(argv);
}

void t_store(void *p, sma_dtype_t dtype, double value) {
  switch (dtype) {
  case SMA_BOOL: *(unsigned char *)p = value != 0; break;
  case SMA_INT8: *(int8_t *)p = (int8_t)value; break;
  case SMA_INT16: *(int16_t *)p = (int16_t)value; break;
  case SMA_INT32: *(int32_t *)p = (int32_t)value; break;
  case SMA_INT64: *(int64_t *)p = (int64_t)value; break;
  case SMA_UINT8: *(uint8_t *)p = (uint8_t)value; break;
  case SMA_UINT16: *(uint16_t *)p = (uint16_t)value; break;
  case SMA_UINT32: *(uint32_t *)p = (uint32_t)value; break;
  case SMA_UINT64: *(uint64_t *)p = (uint64_t)value; break;
  case SMA_FLOAT32: *(float *)p = (float)value; break;
  case SMA_FLOAT64: *(double *)p = value; break;
  case SMA_COMPLEX64:
    ((float *)p)[0] = (float)value;
    ((float *)p)[1] = 0;
    break;
  case SMA_COMPLEX128:
    ((double *)p)[0] = value;
    ((double *)p)[1] = 0;
    break;
  default: memset(p, 0, sma_dtype_size(dtype)); break; /* float16: unused */
  }
}

double t_load(const void *p, sma_dtype_t dtype) {
  switch (dtype) {
  case SMA_BOOL: return *(const unsigned char *)p;
  case SMA_INT8: return *(const int8_t *)p;
  case SMA_INT16: return *(const int16_t *)p;
  case SMA_INT32: return *(const int32_t *)p;
  case SMA_INT64: return (double)*(const int64_t *)p;
  case SMA_UINT8: return *(const uint8_t *)p;
  case SMA_UINT16: return *(const uint16_t *)p;
  case SMA_UINT32: return *(const uint32_t *)p;
  case SMA_UINT64: return (double)*(const uint64_t *)p;
  case SMA_FLOAT32: return *(const float *)p;
  case SMA_FLOAT64: return *(const double *)p;
  case SMA_COMPLEX64: return ((const float *)p)[0];
  case SMA_COMPLEX128: return ((const double *)p)[0];
  default: return -1;
  }
}

typedef struct thread_job {
  int (*fn)(void *, int);
  void *arg;
  int index;
  int result;
} thread_job_t;

#if defined(_WIN32)
static DWORD WINAPI thread_main(LPVOID p) {
  thread_job_t *j = p;
  j->result = j->fn(j->arg, j->index);
  return 0;
}
#else
static void *thread_main(void *p) {
  thread_job_t *j = p;
  j->result = j->fn(j->arg, j->index);
  return NULL;
}
#endif

int t_run_threads(int n, int (*fn)(void *arg, int index), void *arg) {
  enum { MAX_THREADS = 64 };
  thread_job_t jobs[MAX_THREADS];
  if (n > MAX_THREADS) return n;
  int failed = 0, started = 0;
#if defined(_WIN32)
  HANDLE th[MAX_THREADS];
#else
  pthread_t th[MAX_THREADS];
#endif
  for (int i = 0; i < n; i++, started++) {
    jobs[i] = (thread_job_t){fn, arg, i, 0};
#if defined(_WIN32)
    th[i] = CreateThread(NULL, 0, thread_main, &jobs[i], 0, NULL);
    if (th[i] == NULL) break;
#else
    if (pthread_create(&th[i], NULL, thread_main, &jobs[i]) != 0) break;
#endif
  }
  for (int i = 0; i < started; i++) {
#if defined(_WIN32)
    WaitForSingleObject(th[i], INFINITE);
    CloseHandle(th[i]);
#else
    pthread_join(th[i], NULL);
#endif
    failed += jobs[i].result != 0;
  }
  return failed + (n - started);
}

/* Visits every element of a view in C order. */
static size_t visit(const sma_view_t *v, double value, int store) {
  size_t total = sma_view_size(v), mismatches = 0;
  size_t idx[SMA_MAX_DIMS] = {0};
  for (size_t k = 0; k < total; k++) {
    void *p = sma_view_at(v, idx);
    if (store)
      t_store(p, v->dtype, value);
    else if (t_load(p, v->dtype) != value)
      mismatches++;
    for (size_t d = v->ndim; d-- > 0;) {
      if (++idx[d] < v->shape[d]) break;
      idx[d] = 0;
    }
  }
  return mismatches;
}

void t_fill_view(const sma_view_t *v, double value) { visit(v, value, 1); }
size_t t_count_not(const sma_view_t *v, double value) { return visit(v, value, 0); }

double t_now(void) { return proc_now(); }

void t_sleep_ms(unsigned ms) {
#if defined(_WIN32)
  Sleep(ms);
#else
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
#endif
}

/* ---- The `sma` command: t_sma_run() and its shorthands (support.h) ---- */

#ifndef SMA_CLI
#  error "SMA_CLI must name the sma executable"
#endif

/* One captured stream: at most T_SMA_OUTPUT_MAX bytes kept, the rest
 * counted as cut. */
typedef struct capture {
  char *text;
  size_t len;
  int cut;
} capture_t;

static void capture_add(capture_t *c, const char *bytes, size_t n) {
  if (c->text == NULL) return;
  size_t room = T_SMA_OUTPUT_MAX - c->len;
  if (n > room) {
    c->cut = 1;
    n = room;
  }
  memcpy(c->text + c->len, bytes, n);
  c->len += n;
  c->text[c->len] = '\0';
}

/* Hands every completed line of stdout since the last call to on_line
 * (a line longer than the buffer in pieces). */
typedef struct line_feed {
  char buf[4096];
  size_t len;
} line_feed_t;

static void feed_lines(line_feed_t *f, const t_sma_opts_t *o, long pid, const char *bytes, size_t n,
                       int at_end) {
  if (o->on_line == NULL) return;
  for (size_t i = 0; i < n; i++) {
    if (bytes[i] != '\n' && f->len + 1 < sizeof f->buf) {
      f->buf[f->len++] = bytes[i];
      continue;
    }
    f->buf[f->len] = '\0';
    o->on_line(o->user, pid, f->buf);
    f->len = 0;
    if (bytes[i] != '\n') f->buf[f->len++] = bytes[i];
  }
  if (at_end && f->len > 0) {
    f->buf[f->len] = '\0';
    o->on_line(o->user, pid, f->buf);
    f->len = 0;
  }
}

/* The `sma` command's path. On Windows the build tree's path is used as
 * it is: Wine maps it through its Z: drive. */
static const char *const sma_alone[] = {SMA_CLI, NULL};

const char *const *t_sma_command(const char **buf, size_t cap) {
  return proc_argv(sma_alone, buf, cap);
}

int t_run_script(const char *const *argv) {
  enum { MAX_WORDS = 64 };
  const char *all[MAX_WORDS + 1], *emulated[8];
  size_t n = 0;
  for (const char *const *w = argv; *w != NULL; w++) {
    if (n == MAX_WORDS) return -1; /* cut: it would run something else */
    all[n++] = *w;
  }
  for (const char *const *w = t_sma_command(emulated, 8); *w != NULL; w++) {
    if (n == MAX_WORDS) return -1;
    all[n++] = *w;
  }
  all[n] = NULL;
  return proc_run(all);
}

#if !defined(_WIN32)
int t_run_private_script(const char *preamble, const char *script) {
#  if !defined(__linux__)
  (void)preamble, (void)script;
  return 77;
#  else
  if (geteuid() != 0) return 77;
  /* Where there is no bash (the s390x VM's busybox), skipped as 77 too. */
  if (access("/bin/bash", X_OK) != 0 && access("/usr/bin/bash", X_OK) != 0) return 77;
  char path[] = "/tmp/sma_private_script_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (f == NULL) {
    if (fd >= 0) close(fd), unlink(path);
    return 77;
  }
  /* $* of `bash PATH WORDS...`: the words t_run_script() adds. */
  int written = fprintf(f, "SMA=\"$*\"; export SMA\n%s\n%s\n", preamble, script) > 0;
  if (fclose(f) != 0 || !written) {
    unlink(path);
    return 77;
  }
  /* bash stays pid 1 (`; true` would keep it; the script's own `exit`
   * ends the namespace and its processes with it). */
  const char *argv[] = {"unshare", "-m", "-i", "-p", "-f", "--mount-proc", "bash", path, NULL};
  int rc = t_run_script(argv);
  unlink(path);
  return rc < 0 ? 1 : rc;
#  endif
}
#endif

/* What a started job keeps until t_sma_wait(). */
typedef struct job_state {
  t_sma_opts_t opts; /* the caller's, copied */
  double deadline;   /* t_now() at which it is killed */
  capture_t out, err;
#if defined(_WIN32)
  proc_t p;
  HANDLE out_r, err_r;
#else
  int fds[2]; /* read ends of its stdout and stderr */
#endif
} job_state_t;

#if defined(_WIN32)
/* Moves what the pipe holds now into c (never blocks); 0 at its end. */
static int drain_pipe(HANDLE h, capture_t *c, line_feed_t *f, const t_sma_opts_t *o, long pid) {
  for (;;) {
    DWORD avail = 0, got = 0;
    char chunk[4096];
    if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) return 0; /* writers gone */
    if (avail == 0) return 1;
    if (!ReadFile(h, chunk, avail < sizeof chunk ? avail : sizeof chunk, &got, NULL) || got == 0)
      return 0;
    capture_add(c, chunk, got);
    if (f != NULL) feed_lines(f, o, pid, chunk, got, 0);
  }
}

/* proc_spawn() gives the child this process's standard handles: they
 * point at the pipes' write ends for the instant of the spawn. */
static int spawn_captured(proc_t *p, const char *const *argv, HANDLE out_w, HANDLE err_w) {
  int nul = _open("NUL", _O_RDONLY);
  if (nul < 0) return -1;
  HANDLE old_out = GetStdHandle(STD_OUTPUT_HANDLE), old_err = GetStdHandle(STD_ERROR_HANDLE);
  SetStdHandle(STD_OUTPUT_HANDLE, out_w);
  SetStdHandle(STD_ERROR_HANDLE, err_w);
  int rc = proc_spawn(p, argv, nul);
  SetStdHandle(STD_OUTPUT_HANDLE, old_out);
  SetStdHandle(STD_ERROR_HANDLE, old_err);
  _close(nul);
  return rc;
}

/* Sets (or, with old != NULL, saves into old[] first) the environment
 * changes of o->env in this process: a child started meanwhile inherits
 * them. restore_env() puts the saved values back. */
enum { MAX_ENV = 8, ENV_VALUE_MAX = 1024 };
typedef struct saved_env {
  char name[MAX_ENV][64];
  char value[MAX_ENV][ENV_VALUE_MAX];
  int had[MAX_ENV];
  size_t n;
} saved_env_t;

static int apply_env(const char *const *env, saved_env_t *saved) {
  saved->n = 0;
  for (; env != NULL && *env != NULL; env++) {
    if (saved->n == MAX_ENV) return -1;
    char *name = saved->name[saved->n];
    const char *eq = strchr(*env, '=');
    size_t len = eq != NULL ? (size_t)(eq - *env) : strlen(*env);
    if (len >= sizeof saved->name[0]) return -1;
    memcpy(name, *env, len);
    name[len] = '\0';
    DWORD n = GetEnvironmentVariableA(name, saved->value[saved->n], ENV_VALUE_MAX);
    saved->had[saved->n++] = n > 0 && n < ENV_VALUE_MAX;
    SetEnvironmentVariableA(name, eq != NULL ? eq + 1 : NULL);
  }
  return 0;
}

static void restore_env(const saved_env_t *saved) {
  for (size_t i = 0; i < saved->n; i++)
    SetEnvironmentVariableA(saved->name[i], saved->had[i] ? saved->value[i] : NULL);
}

static int start_captured(const char *const *argv, job_state_t *s, t_sma_job_t *job) {
  const t_sma_opts_t *o = &s->opts;
  if (o->as_user || o->in_child != NULL || o->feed_stdin) return -1; /* POSIX only */
  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  HANDLE out_w, err_w;
  if (!CreatePipe(&s->out_r, &out_w, &inherit, 0)) return -1;
  if (!CreatePipe(&s->err_r, &err_w, &inherit, 0)) {
    CloseHandle(s->out_r), CloseHandle(out_w);
    return -1;
  }
  SetHandleInformation(s->out_r, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(s->err_r, HANDLE_FLAG_INHERIT, 0);
  static saved_env_t saved; /* large: off the stack */
  int started = apply_env(o->env, &saved) == 0 && spawn_captured(&s->p, argv, out_w, err_w) == 0;
  restore_env(&saved);
  CloseHandle(out_w), CloseHandle(err_w);
  if (!started) {
    CloseHandle(s->out_r), CloseHandle(s->err_r);
    return -1;
  }
  job->pid = (long)s->p.pid;
  return 0;
}

static int wait_captured(const t_sma_job_t *job, job_state_t *s) {
  const t_sma_opts_t *o = &s->opts;
  line_feed_t feed = {{0}, 0};
  int status, out_open = 1, err_open = 1, code;
  char how[32];
  for (;;) {
    if (out_open) out_open = drain_pipe(s->out_r, &s->out, &feed, o, job->pid);
    if (err_open) err_open = drain_pipe(s->err_r, &s->err, NULL, o, job->pid);
    if (!out_open && !err_open && proc_poll(&s->p, &code, how, sizeof how)) {
      status = code;
      break;
    }
    if (t_now() >= s->deadline) {
      proc_kill(&s->p);
      status = T_SMA_TIMED_OUT;
      break;
    }
    Sleep(5);
  }
  feed_lines(&feed, o, job->pid, "", 0, 1);
  CloseHandle(s->out_r), CloseHandle(s->err_r);
  return status;
}
#else
/* In the forked child: its own process group, the pipes as stdout and
 * stderr, in_r (or /dev/null) as stdin, the user asked for; then the
 * command. */
static void exec_captured(const char *const *argv, const t_sma_opts_t *o, int in_r, int out_w,
                          int err_w) {
  setpgid(0, 0);
  int in = in_r >= 0 ? in_r : open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
      dup2(err_w, STDERR_FILENO) < 0)
    _exit(126);
  /* Another user cannot use this user's $TMPDIR where it is private (as
   * pam_tmpdir's /tmp/user/0, 0700): it gets the default unless env names
   * one. */
  if (o->as_user && unsetenv("TMPDIR") != 0) _exit(126);
  for (const char *const *e = o->env; e != NULL && *e != NULL; e++)
    if (strchr(*e, '=') != NULL ? putenv((char *)*e) != 0 : unsetenv(*e) != 0) _exit(126);
  if (o->in_child != NULL && o->in_child(o->user) != 0) _exit(96);
  if (o->as_user && t_become(o->uid, o->gid) != 0) _exit(97);
  /* Out of the test's process group, it must still end with the test; set
   * after t_become(), since a change of uid clears it. */
  t_die_with_parent();
  execvp(argv[0], (char *const *)argv);
  _exit(127);
}

/* Reads what the descriptor has into c; 0 at its end. */
static int read_pipe(int fd, capture_t *c, line_feed_t *f, const t_sma_opts_t *o, long pid) {
  char chunk[4096];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  capture_add(c, chunk, (size_t)n);
  if (f != NULL) feed_lines(f, o, pid, chunk, (size_t)n, 0);
  return 1;
}

static int status_of(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return T_SMA_SIGNALED + WTERMSIG(wstatus);
  return -1;
}

/* Reads both pipes until both end (or, once the command exited, until
 * nothing more came for a second: a worker it left may hold them), and
 * reaps it; kills its group at the deadline. */
static int wait_captured(const t_sma_job_t *job, job_state_t *s) {
  enum { LEFT_OVER_S = 5 };
  const t_sma_opts_t *o = &s->opts;
  pid_t child = (pid_t)job->pid;
  int *fds = s->fds;
  line_feed_t feed = {{0}, 0};
  int status = -1, reaped = 0, quiet_ms = 0;
  while (fds[0] >= 0 || fds[1] >= 0 || !reaped) {
    if (!reaped) {
      int ws;
      pid_t r = waitpid(child, &ws, WNOHANG);
      if (r == child) { /* then read what is left */
        reaped = 1, status = status_of(ws), quiet_ms = 0;
        /* It ended by itself, maybe before a late t_sma_wait(): not timed
         * out, whatever its time; what it left gets a few seconds. */
        if (t_now() + LEFT_OVER_S > s->deadline) s->deadline = t_now() + LEFT_OVER_S;
      }
    }
    if (reaped && quiet_ms >= 1000) break;
    if (t_now() >= s->deadline) {
      kill(-child, SIGKILL);
      if (!reaped) {
        kill(child, SIGKILL); /* reaped, its pid may be another's by now */
        waitpid(child, NULL, 0);
      }
      status = T_SMA_TIMED_OUT;
      break;
    }
    struct pollfd pf[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    int wait_ms = fds[0] < 0 && fds[1] < 0 ? 1 : 50; /* only the exit to wait for */
    int ready = poll(pf, 2, wait_ms);
    quiet_ms = ready > 0 ? 0 : quiet_ms + wait_ms;
    if (ready <= 0) continue;
    capture_t *to[2] = {&s->out, &s->err};
    for (int i = 0; i < 2; i++) {
      if (fds[i] < 0 || pf[i].revents == 0) continue;
      if (!read_pipe(fds[i], to[i], i == 0 ? &feed : NULL, o, (long)child)) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  feed_lines(&feed, o, (long)child, "", 0, 1);
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0) close(fds[i]);
  return status;
}

static void close_all(const int *fds, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

static int start_captured(const char *const *argv, job_state_t *s, t_sma_job_t *job) {
  int fd[6] = {-1, -1, -1, -1, -1, -1}; /* stdout, stderr, stdin: read end, write end */
  if (pipe(fd) != 0 || pipe(fd + 2) != 0 || (s->opts.feed_stdin && pipe(fd + 4) != 0)) {
    close_all(fd, 6);
    return -1;
  }
  /* Kept from every child (this one's command, and those started while it
   * runs): a command that held its own input's write end would never see
   * that input end. */
  fcntl(fd[0], F_SETFD, FD_CLOEXEC), fcntl(fd[2], F_SETFD, FD_CLOEXEC);
  if (fd[5] >= 0) fcntl(fd[5], F_SETFD, FD_CLOEXEC);
  pid_t child = fork();
  if (child == 0) exec_captured(argv, &s->opts, fd[4], fd[1], fd[3]);
  int child_ends[3] = {fd[1], fd[3], fd[4]};
  close_all(child_ends, 3);
  if (child < 0) {
    int ours[3] = {fd[0], fd[2], fd[5]};
    close_all(ours, 3);
    return -1;
  }
  setpgid(child, child); /* also here: no race with a signal sent at once */
  s->fds[0] = fd[0], s->fds[1] = fd[2];
  job->pid = (long)child;
  job->stdin_fd = fd[5];
  return 0;
}
#endif

/* The words that run `sma ARGS`: opts' wrapper, the emulator if any, the
 * command and its arguments. -1 where they do not fit in cap entries
 * (cut, it would run something else). */
static int command_line(const t_sma_opts_t *o, const char *const *args, const char **argv,
                        size_t cap) {
  enum { MAX_ARGS = 64 };
  const char *own[MAX_ARGS + 1], *emulated[MAX_ARGS + 8];
  size_t n = 0, k = 0;
  own[n++] = SMA_CLI;
  for (size_t i = 0; args[i] != NULL; i++) {
    if (n == MAX_ARGS) return -1;
    own[n++] = args[i];
  }
  own[n] = NULL;
  const char *const *cmd = proc_argv(own, emulated, sizeof emulated / sizeof *emulated);
  for (const char *const *w = o->wrapper; w != NULL && *w != NULL; w++) {
    if (k + 1 >= cap) return -1;
    argv[k++] = *w;
  }
  for (const char *const *w = cmd; *w != NULL; w++) {
    if (k + 1 >= cap) return -1;
    argv[k++] = *w;
  }
  argv[k] = NULL;
  return 0;
}

int t_sma_start(t_sma_job_t *job, const t_sma_opts_t *opts, const char *const *args) {
  static const t_sma_opts_t defaults;
  *job = (t_sma_job_t){-1, -1, NULL};
  job_state_t *s = calloc(1, sizeof *s);
  if (s == NULL) return -1;
  s->opts = opts != NULL ? *opts : defaults;
  s->deadline = t_now() + (s->opts.timeout_s ? s->opts.timeout_s : T_SMA_TIMEOUT_S);
  s->out = (capture_t){calloc(1, T_SMA_OUTPUT_MAX + 1), 0, 0};
  s->err = (capture_t){calloc(1, T_SMA_OUTPUT_MAX + 1), 0, 0};
  const char *argv[96];
  if (s->out.text == NULL || s->err.text == NULL ||
      command_line(&s->opts, args, argv, sizeof argv / sizeof *argv) != 0 ||
      start_captured(argv, s, job) != 0) {
    free(s->out.text), free(s->err.text), free(s);
    *job = (t_sma_job_t){-1, -1, NULL};
    return -1;
  }
  job->priv = s;
  return 0;
}

void t_sma_end_input(t_sma_job_t *job) {
#if !defined(_WIN32)
  if (job->stdin_fd >= 0) close(job->stdin_fd);
#endif
  job->stdin_fd = -1;
}

/* A run that did not start: status -1, nothing printed. */
static int not_run(t_sma_run_t *run) {
  if (run != NULL) *run = (t_sma_run_t){-1, calloc(1, 1), calloc(1, 1), 0, 0};
  return -1;
}

int t_sma_wait(t_sma_job_t *job, t_sma_run_t *run) {
  job_state_t *s = job->priv;
  if (s == NULL) return not_run(run);
  t_sma_end_input(job);
  int status = wait_captured(job, s);
  if (run != NULL)
    *run = (t_sma_run_t){status, s->out.text, s->err.text, s->out.cut, s->err.cut};
  else
    free(s->out.text), free(s->err.text);
  free(s);
  job->priv = NULL;
  return status;
}

int t_sma_run(t_sma_run_t *run, const t_sma_opts_t *opts, const char *const *args) {
  t_sma_job_t job;
  if (opts != NULL && opts->feed_stdin) return not_run(run); /* nobody would feed it */
  if (t_sma_start(&job, opts, args) != 0) return not_run(run);
  if (opts != NULL && opts->during != NULL) opts->during(opts->user, job.pid);
  return t_sma_wait(&job, run);
}

/* Splits line in place into words (see t_sma_line); NULL-terminated. */
static int split_words(char *line, const char **words, size_t cap) {
  size_t n = 0;
  char *r = line, *w = line;
  for (;;) {
    while (*r == ' ' || *r == '\t') r++;
    if (*r == '\0') break;
    if (n + 1 >= cap) return -1;
    words[n++] = w;
    while (*r != '\0' && *r != ' ' && *r != '\t') {
      if (*r != '\'') {
        *w++ = *r++;
        continue;
      }
      char *close = strchr(++r, '\'');
      if (close == NULL) return -1; /* unbalanced quote: a test's mistake */
      memmove(w, r, (size_t)(close - r));
      w += close - r;
      r = close + 1;
    }
    if (*r != '\0') r++;
    *w++ = '\0';
  }
  words[n] = NULL;
  return 0;
}

static int sma_vline(t_sma_run_t *run, const t_sma_opts_t *opts, const char *fmt, va_list ap) {
  char line[16384];
  const char *words[64];
  int len = vsnprintf(line, sizeof line, fmt, ap);
  if (len < 0 || (size_t)len >= sizeof line || split_words(line, words, 64) != 0) {
    if (run != NULL) *run = (t_sma_run_t){-1, calloc(1, 1), calloc(1, 1), 0, 0};
    return -1;
  }
  return t_sma_run(run, opts, words);
}

int t_sma_line(t_sma_run_t *run, const t_sma_opts_t *opts, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int status = sma_vline(run, opts, fmt, ap);
  va_end(ap);
  return status;
}

int t_sma(char **out, const char *fmt, ...) {
  t_sma_run_t run;
  va_list ap;
  va_start(ap, fmt);
  int status = sma_vline(&run, NULL, fmt, ap);
  va_end(ap);
  if (out != NULL) {
    *out = run.out;
    run.out = NULL;
  }
  t_sma_run_free(&run);
  return status;
}

/* sma_vline() keeping both streams, stdout then stderr, in *said. */
static int sma_vline_said(char **said, const t_sma_opts_t *opts, const char *fmt, va_list ap) {
  t_sma_run_t run;
  int status = sma_vline(&run, opts, fmt, ap);
  if (said != NULL) {
    size_t out_len = run.out ? strlen(run.out) : 0, err_len = run.err ? strlen(run.err) : 0;
    *said = malloc(out_len + err_len + 1);
    if (*said != NULL) {
      memcpy(*said, run.out ? run.out : "", out_len);
      memcpy(*said + out_len, run.err ? run.err : "", err_len + 1);
    }
  }
  t_sma_run_free(&run);
  return status;
}

int t_sma_said(char **said, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int status = sma_vline_said(said, NULL, fmt, ap);
  va_end(ap);
  return status;
}

int t_sma_as(int uid, unsigned gid, char **said, const char *fmt, ...) {
  t_sma_opts_t opts = {.as_user = uid >= 0, .uid = (unsigned)uid, .gid = gid};
  va_list ap;
  va_start(ap, fmt);
  int status = sma_vline_said(said, &opts, fmt, ap);
  va_end(ap);
  return status;
}

void t_sma_run_free(t_sma_run_t *run) {
  free(run->out);
  free(run->err);
  run->out = run->err = NULL;
}

sma_t *t_bytes_array(const char *name, size_t n, int create) {
  size_t shape[1] = {n};
  sma_t *a;
  if (sma_new(&a, &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
    return NULL;
  if ((create ? sma_create(a, 0) : sma_load(a)) != 0) {
    sma_free(a);
    return NULL;
  }
  return a;
}

#if defined(__linux__)
/* Waits for pid; its status_code(), or if_lost. */
static int exit_status_of(pid_t pid, int if_lost) {
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return if_lost;
  return status_code(status);
}
#endif

int t_in_private_child(int (*fn)(void), const char *shm_opts, unsigned seconds) {
#if defined(__linux__)
  pid_t pid = fork();
  if (pid == 0) {
    alarm(seconds);
    if (t_private_dev_shm(shm_opts) != 0) _exit(T_SKIP);
    if (strcmp(sma_backend(), "sysv") == 0 && t_private_ipc() != 0) _exit(T_SKIP);
    _exit(fn());
  }
  return exit_status_of(pid, -1);
#else
  (void)fn;
  (void)shm_opts;
  (void)seconds;
  return T_SKIP;
#endif
}

int t_as_pid1(int (*fn)(void)) {
#if defined(__linux__)
  if (unshare(CLONE_NEWPID) != 0) return T_SKIP;
  pid_t pid = fork();
  if (pid == 0) _exit(getpid() == 1 ? fn() : T_SKIP);
  return exit_status_of(pid, 90);
#else
  (void)fn;
  return T_SKIP;
#endif
}

long t_vm_size(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "VmSize:", 7) == 0) kb = atol(line + 7);
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

long long t_dev_shm_free(void) {
#if defined(__linux__)
  struct statvfs fs;
  if (statvfs("/dev/shm", &fs) != 0) return -1;
  return (long long)fs.f_bavail * (long long)fs.f_frsize;
#else
  return -1;
#endif
}

int t_maps_lines_with(const char *text) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return -1;
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) n += strstr(line, text) != NULL;
  fclose(f);
  return n;
}

int t_segment_mappings(const char *name) {
  return strcmp(sma_backend(), "sysv") != 0 ? t_shm_mappings(name) : t_maps_lines_with("/SYSV");
}
