/* Any name, unchanged, on every OS (issue 25, item 5): names of 1 to 255
 * bytes work on every backend, also where the OS limits its object names
 * to fewer bytes (macOS POSIX: 30, run here under the Darwin personality;
 * Windows: 240). The OS object then gets a digest of the name, and every
 * call shows and accepts the full name, which the record keeps; two names
 * whose digests coincide never reach each other's segment. */
#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <dirent.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

/* Internal (libsma's src/sma_int.h; the tests link the internal library):
 * the OS object's name for a segment name, and the OS's own limit. */
int sma__os_name(const char *name, char out[SMA_NAME_BUF]);
size_t sma__os_name_max(void);

enum { LONGEST = 255 };

/* A name of exactly len bytes: this test's unique stem (cut if longer),
 * then '€' (3 bytes of UTF-8, so digests must cut prefixes on a character
 * boundary) and 'x' to fill. */
static void name_of_length(char *buf, const char *stem, size_t len) {
  size_t n = strlen(stem);
  if (n > len) n = len;
  memcpy(buf, stem, n);
  while (n < len) {
    if (len - n >= 3 && n % 5 == 0) {
      memcpy(buf + n, "\xe2\x82\xac", 3);
      n += 3;
    } else {
      buf[n++] = 'x';
    }
  }
  buf[n] = '\0';
}

/* The stem: short lengths are its own prefixes ("s", "sm", ...), unique
 * enough for the one run of this test; longer ones carry the pid. */
static void make_stem(char *stem, size_t cap, const char *tag) {
  snprintf(stem, cap, T_PREFIX "-%lu-%s-", t_pid(), tag);
}

typedef struct seen {
  char (*names)[SMA_NAME_BUF];
  size_t count;
  int hits[LONGEST + 1];
  int foreign; /* listed names that are not names of this test but share its stem */
  const char *stem;
} seen_t;

static int count_listed(const sma_info_t *info, void *user) {
  seen_t *s = user;
  for (size_t i = 1; i <= s->count; i++)
    if (strcmp(info->name, s->names[i]) == 0) {
      s->hits[i]++;
      return 0;
    }
  if (strncmp(info->name, s->stem, strlen(s->stem)) == 0) s->foreign++;
  return 0;
}

static void fill(sma_t *a, size_t len) {
  unsigned char *p = sma_data(a);
  for (size_t i = 0; i < sma_nbytes(a); i++) p[i] = (unsigned char)(len * 7 + i);
}

static int holds(const sma_t *a, size_t len) {
  const unsigned char *p = sma_data(a);
  for (size_t i = 0; i < sma_nbytes(a); i++)
    if (p[i] != (unsigned char)(len * 7 + i)) return 0;
  return 1;
}

#if defined(__linux__) && defined(SMA_BACKEND_posix)
/* The longest object name in /dev/shm that starts with `start`: what the
 * OS really was given (the Darwin personality runs on Linux's shm). */
static size_t longest_object(const char *start) {
  DIR *d = opendir("/dev/shm");
  if (d == NULL) return 0;
  size_t longest = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strncmp(e->d_name, start, strlen(start)) == 0 && strlen(e->d_name) > longest)
      longest = strlen(e->d_name);
  closedir(d);
  return longest;
}
#endif

/* The common limit is reported everywhere, whatever the OS's own. */
Test(long_names, the_limit_is_255_on_every_backend) {
  sma_caps_t c;
  sma_caps_get(&c);
  cr_assert_eq(sma_name_max(), LONGEST);
  cr_assert_eq(c.max_name, LONGEST);
  char name[LONGEST + 2];
  memset(name, 'n', LONGEST + 1);
  name[LONGEST + 1] = '\0';
  cr_assert_eq(sma_name_validate(name), SMA_ENAMETOOLONG);
  name[LONGEST] = '\0';
  cr_assert_eq(sma_name_validate(name), 0);
}

/* Every length from 1 to 255: create, open (the data of that very
 * segment), info, list (each once, by its full name), gc's verdict,
 * unlink; and no OS object longer than the OS allows. In batches of 16,
 * so that System V under macOS's limits (shmmni 32) holds them. */
