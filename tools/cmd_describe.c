/* `sma describe`: the one-line descriptor of a segment (through a slice),
 * for passing to a worker. */
#include "cli.h"
#include "sma.h"

#include <stdio.h>

static const char help[] = "usage: sma describe NAME [--slice TEXT]\n"
                           "Prints the one-line descriptor of an existing segment, optionally\n"
                           "through a slice, for passing to a worker.\n";

static int run(int argc, char **argv) {
  sma_t *a;
  int status = cli_open_arg(&cli_describe, argc, argv, NULL, &a);
  if (status != CLI_OK) return status;
  char line[SMA_DESCRIPTOR_MAX];
  int rc = sma_describe(a, line, &(size_t){sizeof line});
  if (rc == 0)
    printf("%s\n", line);
  else
    cli_fail("describe", sma_name(a), rc);
  sma_free(a);
  return rc == 0 ? CLI_OK : CLI_ERR;
}

const cli_command_t cli_describe = {"describe", help, run};
