/* `sma gc`: removes the segments sma_collect() proves orphaned, and the
 * strays of creators killed before publishing, saying what it kept and
 * why. */
#include "cli.h"
#include "safe_text.h"
#include "prefix_match.h"
#include "sma.h"

#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: sma gc [--dry-run] [--prefix P]\n"
    "Removes libsma segments that are provably orphaned: their creator is\n"
    "gone and no process holds or maps them. Whatever cannot be proven\n"
    "(a creator in another pid namespace, processes this user cannot\n"
    "examine) keeps the segment, and so does being persistent (`sma create`,\n"
    "`sma load`, SMA_CREATE_PERSIST: only `sma rm` removes those). Says what\n"
    "it removed (with --dry-run what it would remove) and which segments of\n"
    "gone creators it kept, and why.\n"
    "Also removes strays: segments whose creator was killed before\n"
    "publishing them (System V, POSIX without O_TMPFILE), and only those\n"
    "that the creator's intent entry (written before it created them)\n"
    "names: another program's segment, whatever its mode, is never one.\n"
    "--prefix matches the name a stray was being created under.\n";

typedef struct gc_ctx {
  int dry_run;
  const char *prefix;
  int removed, failed;
} gc_ctx_t;

/* Why sma_collect() kept a segment whose creator is not known to run. */
static const char *kept_reason(const sma_info_t *in, int rc) {
  if (rc == SMA_EREPLACED) return "the name was re-created meanwhile";
  if (in->persistent && !in->creating)
    return "it is persistent (meant to outlive its creator; `sma rm` removes it)";
  if (in->creator_alive < 0) return "its creator cannot be judged from here";
  if (in->attached > 0) return "processes map it";
  return "it is held open, or that cannot be ruled out";
}

static int gc_one(const sma_info_t *listed, void *user) {
  gc_ctx_t *c = user;
  if (!prefix_matches(listed->name, c->prefix) || listed->creator_alive == 1) return 0;
  sma_info_t in;
  int rc = sma_collect(&in, listed->name, c->dry_run ? SMA_COLLECT_DRY_RUN : 0);
  int os_err = sma_last_os_error();
  if (rc == SMA_ENOENT || (rc == SMA_EINUSE && in.creator_alive == 1)) return 0;
  char shown[4 * SMA_NAME_BUF]; /* a name is any bytes: no escape reaches the terminal */
  safe_text_for_terminal(listed->name, shown, sizeof shown);
  if (rc == SMA_EINUSE || rc == SMA_EREPLACED) {
    printf("kept %s: %s\n", shown, kept_reason(&in, rc));
    return 0;
  }
  if (rc != 0) {
    cli_fail_os("gc: remove", listed->name, rc, os_err);
    c->failed++;
    return 0;
  }
  printf("%s %s (creator %llu gone, nothing holds it)\n", c->dry_run ? "would remove" : "removed",
         shown, (unsigned long long)in.creator_pid);
  c->removed++;
  return 0;
}

/* A stray (sma_list_strays()): a segment whose creator, named by the
 * intent it wrote before creating it, was killed before publishing it.
 * Its label starts with the name it was being created under. */
static int gc_stray(const sma_stray_t *stray, void *user) {
  gc_ctx_t *c = user;
  if (!prefix_matches(stray->label, c->prefix)) return 0;
  if (stray->creator_alive == 1) return 0; /* still creating it */
  int rc = sma_collect_stray(stray, c->dry_run ? SMA_COLLECT_DRY_RUN : 0);
  int os_err = sma_last_os_error();
  if (rc == SMA_ENOENT) return 0;
  char shown[4 * SMA_STRAY_LABEL];
  safe_text_for_terminal(stray->label, shown, sizeof shown);
  if (rc == SMA_EINUSE || rc == SMA_EREPLACED) {
    printf("kept stray %s: %s\n", shown,
           rc == SMA_EREPLACED        ? "it was replaced meanwhile"
           : stray->creator_alive < 0 ? "its creator cannot be judged from here"
                                      : "it is held open, or that cannot be ruled out");
    return 0;
  }
  if (rc != 0) {
    cli_fail_os("gc: remove stray", stray->label, rc, os_err);
    c->failed++;
    return 0;
  }
  printf("%s stray %s (its creator %llu died before publishing it)\n",
         c->dry_run ? "would remove" : "removed", shown, (unsigned long long)stray->creator_pid);
  c->removed++;
  return 0;
}

static int run(int argc, char **argv) {
  gc_ctx_t c = {0, NULL, 0, 0};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--dry-run") == 0)
      c.dry_run = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
      c.prefix = argv[++i];
    else
      return cli_usage(&cli_gc);
  }
  int rc = sma_list(gc_one, &c);
  if (rc != 0) return cli_fail_listing("gc", rc, sma_last_os_error());
  rc = sma_list_strays(gc_stray, &c);
  if (rc != 0) {
    cli_fail_os("gc: strays", NULL, rc, sma_last_os_error());
    c.failed++;
  }
  printf("%s %d segment%s\n", c.dry_run ? "would remove" : "removed", c.removed,
         c.removed == 1 ? "" : "s");
  return c.failed ? CLI_ERR : CLI_OK;
}

const cli_command_t cli_gc = {"gc", help, run};
