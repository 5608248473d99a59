/* What the `sma` command's files share: exit codes and error reporting.
 * Each command lives in the file named after what it handles (cli.c:
 * segments; npy_files.c: .npy files; cat.c: printing values). */
#ifndef SMA_TOOLS_CLI_H
#define SMA_TOOLS_CLI_H

#include "sma.h"

#include <stddef.h>
#include <stdint.h>

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

/* Prints "sma: WHAT NAME: message (SMA_E...)" to stderr; returns CLI_ERR.
 * NAME is shown with control characters and invalid UTF-8 as '?'. */
int cli_fail(const char *what, const char *name, int rc);
/* cli_fail() with the OS's reason os_err (sma_last_os_error() right after
 * a call that takes a name, or sma_os_error() of an object; 0: none):
 * "sma: WHAT NAME: operating-system error: ELOOP: Too many levels of
 * symbolic links (SMA_EOS)" for SMA_EOS, else "sma: WHAT NAME: message
 * (SMA_E...; ENAME: OS message)". */
int cli_fail_os(const char *what, const char *name, int rc, int os_err);
/* Prints the command's usage to stderr; returns CLI_USAGE. */
int cli_usage_of(const char *cmd);
/* The arguments "NAME [EXTRA] [--slice TEXT]" of command cmd (EXTRA only
 * when extra is not NULL, and then required): opens NAME through the
 * slice into *a. CLI_OK, or CLI_USAGE / CLI_ERR after saying why. */
int cli_open_arg(const char *cmd, int argc, char **argv, const char **extra, sma_t **a);

/* Says on stdout whether the segment `a` created is persistent
 * (SMA_CREATE_PERSIST: `sma gc` keeps it) or transient. */
void cli_say_persistence(const sma_t *a);

/* IEEE binary16 nearest to f (ties to even); |f| up to 65504, infinities
 * and NaN. */
uint16_t cli_half_from_float(float f);

int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_cat(int argc, char **argv);

#endif
