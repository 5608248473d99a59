/*
 * The `sma` command: create, inspect, list, remove and garbage-collect
 * libsma segments on any backend, and run the demo. This file is the
 * dispatch: the overall usage, --help and --version, and which command
 * runs (each lives in its cmd_*.c).
 * Exit status: 0 success, 1 error, 2 usage. Errors go to stderr.
 */
#include "cli.h"
#include "process_services.h"
#include "sma.h"

#include <stdio.h>
#include <string.h>

/* In the order `sma --help` lists them; `demo` is dispatched apart. */
static const cli_command_t *const commands[] = {&cli_create, &cli_ls,   &cli_info,
                                                &cli_rm,     &cli_gc,   &cli_describe,
                                                &cli_save,   &cli_load, &cli_cat};
enum { COMMAND_COUNT = sizeof commands / sizeof commands[0] };

static int usage(FILE *f, int code) {
  fprintf(f, "usage: sma COMMAND [ARGS]   (sma COMMAND --help for details)\ncommands:");
  for (size_t i = 0; i < COMMAND_COUNT; i++) fprintf(f, " %s", commands[i]->name);
  fprintf(f,
          " demo\n"
          "backend: %s; library %u.%u.%u\n"
          "exit status: 0 success, 1 error, 2 usage\n",
          sma_backend(), sma_version() / 10000, sma_version() / 100 % 100, sma_version() % 100);
  return code;
}

static int wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
  return 0;
}

/* `sma demo` starts workers from its own executable. */
static int run_demo(int argc, char **argv, const char *argv0) {
  char self[4096];
  if (proc_self_path(self, sizeof self, argv0) != 0) {
    fprintf(stderr, "sma demo: cannot find my own executable\n");
    return CLI_ERR;
  }
  return demo_main(argc, argv, self);
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr, CLI_USAGE);
  const char *name = argv[1];
  int n = argc - 2;
  char **args = argv + 2;
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0)
    return usage(stdout, CLI_OK);
  if (strcmp(name, "--version") == 0) {
    printf("sma %d.%d.%d (%s backend)\n", SMA_VERSION_MAJOR, SMA_VERSION_MINOR, SMA_VERSION_PATCH,
           sma_backend());
    return CLI_OK;
  }
  if (strcmp(name, "__demo-worker") == 0) return demo_worker_main(n, args);
  if (strcmp(name, "demo") == 0) return run_demo(n, args, argv[0]);
  for (size_t i = 0; i < COMMAND_COUNT; i++) {
    const cli_command_t *cmd = commands[i];
    if (strcmp(name, cmd->name) != 0) continue;
    if (wants_help(n, args)) {
      fputs(cmd->help, stdout);
      return CLI_OK;
    }
    return cmd->run(n, args);
  }
  fprintf(stderr, "sma: unknown command '%s'\n", name);
  return usage(stderr, CLI_USAGE);
}
