/* What `--prefix P` of `sma ls` and `sma gc` keeps. */
#ifndef SMA_TOOLS_PREFIX_MATCH_H
#define SMA_TOOLS_PREFIX_MATCH_H

/* 1 if prefix is NULL, if name starts with prefix, or if name has exactly
 * the form sma_build_name() gives with that prefix; else 0. */
int prefix_matches(const char *name, const char *prefix);

#endif
