/* `sma ls`: the libsma segments this user can see, as a table or JSON. */
#include "cli.h"
#include "info_fields.h"
#include "prefix_match.h"
#include "safe_text.h"
#include "sma.h"

#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: sma ls [--json] [--prefix P]\n"
    "--prefix P keeps names starting with P or built with prefix P\n"
    "(<counter>-P...).\n"
    "Lists the libsma segments this user can see: name, dtype, shape, bytes,\n"
    "creator pid and whether it still runs, age, processes attached (- if\n"
    "unknown), and whether it is persistent (kept by `sma gc`). Where the OS cannot "
    "enumerate shared memory (macOS POSIX,\n"
    "Windows) it lists the per-user index of segments libsma created.\n";

static void print_row(const sma_info_t *in) {
  char shape[SMA_MAX_DIMS * 21 + 3], att[16], name[4 * SMA_NAME_BUF];
  info_shape_text(in, shape, sizeof shape);
  safe_text_for_terminal(in->name, name, sizeof name);
  snprintf(att, sizeof att, "%d", in->attached);
  printf("%-40s %-10s %-16s %12zu %8llu %-5s %9.0fs %-8s %s\n", name, sma_dtype_name(in->dtype),
         shape, in->nbytes, (unsigned long long)in->creator_pid,
         in->creator_alive < 0 ? "?"
         : in->creator_alive   ? "yes"
                               : "no",
         info_age_seconds(in), in->attached < 0 ? "-" : att,
         in->creating     ? "creating"
         : in->persistent ? "yes"
                          : "no");
}

typedef struct ls_ctx {
  int json;
  int count;
  const char *prefix;
} ls_ctx_t;

static int ls_one(const sma_info_t *in, void *user) {
  ls_ctx_t *c = user;
  if (!prefix_matches(in->name, c->prefix)) return 0;
  if (c->json) {
    printf("%s\n  ", c->count ? "," : "");
    info_print_json(in);
  } else {
    print_row(in);
  }
  c->count++;
  return 0;
}

static int run(int argc, char **argv) {
  ls_ctx_t c = {0, 0, NULL};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      c.json = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
      c.prefix = argv[++i];
    else
      return cli_usage(&cli_ls);
  }
  if (c.json)
    printf("[");
  else
    printf("%-40s %-10s %-16s %12s %8s %-5s %10s %-8s %s\n", "NAME", "DTYPE", "SHAPE", "BYTES",
           "PID", "ALIVE", "AGE", "ATTACHED", "PERSISTENT");
  int rc = sma_list(ls_one, &c);
  int os_err = sma_last_os_error();
  if (c.json) printf("%s]\n", c.count ? "\n" : "");
  return rc == 0 ? CLI_OK : cli_fail_listing("ls", rc, os_err);
}

const cli_command_t cli_ls = {"ls", help, run};
