/* `sma info`: one segment's record and state, and what `sma gc` would do
 * with it. */
#include "cli.h"
#include "info_fields.h"
#include "safe_text.h"
#include "sma.h"

#include <stdio.h>
#include <string.h>

static const char help[] = "usage: sma info NAME [--json]\nShows one segment's record and state.\n";

/* What gc will do with the segment `in` describes, as `sma info` says it:
 * only what sma_collect() does here. A persistent segment still being
 * created is an interrupted create that gc judges as any other; and where
 * the OS cannot show who maps a segment (macOS, Windows) gc removes
 * nothing at all. */
static void print_keeping(const sma_info_t *in) {
  sma_caps_t caps;
  sma_caps_get(&caps);
  const char *gc_removes = caps.proves_unused ? "`sma gc` removes it" : "`sma rm` removes it";
  if (!in->creating) {
    printf("persistent:    %s\n",
           in->persistent ? "yes (`sma gc` keeps it; `sma rm` removes it)"
           : caps.proves_unused
               ? "no (`sma gc` removes it once orphaned)"
               : "no (but `sma gc` cannot prove it orphaned here: `sma rm` removes it)");
    return;
  }
  printf("persistent:    %s\n", in->persistent ? "once published (not yet)" : "no");
  if (in->creator_alive == 0)
    printf("state:         being created, creator died: %s\n", gc_removes);
  else
    printf("state:         being created\n");
}

static int run(int argc, char **argv) {
  const char *name = NULL;
  int json = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return cli_usage(&cli_info);
  }
  if (name == NULL) return cli_usage(&cli_info);
  sma_info_t in;
  int rc = sma_info_get(&in, name);
  if (rc != 0) return cli_fail_os("info", name, rc, sma_last_os_error());
  if (json) {
    info_print_json(&in);
    printf("\n");
    return CLI_OK;
  }
  char shape[SMA_MAX_DIMS * 21 + 3], shown[4 * SMA_NAME_BUF];
  info_shape_text(&in, shape, sizeof shape);
  safe_text_for_terminal(in.name, shown, sizeof shown);
  printf("name:          %s\ndtype:         %s (%s)\nshape:         %s\nbytes:         %zu\n"
         "segment size:  %zu\ncreator pid:   %llu (%s)\nage:           %.1f s\nattached:      ",
         shown, sma_dtype_name(in.dtype), sma_dtype_str(in.dtype), shape, in.nbytes,
         in.segment_size, (unsigned long long)in.creator_pid,
         in.creator_alive < 0 ? "unknown"
         : in.creator_alive   ? "running"
                              : "gone",
         info_age_seconds(&in));
  if (in.attached < 0)
    printf("unknown\n");
  else
    printf("%d process%s\n", in.attached, in.attached == 1 ? "" : "es");
  printf("huge pages:    %s\n", in.huge_pages < 0 ? "unknown" : in.huge_pages ? "yes" : "no");
  print_keeping(&in);
  return CLI_OK;
}

const cli_command_t cli_info = {"info", help, run};
