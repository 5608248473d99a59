/* A process copied by _Fork() while libsma was registering its at-fork
 * handlers and the C library's at-fork lock was held, which then uses
 * libsma (run by test_attack_lock4). The copy once registered handlers of
 * its own, and waited forever for the lock it had copied held.
 *
 * Deterministic, with real threads and real forks, arranged before
 * libsma's constructor (this file's runs first: it has a priority):
 *  1. thread B forks; glibc holds its at-fork lock across the fork, and
 *     the kernel makes B's fork wait (after the copy) until a reader takes
 *     its event from a userfaultfd that asked for fork events;
 *  2. the main thread goes on to libsma's constructor, which marks the
 *     registration under way and waits in pthread_atfork() for that lock;
 *  3. thread C calls _Fork(); its child uses libsma (a create), with
 *     20 s to exit;
 *  4. C reads B's event: B's fork ends, the lock is freed, the constructor
 *     registers, main() runs and reports.
 * glibc's fork() also holds its malloc's locks, which the copy gets held:
 * this program replaces malloc() with an allocator of its own (a bump
 * allocator that never frees, lock-free), as a program may, so that the
 * copy meets only the lock this is about. C is started before B forks
 * (pthread_create() may allocate).
 * SMA_FORK_NAME names an existing segment, which the copy loads.
 * Exit status: 0 the child used libsma and exited; 10 it hung; 77 this
 * machine cannot arrange it (no userfaultfd fork events: not Linux, not
 * allowed, or an emulator); anything else a failed step. */
#define _GNU_SOURCE
#include "sma.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__linux__) && defined(__GLIBC__) &&                                                    \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#  include <errno.h>
#  include <fcntl.h>
#  include <linux/userfaultfd.h>
#  include <poll.h>
#  include <pthread.h>
#  include <signal.h>
#  include <stdint.h>
#  include <stdatomic.h>
#  include <string.h>
#  include <sys/ioctl.h>
#  include <sys/mman.h>
#  include <sys/syscall.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>

enum { PASSED = 0, HUNG = 10, CANNOT = 77 };

/* ---- the allocator: a 64 MiB arena, each block after a 16-byte header
 * holding its size; free() keeps everything. */
enum { HEADER = 16 };
static _Alignas(16) unsigned char arena[64u << 20];
static atomic_size_t arena_used;

