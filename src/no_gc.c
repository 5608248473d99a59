/* The gc part of the platform contract for a backend that cannot prove a
 * segment unused (caps.proves_unused 0: Windows, macOS POSIX). Common code never calls
 * these there (src/collect.c keeps everything); they exist so that such a
 * backend links without writing "not here" three times itself. A backend
 * lists this file in its CMakeLists.txt instead of implementing them. */
#include "platform.h"

int sma__os_remove_unused(const char *name, const uint64_t ident[2], int dry_run, int *os_err) {
  (void)name;
  (void)ident;
  (void)dry_run;
  (void)os_err;
  return SMA_EINUSE;
}

int sma__os_intent_objects(const char *object, uint64_t creator,
                           int (*fn)(const sma__os_stray_t *stray, void *user), void *user,
                           size_t *found, int *os_err) {
  (void)object;
  (void)creator;
  (void)fn;
  (void)user;
  (void)os_err;
  *found = 0;
  return SMA_ENOTSUP; /* nothing can be said here: intents are kept */
}

int sma__os_remove_stray(const sma__os_stray_t *stray, int dry_run, int *os_err) {
  (void)stray;
  (void)dry_run;
  (void)os_err;
  return SMA_ENOENT;
}

int sma__os_restore_revoked(const char *object, int *os_err) {
  (void)object;
  (void)os_err;
  return SMA_ENOTSUP; /* nothing here is ever revoked */
}
