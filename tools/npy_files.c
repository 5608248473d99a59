/* `sma save` and `sma load`: segments to and from NumPy .npy files,
 * through the library's stream calls (the files are the command's: the
 * library opens none). */
#include "cli.h"
#include "sma.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static size_t put(void *file, const void *buf, size_t n) { return fwrite(buf, 1, n, file); }
static size_t get(void *file, void *buf, size_t n) { return fread(buf, 1, n, file); }

static int file_failed(const char *what, const char *path, int err) {
  fprintf(stderr, "sma: %s %s: %s\n", what, path, strerror(err));
  return CLI_ERR;
}

int cmd_save(int argc, char **argv) {
  const char *path = NULL;
  sma_t *a;
  int status = cli_open_arg("save", argc, argv, &path, &a);
  if (status != CLI_OK) return status;
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    int err = errno;
    sma_free(a);
    return file_failed("save: cannot create", path, err);
  }
  int rc = sma_npy_write(a, put, f);
  int err = rc == SMA_EIO ? errno : 0;
  if (fclose(f) != 0 && rc == 0) rc = SMA_EIO, err = errno;
  if (rc != 0) {
    remove(path); /* no half-written file */
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