enum { BATCH = 16 };

static void check_batch(char (*names)[SMA_NAME_BUF], size_t first, size_t last, const char *stem) {
  static sma_t *made[LONGEST + 1];
  size_t shape[1] = {96};
  for (size_t len = first; len <= last; len++) {
    name_of_length(names[len], stem, len);
    cr_assert_eq(strlen(names[len]), len);
    cr_assert_eq(sma_name_validate(names[len]), 0, "%zu", len);
    cr_assert_eq(sma_new(&made[len],
                         &(sma_array_desc_t){
                             .name = names[len], .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
                 0);
    int rc = sma_create(made[len], 0);
    cr_assert_eq(rc, 0, "length %zu: %s", len, sma_err_name(rc));
    fill(made[len], len);
  }
#if defined(__linux__) && defined(SMA_BACKEND_posix)
  cr_expect(longest_object("s") <= sma__os_name_max(), "an object name longer than the OS allows");
#endif
  for (size_t len = first; len <= last; len++) {
    sma_t *r;
    int rc = sma_open(&r, names[len], NULL, 0);
    cr_assert_eq(rc, 0, "length %zu: %s", len, sma_err_name(rc));
    cr_expect(strcmp(sma_name(r), names[len]) == 0, "%s", sma_name(r));
    cr_expect(holds(r, len), "length %zu opened another segment's data", len);
    sma_free(r);
    sma_info_t in;
    cr_assert_eq(sma_info_get(&in, names[len]), 0, "%zu", len);
    cr_expect(strcmp(in.name, names[len]) == 0, "%s", in.name);
    cr_expect_eq(in.nbytes, 96);
    /* The creator (this process) runs: gc keeps it, and says so by name. */
    sma_info_t gc_in;
    rc = sma_collect(&gc_in, names[len], SMA_COLLECT_DRY_RUN);
    cr_expect_eq(rc, SMA_EINUSE, "length %zu: %s", len, sma_err_name(rc));
    cr_expect(strcmp(gc_in.name, names[len]) == 0, "%s", gc_in.name);
  }
  seen_t s = {names, last, {0}, 0, stem};
  cr_assert_eq(sma_list(count_listed, &s), 0);
  for (size_t len = first; len <= last; len++)
    cr_expect_eq(s.hits[len], 1, "length %zu listed %d times", len, s.hits[len]);
  cr_expect_eq(s.foreign, 0, "a listed name is none of this test's");
  for (size_t len = first; len <= last; len++) {
    cr_assert_eq(sma_unlink(names[len]), 0, "%zu", len);
    sma_free(made[len]); /* Windows: the mapping held it until now */
    cr_expect(t_segment_absent(names[len]), "%zu", len);
    sma_t *r;
    cr_expect_eq(sma_open(&r, names[len], NULL, 0), SMA_ENOENT, "%zu", len);
    cr_expect_eq(sma_unlink(names[len]), SMA_ENOENT, "%zu", len);
  }
  seen_t after = {names, last, {0}, 0, stem};
  cr_assert_eq(sma_list(count_listed, &after), 0);
  for (size_t len = first; len <= last; len++) cr_expect_eq(after.hits[len], 0, "%zu", len);
}

Test(long_names, every_length_from_1_to_255, .timeout = 300) {
  char stem[64];
  make_stem(stem, sizeof stem, "every");
  static char names[LONGEST + 1][SMA_NAME_BUF];
  for (size_t first = 1; first <= LONGEST; first += BATCH) {
    size_t last = first + BATCH - 1 < LONGEST ? first + BATCH - 1 : LONGEST;
    check_batch(names, first, last, stem);
  }
}

/* A descriptor carries the full name, and loading it finds the segment. */
Test(long_names, descriptors_carry_the_full_name) {
  char stem[64], name[SMA_NAME_BUF];
  make_stem(stem, sizeof stem, "desc");
  name_of_length(name, stem, 201);
  size_t shape[2] = {3, 5};
  sma_t *a, *b;
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_INT16}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  fill(a, 201);
  char text[4096];
  cr_assert_eq(sma_describe(a, text, &(size_t){sizeof text}), 0);
  cr_expect_not_null(strstr(text, name), "%s", text);
  cr_assert_eq(sma_parse(&b, NULL, text), 0, "%s", text);
  cr_expect(strcmp(sma_name(b), name) == 0, "%s", sma_name(b));
  cr_assert_eq(sma_load(b), 0);
  cr_expect(holds(b, 201));
  sma_free(b);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);
}

