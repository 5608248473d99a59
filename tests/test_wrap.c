#include "sma.h"
#include "support.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct {
  int calls;
  size_t n;
  int ret;
} probe_t;

/* Doubles the first array into the second through their views. */
static int double_into(const sma_view_t *const *views, size_t n, void *user) {
  probe_t *p = user;
  p->calls++;
  p->n = n;
  const float *in = views[0]->data;
  float *out = views[1]->data;
  for (size_t i = 0; i < sma_view_size(views[0]); i++) out[i] = 2 * in[i];
  return p->ret;
}

static void make_pair(sma_registry_t *r, sma_t *w[2]) {
  size_t shape[1] = {32};
  for (int i = 0; i < 2; i++) {
    sma_t *created;
    cr_assert_eq(
        sma_create_and_register(
            &created, r,
            &(sma_array_desc_t){.name = T_PREFIX, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32},
            0),
        0);
    if (i == 0)
      for (int k = 0; k < 32; k++) ((float *)sma_data(created))[k] = (float)k;
    cr_assert_eq(sma_clone(&w[i], created, NULL), 0);
    sma_free(created);
  }
}

Test(wrap, loads_calls_and_closes_even_when_fn_fails) {
  sma_registry_t *r;
  sma_registry_new(&r);
  sma_t *w[2];
  make_pair(r, w);
  probe_t p = {0, 0, 17};
  int result = 0;
  cr_assert_eq(sma_wrap(&result, w, 2, double_into, &p), 0);
  cr_assert_eq(result, 17, "fn's own result is passed back");
  cr_assert_eq(p.calls, 1);
  cr_assert_eq(p.n, 2);
  cr_assert(!sma_is_loaded(w[0]) && !sma_is_loaded(w[1]));
  sma_load(w[1]);
  cr_assert_eq(((float *)sma_data(w[1]))[31], 62.0f);
  sma_close(w[1]);
  for (int i = 0; i < 2; i++) sma_free(w[i]);
  cr_assert_eq(sma_registry_clear(r), 0);
  sma_registry_free(r);
}

Test(wrap, failed_load_closes_earlier_ones_and_skips_fn) {
  sma_registry_t *r;
  sma_registry_new(&r);
  sma_t *w[3];
  make_pair(r, w);
  size_t shape[1] = {32};
  char missing[SMA_NAME_BUF];
  t_name(missing, sizeof missing, "wrapmissing");
  sma_new(&w[2],
          &(sma_array_desc_t){.name = missing, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32});
  sma_t *order[3] = {w[0], w[1], w[2]};
  probe_t p = {0, 0, 0};
  int result = 12345;
  cr_assert_eq(sma_wrap(&result, order, 3, double_into, &p), SMA_ENOENT);
  cr_assert_eq(p.calls, 0);
  cr_assert_eq(result, 12345);
  for (int i = 0; i < 3; i++) cr_assert_eq(sma_is_loaded(w[i]), 0);
  sma_load(w[0]);
  cr_assert_eq(sma_wrap(NULL, w, 2, double_into, &p), SMA_ESTATE);
  cr_assert_eq(sma_wrap(NULL, w, 2, NULL, &p), SMA_EINVAL);
  for (int i = 0; i < 3; i++) sma_free(w[i]);
  sma_registry_clear(r);
  sma_registry_free(r);
}

static int count_calls(const sma_view_t *const *views, size_t n, void *user) {
  (void)views;
  (void)n;
  ++*(int *)user;
  return 0;
}

Test(wrap, empty_list_still_calls_fn) {
  int calls = 0;
  cr_assert_eq(sma_wrap(NULL, NULL, 0, count_calls, &calls), 0);
  cr_assert_eq(calls, 1);
}
