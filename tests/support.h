/* Helpers shared by the test files: unique names, real child processes,
 * and backend-neutral checks on segments. */
#ifndef SMA_TEST_SUPPORT_H
#define SMA_TEST_SUPPORT_H

#include "sma.h"

#include <stddef.h>

/* Every name a test makes starts with this, so a leak check can find them. */
#define T_PREFIX "smatest"

/* Writes "smatest-<pid>-<tag>-<n>" to buf: unique across parallel ctest
 * runs and within a test. */
void t_name(char *buf, size_t cap, const char *tag);

/* 1 if a segment with this name exists, 0 if not (asks the backend). */
int t_segment_exists(const char *name);

/* Starts the helper executable with the given arguments (NULL-terminated,
 * not including the program), waits for it and returns its exit code,
 * or -1 if it could not be started or did not exit normally. */
int t_run_helper(const char *const *args);

/* Starts a command (argv[0] is the program path) and returns its exit code
 * as t_run_helper does. */
int t_run(const char *const *argv);

/* Converts between doubles and elements of any dtype (bool: nonzero). */
void t_store(void *p, sma_dtype_t dtype, double value);
double t_load(const void *p, sma_dtype_t dtype);

/* Sets every element of a view to value; counts elements in *n. */
void t_fill_view(const sma_view_t *v, double value);
/* Number of elements of the view that differ from value. */
size_t t_count_not(const sma_view_t *v, double value);

#endif
