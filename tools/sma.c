/*
 * The `sma` command: create, inspect, list, remove and garbage-collect
 * libsma segments on any backend, and run the demo.
 * Exit status: 0 success, 1 error, 2 usage. Errors go to stderr.
 */
#include "demo.h"
#include "proc.h"
#include "sma.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OK = 0, ERR = 1, USAGE = 2 };

static const char *const help_text[][2] = {
    {"create", "usage: sma create NAME --shape D0,D1,... --dtype DTYPE [--fill V] [--group]\n"
               "Creates a segment holding a zeroed array (or filled with V). It stays\n"
               "until `sma rm NAME` (or `sma gc`: its creator, this command, exits at\n"
               "once; on Windows it goes with this command, as every mapping goes with\n"
               "its last handle). --group lets the owner's group read and write it.\n"},
    {"ls", "usage: sma ls [--json] [--prefix P]\n"
           "--prefix P keeps names starting with P or built with prefix P\n"
           "(<counter>-P...).\n"
           "Lists the libsma segments this user can see: name, dtype, shape, bytes,\n"
           "creator pid and whether it still runs, age, processes attached (- if\n"
           "unknown). Where the OS cannot enumerate shared memory (macOS POSIX,\n"
           "Windows) it lists the per-user index of segments libsma created.\n"},
    {"info", "usage: sma info NAME [--json]\nShows one segment's record and state.\n"},
    {"rm", "usage: sma rm NAME...\nUnlinks each name; goes on past failures.\n"},
    {"gc", "usage: sma gc [--dry-run] [--prefix P]\n"
           "Removes libsma segments that are provably orphaned: their creator is\n"
           "gone and no process holds or maps them. Whatever cannot be proven\n"
           "(a creator in another pid namespace, processes this user cannot\n"
           "examine) keeps the segment. Says what it removed (with --dry-run what\n"
           "it would remove) and which segments of gone creators it kept, and why.\n"},
    {"describe", "usage: sma describe NAME [--slice TEXT]\n"
                 "Prints the one-line descriptor of an existing segment, optionally\n"
                 "through a slice, for passing to a worker.\n"},
};

static int usage(FILE *f, int code) {
  fprintf(f, "usage: sma COMMAND [ARGS]   (sma COMMAND --help for details)\n"
             "commands: create ls info rm gc describe demo\n"
             "backend: %s; library %u\n"
             "exit status: 0 success, 1 error, 2 usage\n",
          sma_backend(), sma_version());
  return code;
}

static int command_help(const char *cmd, FILE *f, int code) {
  for (size_t i = 0; i < sizeof help_text / sizeof help_text[0]; i++)
    if (strcmp(help_text[i][0], cmd) == 0) fputs(help_text[i][1], f);
  return code;
}

static int wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
  return 0;
}

static int fail(const char *what, const char *name, int rc) {
  fprintf(stderr, "sma: %s%s%s: %s (%s)\n", what, name ? " " : "", name ? name : "",
          sma_strerror(rc), sma_err_name(rc));
  return ERR;
}

/* A failed listing; an unusable index is named by its path. */
static int list_failed(const char *cmd, int rc) {
  char path[4096];
  if (rc == SMA_EINDEX && sma_index_path(path, sizeof path) == 0) {
    fprintf(stderr, "sma: %s: index directory %s: %s (%s)\n", cmd, path, sma_strerror(rc),
            sma_err_name(rc));
    return ERR;
  }
  return fail(cmd, NULL, rc);
}

/* ---- create -------------------------------------------------------------- */