#if !defined(_WIN32)
/* gc by the full name: a long-named segment whose creator has exited is
 * removed where the OS proves it unused, kept (SMA_EINUSE) elsewhere;
 * never "no such name" or "too long". */
Test(long_names, gc_judges_a_long_name_by_its_full_name) {
  char stem[64], name[SMA_NAME_BUF];
  make_stem(stem, sizeof stem, "gc");
  name_of_length(name, stem, 240);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    size_t shape[1] = {64};
    sma_t *a;
    _exit(sma_new(&a,
                  &(sma_array_desc_t){
                      .name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}) == 0 &&
                  sma_create(a, 0) == 0
              ? 0
              : 1);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  sma_caps_t c;
  sma_caps_get(&c);
  sma_info_t in;
  /* "Holds" can lag the creator's exit for an instant while another
   * process reads its /proc/PID/maps (sma.h, sma_collect): ask again. */
  int rc = sma_collect(&in, name, 0);
  for (int i = 0; i < 50 && c.proves_unused && rc == SMA_EINUSE; i++) {
    t_sleep_ms(20);
    rc = sma_collect(&in, name, 0);
  }
  cr_expect(strcmp(in.name, name) == 0, "%s", in.name);
  cr_expect_eq(in.creator_alive, 0);
  if (c.proves_unused) {
    cr_expect_eq(rc, 0, "%s", sma_err_name(rc));
    cr_expect(t_segment_absent(name));
  } else {
    cr_expect_eq(rc, SMA_EINUSE, "%s", sma_err_name(rc));
    cr_expect_eq(sma_unlink(name), 0);
  }
  sma_unlink(name);
}

/* The `sma` command with a 200-byte name: create, ls shows the full name,
 * info, rm. */
Test(long_names, the_sma_command_takes_a_200_byte_name) {
  char stem[64], name[SMA_NAME_BUF], *out;
  snprintf(stem, sizeof stem, T_PREFIX "-%lu-cli-", t_pid());
  size_t len = strlen(stem);
  memcpy(name, stem, len);
  for (; len < 200; len++) name[len] = "abcdefghijklmnopqrstuvwxyz0123456789"[len % 36];
  name[len] = '\0';
  cr_assert_eq(t_sma_said(&out, "create %s --shape 4,2 --dtype f4 --fill 1.5", name), 0, "%s", out);
  free(out);
  cr_assert_eq(t_sma_said(&out, "ls --prefix %s", stem), 0, "%s", out);
  cr_expect_not_null(strstr(out, name), "ls:\n%s", out);
  free(out);
  cr_assert_eq(t_sma_said(&out, "ls --json --prefix %s", stem), 0, "%s", out);
  char quoted[SMA_NAME_BUF + 2];
  snprintf(quoted, sizeof quoted, "\"%s\"", name);
  cr_expect_not_null(strstr(out, quoted), "ls --json:\n%s", out);
  free(out);
  cr_assert_eq(t_sma_said(&out, "info %s", name), 0, "%s", out);
  cr_expect_not_null(strstr(out, name), "info:\n%s", out);
  free(out);
  cr_assert_eq(t_sma_said(&out, "rm %s", name), 0, "%s", out);
  free(out);
  cr_expect(t_sma_said(&out, "info %s", name) != 0, "%s", out);
  free(out);
  cr_expect(t_segment_absent(name));
}
#endif /* !_WIN32 */

