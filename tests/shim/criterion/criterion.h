/*
 * A minimal stand-in for Criterion, used only where Criterion itself is not
 * available (the MinGW build run under Wine, the i386 and s390x cross
 * builds), so the very same test files run on every backend and ABI. It
 * implements the subset of Criterion's API that tests/ uses — Test(),
 * cr_assert*, cr_expect*, cr_skip_test — with the same meaning,
 * and a runner (shim.c) that starts each test in its own process, as
 * Criterion does, and prints Criterion's summary line.
 * A failure prints the failing expression, file and line, and the message
 * given after the operands (its arguments are not type-checked here:
 * Criterion's native builds check them); a skip prints its reason.
 */
#ifndef SMA_CRITERION_SHIM_H
#define SMA_CRITERION_SHIM_H

#include <stddef.h>
#include <string.h>

/* The Test() options the stand-in honours, as Criterion spells them. */
typedef struct shim_test_options {
  double timeout; /* seconds; 0: the runner's default bound */
  int end_;       /* takes the trailing 0 that Test() appends */
} shim_test_options_t;

typedef struct shim_test {
  const char *suite;
  const char *name;
  void (*fn)(void);
  const shim_test_options_t *options;
  struct shim_test *next;
} shim_test_t;

void shim_register(shim_test_t *test);
/* fmt: the message's printf format, or NULL (0) when none was given. */
void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...);
void shim_expect_failed(const char *file, int line, const char *expr, const char *fmt, ...);
void shim_skip(const char *file, int line, const char *fmt, ...);

/* A function run before main(), registering one test. */
#if defined(_MSC_VER)
#  pragma section(".CRT$XCU", read)
#  define SHIM_CONSTRUCTOR_(f)                                                                     \
    static void f(void);                                                                           \
    __declspec(allocate(".CRT$XCU")) void (*f##_ptr)(void) = f;                                    \
    static void f(void)
#else
#  define SHIM_CONSTRUCTOR_(f) __attribute__((constructor)) static void f(void)
#endif

#define Test(...) SHIM_TEST_(__VA_ARGS__, 0)
#define SHIM_TEST_(suite, name, ...)                                                               \
  static void suite##_##name##_impl(void);                                                         \
  static const shim_test_options_t suite##_##name##_options = {__VA_ARGS__};                       \
  static shim_test_t suite##_##name##_desc = {#suite, #name, suite##_##name##_impl,                \
                                              &suite##_##name##_options, NULL};                    \
  SHIM_CONSTRUCTOR_(suite##_##name##_reg) { shim_register(&suite##_##name##_desc); }               \
  static void suite##_##name##_impl(void)

#define SHIM_CHECK_(ok, text, ...)                                                                 \
  ((ok) ? (void)0 : shim_fail(__FILE__, __LINE__, text, __VA_ARGS__))

#define cr_assert(...) SHIM_ASSERT_(__VA_ARGS__, 0)
#define SHIM_ASSERT_(cond, ...) SHIM_CHECK_(cond, #cond, __VA_ARGS__)

#define SHIM_CMP_(op, a, b, ...) SHIM_CHECK_((a)op(b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(...) SHIM_CMP_(==, __VA_ARGS__, 0)
#define cr_assert_neq(...) SHIM_CMP_(!=, __VA_ARGS__, 0)
#define cr_assert_lt(...) SHIM_CMP_(<, __VA_ARGS__, 0)
#define cr_assert_leq(...) SHIM_CMP_(<=, __VA_ARGS__, 0)
#define cr_assert_gt(...) SHIM_CMP_(>, __VA_ARGS__, 0)
#define cr_assert_geq(...) SHIM_CMP_(>=, __VA_ARGS__, 0)

#define SHIM_PTR_(op, p, ...) SHIM_CHECK_((const void *)(p)op NULL, #p " " #op " NULL", __VA_ARGS__)
#define cr_assert_null(...) SHIM_PTR_(==, __VA_ARGS__, 0)
#define cr_assert_not_null(...) SHIM_PTR_(!=, __VA_ARGS__, 0)

#define SHIM_STR_(op, a, b, ...) SHIM_CHECK_(strcmp((a), (b)) op 0, #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_str_eq(...) SHIM_STR_(==, __VA_ARGS__, 0)
#define cr_assert_str_neq(...) SHIM_STR_(!=, __VA_ARGS__, 0)

#define cr_skip_test(...) shim_skip(__FILE__, __LINE__, __VA_ARGS__)
#define cr_assert_fail(...) shim_fail(__FILE__, __LINE__, "cr_assert_fail", __VA_ARGS__)
#define cr_assert_not(...) SHIM_NOT_(__VA_ARGS__, 0)
#define SHIM_NOT_(cond, ...) SHIM_CHECK_(!(cond), "!(" #cond ")", __VA_ARGS__)

/* cr_expect*: a failure is reported and the test goes on (it fails at
 * its end). */
#define SHIM_EXPECT_(ok, text, ...)                                                                \
  ((ok) ? (void)0 : shim_expect_failed(__FILE__, __LINE__, text, __VA_ARGS__))
#define cr_expect(...) SHIM_EXPECT1_(__VA_ARGS__, 0)
#define SHIM_EXPECT1_(cond, ...) SHIM_EXPECT_(cond, #cond, __VA_ARGS__)
#define SHIM_ECMP_(op, a, b, ...) SHIM_EXPECT_((a)op(b), #a " " #op " " #b, __VA_ARGS__)
#define cr_expect_eq(...) SHIM_ECMP_(==, __VA_ARGS__, 0)
#define cr_expect_neq(...) SHIM_ECMP_(!=, __VA_ARGS__, 0)
#define cr_expect_lt(...) SHIM_ECMP_(<, __VA_ARGS__, 0)
#define cr_expect_leq(...) SHIM_ECMP_(<=, __VA_ARGS__, 0)
#define cr_expect_gt(...) SHIM_ECMP_(>, __VA_ARGS__, 0)
#define cr_expect_geq(...) SHIM_ECMP_(>=, __VA_ARGS__, 0)
#define cr_expect_not(...) SHIM_EXPECT_NOT_(__VA_ARGS__, 0)
#define SHIM_EXPECT_NOT_(cond, ...) SHIM_EXPECT_(!(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_null(...) SHIM_EXPECT_NULL_(__VA_ARGS__, 0)
#define SHIM_EXPECT_NULL_(p, ...)                                                                  \
  SHIM_EXPECT_((const void *)(p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_str_eq(...) SHIM_ESTR_(==, __VA_ARGS__, 0)
#define SHIM_ESTR_(op, a, b, ...)                                                                  \
  SHIM_EXPECT_(strcmp((a), (b)) op 0, #a " " #op " " #b, __VA_ARGS__)
#define cr_expect_not_null(...) SHIM_EXPECT_PTR_(__VA_ARGS__, 0)
#define SHIM_EXPECT_PTR_(p, ...) SHIM_EXPECT_((const void *)(p) != NULL, #p " != NULL", __VA_ARGS__)

#endif
