/* `sma load`: a new segment holding the array of a NumPy .npy file,
 * through the library's stream call (the file is the command's: the
 * library opens none). */
#include "cli.h"
#include "sma.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char help[] = "usage: sma load FILE.npy [NAME] [--group] [--transient]\n"
                           "Creates a segment holding the array of a .npy file (Fortran order and\n"
                           "the other byte order are converted; object, string and structured\n"
                           "dtypes are refused). Without NAME, one is built (prefix \"npy\").\n"
                           "The name appears only once all the data is in. Prints the name, the\n"
                           "descriptor, then that it is persistent: it stays until `sma rm NAME`,\n"
                           "and `sma gc` never removes it. --transient leaves it to `sma gc` once\n"
                           "nothing holds it (this command, its creator, exits at once).\n";

static size_t get(void *buf, size_t n, void *file) { return fread(buf, 1, n, file); }

/* What a refused file gets told beyond the error's sentence. */
static const char *load_hint(int rc) {
  switch (rc) {
  case SMA_EDTYPE:
    return " (libsma holds bool, integers, float16/32/64 and complex64/128; "
           "not objects, strings, dates or structured records)";
  case SMA_ENPY: return " (expected a file written by numpy.save)";
  default: return "";
  }
}

static int run(int argc, char **argv) {
  const char *path = NULL, *name = NULL;
  unsigned flags = SMA_CREATE_PERSIST; /* this command exits at once */
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--group") == 0)
      flags |= SMA_CREATE_GROUP;
    else if (strcmp(argv[i], "--transient") == 0)
      flags &= ~(unsigned)SMA_CREATE_PERSIST;
    else if (argv[i][0] != '-' && path == NULL)
      path = argv[i];
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return cli_usage(&cli_load);
  }
  if (path == NULL) return cli_usage(&cli_load);
  char built[SMA_NAME_BUF];
  int rc = 0;
  if (name == NULL && (rc = sma_build_name("npy", built, &(size_t){sizeof built})) != 0)
    return cli_fail("load: name", NULL, rc);
  if (name == NULL) name = built;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return cli_fail_file("load: cannot open", path, errno);
  sma_t *a;
  rc = sma_npy_read(&a, name, flags, get, f);
  int read_error = ferror(f) ? errno : 0;
  fclose(f);
  if (rc != 0 && read_error != 0) return cli_fail_file("load: reading", path, read_error);
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

const cli_command_t cli_load = {"load", help, run};
