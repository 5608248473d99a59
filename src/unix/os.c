/*
 * The process-level part of the platform contract on Unix systems, shared
 * by the POSIX and System V backends: CSPRNG, pid, clock, name counter.
 */
#define _GNU_SOURCE
#include "../platform.h"
#include "fault.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#  include <sys/random.h> /* getentropy */
#endif
#if defined(__linux__)
#  include <sys/mman.h> /* MADV_WIPEONFORK (Linux 4.14) */
#endif

void sma__unix_caps(sma_caps_t *caps) {
  long page = sysconf(_SC_PAGESIZE);
  caps->granularity = page > 0 ? (size_t)page : 4096;
  caps->unlink_keeps_maps = 1;
  caps->outlives_creator = 1;
  caps->unlink_by_creator_only = 0;
}

/* The only global state of the library, documented in sma.h. */
static atomic_uint_fast64_t name_counter;

int sma__os_random(void *buf, size_t n, int *os_err) {
  unsigned char *p = buf;
  while (n > 0) {
    size_t chunk = n > 256 ? 256 : n; /* getentropy's limit */
    if (SMA__INJECT(getentropy(p, chunk), -1, EIO) != 0) {
      *os_err = errno;
      return SMA_EOS;
    }
    p += chunk;
    n -= chunk;
  }
  return 0;
}

uint64_t sma__os_pid(void) { return (uint64_t)getpid(); }

int64_t sma__os_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads /proc/PID/stat's state letter and starttime (field 22); 0 when
 * they cannot be read (no /proc, or not Linux). The command name (field
 * 2) may hold spaces and parentheses: fields are counted after its last
 * ')'. */
#if defined(__linux__)
/* Whether the mounted /proc numbers processes as this process's own pid
 * namespace does: /proc/self names the caller by its pid in the /proc's
 * namespace, which differs from getpid() when /proc was mounted for
 * another one (after unshare -p without a /proc of its own). Reading
 * /proc/PID of such a /proc would read another process. */
static int proc_is_own_pidns(void) {
  char link[32];
  ssize_t n = readlink("/proc/self", link, sizeof link - 1);
  if (n <= 0) return 0;
  link[n] = '\0';
  char *end;
  unsigned long long self = strtoull(link, &end, 10);
  return *end == '\0' && self == (unsigned long long)getpid();
}

/* Whether the thread group `pid` still has a running thread: its leader
 * reads as a zombie once the main thread has exited (pthread_exit in
 * main) while other threads, and the process's mappings, live on. */
static int threads_live_on(uint64_t pid) {
  char path[48], line[128];
  snprintf(path, sizeof path, "/proc/%llu/status", (unsigned long long)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 1; /* cannot tell: taken as running */
  unsigned long threads = 1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "Threads: %lu", &threads) == 1) break;
  fclose(f);
  return threads > 1;
}
#endif

