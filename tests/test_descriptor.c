#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(sma_t *a) {
  char line[1024], again[1024];
  cr_assert_eq(sma_describe(a, line, &(size_t){sizeof line}), 0);
  cr_assert_null(strchr(line, '\n'), "one line");
  sma_t *b;
  const char *bad = "unset";
  cr_assert_eq(sma_parse(&b, &bad, line), 0, "%s (bad %s)", line, bad);
  cr_assert_null(bad);
  cr_assert_str_eq(sma_name(b), sma_name(a));
  cr_assert_eq(sma_dtype_get(b), sma_dtype_get(a));
  cr_assert_eq(sma_ndim(b), sma_ndim(a));
  for (size_t d = 0; d < sma_ndim(a); d++) cr_assert_eq(sma_shape(b)[d], sma_shape(a)[d]);
  size_t na, nb;
  const sma_slice_t *sa = sma_slice_get(a, &na), *sb = sma_slice_get(b, &nb);
  cr_assert_eq(na, nb);
  for (size_t d = 0; d < na; d++)
    cr_assert(sa[d].start == sb[d].start && sa[d].stop == sb[d].stop && sa[d].step == sb[d].step);
  cr_assert_eq(sma_is_loaded(b), 0, "parsed objects are not loaded");
  cr_assert_eq(sma_describe(b, again, &(size_t){sizeof again}), 0);
  cr_assert_str_eq(again, line, "exact round trip");
  sma_free(b);
}

Test(descriptor, round_trips_exactly) {
  size_t shape[3] = {512, 512, 3};
  sma_slice_t s[3] = {{10, 20, SMA_NONE}, {SMA_NONE, SMA_NONE, -2}, {-1, SMA_NONE, SMA_NONE}};
  sma_t *a;
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "job-1",
                                               .ndim = 3,
                                               .shape = shape,
                                               .dtype = SMA_FLOAT32,
                                               .slice = s,
                                               .nslice = 3}),
               0);
  round_trip(a);
  char line[256];
  sma_describe(a, line, &(size_t){sizeof line});
  char want[256];
  /* The same text on machines of either byte order (the s390x build
   * checks it big-endian). */
  snprintf(want, sizeof want,
           "sma/1 backend=%s dtype=float32 shape=512,512,3 slice=10:20,::-2,-1: name=job-1",
           sma_backend());
  cr_assert_str_eq(line, want, "the documented format");
  sma_free(a);
  cr_assert_eq(sma_new(&a, &(sma_array_desc_t){.name = "name with spaces=and:colons",
                                               .dtype = SMA_COMPLEX128}),
               0);
  round_trip(a); /* 0-d, no slice, odd name */
  sma_free(a);
  size_t big[1] = {SIZE_MAX / 2};
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = "huge", .ndim = 1, .shape = big, .dtype = SMA_UINT8}),
      0);
  sma_describe(a, line, &(size_t){sizeof line});
  cr_assert_lt(strlen(line), 256, "short whatever the array size");
  round_trip(a);
  sma_free(a);
}

Test(descriptor, loaded_object_describes_the_same) {
  char name[SMA_NAME_BUF], line[512];
  size_t shape[2] = {4, 4};
  sma_t *a, *b;
  t_name(name, sizeof name, "desc");
  sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 2, .shape = shape, .dtype = SMA_INT16});
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_describe(a, line, &(size_t){sizeof line}), 0);
  strcat(line, "\n"); /* as read from a pipe */
  cr_assert_eq(sma_parse(&b, NULL, line), 0);
  cr_assert_eq(sma_load(b), 0);
  cr_assert_eq(sma_data(b) != NULL, 1);
  sma_free(b);
  sma_unlink(name);
  sma_free(a);
}

