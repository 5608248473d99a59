/* The sentences several commands share: a failure with the library's
 * error and the OS's reason, a failed listing, a command's usage, and
 * whether a segment just made is persistent. Apart from the commands so
 * that every one reports the same way. */
#include "cli.h"
#include "safe_text.h"
#include "sma.h"

#include <stdio.h>
#include <string.h>

int cli_usage(const cli_command_t *cmd) {
  fputs(cmd->help, stderr);
  return CLI_USAGE;
}

int cli_fail(const char *what, const char *name, int rc) { return cli_fail_os(what, name, rc, 0); }

int cli_fail_os(const char *what, const char *name, int rc, int os_err) {
  char shown[4 * SMA_NAME_BUF] = "", reason[256] = "";
  if (name != NULL) safe_text_for_terminal(name, shown, sizeof shown);
  if (os_err != 0) sma_os_strerror(os_err, reason, &(size_t){sizeof reason});
  if (rc == SMA_EOS && os_err != 0) /* the OS's reason is the message */
    fprintf(stderr, "sma: %s%s%s: operating-system error: %s (%s)\n", what, name ? " " : "", shown,
            reason, sma_err_name(rc));
  else
    fprintf(stderr, "sma: %s%s%s: %s (%s%s%s)\n", what, name ? " " : "", shown, sma_strerror(rc),
            sma_err_name(rc), os_err ? "; " : "", reason);
  return CLI_ERR;
}

int cli_fail_file(const char *what, const char *path, int err) {
  fprintf(stderr, "sma: %s %s: %s\n", what, path, strerror(err));
  return CLI_ERR;
}

/* A failed listing; an unusable index is named by its path. */
int cli_fail_listing(const char *cmd, int rc, int os_err) {
  char path[4096];
  if (rc == SMA_EINDEX && sma_index_path(path, &(size_t){sizeof path}) == 0) {
    fprintf(stderr, "sma: %s: index directory %s: %s (%s)\n", cmd, path, sma_strerror(rc),
            sma_err_name(rc));
    return CLI_ERR;
  }
  return cli_fail_os(cmd, NULL, rc, os_err);
}

void cli_say_persistence(const sma_t *a) {
  sma_caps_t caps;
  sma_caps_get(&caps);
  if (sma_is_persistent(a) && !caps.outlives_creator)
    printf("persistent (recorded; on this OS a segment still goes with the last "
           "process that holds it)\n");
  else if (sma_is_persistent(a))
    printf("persistent: stays until `sma rm %s`; `sma gc` keeps it\n", sma_name(a));
  else
    printf("transient: `sma gc` removes it once nothing holds it\n");
}
