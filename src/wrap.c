/* gridr's shmarray_wrap: load, call, always close. */
#include "sma_int.h"

#include <stdlib.h>

static int close_all(sma_t *const *arrays, size_t n) {
  int first = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = sma_close(arrays[i]);
    if (rc != 0 && first == 0) first = rc;
  }
  return first;
}

int sma_wrap(int *fn_result, sma_t *const *arrays, size_t n, sma_wrap_fn fn, void *user) {
  if ((arrays == NULL && n > 0) || fn == NULL) return SMA_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (arrays[i] == NULL) return SMA_EINVAL;
    if (sma_is_loaded(arrays[i])) return SMA_ESTATE;
  }
  const sma_view_t **views = NULL;
  if (n > 0 && (views = malloc(n * sizeof *views)) == NULL) return SMA_ENOMEM;
  for (size_t k = 0; k < n; k++) {
    int rc = sma_load(arrays[k]);
    if (rc != 0) {
      close_all(arrays, k);
      free(views);
      return rc;
    }
    views[k] = sma_view_get(arrays[k]);
  }
  int result = fn(views, n, user);
  if (fn_result != NULL) *fn_result = result;
  free(views);
  return close_all(arrays, n);
}
