#include "sma.h"

#include <criterion/criterion.h>
#include <string.h>

Test(errors, every_code_has_a_distinct_message_and_name) {
  int codes[] = {
#define CODE(name, value, msg) SMA_##name,
      SMA_ERRNO_MAP(CODE)
#undef CODE
  };
  size_t n = sizeof codes / sizeof codes[0];
  cr_assert_geq(n, 20);
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(codes[i], 0, "codes are negative");
    cr_assert_str_neq(sma_strerror(codes[i]), "unknown error");
    cr_assert_eq(strncmp(sma_err_name(codes[i]), "SMA_E", 5), 0);
    for (size_t j = i + 1; j < n; j++) {
      cr_assert_neq(codes[i], codes[j]);
      cr_assert_str_neq(sma_strerror(codes[i]), sma_strerror(codes[j]));
    }
  }
}

Test(errors, success_and_unknown_codes) {
  cr_assert_str_eq(sma_strerror(0), "success");
  cr_assert_str_eq(sma_err_name(0), "SMA_OK");
  cr_assert_str_eq(sma_strerror(-9999), "unknown error");
  cr_assert_str_eq(sma_strerror(5), "unknown error");
  cr_assert_str_eq(sma_err_name(-9999), "SMA_EUNKNOWN");
  cr_assert_str_eq(sma_err_name(SMA_EEXIST), "SMA_EEXIST");
}

Test(errors, version_matches_header) {
  cr_assert_eq(sma_version(), SMA_VERSION_MAJOR * 10000u +
                                  SMA_VERSION_MINOR * 100u + SMA_VERSION_PATCH);
  cr_assert_not_null(sma_backend());
}