static int parse_shape(const char *text, size_t *shape, size_t *ndim) {
  *ndim = 0;
  if (strcmp(text, "()") == 0) return 0;
  for (const char *p = text;;) {
    char *end;
    if (*p < '0' || *p > '9' || *ndim == SMA_MAX_DIMS) return -1;
    shape[(*ndim)++] = (size_t)strtoull(p, &end, 10);
    if (*end == '\0') return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

static void fill(const sma_view_t *v, double value) {
  size_t n = sma_view_size(v);
  unsigned char *p = v->data;
  unsigned char item[16];
  memset(item, 0, sizeof item);
  switch (v->dtype) {
  case SMA_BOOL: item[0] = value != 0; break;
  case SMA_INT8: *(int8_t *)item = (int8_t)value; break;
  case SMA_INT16: *(int16_t *)item = (int16_t)value; break;
  case SMA_INT32: *(int32_t *)item = (int32_t)value; break;
  case SMA_INT64: *(int64_t *)item = (int64_t)value; break;
  case SMA_UINT8: *(uint8_t *)item = (uint8_t)value; break;
  case SMA_UINT16: *(uint16_t *)item = (uint16_t)value; break;
  case SMA_UINT32: *(uint32_t *)item = (uint32_t)value; break;
  case SMA_UINT64: *(uint64_t *)item = (uint64_t)value; break;
  case SMA_FLOAT32: case SMA_COMPLEX64: *(float *)item = (float)value; break;
  case SMA_FLOAT64: case SMA_COMPLEX128: *(double *)item = value; break;
  default: break; /* float16: zero only */
  }
  for (size_t i = 0; i < n; i++) memcpy(p + i * v->itemsize, item, v->itemsize);
}

static int cmd_create(int argc, char **argv) {
  const char *name = NULL, *shape_text = NULL, *dtype_text = NULL, *fill_text = NULL;
  unsigned flags = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--group") == 0) flags |= SMA_CREATE_GROUP;
    else if (strcmp(argv[i], "--shape") == 0 && v) shape_text = v, i++;
    else if (strcmp(argv[i], "--dtype") == 0 && v) dtype_text = v, i++;
    else if (strcmp(argv[i], "--fill") == 0 && v) fill_text = v, i++;
    else if (argv[i][0] != '-' && name == NULL) name = argv[i];
    else return command_help("create", stderr, USAGE);
  }
  size_t shape[SMA_MAX_DIMS], ndim;
  sma_dtype_t dtype;
  if (name == NULL || shape_text == NULL || dtype_text == NULL ||
      parse_shape(shape_text, shape, &ndim) != 0)
    return command_help("create", stderr, USAGE);
  int rc = sma_dtype_parse(dtype_text, &dtype);
  if (rc != 0) return fail("dtype", dtype_text, rc);
  char *end = NULL;
  double value = fill_text ? strtod(fill_text, &end) : 0;
  if (fill_text && (end == fill_text || *end != '\0'))
    return command_help("create", stderr, USAGE);
  sma_t *a = NULL;
  rc = sma_new(&a, name, ndim, shape, dtype, NULL, 0);
  if (rc == 0) rc = sma_create(a, flags);
  if (rc != 0) {
    sma_free(a);
    return fail("create", name, rc);
  }
  if (fill_text) fill(sma_view(a), value);
  printf("created %s: %s, %zu bytes\n", name, dtype_text, sma_nbytes(a));
  sma_free(a);
  return OK;
}

/* ---- ls / info ------------------------------------------------------------- */

static void shape_text(const sma_info_t *in, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t d = 0; d < in->ndim && len < cap; d++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%zu", d ? "," : "", in->shape[d]);
  if (in->ndim == 0) snprintf(buf, cap, "()");
}

static double age_seconds(const sma_info_t *in) {
  return (double)(proc_wall_ns() - in->created_ns) * 1e-9;
}

static void json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_json(const sma_info_t *in) {
  printf("{\"name\": ");
  json_string(in->name);
  printf(", \"dtype\": \"%s\", \"typestr\": \"%s\", \"shape\": [", sma_dtype_name(in->dtype),
         sma_dtype_str(in->dtype));
  for (size_t d = 0; d < in->ndim; d++) printf("%s%zu", d ? ", " : "", in->shape[d]);
  printf("], \"bytes\": %zu, \"segment_size\": %zu, \"creator_pid\": %llu, "
         "\"creator_alive\": %s, \"age_seconds\": %.3f, \"attached\": ",
         in->nbytes, in->segment_size, (unsigned long long)in->creator_pid,
         in->creator_alive < 0 ? "null" : in->creator_alive ? "true" : "false",
         age_seconds(in));
  if (in->attached < 0) printf("null");
  else printf("%d", in->attached);
  printf(", \"creating\": %s}", in->creating ? "true" : "false");
}

static void print_row(const sma_info_t *in) {
  char shape[256], att[16];
  shape_text(in, shape, sizeof shape);
  snprintf(att, sizeof att, "%d", in->attached);
  printf("%-40s %-10s %-16s %12zu %8llu %-5s %9.0fs %s\n", in->name, sma_dtype_name(in->dtype),
         shape, in->nbytes, (unsigned long long)in->creator_pid,
         in->creator_alive < 0 ? "?" : in->creator_alive ? "yes" : "no", age_seconds(in),
         in->attached < 0 ? "-" : att);
}

typedef struct ls_ctx {
  int json;
  int count;
  const char *prefix;
} ls_ctx_t;

/* --prefix P matches names that start with P, and names sma_build_name()
 * made with prefix P: "<counter>-P...", the counter in base 10 or 36. */
static int has_prefix(const char *name, const char *prefix) {
  if (prefix == NULL) return 1;
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) == 0) return 1;
  const char *p = name;
  while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')) p++;
  return p > name && *p == '-' && strncmp(p + 1, prefix, n) == 0;
}

