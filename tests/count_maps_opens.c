/* A preload library for test_listing: counts how many times the process
 * opens a /proc/PID/maps file (through fopen or open, the calls libsma
 * and glibc's fopen are reached by) and, at exit, writes the count to the
 * file named by SMA_TEST_MAPS_OPENS. A measure of work, not of time:
 * listing S segments with P processes on the machine reads P maps files
 * once per walk, where it used to read them once per segment (S x P). */
#define _GNU_SOURCE
#undef _FILE_OFFSET_BITS /* both fopen and fopen64 are defined here, each by its own name */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static unsigned long opens;

static void count(const char *path) {
  if (path == NULL || strncmp(path, "/proc/", 6) != 0) return;
  const char *p = path + 6;
  if (*p < '0' || *p > '9') return;
  while (*p >= '0' && *p <= '9') p++;
  if (strcmp(p, "/maps") == 0) __atomic_add_fetch(&opens, 1, __ATOMIC_RELAXED);
}

/* The next definition of `name` (libc's): dlsym's object pointer copied
 * into a function pointer, which ISO C does not convert directly. */
#define NEXT(name) ((name##_fn)next_symbol(#name))
typedef void (*any_fn)(void);
static any_fn next_symbol(const char *name) {
  void *sym = dlsym(RTLD_NEXT, name);
  any_fn fn;
  memcpy(&fn, &sym, sizeof fn);
  if (fn == NULL) abort(); /* a test tool: no libc to forward to */
  return fn;
}

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*fopen64_fn)(const char *, const char *);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*open64_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*openat64_fn)(int, const char *, int, ...);

FILE *fopen(const char *path, const char *mode) {
  count(path);
  return NEXT(fopen)(path, mode);
}

FILE *fopen64(const char *path, const char *mode) {
  count(path);
  return NEXT(fopen64)(path, mode);
}

static mode_t mode_of(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  count(path);
  return NEXT(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  count(path);
  return NEXT(open64)(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  count(path);
  return NEXT(openat)(dir, path, flags, mode);
}

int openat64(int dir, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  count(path);
  return NEXT(openat64)(dir, path, flags, mode);
}

__attribute__((destructor)) static void report(void) {
  const char *out = getenv("SMA_TEST_MAPS_OPENS");
  if (out == NULL) return;
  FILE *f = NEXT(fopen)(out, "w");
  if (f == NULL) return;
  fprintf(f, "%lu\n", opens);
  fclose(f);
}