static int proc_stat(uint64_t pid, char *state, unsigned long long *start) {
#if defined(__linux__)
  if (!proc_is_own_pidns()) return 0; /* unknown, never another's facts */
  char path[48], text[1024];
  snprintf(path, sizeof path, "/proc/%llu/stat", (unsigned long long)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  const char *p = strrchr(text, ')');
  /* After ')': state (3), then fields 4..21, then starttime (22). */
  return p != NULL && sscanf(p + 1,
                             " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                             "%*s %*s %*s %*s %llu",
                             state, start) == 2;
#else
  (void)pid;
  (void)state;
  (void)start;
  return 0;
#endif
}

int sma__os_pid_alive(uint64_t pid) {
  if (pid == 0 || pid > (uint64_t)INT32_MAX) return -1;
  if (kill((pid_t)pid, 0) != 0) return errno == EPERM ? 1 : errno == ESRCH ? 0 : -1;
  /* A zombie (Z) or a dying process (X) has released its mappings and
   * descriptors: nothing of it holds a segment any more. */
  char state;
  unsigned long long start;
  if (!proc_stat(pid, &state, &start) || (state != 'Z' && state != 'X')) return 1;
#if defined(__linux__)
  if (threads_live_on(pid)) return 1;
#endif
  return 0;
}

static uint64_t read_pid_start(uint64_t pid) {
  char state;
  unsigned long long start;
  return proc_stat(pid, &state, &start) ? (uint64_t)start : 0;
}

static uint64_t own_start(void); /* cached per process: below */

uint64_t sma__os_pid_start(uint64_t pid) {
  return pid == (uint64_t)getpid() ? own_start() : read_pid_start(pid);
}

/* Reads this boot's id (Linux: /proc/sys/kernel/random/boot_id); all
 * zero where there is none. */
static void read_boot_id(unsigned char id[16]) {
  memset(id, 0, 16);
#if defined(__linux__)
  /* "2ba7a302-64b8-4e58-932b-df4d33178848\n": 32 hex digits. */
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
  if (f == NULL) return;
  char text[64];
  if (fgets(text, sizeof text, f) != NULL) {
    int k = 0;
    for (const char *p = text; *p && k < 32; p++) {
      int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
      if (v < 0) continue;
      id[k / 2] = (unsigned char)(id[k / 2] << 4 | v);
      k++;
    }
  }
  fclose(f);
#endif
}

/* The boot id cannot change while the process runs, and reading it costs
 * three system calls, so every create would pay them: it is read once.
 * The cache (documented in sma.h) is two atomic halves behind a ready
 * flag; threads that race to fill it store the same value. */
static atomic_uint_fast64_t boot_half[2];
static atomic_int boot_ready;

void sma__os_boot_id(unsigned char id[16]) {
  if (!atomic_load_explicit(&boot_ready, memory_order_acquire)) {
    unsigned char fresh[16];
    read_boot_id(fresh);
    for (int h = 0; h < 2; h++) {
      uint64_t v = 0;
      for (int i = 0; i < 8; i++) v = v << 8 | fresh[h * 8 + i];
      atomic_store_explicit(&boot_half[h], v, memory_order_relaxed);
    }
    atomic_store_explicit(&boot_ready, 1, memory_order_release);
  }
  for (int h = 0; h < 2; h++) {
    uint64_t v = atomic_load_explicit(&boot_half[h], memory_order_relaxed);
    for (int i = 7; i >= 0; i--, v >>= 8) id[h * 8 + i] = (unsigned char)v;
  }
}

/* ---- state that fork() must see consistent -------------------------------
 * The mapping cache's lock, and the pid namespace cache below. The lock is
 * never held across a fork: a program's own at-fork handlers, and threads
 * they hand work to, may call libsma in any phase of a fork (holding the
 * lock there deadlocked them, or a fork made inside a handler, which runs
 * the handlers again). Instead the child's handler looks at its copy of
 * the lock: found free, no thread was inside a table operation when the
 * process was copied (every change to the table is made under the lock,
 * and a copy holds each thread's writes up to one instant), so the copied
 * table is consistent, names mappings the child inherited, and is the
 * child's own; found held, its holder is a thread the child lacks and the
 * table may be mid-change: the child is disowned and bypasses the cache.
 * The child also forgets the pid namespace.
 * A child made by _Fork() or a raw clone() runs no handler, and may be
 * made while another thread holds the lock: nothing here ever waits in
 * such a child. The lock is tagged with the pid of the process that owns
 * it, read (an atomic) before the lock is taken, and a process that is
 * not the owner does not take it (sma__os_maps_lock() refuses), and the
 * fork() children of such a copy never use the table either; the
 * handlers are registered without pthread_once, which could be copied
 * mid-call. */
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
/* 0: none yet; else the pid of the process whose lock it is: the first to
 * take it, or the child of a fork() that ran the handlers. */
static atomic_uint_fast64_t maps_owner;
/* With maps_owner 1: the owner's pid namespace. Pid 1 is every pid
 * namespace's first process, so a raw clone(CLONE_NEWPID) of a pid 1 is
 * pid 1 too, and only its namespace tells it from its parent. */
static atomic_uint_fast64_t maps_owner_ns;
/* The at-fork handlers' registration: (pid << 2) | step, the pid of the
 * process that made the last step. Every copy of the process copies it:
 * one made while another thread was registering them (only a library
 * loaded by dlopen() in one thread while another forks) finds another
 * process's pid beside REGISTERING (see fork_safe()). */
enum { HANDLERS_NONE, HANDLERS_REGISTERING, HANDLERS_REGISTERED, HANDLERS_FAILED };
static atomic_uint_fast64_t handlers;
/* The owner's mark (Linux): a page of its own holding 1, which every
 * fork-style copy of the process (fork, _Fork, a raw clone without
 * CLONE_VM) gets zeroed (MADV_WIPEONFORK). A pid namespace numbers its
 * processes afresh, so a copy made without handlers may get its owner's
 * pid number there (a raw clone of a raw clone(CLONE_NEWPID)): the pid
 * tag alone would take it for the owner. NULL: no mark (the kernel or an
 * emulator cannot make one); the pid tag, and for pid 1 its namespace,
 * decide. The mark only ever refuses: qemu-user accepts the advice and
 * does nothing, and a program may undo it (MADV_KEEPONFORK). */
static _Atomic(atomic_int *) owner_mark;

/* 0: not known; else the inode of /proc/self/ns/pid. */
static atomic_uint_fast64_t pidns_cache;
/* 0: not known; else this process's start time (every create records it). */
static atomic_uint_fast64_t start_cache;
/* The pid the two caches above were filled for. A child made by a raw
 * clone() or _Fork() runs no at-fork handler, but has a pid of its own
 * (it may live in another pid namespace, where it is 1): a cache filled
 * under another pid is not used. */
static atomic_uint_fast64_t cached_for;

/* Reads one of the caches above, if it was filled for this process. Pid 1
 * never caches: a raw clone into a new pid namespace is pid 1 there, as a
 * container's init is in its own. What remains is a raw clone, after
 * setns() into another pid namespace, that gets its parent's pid number
 * there: documented, as the at-fork handlers cover fork(). */
static uint64_t cache_get(atomic_uint_fast64_t *cache) {
  uint64_t me = (uint64_t)getpid();
  if (me == 1 || atomic_load_explicit(&cached_for, memory_order_acquire) != me) return 0;
  uint64_t v = atomic_load_explicit(cache, memory_order_acquire);
  return atomic_load_explicit(&cached_for, memory_order_acquire) == me ? v : 0;
}

/* Fills one of the caches for this process, forgetting both if they were
 * another process's (a parent's, copied by a raw clone). */
static void cache_put(atomic_uint_fast64_t *cache, uint64_t v) {
  uint64_t me = (uint64_t)getpid();
  if (atomic_load_explicit(&cached_for, memory_order_acquire) != me) {
    atomic_store_explicit(&cached_for, 0, memory_order_release);
    atomic_store_explicit(&pidns_cache, 0, memory_order_release);
    atomic_store_explicit(&start_cache, 0, memory_order_release);
  }
  atomic_store_explicit(cache, v, memory_order_release);
  atomic_store_explicit(&cached_for, me, memory_order_release);
}

static uint64_t read_pidns(void);

/* Marks this process as the lock's owner: at its claim, and in a child
 * at fork (its page was zeroed). 1 marked; 0 where this kernel (before
 * 4.14) has no MADV_WIPEONFORK, so no process has a mark (documented);
 * -1 where it has but the page cannot be had now (no memory, RLIMIT_AS):
 * then the process must not own the lock, or a copy of it that gets its
 * pid number (pid reuse, a new namespace) would pass for it. */
static int mark_owner(void) {
#if defined(__linux__) && defined(MADV_WIPEONFORK)
  atomic_int *mark = atomic_load_explicit(&owner_mark, memory_order_acquire);
  if (mark == NULL) {
    long page = sysconf(_SC_PAGESIZE);
    size_t size = page > 0 ? (size_t)page : 4096;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    if (madvise(p, size, MADV_WIPEONFORK) != 0) {
      int unknown_advice = errno == EINVAL;
      munmap(p, size);
      return unknown_advice ? 0 : -1;
    }
    atomic_int *none = NULL;
    if (!atomic_compare_exchange_strong(&owner_mark, &none, (atomic_int *)p)) munmap(p, size);
    mark = atomic_load_explicit(&owner_mark, memory_order_acquire);
  }
  atomic_store_explicit(mark, 1, memory_order_release);
  return 1;
#else
  return 0;
#endif
}

/* Whether the caller's mark, if it has one, is intact: 0 for a
 * fork-style copy of the owner, which finds its page zeroed. */
static int mark_intact(void) {
  atomic_int *mark = atomic_load_explicit(&owner_mark, memory_order_acquire);
  return mark == NULL || atomic_load_explicit(mark, memory_order_acquire) == 1;
}

/* Who owns the lock, as this process can tell. */
typedef enum { NOT_OWNER, OWNER, UNPROVEN } ownership_t;

static ownership_t ownership(void);

/* Whether the process this thread is forking owns the table, or cannot
 * tell (a pid 1 without /proc), or has not claimed it yet (the handlers
 * are registered at load), and its pid: pushed by before_fork(), popped
 * after the fork in parent and child (whose only thread is the forking
 * one). The child compares its copy of the owner with that pid, not with
 * getppid(), which is 0 in a child made in a new pid namespace. A
 * stack, since a program's handler may fork again within a fork: in a
 * child, a handler registered before libsma's runs, and may fork, before
 * libsma's child handler reads what the outer fork pushed. A copy made by
 * _Fork() in a handler pops nothing; the stack wraps, and its top stays
 * right. Forks nested deeper than FORK_NESTING within handlers lose the
 * outermost records: those children are disowned, the safe side (they
 * bypass the cache). A copy of the owner that forks (it ran no handler
 * when it was made) is not the owner: its children never use the table. */
enum { FORK_NESTING = 32 };
typedef struct {
  uint64_t forker; /* getpid() of the process that forked */
  unsigned char verdict;
} fork_record_t;
static _Thread_local fork_record_t fork_records[FORK_NESTING];
static _Thread_local unsigned forks_under_way;
/* maps_owner of a child that must not use its copied table (see above):
 * no pid, so it is never used there and never claimed afresh. */
#define MAPS_DISOWNED UINT64_MAX

/* What before_fork() found: the forking process had not claimed the lock
 * yet (it never used the cache, and must not claim it just by forking),
 * is not its owner, or owns it (or cannot tell: a pid 1 without /proc). */
enum { FORKED_UNCLAIMED, FORKED_BY_OTHER, FORKED_BY_OWNER };

static void before_fork(void) {
  unsigned char verdict = atomic_load_explicit(&maps_owner, memory_order_acquire) == 0
                              ? FORKED_UNCLAIMED
                          : ownership() != NOT_OWNER ? FORKED_BY_OWNER
                                                     : FORKED_BY_OTHER;
  fork_records[forks_under_way % FORK_NESTING] =
      (fork_record_t){.forker = (uint64_t)getpid(), .verdict = verdict};
  forks_under_way++;
}
/* Pops what before_fork() pushed for the fork that just ended. */
static fork_record_t fork_record(void) {
  if (forks_under_way == 0) return (fork_record_t){.forker = 0, .verdict = FORKED_BY_OTHER};
  forks_under_way--;
  return fork_records[forks_under_way % FORK_NESTING];
}
static void after_fork_parent(void) { (void)fork_record(); }
static void after_fork_child(void) {
  /* A child made after unshare(CLONE_NEWPID), or after setns() into
   * another pid namespace, lives in a namespace its parent does not, and
   * may even have its parent's pid there: only a fresh look is right. */
  atomic_store_explicit(&pidns_cache, 0, memory_order_relaxed);
  atomic_store_explicit(&start_cache, 0, memory_order_relaxed);
  uint64_t me = (uint64_t)getpid();
  /* This handler ran: the handlers are in this child's list. */
  atomic_store_explicit(&handlers, me << 2 | HANDLERS_REGISTERED, memory_order_release);
  fork_record_t fork = fork_record();
  uint64_t owner = atomic_load_explicit(&maps_owner, memory_order_acquire);
  int verdict = fork.verdict;
  /* Not claimed when the fork began. Still not claimed in the copy: the
   * table is empty, and the child claims the lock at its own first use.
   * Claimed by the child itself, by a child handler registered before
   * libsma's: it could claim only a copy found unclaimed, so empty, and
   * has kept it consistent since, taking the lock as its owner. Claimed
   * by the parent (a program's prepare handler that runs after libsma's
   * and is the first to use it, or another thread): the parent owns its
   * table, as below. A pid 1 forking into a new pid namespace makes a
   * pid 1 there: its own claim or its parent's, the checks below hold
   * for either. */
  if (verdict == FORKED_UNCLAIMED) {
    if (owner == 0) return;
    if (owner == me && owner != fork.forker) {
      if (pthread_mutex_trylock(&maps_lock) == 0) sma__maps_unlock_and_settle();
      return;
    }
    verdict = owner == fork.forker ? FORKED_BY_OWNER : FORKED_BY_OTHER;
  }
  /* The copied lock free: the copied table is consistent and this
   * child's, unless a mapping it names lacks its descriptor here (the
   * kernel copies descriptors before memory: another thread may have
   * opened and shared a segment in between), or the child cannot be
   * marked as its owner (its page was zeroed by the fork; a new one only
   * where the parent had none). */
  if (verdict != FORKED_BY_OWNER || pthread_mutex_trylock(&maps_lock) != 0) {
    atomic_store_explicit(&maps_owner, MAPS_DISOWNED, memory_order_release);
    return;
  }
  owner = sma__maps_intact() && mark_owner() >= 0 ? me : MAPS_DISOWNED;
  atomic_store_explicit(&maps_owner_ns, me == 1 ? read_pidns() : 0, memory_order_relaxed);
  atomic_store_explicit(&maps_owner, owner, memory_order_release);
  /* Closes made before this handler ran (by the program's handlers
   * registered first, or threads they started) were deferred: settled
   * now, the table being the child's. */
  if (owner == me)
    sma__maps_unlock_and_settle();
  else
    pthread_mutex_unlock(&maps_lock);
}

/* Registers the at-fork handlers once per process; whether they are in
 * place. A thread that finds another thread registering them goes on
 * without: it never waits. Nor does a copy of the process made while one
 * of its threads was registering them (the pid beside REGISTERING is
 * another's): it has none, and never registers its own, since a copy
 * made by _Fork() or a raw clone() may hold the C library's at-fork lock
 * copied held, and pthread_atfork() would wait for it forever. Such a
 * copy, and its fork() children, bypass the mapping cache (sma.h). */
static int fork_safe(void) {
  uint64_t h = atomic_load_explicit(&handlers, memory_order_acquire);
  if ((h & 3) == HANDLERS_REGISTERED) return 1;
  uint64_t me = (uint64_t)getpid();
  if ((h & 3) != HANDLERS_NONE ||
      !atomic_compare_exchange_strong(&handlers, &h, me << 2 | HANDLERS_REGISTERING))
    return 0;
  int step = pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0
                 ? HANDLERS_REGISTERED
                 : HANDLERS_FAILED;
  atomic_store_explicit(&handlers, me << 2 | (uint64_t)step, memory_order_release);
  return step == HANDLERS_REGISTERED;
}

/* The handlers are registered when the library is loaded, before any of
 * its use: a first use inside the program's own prepare handler, or in a
 * thread while another forks, would otherwise register them during that
 * fork, whose child then runs none of them and could never own its copy
 * of the cache. Registered at first use where there are no constructors. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((constructor)) static void register_handlers_at_load(void) { (void)fork_safe(); }
#endif

/* Is this pid 1 the owner (maps_owner_ns), not a raw clone of it into a
 * new pid namespace? A stat per take, for pid 1 only (a container's first
 * process): the mark cannot be trusted to tell, since it only ever refuses
 * (see owner_mark). Without /proc, now or at the claim, it cannot tell. */
static ownership_t pid1_ownership(void) {
  uint64_t ns = read_pidns();
  uint64_t owner_ns = atomic_load_explicit(&maps_owner_ns, memory_order_acquire);
  if (ns == 0 || ns == SMA__PIDNS_UNKNOWN || owner_ns == 0 || owner_ns == SMA__PIDNS_UNKNOWN)
    return UNPROVEN;
  return ns == owner_ns ? OWNER : NOT_OWNER;
}

/* Whether this process owns the lock, claiming it at first use. */
static ownership_t ownership(void) {
  uint64_t me = (uint64_t)getpid();
  uint_fast64_t owner = atomic_load_explicit(&maps_owner, memory_order_acquire);
  /* First use: this process claims the lock before it ever takes it, so a
   * child copied after the claim sees it as another's. Not without its
   * mark where marks exist: claimed again at a later take. */
  if (owner == 0) {
    if (me == 1) atomic_store_explicit(&maps_owner_ns, read_pidns(), memory_order_release);
    if (mark_owner() < 0) return NOT_OWNER;
    if (atomic_compare_exchange_strong(&maps_owner, &owner, me)) owner = me;
  }
  if (owner != me) return NOT_OWNER;    /* a child that ran no at-fork handler */
  if (!mark_intact()) return NOT_OWNER; /* such a child with the owner's pid number */
  return me == 1 ? pid1_ownership() : OWNER;
}

/* Takes the lock if this process owns it (claiming it at first use), or,
 * releasing, if it cannot tell and the lock is free now; SMA_EINUSE
 * without waiting otherwise. Where ownership cannot be proven (a pid 1
 * that lost /proc), the owner's other threads hold the lock only for a
 * table operation, and the release they keep from it is left to them
 * (the cache settles it at their unlock); a copy of the owner that passes
 * every other check finds the lock free only if no thread held it when
 * it was copied: its copy of the table is then consistent and its own, as
 * are the mappings it names; if the lock was copied held, it never waits
 * for a thread it lacks. */
static int take_if_owner(int releasing) {
  switch (ownership()) {
  case OWNER: pthread_mutex_lock(&maps_lock); return 0;
  case UNPROVEN: return releasing && pthread_mutex_trylock(&maps_lock) == 0 ? 0 : SMA_EINUSE;
  default: return SMA_EINUSE;
  }
}

int sma__os_maps_lock(void) {
  fork_safe();
  return take_if_owner(0);
}

int sma__os_maps_lock_to_release(void) {
  fork_safe();
  return take_if_owner(1);
}

void sma__os_maps_unlock(void) { pthread_mutex_unlock(&maps_lock); }

static uint64_t read_pidns(void) {
#if defined(__linux__)
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) == 0) return (uint64_t)st.st_ino;
  return SMA__PIDNS_UNKNOWN; /* Linux has pid namespaces: ours is unknown */