Test(descriptor, malformed_lines_name_the_bad_field) {
  char good[256];
  snprintf(good, sizeof good, t_native("sma/1 backend=%s dtype=<f4 shape=2,3 slice=: name=x"),
           sma_backend());
  sma_t *a;
  cr_assert_eq(sma_parse(&a, NULL, good), 0);
  sma_free(a);
  struct {
    const char *line;
    int rc;
    const char *field;
  } cases[] = {
      {"", SMA_EDESCRIPTOR, "version"},
      {"sma/3 backend=%s dtype=<f4 shape=2 slice= name=x", SMA_EDESCRIPTOR, "version"},
      {"sma/2 backend=%s dtype=<f4 shape=2 slice= name=x", SMA_EDESCRIPTOR, "persistent"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice= name=x\nsecond line", SMA_EDESCRIPTOR, "name"},
      {"sma/1 backend=%s dtype=<q9 shape=2 slice= name=x", SMA_EDTYPE, "dtype"},
      {"sma/1 backend=%s dtype=>f4 shape=2 slice= name=x", SMA_EBYTEORDER, "dtype"},
      {"sma/1 backend=%s dtype=<f4 shape=2,,3 slice= name=x", SMA_EDESCRIPTOR, "shape"},
      {"sma/1 backend=%s dtype=<f4 shape=2, slice= name=x", SMA_EDESCRIPTOR, "shape"},
      {"sma/1 backend=%s dtype=<f4 shape=99999999999999999999 slice= name=x", SMA_EOVERFLOW,
       "shape"},
      {"sma/1 backend=%s dtype=<f4 shape=4611686018427387904,4 slice= name=x", SMA_EOVERFLOW,
       "shape"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice=::0 name=x", SMA_ESTEP, "slice"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice=:,: name=x", SMA_ETOOMANYSLICES, "slice"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice=5 name=x", SMA_ESLICE, "slice"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice= name=", SMA_ENAME, "name"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice= name=a/b", SMA_ENAME, "name"},
      {"sma/1 backend=%s dtype=<f4 shape=2 slice= nom=x", SMA_EDESCRIPTOR, "name"},
      {"sma/1 backend=%s shape=2 dtype=<f4 slice= name=x", SMA_EDESCRIPTOR, "dtype"},
      {"sma/1 backend=elsewhere%.0s dtype=<f4 shape=2 slice= name=x", SMA_EMISMATCH, "backend"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char line[512];
    snprintf(line, sizeof line, t_native(cases[i].line), sma_backend());
    const char *bad = NULL;
    a = (sma_t *)1;
    int rc = sma_parse(&a, &bad, line);
    cr_assert_eq(rc, cases[i].rc, "case %zu '%s': %s", i, line, sma_err_name(rc));
    cr_assert_null(a);
    cr_assert_not_null(bad);
    cr_assert_str_eq(bad, cases[i].field, "case %zu: %s", i, bad);
  }
  cr_assert_eq(sma_parse(NULL, NULL, good), SMA_EINVAL);
  cr_assert_eq(sma_parse(&a, NULL, NULL), SMA_EINVAL);
  cr_assert_eq(sma_describe(NULL, good, &(size_t){sizeof good}), SMA_EINVAL);
}

Test(descriptor, too_small_buffer) {
  sma_t *a;
  size_t shape[1] = {3};
  sma_new(&a, &(sma_array_desc_t){.name = "x", .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
  char small[10];
  size_t size = sizeof small;
  cr_assert_eq(sma_describe(a, small, &size), SMA_ENOBUFS);
  cr_assert_str_eq(small, "");
  /* The size needed comes back, NUL included: exactly enough. */
  char line[SMA_DESCRIPTOR_MAX];
  size_t full = sizeof line;
  cr_assert_eq(sma_describe(a, line, &full), 0);
  cr_assert_eq(full, strlen(line), "on success: the length written");
  cr_assert_eq(size, full + 1);
  char *exact = malloc(size);
  cr_assert_eq(sma_describe(a, exact, &size), 0);
  cr_assert_str_eq(exact, line);
  size_t one_less = full;
  cr_assert_eq(sma_describe(a, exact, &one_less), SMA_ENOBUFS);
  cr_assert_eq(one_less, full + 1);
  free(exact);
  /* A size query: no buffer, size 0. */
  size_t query = 0;
  cr_assert_eq(sma_describe(a, NULL, &query), SMA_ENOBUFS);
  cr_assert_eq(query, full + 1);
  cr_assert_eq(sma_describe(a, NULL, &(size_t){8}), SMA_EINVAL);
  cr_assert_eq(sma_describe(a, line, NULL), SMA_EINVAL);
  sma_free(a);
}

/* The persistent flag travels in the line (version 2); a line without it
 * stays version 1, as earlier versions wrote and read it. */
Test(descriptor, the_persistent_flag_round_trips_and_creates_persistent) {
  char name[SMA_NAME_BUF], line[512], again[512], want[512];
  size_t shape[1] = {8};
  sma_t *a, *b, *c;
  t_name(name, sizeof name, "descp");
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, SMA_CREATE_PERSIST), 0);
  cr_assert_eq(sma_is_persistent(a), 1);
  cr_assert(sma_effective_flags(a) & SMA_CREATE_PERSIST);
  cr_assert_eq(sma_describe(a, line, &(size_t){sizeof line}), 0);
  snprintf(want, sizeof want, "sma/2 backend=%s dtype=uint8 shape=8 slice= persistent=1 name=%s",
           sma_backend(), name);
  cr_assert_str_eq(line, want);
  cr_assert_eq(sma_parse(&b, NULL, line), 0);
  cr_assert_eq(sma_is_persistent(b), 1, "parsed");
  cr_assert_eq(sma_describe(b, again, &(size_t){sizeof again}), 0);
  cr_assert_str_eq(again, line, "round trip");
  cr_assert_eq(sma_load(b), 0);
  cr_assert_eq(sma_is_persistent(b), 1, "the record says so");
  sma_free(b);
  /* A clone and a create from the parsed line carry it on. */
  cr_assert_eq(sma_parse(&b, NULL, line), 0);
  cr_assert_eq(sma_clone(&c, b, &(sma_override_t){.set = SMA_SET_NAME, .name = "x"}), 0);
  cr_assert_eq(sma_is_persistent(c), 1, "cloned");
  sma_free(c);
  sma_free(a); /* Windows: a section lives while any handle to it does */
  int unlinked = sma_unlink(name);
  cr_assert(unlinked == 0 || unlinked == SMA_ENOENT, "%s", sma_strerror(unlinked));
  cr_assert_eq(sma_create(b, 0), 0);
  sma_info_t in;
  cr_assert_eq(sma_info_get(&in, name), 0);
  cr_assert_eq(in.persistent, 1, "created from a persistent descriptor");
  sma_free(b);
  unlinked = sma_unlink(name);
  cr_assert(unlinked == 0 || unlinked == SMA_ENOENT, "%s", sma_strerror(unlinked));

  /* Transient: version 1, the same text as before the flag. */
  cr_assert_eq(
      sma_new(&a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_UINT8}),
      0);
  cr_assert_eq(sma_create(a, 0), 0);
  cr_assert_eq(sma_is_persistent(a), 0);
  cr_assert_eq(sma_describe(a, line, &(size_t){sizeof line}), 0);
  snprintf(want, sizeof want, "sma/1 backend=%s dtype=uint8 shape=8 slice= name=%s", sma_backend(),
           name);
  cr_assert_str_eq(line, want);
  cr_assert_eq(sma_parse(&b, NULL, line), 0);
  cr_assert_eq(sma_is_persistent(b), 0);
  sma_free(b);
  cr_assert_eq(sma_unlink(name), 0);
  sma_free(a);

  /* Malformed flag fields name "persistent"; unknown versions "version". */
  static const char *const bad[] = {
      "sma/2 backend=%s dtype=uint8 shape=8 slice= name=x",
      "sma/2 backend=%s dtype=uint8 shape=8 slice= persistent=2 name=x",
      "sma/2 backend=%s dtype=uint8 shape=8 slice= persistent=11 name=x",
      "sma/2 backend=%s dtype=uint8 shape=8 slice= persistent= name=x",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *field = NULL;
    snprintf(line, sizeof line, bad[i], sma_backend());
    cr_assert_eq(sma_parse(&b, &field, line), SMA_EDESCRIPTOR, "%s", line);
    cr_assert_str_eq(field, "persistent", "%s", line);
  }
  const char *field = NULL;
  snprintf(line, sizeof line, "sma/3 backend=%s dtype=uint8 shape=8 slice= persistent=1 name=x",
           sma_backend());
  cr_assert_eq(sma_parse(&b, &field, line), SMA_EDESCRIPTOR);
  cr_assert_str_eq(field, "version");
  snprintf(line, sizeof line, "sma/1 backend=%s dtype=uint8 shape=8 slice= persistent=1 name=x",
           sma_backend());
  cr_assert_eq(sma_parse(&b, &field, line), SMA_EDESCRIPTOR, "version 1 has no such field");
  cr_assert_str_eq(field, "name");
}
