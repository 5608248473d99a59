/* `sma rm`: unlinks segments by name. */
#include "cli.h"
#include "sma.h"

#include <stdio.h>

static const char help[] = "usage: sma rm NAME...\nUnlinks each name; goes on past failures.\n";

static int run(int argc, char **argv) {
  if (argc == 0) return cli_usage(&cli_rm);
  int status = CLI_OK;
  for (int i = 0; i < argc; i++) {
    int rc = sma_unlink(argv[i]);
    if (rc != 0)
      status = cli_fail_os("rm", argv[i], rc, sma_last_os_error());
    else
      printf("removed %s\n", argv[i]);
  }
  return status;
}

const cli_command_t cli_rm = {"rm", help, run};
