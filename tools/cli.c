/*
 * The `sma` command: create, inspect, list, remove and garbage-collect
 * libsma segments on any backend, and run the demo.
 * Exit status: 0 success, 1 error, 2 usage. Errors go to stderr.
 */
#include "cli.h"
#include "demo.h"
#include "process_services.h"
#include "sma.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OK = CLI_OK, ERR = CLI_ERR, USAGE = CLI_USAGE };

static const char *const help_text[][2] = {
    {"create", "usage: sma create NAME --shape D0,D1,... --dtype DTYPE [--fill V] [--group]\n"
               "                  [--transient]\n"
               "Creates a segment holding a zeroed array (or filled with V), persistent:\n"
               "it stays until `sma rm NAME`, and `sma gc` never removes it (on Windows\n"
               "it still goes with this command, as every mapping goes with its last\n"
               "handle). --transient leaves it to `sma gc` once this command, its\n"
               "creator, has exited and nothing holds it. --group lets the owner's\n"
               "group read and write it.\n"},
    {"ls", "usage: sma ls [--json] [--prefix P]\n"
           "--prefix P keeps names starting with P or built with prefix P\n"
           "(<counter>-P...).\n"
           "Lists the libsma segments this user can see: name, dtype, shape, bytes,\n"
           "creator pid and whether it still runs, age, processes attached (- if\n"
           "unknown), and whether it is persistent (kept by `sma gc`). Where the OS cannot "
           "enumerate shared memory (macOS POSIX,\n"
           "Windows) it lists the per-user index of segments libsma created.\n"},
    {"info", "usage: sma info NAME [--json]\nShows one segment's record and state.\n"},
    {"rm", "usage: sma rm NAME...\nUnlinks each name; goes on past failures.\n"},
    {"gc", "usage: sma gc [--dry-run] [--prefix P]\n"
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
           "--prefix matches the name a stray was being created under.\n"},
    {"describe", "usage: sma describe NAME [--slice TEXT]\n"
                 "Prints the one-line descriptor of an existing segment, optionally\n"
                 "through a slice, for passing to a worker.\n"},
    {"save", "usage: sma save NAME FILE.npy [--slice TEXT]\n"
             "Writes the array (or its slice) as a NumPy .npy file that np.load()\n"
             "reads exactly (C order, this machine's byte order). FILE is replaced\n"
             "(a symlink is followed), never when it is the segment itself or any\n"
             "other shared-memory segment (a file in /dev/shm on Linux). A failed\n"
             "save removes FILE only if it created it; a file that existed before\n"
             "is left incomplete, and the error says so.\n"},
    {"load", "usage: sma load FILE.npy [NAME] [--group] [--transient]\n"
             "Creates a segment holding the array of a .npy file (Fortran order and\n"
             "the other byte order are converted; object, string and structured\n"
             "dtypes are refused). Without NAME, one is built (prefix \"npy\").\n"
             "The name appears only once all the data is in. Prints the name, the\n"
             "descriptor, then that it is persistent: it stays until `sma rm NAME`,\n"
             "and `sma gc` never removes it. --transient leaves it to `sma gc` once\n"
             "nothing holds it (this command, its creator, exits at once).\n"},
    {"cat", "usage: sma cat NAME [--slice TEXT]\n"
            "Prints the array's values as NumPy's str() does: nested brackets, one\n"
            "width per array, lines wrapped at 75 columns, and over 1000 elements\n"
            "summarised with ... (3 items at each edge).\n"},
};

static void printable(const char *s, char *out, size_t cap);

static int usage(FILE *f, int code) {
  fprintf(f,
          "usage: sma COMMAND [ARGS]   (sma COMMAND --help for details)\n"
          "commands: create ls info rm gc describe save load cat demo\n"
          "backend: %s; library %u.%u.%u\n"
          "exit status: 0 success, 1 error, 2 usage\n",
          sma_backend(), sma_version() / 10000, sma_version() / 100 % 100, sma_version() % 100);
  return code;
}

static int command_help(const char *cmd, FILE *f, int code) {
  for (size_t i = 0; i < sizeof help_text / sizeof help_text[0]; i++)
    if (strcmp(help_text[i][0], cmd) == 0) fputs(help_text[i][1], f);
  return code;
}

