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
#  include <errno.h>
/* Nonzero when this call must fail. */
int sma__fault_next(void);
void sma__fault_arm(int n);
int sma__fault_calls(void);
#  define SMA__INJECT(call, failed, err) (sma__fault_next() ? (errno = (err), (failed)) : (call))
/* Sleeps for SMA_FAULT_PAUSE_MS milliseconds (environment; none if unset)
 * where a race needs a window wide enough for a test to hit it. */
void sma__fault_pause(void);
/* A named pause point: pauses only when SMA_FAULT_PAUSE_AT names it, so a
 * test can stop one step of a multi-step operation. Unnamed points pause
 * only when SMA_FAULT_PAUSE_AT is unset. */
void sma__fault_pause_at(const char *where);
#  define SMA__PAUSE_POINT() sma__fault_pause_at(NULL)
#  define SMA__PAUSE_AT(where) sma__fault_pause_at(where)
#else
#  define SMA__INJECT(call, failed, err) (call)
#  define SMA__PAUSE_POINT() ((void)0)
#  define SMA__PAUSE_AT(where) ((void)0)
#endif

#endif