static int ls_one(const sma_info_t *in, void *user) {
  ls_ctx_t *c = user;
  if (!has_prefix(in->name, c->prefix)) return 0;
  if (c->json) {
    printf("%s\n  ", c->count ? "," : "");
    print_json(in);
  } else {
    print_row(in);
  }
  c->count++;
  return 0;
}

static int cmd_ls(int argc, char **argv) {
  ls_ctx_t c = {0, 0, NULL};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) c.json = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) c.prefix = argv[++i];
    else return command_help("ls", stderr, USAGE);
  }
  if (c.json) printf("[");
  else printf("%-40s %-10s %-16s %12s %8s %-5s %10s %s\n", "NAME", "DTYPE", "SHAPE",
              "BYTES", "PID", "ALIVE", "AGE", "ATTACHED");
  int rc = sma_list(ls_one, &c);
  if (c.json) printf("%s]\n", c.count ? "\n" : "");
  return rc == 0 ? OK : list_failed("ls", rc);
}

static int cmd_info(int argc, char **argv) {
  const char *name = NULL;
  int json = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (argv[i][0] != '-' && name == NULL) name = argv[i];
    else return command_help("info", stderr, USAGE);
  }
  if (name == NULL) return command_help("info", stderr, USAGE);
  sma_info_t in;
  int rc = sma_info(name, &in);
  if (rc != 0) return fail("info", name, rc);
  if (json) {
    print_json(&in);
    printf("\n");
    return OK;
  }
  char shape[256];
  shape_text(&in, shape, sizeof shape);
  printf("name:          %s\ndtype:         %s (%s)\nshape:         %s\nbytes:         %zu\n"
         "segment size:  %zu\ncreator pid:   %llu (%s)\nage:           %.1f s\nattached:      ",
         in.name, sma_dtype_name(in.dtype), sma_dtype_str(in.dtype), shape, in.nbytes,
         in.segment_size, (unsigned long long)in.creator_pid,
         in.creator_alive < 0 ? "unknown" : in.creator_alive ? "running" : "gone",
         age_seconds(&in));
  if (in.attached < 0) printf("unknown\n");
  else printf("%d process%s\n", in.attached, in.attached == 1 ? "" : "es");
  if (in.creating)
    printf("state:         being created%s\n",
           in.creator_alive == 0 ? " (creator died: `sma gc` removes it)" : "");
  return OK;
}

/* ---- rm / gc / describe ------------------------------------------------------- */

static int cmd_rm(int argc, char **argv) {
  if (argc == 0) return command_help("rm", stderr, USAGE);
  int status = OK;
  for (int i = 0; i < argc; i++) {
    int rc = sma_unlink(argv[i]);
    if (rc != 0) status = fail("rm", argv[i], rc);
    else printf("removed %s\n", argv[i]);
  }
  return status;
}

typedef struct gc_ctx {
  int dry_run;
  const char *prefix;
  int removed, failed;
} gc_ctx_t;