int cli_usage_of(const char *cmd) { return command_help(cmd, stderr, USAGE); }

int cli_open_arg(const char *cmd, int argc, char **argv, const char **extra, sma_t **a) {
  const char *name = NULL, *slice_text = "";
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--slice") == 0 && i + 1 < argc)
      slice_text = argv[++i];
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else if (argv[i][0] != '-' && extra != NULL && *extra == NULL)
      *extra = argv[i];
    else
      return command_help(cmd, stderr, USAGE);
  }
  if (name == NULL || (extra != NULL && *extra == NULL)) return command_help(cmd, stderr, USAGE);
  sma_slice_t s[SMA_MAX_DIMS];
  size_t n;
  int rc = sma_slice_parse(s, SMA_MAX_DIMS, &n, slice_text);
  if (rc != 0) return cli_fail("slice", slice_text, rc);
  rc = sma_open_as(a, name, s, n, SMA_OPEN_READONLY); /* needs only read permission */
  return rc == 0 ? OK : cli_fail_os(cmd, name, rc, sma_last_os_error());
}

static int wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
  return 0;
}

int cli_fail(const char *what, const char *name, int rc) { return cli_fail_os(what, name, rc, 0); }

int cli_fail_os(const char *what, const char *name, int rc, int os_err) {
  char shown[4 * SMA_NAME_BUF] = "", reason[256] = "";
  if (name != NULL) printable(name, shown, sizeof shown);
  if (os_err != 0) sma_os_strerror(os_err, reason, &(size_t){sizeof reason});
  if (rc == SMA_EOS && os_err != 0) /* the OS's reason is the message */
    fprintf(stderr, "sma: %s%s%s: operating-system error: %s (%s)\n", what, name ? " " : "", shown,
            reason, sma_err_name(rc));
  else
    fprintf(stderr, "sma: %s%s%s: %s (%s%s%s)\n", what, name ? " " : "", shown, sma_strerror(rc),
            sma_err_name(rc), os_err ? "; " : "", reason);
  return ERR;
}

/* A failed listing; an unusable index is named by its path. */
static int list_failed(const char *cmd, int rc, int os_err) {
  char path[4096];
  if (rc == SMA_EINDEX && sma_index_path(path, &(size_t){sizeof path}) == 0) {
    fprintf(stderr, "sma: %s: index directory %s: %s (%s)\n", cmd, path, sma_strerror(rc),
            sma_err_name(rc));
    return ERR;
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

/* ---- create -------------------------------------------------------------- */

/* IEEE binary16 nearest to f (ties to even); |f| beyond 65504 was refused
 * before, so only infinities and NaN map to the top exponent. */
uint16_t cli_half_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xffu);
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  exp = exp - 127 + 15;
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
  int shift = 13;
  if (exp <= 0) { /* a subnormal half, or zero */
    if (exp < -10) return sign;
    mant |= 0x800000u;
    shift = 14 - exp;
    exp = 0;
  }
  uint32_t h = ((uint32_t)exp << 10) + (mant >> shift);
  uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (h & 1u))) h++; /* may carry: right */
  return (uint16_t)(sign | h);
}

/* Encodes the --fill text as one element of `dtype` in item[] (native
 * order). NULL on success, else the message of a usage error: a value is
 * never wrapped, truncated or rounded into another range. */
