/* What the `sma` command's files share: exit codes, the commands main.c
 * dispatches to (each in its cmd_*.c), their shared argument and error
 * reporting (segment_arg.c, messages.c). */
#ifndef SMA_TOOLS_CLI_H
#define SMA_TOOLS_CLI_H

#include "sma.h"

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

/* One command: `sma NAME ARGS...` runs run(argc, argv) with the ARGS;
 * `sma NAME --help` (-h anywhere in ARGS) prints help to stdout. */
typedef struct cli_command {
  const char *name;
  const char *help;
  int (*run)(int argc, char **argv);
} cli_command_t;

extern const cli_command_t cli_create, cli_ls, cli_info, cli_rm, cli_gc, cli_describe, cli_save,
    cli_load, cli_cat;

/* `sma demo` and its hidden worker subcommand (cmd_demo.c); argv starts
 * after the subcommand; self: this executable, which the workers run. */
int demo_main(int argc, char **argv, const char *self);
int demo_worker_main(int argc, char **argv);

/* Prints the command's usage to stderr; returns CLI_USAGE. */
int cli_usage(const cli_command_t *cmd);

/* Prints "sma: WHAT NAME: message (SMA_E...)" to stderr; returns CLI_ERR.
 * NAME is shown with control characters and invalid UTF-8 as '?'. */
int cli_fail(const char *what, const char *name, int rc);
/* cli_fail() with the OS's reason os_err (sma_last_os_error() right after
 * a call that takes a name, or sma_os_error() of an object; 0: none):
 * "sma: WHAT NAME: operating-system error: ELOOP: Too many levels of
 * symbolic links (SMA_EOS)" for SMA_EOS, else "sma: WHAT NAME: message
 * (SMA_E...; ENAME: OS message)". */
int cli_fail_os(const char *what, const char *name, int rc, int os_err);
/* A file of the command's own (not a segment) failed with errno err:
 * "sma: WHAT PATH: strerror"; returns CLI_ERR. */
int cli_fail_file(const char *what, const char *path, int err);
/* A failed sma_list() of command cmd; an unusable index is named by its
 * path. Returns CLI_ERR. */
int cli_fail_listing(const char *cmd, int rc, int os_err);

/* The arguments "NAME [EXTRA] [--slice TEXT]" of command cmd (EXTRA only
 * when extra is not NULL, and then required): opens NAME read-only
 * through the slice into *a. CLI_OK, or CLI_USAGE / CLI_ERR after saying
 * why. */
int cli_open_arg(const cli_command_t *cmd, int argc, char **argv, const char **extra, sma_t **a);

/* Says on stdout whether the segment `a` created is persistent
 * (SMA_CREATE_PERSIST: `sma gc` keeps it) or transient. */
void cli_say_persistence(const sma_t *a);

#endif
