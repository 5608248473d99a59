/* The countdown behind SMA__INJECT (fault.h); test builds only. Its state
 * is global on purpose: tests arm it, then call the public API. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "fault.h"

#include "../platform.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int countdown; /* 0: disarmed */
static atomic_int calls;

void sma__fault_arm(int n) {
  atomic_store(&calls, 0);
  atomic_store(&countdown, n);
}

int sma__fault_calls(void) { return atomic_load(&calls); }

int sma__fault_next(void) {
  atomic_fetch_add(&calls, 1);
  int left = atomic_load(&countdown);
  if (left <= 0) return 0;
  if (atomic_fetch_sub(&countdown, 1) == 1) return 1;
  return 0;
}

void sma__fault_pause(void) {
  const char *text = getenv("SMA_FAULT_PAUSE_MS");
  long ms = text != NULL ? strtol(text, NULL, 10) : 0;
  if (ms <= 0 || ms > 60000) return;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void sma__fault_pause_at(const char *where) {
  const char *at = getenv("SMA_FAULT_PAUSE_AT");
  if (at != NULL ? where != NULL && strcmp(at, where) == 0 : where == NULL) sma__fault_pause();
}