static const char *fill_item(const char *text, sma_dtype_t dtype, unsigned char *item, char *why,
                             size_t cap) {
  static const struct {
    sma_dtype_t dtype;
    long long min;
    unsigned long long max;
  } ints[] = {{SMA_BOOL, 0, 1},
              {SMA_INT8, INT8_MIN, INT8_MAX},
              {SMA_INT16, INT16_MIN, INT16_MAX},
              {SMA_INT32, INT32_MIN, INT32_MAX},
              {SMA_INT64, INT64_MIN, INT64_MAX},
              {SMA_UINT8, 0, UINT8_MAX},
              {SMA_UINT16, 0, UINT16_MAX},
              {SMA_UINT32, 0, UINT32_MAX},
              {SMA_UINT64, 0, UINT64_MAX}};
  char *end;
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    if (ints[i].dtype != dtype) continue;
    errno = 0;
    int negative = text[strspn(text, " \t")] == '-';
    unsigned long long u = 0;
    long long v = 0;
    if (negative)
      v = strtoll(text, &end, 10);
    else
      u = strtoull(text, &end, 10);
    int bad = end == text || *end != '\0' || errno == ERANGE ||
              (negative ? v < ints[i].min : u > ints[i].max);
    if (bad) {
      snprintf(why, cap, "--fill %s: %s takes an integer from %lld to %llu", text,
               sma_dtype_name(dtype), ints[i].min, ints[i].max);
      return why;
    }
    size_t size = sma_dtype_size(dtype);
    uint64_t bits = negative ? (uint64_t)v : (uint64_t)u; /* two's complement */
    if (size == 1) {
      uint8_t b = (uint8_t)bits;
      memcpy(item, &b, 1);
    } else if (size == 2) {
      uint16_t b = (uint16_t)bits;
      memcpy(item, &b, 2);
    } else if (size == 4) {
      uint32_t b = (uint32_t)bits;
      memcpy(item, &b, 4);
    } else {
      memcpy(item, &bits, 8);
    }
    return NULL;
  }
  double value = strtod(text, &end);
  double max = dtype == SMA_FLOAT16                             ? 65504.0
               : dtype == SMA_FLOAT32 || dtype == SMA_COMPLEX64 ? (double)FLT_MAX
                                                                : DBL_MAX;
  if (end == text || *end != '\0' || (isfinite(value) && fabs(value) > max)) {
    snprintf(why, cap, "--fill %s: %s takes a number from %g to %g, inf or nan", text,
             sma_dtype_name(dtype), -max, max);
    return why;
  }
  if (dtype == SMA_FLOAT16) {
    uint16_t h = cli_half_from_float((float)value);
    memcpy(item, &h, 2);
  } else if (dtype == SMA_FLOAT32 || dtype == SMA_COMPLEX64) {
    float f = (float)value; /* complex: the real part; imaginary 0 */
    memcpy(item, &f, 4);
  } else {
    memcpy(item, &value, 8);
  }
  return NULL;
}

/* sma_fill_fn: every element = the item, before the name is published,
 * so a create killed while filling leaves no half-filled array. */
static int fill(const sma_view_t *v, void *item) {
  size_t n = sma_view_size(v);
  unsigned char *p = v->data;
  for (size_t i = 0; i < n; i++) memcpy(p + i * v->itemsize, item, v->itemsize);
  return 0;
}

static int cmd_create(int argc, char **argv) {
  const char *name = NULL, *shape_text = NULL, *dtype_text = NULL, *fill_text = NULL;
  unsigned flags = SMA_CREATE_PERSIST; /* this command exits at once */
  for (int i = 0; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--group") == 0)
      flags |= SMA_CREATE_GROUP;
    else if (strcmp(argv[i], "--transient") == 0)
      flags &= ~(unsigned)SMA_CREATE_PERSIST;
    else if (strcmp(argv[i], "--shape") == 0 && v)
      shape_text = v, i++;
    else if (strcmp(argv[i], "--dtype") == 0 && v)
      dtype_text = v, i++;
    else if (strcmp(argv[i], "--fill") == 0 && v)
      fill_text = v, i++;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return command_help("create", stderr, USAGE);
  }
  size_t shape[SMA_MAX_DIMS], ndim;
  sma_dtype_t dtype;
  if (name == NULL || shape_text == NULL || dtype_text == NULL)
    return command_help("create", stderr, USAGE);
  int shape_rc = sma_shape_parse(shape, SMA_MAX_DIMS, &ndim, shape_text);
  if (shape_rc == SMA_EOVERFLOW) {
    fprintf(stderr,
            "sma: create: --shape %s: an extent does not fit this machine's "
            "size_t (at most %zu)\n",
            shape_text, (size_t)SIZE_MAX);
    return USAGE;
  }
  if (shape_rc != 0) {
    fprintf(stderr, "sma: create: --shape %s: %s\n", shape_text, sma_strerror(shape_rc));
    return command_help("create", stderr, USAGE);
  }
  int rc = sma_dtype_parse(&dtype, dtype_text);
  if (rc != 0) return cli_fail("dtype", dtype_text, rc);
  unsigned char item[16] = {0};
  char why[256];
  if (fill_text && fill_item(fill_text, dtype, item, why, sizeof why) != NULL) {
    fprintf(stderr, "sma: create: %s\n", why);
    return USAGE;
  }
  sma_t *a = NULL;
  rc = sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = ndim, .shape = shape, .dtype = dtype});
  if (rc == 0) rc = sma_create_filled(a, flags, fill_text ? fill : NULL, item);
  if (rc != 0) {
    int os_err = a != NULL ? sma_os_error(a) : 0;
    sma_free(a);
    return cli_fail_os("create", name, rc, os_err);
  }
  printf("created %s: %s, %zu bytes\n", name, dtype_text, sma_nbytes(a));
  cli_say_persistence(a);
  sma_free(a);
  return OK;
}

