/* The `sma` command through the real binary (t_sma(), support.h): exit
 * codes, output, --json parsed with cJSON, gc after a SIGKILLed creator.
 * The demo's tests are test_demo.c's. POSIX only (fork, signals). */
#include "sma.h"
#include "../src/sma_int.h" /* the record codec, to forge a record */
#include "sma_listed.h"
#include "support.h"

#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* `sma gc ARGS`, run again (up to 8 s) while a run kept a segment only
 * because some process held it open at that instant: a parallel test's
 * `sma ls` does (test_gc_strays's paused lister, for 5 s), and gc rightly
 * keeps what it cannot prove unheld. Any other verdict is final. Returns
 * the last run's exit code and output. */
static int sma_gc(char **out, const char *args) {
  int rc = -1;
  for (int i = 0; i < 400; i++) {
    char *text;
    rc = t_sma(&text, "gc %s", args);
    int transient = strstr(text, "it is held open") != NULL;
    if (!transient || i == 399) {
      if (out)
        *out = text;
      else
        free(text);
      break;
    }
    free(text);
    struct timespec wait = {0, 20 * 1000000L};
    nanosleep(&wait, NULL);
  }
  return rc;
}

/* The entry of a `ls --json` array with this name, or NULL. */
static cJSON *find_entry(cJSON *list, const char *name) {
  cJSON *e;
  cJSON_ArrayForEach(e, list) {
    cJSON *n = cJSON_GetObjectItem(e, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return e;
  }
  return NULL;
}

Test(cli, usage_and_help_exit_codes) {
  cr_assert_eq(t_sma(NULL, ""), 2);
  cr_assert_eq(t_sma(NULL, "frobnicate"), 2);
  cr_assert_eq(t_sma(NULL, "--help"), 0);
  const char *cmds[] = {"create", "ls", "info", "rm", "gc", "describe", "demo"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    char *out;
    cr_assert_eq(t_sma(&out, "%s --help", cmds[i]), 0, "%s --help", cmds[i]);
    cr_assert_not_null(strstr(out, "usage: sma"), "%s", cmds[i]);
    free(out);
  }
  cr_assert_eq(t_sma(NULL, "create onlyname"), 2);
  cr_assert_eq(t_sma(NULL, "create x --shape 2,a --dtype f4"), 2);
  cr_assert_eq(t_sma(NULL, "info"), 2);
  cr_assert_eq(t_sma(NULL, "rm"), 2);
  cr_assert_eq(t_sma(NULL, "ls --bogus"), 2);
  cr_assert_eq(t_sma(NULL, "demo --workers 0"), 2);
}

Test(cli, create_ls_info_describe_rm) {
  char name[SMA_NAME_BUF], *out;
  t_name(name, sizeof name, "cli");
  cr_assert_eq(t_sma(NULL, "create %s --shape 3,4 --dtype float32 --fill 2.5", name), 0);
  cr_assert_eq(t_sma(NULL, "create %s --shape 3,4 --dtype float32", name), 1, "exclusive");
  cr_assert_eq(t_sma(NULL, "create %s-x --shape 3 --dtype bogus", name), 1);

  sma_t *a;
  cr_assert_eq(sma_open(&a, name, NULL, 0), 0);
  cr_assert_eq(((float *)sma_data(a))[11], 2.5f, "--fill");
  sma_free(a);

  cr_assert_eq(t_sma(&out, "ls --json --prefix %s", T_PREFIX), 0);
  cJSON *list = cJSON_Parse(out);
  cr_assert(cJSON_IsArray(list), "ls --json is a JSON array: %s", out);
  cJSON *e = find_entry(list, name);
  cr_assert_not_null(e, "%s listed", name);
  cr_assert_str_eq(cJSON_GetObjectItem(e, "dtype")->valuestring, "float32");
  cJSON *shape = cJSON_GetObjectItem(e, "shape");
  cr_assert_eq(cJSON_GetArraySize(shape), 2);
  cr_assert_eq(cJSON_GetArrayItem(shape, 1)->valueint, 4);
  cr_assert_eq(cJSON_GetObjectItem(e, "bytes")->valueint, 48);
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(e, "creator_alive")), "the creator exited");
  cr_assert_geq(cJSON_GetObjectItem(e, "age_seconds")->valuedouble, 0);
  cJSON_Delete(list);
  free(out);

  cr_assert_eq(t_sma(&out, "info %s --json", name), 0);
  cJSON *info = cJSON_Parse(out);
  cr_assert_not_null(info, "%s", out);
  cr_assert_str_eq(cJSON_GetObjectItem(info, "typestr")->valuestring, t_native("<f4"));
  cr_assert_eq(cJSON_GetObjectItem(info, "attached")->valueint, 0);
  cJSON_Delete(info);
  free(out);
  cr_assert_eq(t_sma(&out, "ls"), 0);
  cr_assert_not_null(strstr(out, name), "plain ls shows it too");
  free(out);

  cr_assert_eq(t_sma(&out, "describe %s --slice ::-1", name), 0);
  out[strcspn(out, "\n")] = '\0';
  cr_assert_eq(sma_parse(&a, NULL, out), 0, "the descriptor parses: %s", out);
  cr_assert_eq(sma_load(a), 0);
  cr_assert_eq(sma_view_get(a)->strides[0], -16);
  sma_free(a);
  free(out);

  cr_assert_eq(t_sma(NULL, "rm %s %s-missing", name, name), 1, "one failed");
  cr_assert(t_segment_absent(name), "the other was removed");
  cr_assert_eq(t_sma(NULL, "info %s", name), 1);
}