#else
  return 0;
#endif
}

/* A process never changes its own pid namespace (unshare and setns apply
 * to its later children), so it is read once per process (a stat of
 * /proc, ~5 us, was the largest extra call of a create) and forgotten in
 * every child at fork. A value of 0 (no /proc) is not cached: /proc may
 * be mounted later. */
uint64_t sma__os_pidns(void) {
  if (!fork_safe()) return read_pidns();
  uint64_t ns = cache_get(&pidns_cache);
  if (ns != 0) return ns;
  ns = read_pidns();
  if (ns != 0) cache_put(&pidns_cache, ns);
  return ns;
}

/* A process's start time never changes; a child has its own, hence the
 * reset at fork. 0 (unknown: no /proc, or another namespace's) is not
 * cached. */
static uint64_t own_start(void) {
  if (!fork_safe()) return read_pid_start((uint64_t)getpid());
  uint64_t start = cache_get(&start_cache);
  if (start != 0) return start;
  start = read_pid_start((uint64_t)getpid());
  if (start != 0) cache_put(&start_cache, start);
  return start;
}

uint64_t sma__os_counter_next(void) { return (uint64_t)atomic_fetch_add(&name_counter, 1) + 1; }

uint64_t sma__os_counter_read(void) { return (uint64_t)atomic_load(&name_counter); }