/* ---- ls / info ------------------------------------------------------------- */

static void shape_text(const sma_info_t *in, char *buf, size_t cap) {
  size_t size = cap;
  if (sma_shape_format(in->shape, in->ndim, buf, &size) != 0) snprintf(buf, cap, "?");
}

/* In double: a record's time is data, and any int64 minus any other can
 * overflow. */
static double age_seconds(const sma_info_t *in) {
  return ((double)proc_wall_ns() - (double)in->created_ns) * 1e-9;
}

/* Decodes the UTF-8 sequence at p: its length (1-4) with *cp, or 0 when
 * the bytes are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_next(const unsigned char *p, uint32_t *cp) {
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t len = p[0] < 0x80             ? 1
               : (p[0] & 0xe0) == 0xc0 ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
  if (len == 0) return 0;
  uint32_t c = len == 1 ? p[0] : p[0] & (0x7fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = c << 6 | (p[i] & 0x3fu);
  }
  if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return len;
}

/* C0, DEL and C1: what can carry a terminal escape sequence. */
static int is_control(uint32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

/* Writes s as a JSON string: valid JSON whatever the bytes (not UTF-8:
 * U+FFFD; control characters: \u escapes). */
static void json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    uint32_t c;
    size_t n = utf8_next(p, &c);
    if (n == 0) {
      fputs("\\ufffd", stdout);
      p++;
      continue;
    }
    if (c == '"' || c == '\\')
      printf("\\%c", (int)c);
    else if (is_control(c))
      printf("\\u%04x", (unsigned)c);
    else
      fwrite(p, 1, n, stdout);
    p += n;
  }
  putchar('"');
}

/* s for a terminal: every control character or invalid byte becomes '?'. */
static void printable(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < cap;) {
    uint32_t c;
    size_t n = utf8_next(p, &c);
    if (n == 0 || is_control(c)) {
      out[o++] = '?';
      p += n ? n : 1;
      continue;
    }
    memcpy(out + o, p, n);
    o += n;
    p += n;
  }
  out[o] = '\0';
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
         in->creator_alive < 0 ? "null"
         : in->creator_alive   ? "true"
                               : "false",
         age_seconds(in));
  if (in->attached < 0)
    printf("null");
  else
    printf("%d", in->attached);
  printf(", \"creating\": %s, \"huge_pages\": %s, \"persistent\": %s}",
         in->creating ? "true" : "false",
         in->huge_pages < 0 ? "null"
         : in->huge_pages   ? "true"
                            : "false",
         in->persistent ? "true" : "false");
}

static void print_row(const sma_info_t *in) {
  char shape[SMA_MAX_DIMS * 21 + 3], att[16], name[4 * SMA_NAME_BUF];
  shape_text(in, shape, sizeof shape);
  printable(in->name, name, sizeof name);
  snprintf(att, sizeof att, "%d", in->attached);
  printf("%-40s %-10s %-16s %12zu %8llu %-5s %9.0fs %-8s %s\n", name, sma_dtype_name(in->dtype),
         shape, in->nbytes, (unsigned long long)in->creator_pid,
         in->creator_alive < 0 ? "?"
         : in->creator_alive   ? "yes"
                               : "no",
         age_seconds(in), in->attached < 0 ? "-" : att,
         in->creating     ? "creating"
         : in->persistent ? "yes"
                          : "no");
}

typedef struct ls_ctx {
  int json;
  int count;
  const char *prefix;
} ls_ctx_t;

/* Whether t matches `pattern` exactly: '9' a decimal digit, 'x' a
 * lower-case hex digit, 'y' one of 8 9 a b (the UUID variant), 'b' a
 * base-32 digit; any other character stands for itself. */
