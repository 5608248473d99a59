/* The countdown behind SMA__INJECT (fault.h); test builds only. Its state
 * is global on purpose: tests arm it, then call the public API. */
#include "fault.h"

#include "../platform.h"

#include <stdatomic.h>

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