/* A child creates a segment and is killed with SIGKILL before it can
 * clean up; `sma gc` removes that segment, and only that one. */
Test(cli, gc_removes_the_segment_of_a_killed_creator) {
  T_NEED_GC_PROOF();
  char prefix[64], dead[SMA_NAME_BUF], live[SMA_NAME_BUF], held[SMA_NAME_BUF];
  t_prefix(prefix, sizeof prefix, "gc");
  snprintf(dead, sizeof dead, "%s-dead", prefix);
  snprintf(live, sizeof live, "%s-live", prefix);
  snprintf(held, sizeof held, "%s-held", prefix);
  size_t shape[1] = {16};
  int ready[2];
  cr_assert_eq(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    sma_t *a, *b;
    if (sma_new(&a,
                &(sma_array_desc_t){.name = dead, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) ||
        sma_create(a, 0) ||
        sma_new(&b,
                &(sma_array_desc_t){.name = held, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) ||
        sma_create(b, 0))
      _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause(); /* killed here, holding both */
    _exit(0);
  }
  char c;
  cr_assert_eq(read(ready[0], &c, 1), 1);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  /* A live creator (this process), and a dead creator's segment that a
   * live process (this one) still maps: both must stay. */
  sma_t *mine, *holding;
  cr_assert_eq(
      sma_new(&mine,
              &(sma_array_desc_t){.name = live, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(mine, 0), 0);
  cr_assert_eq(sma_open(&holding, held, NULL, 0), 0);

  char *out, line[2 * SMA_NAME_BUF];
  char args[128];
  snprintf(args, sizeof args, "--dry-run --prefix %s", prefix);
  snprintf(line, sizeof line, "would remove %s ", dead);
  /* The killed child's mapping can stay counted for an instant after
   * waitpid() while another process (a test beside this one) reads its
   * /proc maps (sma.h, sma_collect): gc then keeps it, rightly; asked
   * again a moment later, it would remove it. */
  cr_assert_eq(sma_gc(&out, args), 0);
  for (int tries = 0; strstr(out, line) == NULL && tries < 100; tries++) {
    free(out);
    t_sleep_ms(20);
    cr_assert_eq(sma_gc(&out, args), 0);
  }
  cr_assert_not_null(strstr(out, line), "%s", out);
  cr_assert_null(strstr(out, live), "a live creator's segment is not even mentioned");
  snprintf(line, sizeof line, "kept %s: processes map it", held);
  cr_assert_not_null(strstr(out, line), "%s", out);
  free(out);
  cr_assert_eq(t_segment_exists(dead), 1, "dry run removes nothing");
  snprintf(args, sizeof args, "--prefix %s", prefix);
  cr_assert_eq(sma_gc(&out, args), 0);
  cr_assert_not_null(strstr(out, "removed 1 segment"), "%s", out);
  free(out);
  cr_assert(t_segment_absent(dead));
  cr_assert_eq(t_segment_exists(live), 1);
  cr_assert_eq(t_segment_exists(held), 1);
  sma_free(holding);
  cr_assert_eq(sma_gc(NULL, args), 0);
  cr_assert(t_segment_absent(held), "collected once nobody maps it");
  sma_unlink(live);
  sma_free(mine);
}

#if defined(SMA_FAULT_INJECTION)
void sma__fault_arm(int n);
#endif

/* Entries of /dev/shm starting with prefix, with or without a record
 * (POSIX; 0 elsewhere: System V segments are counted by `sma ls`). */
static int dev_shm_entries(const char *prefix) {
  if (!t_posix_backend()) return 0;
  DIR *d = opendir("/dev/shm");
  if (d == NULL) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
  closedir(d);
  return n;
}

/* Regression: a creator killed during a long reservation or prefault left
 * a full-size segment that `sma ls` did not list and `sma gc` never
 * removed. Creators of 256 MiB prefaulted arrays are killed with SIGKILL
 * at delays that fall before, during and after reservation and prefault;
 * `sma gc` must then leave nothing. In fault-injection builds every other
 * creator is made to take the POSIX path without O_TMPFILE (the named
 * segment with its being-created mark), so both paths are killed. On
 * System V a creator killed between shmget and its record write leaves a
 * stray with no name, which only `sma gc` without --prefix removes (as
 * docs/cli.md says); the test runs in an IPC namespace of its own so that
 * gc may, and counts what each killed creator left. Where System V
 * segments cannot be enumerated (macOS), such segments stay, as
 * documented, and the test does not apply. */
Test(cli, creator_killed_at_any_moment_leaves_nothing_after_gc) {
  T_NEED_GC_PROOF();
  int sysv = strcmp(sma_backend(), "sysv") == 0;
  if (sysv && !t_caps().can_list)
    cr_skip_test("this OS cannot enumerate segments: a creator killed before publishing "
                 "leaves one gc cannot find (ipcs, ipcrm)");
  if (sysv && t_private_ipc() != 0)
    cr_skip_test("needs a private IPC namespace (unshare -i) to run gc unfiltered");
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "ck");
  static const int delays_us[] = {0, 300, 1000, 3000, 8000, 20000, 50000, 120000, 400000};
  enum { N = sizeof delays_us / sizeof *delays_us };
  pid_t creators[N];
  int n = N;
  for (int i = 0; i < n; i++) {
    char name[SMA_NAME_BUF];
    snprintf(name, sizeof name, "%s-%d", prefix, i);
    pid_t child = fork();
    if (child == 0) {
#if defined(SMA_FAULT_INJECTION)
      if (i % 2 == 1) sma__fault_arm(1); /* no O_TMPFILE: the named path */
#endif
      size_t shape[1] = {256u << 20};
      sma_t *a;
      if (sma_new(&a, &(sma_array_desc_t){
                          .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) != 0)
        _exit(1);
      sma_create(a, SMA_CREATE_PREFAULT);
      pause(); /* a creator that finished is killed here */
      _exit(0);
    }
    struct timespec wait = {0, (long)delays_us[i] * 1000};
    nanosleep(&wait, NULL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    creators[i] = child;
  }
  cr_assert_eq(t_sma(NULL, "ls --prefix %s", prefix), 0, "sma ls works");
  char args[128];
  snprintf(args, sizeof args, "--prefix %s", prefix);
  cr_assert_eq(sma_gc(NULL, args), 0);
  cr_assert_eq(t_sma_listed(prefix), 0, "sma ls still lists segments after gc");
  cr_assert_eq(dev_shm_entries(prefix), 0, "files gc cannot see in /dev/shm");
  if (!sysv) return;
  cr_assert_eq(sma_gc(NULL, ""), 0, "unfiltered, for strays");
  for (int i = 0; i < n; i++)
    cr_assert_eq(t_sysv_segments_of((long)creators[i]), 0, "creator %d (killed after %d us)", i,
                 delays_us[i]);
}

/* `sma info` shows a segment whose creator never published it. */
Test(cli, info_shows_a_segment_being_created) {
  if (strcmp(sma_backend(), "posix") != 0) cr_skip_test("the mark is set here through /dev/shm");
  char name[SMA_NAME_BUF], path[SMA_NAME_BUF + 16];
  t_name(name, sizeof name, "cli-creating");
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  size_t shape[1] = {8};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(chmod(path, 0700), 0); /* the being-created mark */
  char *out;
  cr_assert_eq(t_sma(&out, "info %s", name), 0);
  cr_assert_not_null(strstr(out, "state:         being created"), "%s", out);
  free(out);
  cr_assert_eq(t_sma(&out, "info --json %s", name), 0);
  cr_assert_not_null(strstr(out, "\"creating\": true"), "%s", out);
  free(out);
  sma_unlink(name);
  sma_free(a);
}

/* ---- what the CLI refuses ------------------------------------------------ */

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* Regression: --fill stored 300 as 44 in int8 (UB in the conversion), took
 * NaN for integers and filled float16 with zeros. Values a dtype cannot
 * hold are usage errors that create nothing; the others are stored
 * exactly, float16 included. */
Test(cli, fill_refuses_what_the_dtype_cannot_hold) {
  static const char *const refused[][2] = {{"int8", "300"},     {"int8", "-129"},
                                           {"uint8", "-1"},     {"int32", "nan"},
                                           {"int16", "inf"},    {"int8", "2.5"},
                                           {"bool", "2"},       {"float16", "1e6"},
                                           {"float32", "1e39"}, {"uint64", "18446744073709551616"},
                                           {"int64", "1x"}};
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "cli-fill");
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    cr_expect_eq(
        t_sma(NULL, "create %s --shape 2 --dtype %s --fill %s", name, refused[i][0], refused[i][1]),
        2, "%s %s", refused[i][0], refused[i][1]);
    cr_expect(t_segment_absent(name), "nothing created for %s", refused[i][1]);
  }
  static const struct {
    const char *dtype, *value;
    unsigned char bytes[8];
    size_t size;
  } stored[] = {
      {"int64", "9007199254740993", {0x01, 0, 0, 0, 0, 0, 0x20, 0}, 8}, /* 2^53 + 1 */
      {"uint64", "18446744073709551615", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
      {"int8", "-128", {0x80}, 1},
      {"float16", "1.5", {0x00, 0x3e}, 2},
      {"float16", "65504", {0xff, 0x7b}, 2},
      {"float16", "1e-7", {0x02, 0x00}, 2}, /* a subnormal half */
      {"float16", "-inf", {0x00, 0xfc}, 2},
  };
  for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++) {
    cr_assert_eq(t_sma(NULL, "create %s --shape 3 --dtype %s --fill %s", name, stored[i].dtype,
                       stored[i].value),
                 0, "%s", stored[i].value);
    sma_t *a;
    cr_assert_eq(sma_open(&a, name, NULL, 0), 0);
    unsigned char want[8];
    for (size_t b = 0; b < stored[i].size; b++) /* the table is little-endian */
      want[b] = stored[i].bytes[little_endian() ? b : stored[i].size - 1 - b];
    for (size_t e = 0; e < 3; e++)
      cr_expect_eq(memcmp((unsigned char *)sma_data(a) + e * stored[i].size, want, stored[i].size),
                   0, "%s %s", stored[i].dtype, stored[i].value);
    sma_free(a);
    sma_unlink(name);
  }
}

/* Regression: a --shape item beyond size_t was truncated (a 32-bit build
 * made 4294967297 into 1). */
Test(cli, shape_items_beyond_size_t_are_refused) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "cli-shape");
  cr_assert_eq(t_sma(NULL, "create %s --shape 2,18446744073709551616 --dtype u1", name), 2);
  cr_assert(t_segment_absent(name));
  if (sizeof(size_t) == 4) {
    cr_assert_eq(t_sma(NULL, "create %s --shape 4294967297 --dtype u1", name), 2);
    cr_assert(t_segment_absent(name));
  }
}

/* Every name a segment may have comes out of --json as valid JSON that
 * decodes to the name, and the table never writes a control byte; a file
 * in /dev/shm whose name is not UTF-8 changes neither. */
Test(cli, json_and_table_survive_any_name) {
  char prefix[64];
  t_prefix(prefix, sizeof prefix, "js");
  static const char *const tails[] = {
      "q\"uote", "apos'", "\xc3\xa9t\xc3\xa9", "line\xe2\x80\xa8sep", "emoji\xf0\x9f\x98\x80",
      "sp ace"};
  enum { N = sizeof tails / sizeof tails[0] };
  char names[N][SMA_NAME_BUF];
  size_t shape[1] = {4};
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "%s-%s", prefix, tails[i]);
    sma_t *a;
    cr_assert_eq(sma_new(&a,
                         &(sma_array_desc_t){
                             .name = names[i], .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
                 0, "%s", names[i]);
    cr_assert_eq(sma_create(a, 0), 0);
    sma_free(a);
  }
  char odd[128];
  snprintf(odd, sizeof odd, "/dev/shm/%s-\xff\x1b[31m", prefix);
  FILE *f = strcmp(sma_backend(), "posix") == 0 ? fopen(odd, "w") : NULL;
  if (f) fclose(f);
  char *out;
  cr_assert_eq(t_sma(&out, "ls --json --prefix %s", prefix), 0);
  cJSON *list = cJSON_Parse(out);
  cr_assert_not_null(list, "valid JSON: %s", out);
  for (int i = 0; i < N; i++) cr_expect_not_null(find_entry(list, names[i]), "%s", names[i]);
  cJSON_Delete(list);
  free(out);
  cr_assert_eq(t_sma(&out, "ls --prefix %s", prefix), 0);
  for (const char *p = out; *p; p++)
    cr_expect(*p == '\n' || (unsigned char)*p >= 0x20, "control byte 0x%02x in the table",
              (unsigned char)*p);
  free(out);
  if (f) unlink(odd);
  for (int i = 0; i < N; i++) sma_unlink(names[i]);
}

/* Regression: a record's creation time is data; INT64_MIN made the age
 * computation overflow (UBSan: signed overflow). */
Test(cli, the_age_of_a_hostile_record_cannot_overflow) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "cli-age");
  size_t shape[1] = {8};
  sma_t *a;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  t_raw_t raw;
  cr_assert_eq(t_raw_map(name, &raw), 0);
  unsigned char *rec = raw.bytes + raw.size - SMA__RECORD_SIZE;
  sma__record_t r;
  cr_assert_eq(sma__record_decode(rec, raw.size, &r), 0);
  static const int64_t times[] = {INT64_MIN, INT64_MAX};
  for (int i = 0; i < 2; i++) {
    r.created_ns = times[i];
    sma__record_encode(&r, rec);
    char *out;
    cr_assert_eq(t_sma(&out, "info --json %s", name), 0);
    cJSON *info = cJSON_Parse(out);
    cr_assert_not_null(info, "%s", out);
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(info, "age_seconds")), "%s", out);
    cJSON_Delete(info);
    free(out);
    cr_assert_eq(t_sma(NULL, "ls"), 0);
  }
  t_raw_unmap(&raw);
  sma_unlink(name);
  sma_free(a);
}