static int matches(const char *t, const char *pattern) {
  for (; *pattern; pattern++, t++) {
    char c = *t;
    int ok = *pattern == '9'   ? c >= '0' && c <= '9'
             : *pattern == 'x' ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
             : *pattern == 'y' ? c == '8' || c == '9' || c == 'a' || c == 'b'
             : *pattern == 'b' ? (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')
                               : c == *pattern;
    if (!ok) return 0;
  }
  return *t == '\0';
}

/* --prefix P matches names that start with P, and names that have exactly
 * the form sma_build_name() gives with prefix P: COUNTER-P-YYYYMMDD-HHMMSS-
 * MICROS-UUID4 (counter in base 10) or COUNTER36-P-RANDOM13. Another word
 * before P ("job-data" for P = "data") is not a counter. */
static int has_prefix(const char *name, const char *prefix) {
  if (prefix == NULL) return 1;
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) == 0) return 1;
  const char *p = name;
  int decimal = 1;
  for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'); p++) decimal &= *p <= '9';
  if (p == name || *p != '-' || strncmp(p + 1, prefix, n) != 0 || p[1 + n] != '-') return 0;
  const char *tail = p + 2 + n;
  return (decimal &&
          matches(tail, "99999999-999999-999999-xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx")) ||
         matches(tail, "bbbbbbbbbbbbb");
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
    if (strcmp(argv[i], "--json") == 0)
      c.json = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
      c.prefix = argv[++i];
    else
      return command_help("ls", stderr, USAGE);
  }
  if (c.json)
    printf("[");
  else
    printf("%-40s %-10s %-16s %12s %8s %-5s %10s %-8s %s\n", "NAME", "DTYPE", "SHAPE", "BYTES",
           "PID", "ALIVE", "AGE", "ATTACHED", "PERSISTENT");
  int rc = sma_list(ls_one, &c);
  int os_err = sma_last_os_error();
  if (c.json) printf("%s]\n", c.count ? "\n" : "");
  return rc == 0 ? OK : list_failed("ls", rc, os_err);
}

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

static int cmd_info(int argc, char **argv) {
  const char *name = NULL;
  int json = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return command_help("info", stderr, USAGE);
  }
  if (name == NULL) return command_help("info", stderr, USAGE);
  sma_info_t in;
  int rc = sma_info_get(&in, name);
  if (rc != 0) return cli_fail_os("info", name, rc, sma_last_os_error());
  if (json) {
    print_json(&in);
    printf("\n");
    return OK;
  }
  char shape[SMA_MAX_DIMS * 21 + 3], shown[4 * SMA_NAME_BUF];
  shape_text(&in, shape, sizeof shape);
  printable(in.name, shown, sizeof shown);
  printf("name:          %s\ndtype:         %s (%s)\nshape:         %s\nbytes:         %zu\n"
         "segment size:  %zu\ncreator pid:   %llu (%s)\nage:           %.1f s\nattached:      ",
         shown, sma_dtype_name(in.dtype), sma_dtype_str(in.dtype), shape, in.nbytes,
         in.segment_size, (unsigned long long)in.creator_pid,
         in.creator_alive < 0 ? "unknown"
         : in.creator_alive   ? "running"
                              : "gone",
         age_seconds(&in));
  if (in.attached < 0)
    printf("unknown\n");
  else
    printf("%d process%s\n", in.attached, in.attached == 1 ? "" : "es");
  printf("huge pages:    %s\n", in.huge_pages < 0 ? "unknown" : in.huge_pages ? "yes" : "no");
  print_keeping(&in);
  return OK;
}

/* ---- rm / gc / describe ------------------------------------------------------- */