#if defined(SMA_FAULT_INJECTION) && !defined(_WIN32)
/* Two names whose object names coincide (the test build keeps 2 bits of
 * the hash): the second's create is SMA_EEXIST, and no call made with the
 * second name ever reaches the first's segment; a short name spelling
 * the digest is refused the same way. */
Test(long_names, colliding_digests_never_reach_each_other) {
  char stem[64], first[SMA_NAME_BUF], second[SMA_NAME_BUF];
  char os_first[SMA_NAME_BUF], os_second[SMA_NAME_BUF];
  make_stem(stem, sizeof stem, "clash");
  cr_assert_eq(setenv("SMA_TEST_NAME_HASH_BITS", "2", 1), 0);
  name_of_length(first, stem, 250);
  size_t shape[1] = {32};
  sma_t *a, *b, *r;
  cr_assert_eq(
      sma_new(&a,
              &(sma_array_desc_t){.name = first, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  int rc = sma_create(a, 0);
  cr_assert_eq(rc, 0, "%s", sma_err_name(rc));
  fill(a, 250);
  cr_assert_eq(sma__os_name(first, os_first), 0);
  if (strcmp(os_first, first) == 0) {
    unsetenv("SMA_TEST_NAME_HASH_BITS");
    sma_unlink(first);
    sma_free(a);
    cr_skip_test("the OS takes 250-byte names as they are (no digest here)");
  }
  int found = 0;
  for (int i = 0; i < 1000 && !found; i++) {
    snprintf(second, sizeof second, "%s", first);
    snprintf(second + 240, sizeof second - 240, "%09d", i); /* same prefix, other name */
    cr_assert_eq(sma__os_name(second, os_second), 0);
    found = strcmp(second, first) != 0 && strcmp(os_second, os_first) == 0;
  }
  cr_assert(found, "no two names share a 2-bit digest");

  cr_assert_eq(
      sma_new(&b,
              &(sma_array_desc_t){.name = second, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_expect_eq(sma_create(b, 0), SMA_EEXIST);
  cr_expect_eq(sma_is_loaded(b), 0);
  r = NULL;
  cr_expect_eq(sma_open(&r, second, NULL, 0), SMA_ENOENT);
  cr_expect(r == NULL);
  cr_expect_eq(sma_load(b), SMA_ENOENT);
  cr_expect(sma_data(b) == NULL);
  sma_info_t in;
  cr_expect_eq(sma_info_get(&in, second), SMA_ENOENT);
  cr_expect_eq(sma_collect(&in, second, 0), SMA_ENOENT);
  cr_expect_eq(sma_unlink(second), SMA_ENOENT);
  /* The short name that spells the first's object name is not it either. */
  cr_expect_eq(sma_open(&r, os_first, NULL, 0), SMA_ENOENT);
  cr_expect_eq(sma_unlink(os_first), SMA_ENOENT);
  /* The first is intact, listed once by its full name, and not the second. */
  cr_assert_eq(sma_open(&r, first, NULL, 0), 0);
  cr_expect(holds(r, 250));
  sma_free(r);
  static char names[3][SMA_NAME_BUF];
  snprintf(names[1], sizeof names[1], "%s", first);
  snprintf(names[2], sizeof names[2], "%s", second);
  seen_t s = {names, 2, {0}, 0, stem};
  cr_assert_eq(sma_list(count_listed, &s), 0);
  cr_expect_eq(s.hits[1], 1);
  cr_expect_eq(s.hits[2], 0);
  cr_expect_eq(s.foreign, 0);
  /* Once the first is gone, the second can be made in its object. */
  cr_assert_eq(sma_unlink(first), 0);
  cr_expect_eq(sma_create(b, 0), 0);
  cr_assert_eq(sma_open(&r, second, NULL, 0), 0);
  sma_free(r);
  cr_expect_eq(sma_open(&r, first, NULL, 0), SMA_ENOENT);
  cr_expect_eq(sma_unlink(first), SMA_ENOENT);
  cr_expect_eq(sma_unlink(second), 0);
  unsetenv("SMA_TEST_NAME_HASH_BITS");
  sma_free(a);
  sma_free(b);
}
#endif
