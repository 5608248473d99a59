/* `sma create`: a new persistent (or transient) segment holding a zeroed
 * array, or one filled with a value, filled before its name appears. */
#include "cli.h"
#include "values.h"
#include "sma.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: sma create NAME --shape D0,D1,... --dtype DTYPE [--fill V] [--group]\n"
    "                  [--transient]\n"
    "Creates a segment holding a zeroed array (or filled with V), persistent:\n"
    "it stays until `sma rm NAME`, and `sma gc` never removes it (on Windows\n"
    "it still goes with this command, as every mapping goes with its last\n"
    "handle). --transient leaves it to `sma gc` once this command, its\n"
    "creator, has exited and nothing holds it. --group lets the owner's\n"
    "group read and write it.\n";

/* sma_fill_fn: every element = the item, before the name is published,
 * so a create killed while filling leaves no half-filled array. */
static int fill(const sma_view_t *v, void *item) {
  size_t n = sma_view_size(v);
  unsigned char *p = v->data;
  for (size_t i = 0; i < n; i++) memcpy(p + i * v->itemsize, item, v->itemsize);
  return 0;
}

static int run(int argc, char **argv) {
  const char *name = NULL, *shape_text = NULL, *dtype_text = NULL, *fill_text = NULL;
  unsigned flags = SMA_CREATE_PERSIST; /* this command exits at once */
  for (int i = 0; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--group") == 0)
      flags |= SMA_CREATE_GROUP;
    else if (strcmp(argv[i], "--transient") == 0)
      flags &= ~(unsigned)SMA_CREATE_PERSIST;
    else if (strcmp(argv[i], "--shape") == 0 && v)
      shape_text = v, i++;
    else if (strcmp(argv[i], "--dtype") == 0 && v)
      dtype_text = v, i++;
    else if (strcmp(argv[i], "--fill") == 0 && v)
      fill_text = v, i++;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return cli_usage(&cli_create);
  }
  size_t shape[SMA_MAX_DIMS], ndim;
  sma_dtype_t dtype;
  if (name == NULL || shape_text == NULL || dtype_text == NULL) return cli_usage(&cli_create);
  int shape_rc = sma_shape_parse(shape, SMA_MAX_DIMS, &ndim, shape_text);
  if (shape_rc == SMA_EOVERFLOW) {
    fprintf(stderr,
            "sma: create: --shape %s: an extent does not fit this machine's "
            "size_t (at most %zu)\n",
            shape_text, (size_t)SIZE_MAX);
    return CLI_USAGE;
  }
  if (shape_rc != 0) {
    fprintf(stderr, "sma: create: --shape %s: %s\n", shape_text, sma_strerror(shape_rc));
    return cli_usage(&cli_create);
  }
  int rc = sma_dtype_parse(&dtype, dtype_text);
  if (rc != 0) return cli_fail("dtype", dtype_text, rc);
  unsigned char item[16] = {0};
  char why[256];
  if (fill_text && value_parse_item(fill_text, dtype, item, why, sizeof why) != NULL) {
    fprintf(stderr, "sma: create: %s\n", why);
    return CLI_USAGE;
  }
  sma_t *a = NULL;
  rc = sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = ndim, .shape = shape, .dtype = dtype});
  if (rc == 0) rc = sma_create_filled(a, flags, fill_text ? fill : NULL, item);
  if (rc != 0) {
    int os_err = a != NULL ? sma_os_error(a) : 0;
    sma_free(a);
    return cli_fail_os("create", name, rc, os_err);
  }
  printf("created %s: %s, %zu bytes\n", name, dtype_text, sma_nbytes(a));
  cli_say_persistence(a);
  sma_free(a);
  return CLI_OK;
}

const cli_command_t cli_create = {"create", help, run};