static int cmd_rm(int argc, char **argv) {
  if (argc == 0) return command_help("rm", stderr, USAGE);
  int status = OK;
  for (int i = 0; i < argc; i++) {
    int rc = sma_unlink(argv[i]);
    if (rc != 0)
      status = cli_fail_os("rm", argv[i], rc, sma_last_os_error());
    else
      printf("removed %s\n", argv[i]);
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
  if (in->persistent && !in->creating)
    return "it is persistent (meant to outlive its creator; `sma rm` removes it)";
  if (in->creator_alive < 0) return "its creator cannot be judged from here";
  if (in->attached > 0) return "processes map it";
  return "it is held open, or that cannot be ruled out";
}

static int gc_one(const sma_info_t *listed, void *user) {
  gc_ctx_t *c = user;
  if (!has_prefix(listed->name, c->prefix) || listed->creator_alive == 1) return 0;
  sma_info_t in;
  int rc = sma_collect(&in, listed->name, c->dry_run ? SMA_COLLECT_DRY_RUN : 0);
  int os_err = sma_last_os_error();
  if (rc == SMA_ENOENT || (rc == SMA_EINUSE && in.creator_alive == 1)) return 0;
  if (rc == SMA_EINUSE || rc == SMA_EREPLACED) {
    printf("kept %s: %s\n", listed->name, kept_reason(&in, rc));
    return 0;
  }
  if (rc != 0) {
    cli_fail_os("gc: remove", listed->name, rc, os_err);
    c->failed++;
    return 0;
  }
  printf("%s %s (creator %llu gone, nothing holds it)\n", c->dry_run ? "would remove" : "removed",
         in.name, (unsigned long long)in.creator_pid);
  c->removed++;
  return 0;
}

/* A stray (sma_list_strays()): a segment whose creator, named by the
 * intent it wrote before creating it, was killed before publishing it.
 * Its label starts with the name it was being created under. */
static int gc_stray(const sma_stray_t *stray, void *user) {
  gc_ctx_t *c = user;
  if (!has_prefix(stray->label, c->prefix)) return 0;
  if (stray->creator_alive == 1) return 0; /* still creating it */
  int rc = sma_collect_stray(stray, c->dry_run ? SMA_COLLECT_DRY_RUN : 0);
  int os_err = sma_last_os_error();
  if (rc == SMA_ENOENT) return 0;
  if (rc == SMA_EINUSE || rc == SMA_EREPLACED) {
    printf("kept stray %s: %s\n", stray->label,
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
         c->dry_run ? "would remove" : "removed", stray->label,
         (unsigned long long)stray->creator_pid);
  c->removed++;
  return 0;
}

static int cmd_gc(int argc, char **argv) {
  gc_ctx_t c = {0, NULL, 0, 0};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--dry-run") == 0)
      c.dry_run = 1;
    else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
      c.prefix = argv[++i];
    else
      return command_help("gc", stderr, USAGE);
  }
  int rc = sma_list(gc_one, &c);
  if (rc != 0) return list_failed("gc", rc, sma_last_os_error());
  rc = sma_list_strays(gc_stray, &c);
  if (rc != 0) {
    cli_fail_os("gc: strays", NULL, rc, sma_last_os_error());
    c.failed++;
  }
  printf("%s %d segment%s\n", c.dry_run ? "would remove" : "removed", c.removed,
         c.removed == 1 ? "" : "s");
  return c.failed ? ERR : OK;
}

static int cmd_describe(int argc, char **argv) {
  sma_t *a;
  int status = cli_open_arg("describe", argc, argv, NULL, &a);
  if (status != OK) return status;
  char line[SMA_DESCRIPTOR_MAX];
  int rc = sma_describe(a, line, &(size_t){sizeof line});
  if (rc == 0)
    printf("%s\n", line);
  else
    cli_fail("describe", sma_name(a), rc);
  sma_free(a);
  return rc == 0 ? OK : ERR;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr, USAGE);
  const char *cmd = argv[1];
  int n = argc - 2;
  char **args = argv + 2;
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
    return usage(stdout, OK);
  if (strcmp(cmd, "--version") == 0) {
    printf("sma %d.%d.%d (%s backend)\n", SMA_VERSION_MAJOR, SMA_VERSION_MINOR, SMA_VERSION_PATCH,
           sma_backend());
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
  } commands[] = {{"create", cmd_create}, {"ls", cmd_ls},     {"info", cmd_info},
                  {"rm", cmd_rm},         {"gc", cmd_gc},     {"describe", cmd_describe},
                  {"save", cmd_save},     {"load", cmd_load}, {"cat", cmd_cat}};
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(cmd, commands[i].name) != 0) continue;
    if (wants_help(n, args)) return command_help(cmd, stdout, OK);
    return commands[i].fn(n, args);
  }
  fprintf(stderr, "sma: unknown command '%s'\n", cmd);
  return usage(stderr, USAGE);
}
