/*
 * The process-level part of the platform contract on Unix systems, shared
 * by the POSIX and System V backends: CSPRNG, pid, clock, name counter.
 */
#define _GNU_SOURCE
#include "../platform.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/random.h> /* getentropy */
#endif

/* The only global state of the library, documented in sma.h. */
static atomic_uint_fast64_t name_counter;

int sma__os_random(void *buf, size_t n, int *os_err) {
  unsigned char *p = buf;
  while (n > 0) {
    size_t chunk = n > 256 ? 256 : n; /* getentropy's limit */
    if (getentropy(p, chunk) != 0) {
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

uint64_t sma__os_counter_next(void) {
  return (uint64_t)atomic_fetch_add(&name_counter, 1) + 1;
}

uint64_t sma__os_counter_read(void) {
  return (uint64_t)atomic_load(&name_counter);
}
