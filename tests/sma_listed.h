/* What `sma ls --json` lists, parsed with cJSON: a piece of the test
 * support apart from support.c, which does not link cJSON. Built as
 * sma_test_listed where cJSON is found (tests/CMakeLists.txt). */
#ifndef SMA_TEST_SMA_LISTED_H
#define SMA_TEST_SMA_LISTED_H

/* How many segments `sma ls --json --prefix PREFIX` lists (run by
 * t_sma()); -1 if the command failed or did not print a JSON array. */
int t_sma_listed(const char *prefix);

#endif
