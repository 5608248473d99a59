/* `sma save` and `sma load`: segments to and from NumPy .npy files,
 * through the library's stream calls (the files are the command's: the
 * library opens none). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* fdopen, ftruncate, O_CLOEXEC */
#endif
#include "cli.h"
#include "sma.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

static size_t put(void *file, const void *buf, size_t n) { return fwrite(buf, 1, n, file); }
static size_t get(void *file, void *buf, size_t n) { return fread(buf, 1, n, file); }

static int file_failed(const char *what, const char *path, int err) {
  fprintf(stderr, "sma: %s %s: %s\n", what, path, strerror(err));
  return CLI_ERR;
}

#if !defined(_WIN32)
/* Whether the open file `fd` is the very object segment `a` maps: same
 * device and inode, however the path reached it (/dev/shm/NAME, a hard
 * link, a symlink, /proc/self/fd/N). Only POSIX segments are files;
 * System V segments have no path. */
static int is_the_segment(int fd, const sma_t *a) {
  struct stat file, seg;
  return strcmp(sma_backend(), "posix") == 0 && fstat(fd, &file) == 0 &&
         fstat((int)sma_os_handle(a), &seg) == 0 && file.st_dev == seg.st_dev &&
         file.st_ino == seg.st_ino;
}

/* Opens FILE to be replaced, for the array `a` maps. The file is opened
 * without truncating it, and truncated only once it is known not to be
 * the segment itself: truncating the segment would cut the very bytes
 * being written (SIGBUS). NULL with *err (errno), or with *err 0 and
 * *is_segment 1. *regular tells whether a failed write may remove the
 * file: never a device or a FIFO (`sma save s /dev/full` as root must not
 * delete /dev/full). */
static FILE *open_output(const char *path, const sma_t *a, int *err, int *is_segment,
                         int *regular) {
  *err = 0;
  *is_segment = 0;
  *regular = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  struct stat st;
  if (is_the_segment(fd, a)) {
    *is_segment = 1;
  } else if (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0)) {
    *err = errno; /* a device or FIFO takes the bytes as they come */
  } else {
    *regular = S_ISREG(st.st_mode);
    FILE *f = fdopen(fd, "wb");
    if (f != NULL) return f;
    *err = errno;
  }
  close(fd);
  return NULL;
}
#else
/* Windows: a segment is a named section, never a file. */
static FILE *open_output(const char *path, const sma_t *a, int *err, int *is_segment,
                         int *regular) {
  (void)a;
  *is_segment = 0;
  *regular = 1;
  FILE *f = fopen(path, "wb");
  *err = f == NULL ? errno : 0;
  return f;
}
#endif

int cmd_save(int argc, char **argv) {
  const char *path = NULL;
  sma_t *a;
  int status = cli_open_arg("save", argc, argv, &path, &a);
  if (status != CLI_OK) return status;
  int err, is_segment, regular;
  FILE *f = open_output(path, a, &err, &is_segment, &regular);
  if (is_segment) {
    fprintf(stderr, "sma: save %s: %s is the segment itself (same device and inode); "
                    "it is left as it was\n", sma_name(a), path);
    sma_free(a);
    return CLI_ERR;
  }
  if (f == NULL) {
    sma_free(a);
    return file_failed("save: cannot create", path, err);
  }
  int rc = sma_npy_write(a, put, f);
  err = rc == SMA_EIO ? errno : 0;
  if (fclose(f) != 0 && rc == 0) rc = SMA_EIO, err = errno;
  if (rc != 0) {
    if (regular) remove(path); /* no half-written file */
    if (err != 0) file_failed("save: writing", path, err);
    else cli_fail("save", sma_name(a), rc);
  }
  sma_free(a);
  return rc == 0 ? CLI_OK : CLI_ERR;
}

/* What a refused file gets told beyond the error's sentence. */
static const char *load_hint(int rc) {
  switch (rc) {
  case SMA_EDTYPE: return " (libsma holds bool, integers, float16/32/64 and complex64/128; "
                          "not objects, strings, dates or structured records)";
  case SMA_ENPY: return " (expected a file written by numpy.save)";
  default: return "";
  }
}

int cmd_load(int argc, char **argv) {
  const char *path = NULL, *name = NULL;
  unsigned flags = SMA_CREATE_PERSIST; /* this command exits at once */
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--group") == 0) flags |= SMA_CREATE_GROUP;
    else if (strcmp(argv[i], "--transient") == 0) flags &= ~(unsigned)SMA_CREATE_PERSIST;
    else if (argv[i][0] != '-' && path == NULL) path = argv[i];
    else if (argv[i][0] != '-' && name == NULL) name = argv[i];
    else return cli_usage_of("load");
  }
  if (path == NULL) return cli_usage_of("load");
  char built[SMA_NAME_BUF];
  int rc = 0;
  if (name == NULL && (rc = sma_build_name(built, &(size_t){sizeof built}, "npy")) != 0)
    return cli_fail("load: name", NULL, rc);
  if (name == NULL) name = built;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return file_failed("load: cannot open", path, errno);
  sma_t *a;
  rc = sma_npy_read(&a, name, get, f, flags);
  int read_error = ferror(f) ? errno : 0;
  fclose(f);
  if (rc != 0 && read_error != 0) return file_failed("load: reading", path, read_error);
  if (rc != 0) {
    fprintf(stderr, "sma: load %s: %s (%s)%s\n", path, sma_strerror(rc), sma_err_name(rc),
            load_hint(rc));
    return CLI_ERR;
  }
  char line[SMA_DESCRIPTOR_MAX];
  rc = sma_describe(a, line, &(size_t){sizeof line});
  if (rc == 0) {
    printf("%s\n%s\n", name, line);
    cli_say_persistence(a);
  }
  sma_free(a);
  return rc == 0 ? CLI_OK : cli_fail("load: describe", name, rc);
}