/* Regression: any lower-case word counted as a counter, so --prefix data
 * took job-data and job-database, and gc over-selected. */
Test(cli, prefix_selects_only_its_own_names) {
  char p[32];
  snprintf(p, sizeof p, "pfx%d", (int)getpid());
  char built[SMA_NAME_BUF], names[6][SMA_NAME_BUF];
  cr_assert_eq(sma_build_name(p, built, &(size_t){sizeof built}), 0);
  snprintf(names[0], sizeof names[0], "%s", built);              /* built: selected */
  snprintf(names[1], sizeof names[1], "%s-starts", p);           /* starts with P: selected */
  snprintf(names[2], sizeof names[2], "k7-%s-abcdefghijk23", p); /* short form: selected */
  snprintf(names[3], sizeof names[3], "job-%s", p);              /* not selected */
  snprintf(names[4], sizeof names[4], "job-%sbase", p);          /* not selected */
  snprintf(names[5], sizeof names[5], "12-%s-notatail", p);      /* not selected */
  size_t shape[1] = {4};
  for (int i = 0; i < 6; i++) {
    sma_t *a;
    cr_assert_eq(sma_new(&a,
                         &(sma_array_desc_t){
                             .name = names[i], .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
                 0);
    cr_assert_eq(sma_create(a, 0), 0);
    sma_free(a);
  }
  char *out;
  cr_assert_eq(t_sma(&out, "ls --json --prefix %s", p), 0);
  cJSON *list = cJSON_Parse(out);
  for (int i = 0; i < 6; i++)
    cr_expect_eq(find_entry(list, names[i]) != NULL, i < 3, "%s", names[i]);
  cJSON_Delete(list);
  free(out);
  for (int i = 0; i < 6; i++) sma_unlink(names[i]);
}

/* `sma --help` names the library's semantic version, as --version does. */
Test(cli, help_shows_the_semantic_version) {
  char *out, want[64];
  snprintf(want, sizeof want, "library %d.%d.%d", SMA_VERSION_MAJOR, SMA_VERSION_MINOR,
           SMA_VERSION_PATCH);
  cr_assert_eq(t_sma(&out, "--help"), 0);
  cr_expect_not_null(strstr(out, want), "%s", out);
  free(out);
}

/* Regression: `sma describe` used a 1 KiB buffer and reported a longer
 * descriptor as "name longer than this backend allows". */
Test(cli, describe_prints_the_longest_descriptor) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "cli-long");
  size_t len = strlen(name);
  while (len < 200 && len < sma_name_max()) name[len++] = 'n';
  name[len] = '\0';
  size_t shape[SMA_MAX_DIMS];
  for (int d = 0; d < SMA_MAX_DIMS; d++) shape[d] = 1;
  sma_t *a;
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = name, .ndim = SMA_MAX_DIMS, .shape = shape, .dtype = SMA_UINT8}),
               0);
  cr_assert_eq(sma_create(a, 0), 0);
  char slice[SMA_MAX_DIMS * 64] = "";
  for (int d = 0; d < SMA_MAX_DIMS; d++)
    strcat(slice, d ? ",-9223372036854775807:9223372036854775807:-9223372036854775807"
                    : "-9223372036854775807:9223372036854775807:-9223372036854775807");
  char *out;
  cr_assert_eq(t_sma(&out, "describe %s --slice '%s'", name, slice), 0);
  cr_expect_gt(strlen(out), 2048);
  out[strcspn(out, "\n")] = '\0';
  sma_t *back;
  cr_expect_eq(sma_parse(&back, NULL, out), 0, "%s", out);
  sma_free(back);
  free(out);
  sma_unlink(name);
  sma_free(a);
}
