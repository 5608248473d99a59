#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(name, validation) {
  cr_assert_eq(sma_name_validate("ok-name_1.x"), 0);
  cr_assert_eq(sma_name_validate(NULL), SMA_EINVAL);
  cr_assert_eq(sma_name_validate(""), SMA_ENAME);
  cr_assert_eq(sma_name_validate("a/b"), SMA_ENAME);
  cr_assert_eq(sma_name_validate("/abs"), SMA_ENAME);
  cr_assert_eq(sma_name_validate("Local\\x"), SMA_ENAME);
  cr_assert_eq(sma_name_validate("tab\there"), SMA_ENAME);
  cr_assert_eq(sma_name_validate("nl\n"), SMA_ENAME);
  cr_assert_eq(sma_name_validate("del\x7f"), SMA_ENAME);
  char name[SMA_NAME_BUF + 8];
  size_t max = sma_name_max();
  cr_assert_geq(max, 30);
  cr_assert_lt(max, SMA_NAME_BUF);
  memset(name, 'a', max);
  name[max] = '\0';
  cr_assert_eq(sma_name_validate(name), 0);
  name[max] = 'a';
  name[max + 1] = '\0';
  cr_assert_eq(sma_name_validate(name), SMA_ENAMETOOLONG);
}

Test(name, bad_names_fail_before_any_os_call) {
  size_t shape[1] = {4};
  sma_t *a = NULL;
  cr_assert_eq(sma_new(&a,
                       &(sma_array_desc_t){
                           .name = "bad/name", .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
               SMA_ENAME);
  cr_assert_null(a);
  cr_assert_eq(sma_unlink(""), SMA_ENAME);
  cr_assert_eq(sma_unlink(NULL), SMA_EINVAL);
  cr_assert_eq(sma_open(&a, "x\001", NULL, 0), SMA_ENAME);
}

static int is_hex(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", p[i])) return 0;
  return 1;
}

Test(name, long_form_matches_the_documented_format) {
  if (sma_name_max() < 100) cr_skip_test("backend names are short");
  char buf[SMA_NAME_BUF];
  uint64_t before = sma_name_counter();
  cr_assert_eq(sma_build_name("my_prefix", buf, &(size_t){sizeof buf}), 0);
  cr_assert_eq(sma_name_counter(), before + 1);
  /* <counter>-my_prefix-YYYYMMDD-HHMMSS-uuuuuu-xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx */
  char *dash = strchr(buf, '-');
  cr_assert_not_null(dash);
  cr_assert_eq(strtoull(buf, NULL, 10), before + 1);
  cr_assert_eq(strncmp(dash + 1, "my_prefix-", 10), 0, "%s", buf);
  const char *t = dash + 11;
  cr_assert_eq(strlen(t), 8 + 1 + 6 + 1 + 6 + 1 + 36, "%s", buf);
  cr_assert(t[8] == '-' && t[15] == '-' && t[22] == '-', "%s", buf);
  cr_assert(strncmp(t, "20", 2) == 0, "a 21st-century year: %s", buf);
  const char *uuid = t + 23;
  cr_assert(is_hex(uuid, 8) && uuid[8] == '-' && uuid[13] == '-' && uuid[14] == '4' &&
                strchr("89ab", uuid[19]) && uuid[23] == '-',
            "uuid4: %s", uuid);
  cr_assert_eq(sma_name_validate(buf), 0);
  cr_assert_eq(sma_build_name(NULL, buf, &(size_t){sizeof buf}), 0);
  cr_assert_eq(strchr(buf, '-')[9], '-', "no prefix part: %s", buf);
}

Test(name, short_form_when_the_long_one_does_not_fit) {
  char buf[31]; /* macOS's 30-byte limit, for every backend */
  cr_assert_eq(sma_build_name("px", buf, &(size_t){sizeof buf}), 0);
  cr_assert_leq(strlen(buf), 30);
  const char *p = strstr(buf, "-px-");
  cr_assert_not_null(p, "%s", buf);
  cr_assert_eq(strlen(p + 4), 13, "64 random bits in base32: %s", buf);
  cr_assert_eq(sma_name_validate(buf), 0);
  char tiny[8];
  size_t need = sizeof tiny;
  cr_assert_eq(sma_build_name("px", tiny, &need), SMA_ENOBUFS);
  cr_assert_str_eq(tiny, "");
  /* What comes back is the short form's size: with it the call succeeds. */
  cr_assert(need >= 1 + 4 + 13 + 1 && need <= 13 + 4 + 13 + 1, "counter, -px-, 13 random, NUL: %zu",
            need);
  char fits[64];
  size_t size = need;
  cr_assert_eq(sma_build_name("px", fits, &size), 0);
  cr_assert_eq(size, strlen(fits));
  cr_assert_leq(size + 1, need);
  size_t query = 0;
  cr_assert_eq(sma_build_name("px", NULL, &query), SMA_ENOBUFS);
  cr_assert_geq(query, need, "the natural (long where it fits) form's size");
  char huge_prefix[SMA_NAME_BUF];
  memset(huge_prefix, 'p', sizeof huge_prefix - 1);
  huge_prefix[sizeof huge_prefix - 1] = '\0';
  char out[SMA_NAME_BUF];
  cr_assert_eq(sma_build_name(huge_prefix, out, &(size_t){sizeof out}), SMA_ENAMETOOLONG);
  cr_assert_eq(sma_build_name("a/b", out, &(size_t){sizeof out}), SMA_ENAME);
  cr_assert_eq(sma_build_name(NULL, NULL, &(size_t){10}), SMA_EINVAL);
}

enum { THREADS = 8, PER_THREAD = 2000 };
static char (*names)[SMA_NAME_BUF];

static int builder(void *arg, int index) {
  (void)arg;
  size_t base = (size_t)index * PER_THREAD;
  for (size_t i = 0; i < PER_THREAD; i++)
    if (sma_build_name("t", names[base + i], &(size_t){SMA_NAME_BUF}) != 0) return 1;
  return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

Test(name, unique_across_threads) {
  names = calloc(THREADS * PER_THREAD, SMA_NAME_BUF);
  cr_assert_not_null(names);
  uint64_t before = sma_name_counter();
  cr_assert_eq(t_run_threads(THREADS, builder, NULL), 0);
  cr_assert_eq(sma_name_counter(), before + THREADS * PER_THREAD);
  qsort(names, THREADS * PER_THREAD, SMA_NAME_BUF, cmp);
  for (size_t i = 1; i < THREADS * PER_THREAD; i++) cr_assert_str_neq(names[i - 1], names[i]);
  free(names);
}

/* Regression: one name rule everywhere. Windows alone refused invalid
 * UTF-8, and C1 controls (CSI = U+009B) reached other users' terminals
 * through `sma ls`; "." and ".." are directory entries on POSIX, and every
 * dot name is libsma's bookkeeping, which listings and gc skip (issue 23). */
Test(name, one_rule_on_every_backend) {
  static const char *bad[] = {".",
                              "..",
                              "...",
                              ".x",
                              "\xff",
                              "a\xc0\xaf",        /* overlong '/' */
                              "\xed\xa0\x80",     /* surrogate U+D800 */
                              "\xe2\x82",         /* truncated sequence */
                              "\xf4\x90\x80\x80", /* beyond U+10FFFF */
                              "\x80x",            /* stray continuation byte */
                              "csi\xc2\23331m",
                              "c1\xc2\x80",
                              "c1\xc2\x9f",
                              "esc\x1b[0m"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_eq(sma_name_validate(bad[i]), SMA_ENAME, "bad[%zu] accepted", i);
  static const char *good[] = {"x.",
                               "a.b",
                               "caf\xc3\xa9",
                               "\xc2\xa0nbsp",
                               "\xe6\x97\xa5\xe6\x9c\xac",
                               "\xf0\x9f\x98\x80",
                               "\xf4\x8f\xbf\xbf"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    cr_assert_eq(sma_name_validate(good[i]), 0, "good[%zu] refused", i);
}

/* A non-ASCII name that passes validation works end to end on this
 * backend: create, open by name, unlink. */
Test(name, utf8_names_work_end_to_end) {
  char name[SMA_NAME_BUF];
  t_name(name, sizeof name, "caf\xc3\xa9-\xe6\x97\xa5");
  size_t shape[1] = {8};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_INT32}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_open(&b, name, NULL, 0), 0);
  cr_assert_str_eq(sma_name(b), name);
  sma_free(b);
  sma_free(a);
  cr_assert_eq(sma_unlink(name), 0);
}