static void *carve(size_t size, size_t align) {
  if (size > sizeof arena || align > 4096) return NULL;
  size_t want = ((size + HEADER + align + 15) / 16) * 16;
  size_t at = atomic_fetch_add(&arena_used, want);
  if (at + want > sizeof arena) {
    errno = ENOMEM;
    return NULL;
  }
  uintptr_t start = (uintptr_t)(arena + at) + HEADER;
  uintptr_t block = (start + align - 1) / align * align;
  memcpy((void *)(block - HEADER), &size, sizeof size);
  return (void *)block;
}
static size_t block_size(void *p) {
  size_t size;
  memcpy(&size, (unsigned char *)p - HEADER, sizeof size);
  return size;
}
void *malloc(size_t size) { return carve(size, 16); }
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  return carve(n * size, 16); /* the arena is never reused: still zero */
}
void *realloc(void *p, size_t size) {
  void *q = carve(size, 16);
  if (p != NULL && q != NULL) memcpy(q, p, block_size(p) < size ? block_size(p) : size);
  return q;
}
void *aligned_alloc(size_t align, size_t size) { return carve(size, align < 16 ? 16 : align); }
void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size) { return aligned_alloc(align, size); }
int posix_memalign(void **out, size_t align, size_t size) {
  void *p = aligned_alloc(align, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
size_t malloc_usable_size(void *p);
size_t malloc_usable_size(void *p) { return p == NULL ? 0 : block_size(p); }

static int fork_events = -1; /* the userfaultfd */
static void *watched;        /* the page it watches */
static size_t watched_size;
static pthread_t forker, copier;
static atomic_int outcome = CANNOT;
static atomic_int held; /* 1 once B's fork is held, -1 if it cannot be */
static const char *name;

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

/* A userfaultfd that reports forks, over one registered page: a fork of
 * this process then waits until its event is read. */
static int watch_forks(void) {
#  ifdef SYS_userfaultfd
  fork_events = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fork_events < 0) return -1;
  struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK};
  if (ioctl(fork_events, UFFDIO_API, &api) != 0) return -1;
  long page = sysconf(_SC_PAGESIZE);
  watched_size = page > 0 ? (size_t)page : 4096;
  watched = mmap(NULL, watched_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (watched == MAP_FAILED) return -1;
  struct uffdio_register reg = {
      .range = {.start = (unsigned long)watched, .len = (unsigned long)watched_size},
      .mode = UFFDIO_REGISTER_MODE_MISSING};
  return ioctl(fork_events, UFFDIO_REGISTER, &reg) == 0 ? 0 : -1;
#  else
  return -1;
#  endif
}

/* Thread B: a fork() that the kernel holds, with glibc's at-fork lock. */
static void *fork_held(void *arg) {
  (void)arg;
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(pid, NULL, 0);
  return NULL;
}

/* 0 once B's fork is waiting for its event to be read. */
static int fork_is_held(void) {
  struct pollfd p = {.fd = fork_events, .events = POLLIN};
  return poll(&p, 1, 10000) == 1 ? 0 : -1;
}

/* Lets B's fork end: reads its event and closes the child's descriptor. */
static void release_fork(void) {
  struct uffd_msg msg;
  if (read(fork_events, &msg, sizeof msg) == (ssize_t)sizeof msg && msg.event == UFFD_EVENT_FORK)
    close((int)msg.arg.fork.ufd);
}

/* In the copy: a load of the segment named by SMA_FORK_NAME, which goes
 * through the mapping cache's lock, where the handlers are registered
 * (a create reads the boot id with stdio, whose lock fork() holds too). */
static int use_libsma(void) {
  sma_t *a = NULL;
  int rc = sma_open(&a, name, NULL, 0);
  if (rc == 0 && sma_data(a) == NULL) rc = -1;
  sma_free(a);
  return rc == 0 ? 0 : 3;
}

/* Thread C: once the constructor waits for the lock, a copy of the
 * process by _Fork(), which uses libsma; then lets B's fork end. */
static void *copy_mid_registration(void *arg) {
  (void)arg;
  while (atomic_load(&held) == 0) sleep_ms(1);
  if (atomic_load(&held) < 0) return NULL;
  sleep_ms(300); /* the constructor reaches pthread_atfork() and waits */
  pid_t pid = _Fork();
  if (pid == 0) _exit(use_libsma());
  int result = 2;
  for (int waited = 0; pid > 0 && waited < 20000; waited += 10) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    sleep_ms(10);
  }
  if (result == 2 && pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    result = HUNG;
  }
  atomic_store(&outcome, result);
  release_fork();
  return NULL;
}

/* Before libsma's constructor: steps 1 and 3 under way. */
__attribute__((constructor(101))) static void arrange(void) {
  name = getenv("SMA_FORK_NAME");
  if (name == NULL || watch_forks() != 0) return;
  atomic_store(&outcome, 2);
  if (pthread_create(&copier, NULL, copy_mid_registration, NULL) != 0) {
    atomic_store(&outcome, CANNOT);
    return;
  }
  /* B's fork is held, and later forks (C's _Fork()) copy nothing the
   * userfaultfd watches, so do not wait; else C gives up. */
  int ok = pthread_create(&forker, NULL, fork_held, NULL) == 0;
  if (ok && fork_is_held() != 0) {
    release_fork();
    ok = 0;
  }
  if (ok && madvise(watched, watched_size, MADV_DONTFORK) != 0) {
    release_fork();
    ok = 0;
  }
  if (!ok) atomic_store(&outcome, CANNOT);
  atomic_store(&held, ok ? 1 : -1);
}

int main(void) {
  if (atomic_load(&held) != 0) pthread_join(copier, NULL);
  if (atomic_load(&held) == 1) pthread_join(forker, NULL);
  int result = atomic_load(&outcome);
  fprintf(stderr, "fork_mid_registration: %s\n",
          result == PASSED   ? "the copy used libsma and exited"
          : result == HUNG   ? "the copy hung"
          : result == CANNOT ? "cannot arrange it here (no userfaultfd fork events)"
                             : "a step failed");
  return result;
}
#else
int main(void) {
  fputs("fork_mid_registration: needs Linux and glibc 2.34 (_Fork)\n", stderr);
  return 77;
}
#endif