/* Why sma_collect() kept a segment whose creator is not known to run. */
static const char *kept_reason(const sma_info_t *in, int rc) {
  if (rc == SMA_EREPLACED) return "the name was re-created meanwhile";
  if (in->creator_alive < 0) return "its creator cannot be judged from here";
  if (in->attached > 0) return "processes map it";
  return "it is held open, or that cannot be ruled out";
}

static int gc_one(const sma_info_t *listed, void *user) {
  gc_ctx_t *c = user;
  if (!has_prefix(listed->name, c->prefix) || listed->creator_alive == 1) return 0;
  sma_info_t in;
  int rc = sma_collect(listed->name, c->dry_run ? SMA_COLLECT_DRY_RUN : 0, &in);
  if (rc == SMA_ENOENT || (rc == SMA_EINUSE && in.creator_alive == 1)) return 0;
  if (rc == SMA_EINUSE || rc == SMA_EREPLACED) {
    printf("kept %s: %s\n", listed->name, kept_reason(&in, rc));
    return 0;
  }
  if (rc != 0) {
    fail("gc: remove", listed->name, rc);
    c->failed++;
    return 0;
  }
  printf("%s %s (creator %llu gone, nothing holds it)\n",
         c->dry_run ? "would remove" : "removed", in.name,
         (unsigned long long)in.creator_pid);
  c->removed++;
  return 0;
}

static int cmd_gc(int argc, char **argv) {
  gc_ctx_t c = {0, NULL, 0, 0};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--dry-run") == 0) c.dry_run = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) c.prefix = argv[++i];
    else return command_help("gc", stderr, USAGE);
  }
  int rc = sma_list(gc_one, &c);
  if (rc != 0) return list_failed("gc", rc);
  printf("%s %d segment%s\n", c.dry_run ? "would remove" : "removed", c.removed,
         c.removed == 1 ? "" : "s");
  return c.failed ? ERR : OK;
}

static int cmd_describe(int argc, char **argv) {
  const char *name = NULL, *slice_text = "";
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--slice") == 0 && i + 1 < argc) slice_text = argv[++i];
    else if (argv[i][0] != '-' && name == NULL) name = argv[i];
    else return command_help("describe", stderr, USAGE);
  }
  if (name == NULL) return command_help("describe", stderr, USAGE);
  sma_slice_t s[SMA_MAX_DIMS];
  size_t n;
  int rc = sma_slice_parse(slice_text, s, SMA_MAX_DIMS, &n);
  if (rc != 0) return fail("slice", slice_text, rc);
  sma_t *a;
  if ((rc = sma_open(&a, name, s, n)) != 0) return fail("describe", name, rc);
  char line[1024];
  rc = sma_describe(a, line, sizeof line);
  sma_free(a);
  if (rc != 0) return fail("describe", name, rc);
  printf("%s\n", line);
  return OK;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr, USAGE);
  const char *cmd = argv[1];
  int n = argc - 2;
  char **args = argv + 2;
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
    return usage(stdout, OK);
  if (strcmp(cmd, "--version") == 0) {
    printf("sma %d.%d.%d (%s backend)\n", SMA_VERSION_MAJOR, SMA_VERSION_MINOR,
           SMA_VERSION_PATCH, sma_backend());
    return OK;
  }
  if (strcmp(cmd, "__demo-worker") == 0) return demo_worker_main(n, args);
  if (strcmp(cmd, "demo") == 0) {
    char self[4096];
    if (proc_self_path(self, sizeof self, argv[0]) != 0) {
      fprintf(stderr, "sma demo: cannot find my own executable\n");
      return ERR;
    }
    return demo_main(n, args, self);
  }
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } commands[] = {{"create", cmd_create}, {"ls", cmd_ls}, {"info", cmd_info},
                  {"rm", cmd_rm}, {"gc", cmd_gc}, {"describe", cmd_describe}};
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(cmd, commands[i].name) != 0) continue;
    if (wants_help(n, args)) return command_help(cmd, stdout, OK);
    return commands[i].fn(n, args);
  }
  fprintf(stderr, "sma: unknown command '%s'\n", cmd);
  return usage(stderr, USAGE);
}
