/* The README's example: a parent creates an array, a child process loads
 * one slice of it by name and writes it, the parent checks and cleans up.
 * Run without arguments; it starts itself as the child. */
#include "sma.h"

#include <stdio.h>
#include <stdlib.h>

static int child(const char *name) {
  sma_slice_t rows[1] = {{100, 200, SMA_NONE}}; /* a[100:200] */
  sma_t *a;
  int rc = sma_open(&a, name, rows, 1); /* shape/dtype from the record */
  if (rc != 0) return fprintf(stderr, "child: %s\n", sma_strerror(rc)), 1;
  const sma_view_t *v = sma_view_get(a);
  for (size_t i = 0; i < v->shape[0]; i++)
    for (size_t j = 0; j < v->shape[1]; j++) *(float *)sma_view_at(v, (size_t[]){i, j}) = 1.0f;
  sma_free(a); /* close; never unlinks */
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3) return child(argv[2]);
  sma_registry_t *reg;
  sma_t *a;
  size_t shape[2] = {1000, 1000};
  int rc = sma_registry_new(&reg);
  if (rc == 0)
    rc = sma_create_and_register(
        &a, reg,
        &(sma_array_desc_t){.name = "example", .ndim = 2, .shape = shape, .dtype = SMA_FLOAT32}, 0);
  if (rc != 0) return fprintf(stderr, "parent: %s\n", sma_strerror(rc)), 1;

  char cmd[512];
  snprintf(cmd, sizeof cmd, "\"%s\" child %s", argv[0], sma_name(a));
  int status = system(cmd); /* the worker process */

  double sum = 0;
  const float *data = sma_data(a);
  for (size_t i = 0; i < 1000 * 1000; i++) sum += data[i];
  printf("backend %s, array %s: child wrote %.0f elements (expected 100000)\n", sma_backend(),
         sma_name(a), sum);
  sma_free(a);
  rc = sma_registry_clear(reg); /* unlink every name */
  sma_registry_free(reg);
  return (status == 0 && sum == 100000.0 && rc == 0) ? 0 : 1;
}
