/*
 * Fault injection for tests (built only with -DSMA_FAULT_INJECTION=ON):
 * SMA__INJECT(call, failed, err) evaluates `call`, unless the armed
 * countdown reaches this call, in which case errno = err (a failure that
 * call really can have) and the value is `failed` (what the call returns
 * on failure). Tests arm it with sma__fault_arm(n): the n-th injectable
 * call from then on fails; sma__fault_calls() counts the calls seen.
 * In normal builds the macro is the call itself.
 */
#ifndef SMA_UNIX_FAULT_H
#define SMA_UNIX_FAULT_H

#if defined(SMA_FAULT_INJECTION)
#include <errno.h>
/* Nonzero when this call must fail. */
int sma__fault_next(void);
void sma__fault_arm(int n);
int sma__fault_calls(void);
#define SMA__INJECT(call, failed, err)                                         \
  (sma__fault_next() ? (errno = (err), (failed)) : (call))
/* Sleeps for SMA_FAULT_PAUSE_MS milliseconds (environment; none if unset)
 * where a race needs a window wide enough for a test to hit it. */
void sma__fault_pause(void);
#define SMA__PAUSE_POINT() sma__fault_pause()
#else
#define SMA__INJECT(call, failed, err) (call)
#define SMA__PAUSE_POINT() ((void)0)
#endif

#endif
