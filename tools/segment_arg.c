/* The arguments "NAME [EXTRA] [--slice TEXT]" of the commands that read a
 * segment (describe, save, cat): one parse and one read-only open. */
#include "cli.h"
#include "sma.h"

#include <string.h>

int cli_open_arg(const cli_command_t *cmd, int argc, char **argv, const char **extra, sma_t **a) {
  const char *name = NULL, *slice_text = "";
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--slice") == 0 && i + 1 < argc)
      slice_text = argv[++i];
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else if (argv[i][0] != '-' && extra != NULL && *extra == NULL)
      *extra = argv[i];
    else
      return cli_usage(cmd);
  }
  if (name == NULL || (extra != NULL && *extra == NULL)) return cli_usage(cmd);
  sma_slice_t s[SMA_MAX_DIMS];
  size_t n;
  int rc = sma_slice_parse(s, SMA_MAX_DIMS, &n, slice_text);
  if (rc != 0) return cli_fail("slice", slice_text, rc);
  rc = sma_open_as(a, name, s, n, SMA_OPEN_READONLY); /* needs only read permission */
  return rc == 0 ? CLI_OK : cli_fail_os(cmd->name, name, rc, sma_last_os_error());
}
