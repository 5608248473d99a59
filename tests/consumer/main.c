/* A program that uses an installed libsma the way a user would: only
 * <sma.h> and the library, found by CMake or pkg-config. */
#include <sma.h>

#include <stdio.h>

int main(void) {
  if (sma_version() != SMA_VERSION_MAJOR * 10000u + SMA_VERSION_MINOR * 100u + SMA_VERSION_PATCH) {
    fprintf(stderr, "header and library versions differ\n");
    return 1;
  }
  sma_registry_t *reg;
  sma_t *a, *b;
  size_t shape[2] = {16, 16};
  int rc = sma_registry_new(&reg);
  if (rc == 0)
    rc = sma_create_and_register(
        &a, reg,
        &(sma_array_desc_t){.name = "consumer", .ndim = 2, .shape = shape, .dtype = SMA_INT32}, 0);
  if (rc != 0) return fprintf(stderr, "create: %s\n", sma_strerror(rc)), 1;
  ((int *)sma_data(a))[255] = 42;
  sma_slice_t last[1] = {{-1, SMA_NONE, SMA_NONE}};
  rc = sma_open(&b, sma_name(a), last, 1);
  int ok = rc == 0 && ((int *)sma_data(b))[15] == 42;
  sma_free(b);
  sma_free(a);
  rc = sma_registry_clear(reg);
  sma_registry_free(reg);
  printf("consumer: libsma %u (%s backend): %s\n", sma_version(), sma_backend(),
         ok && rc == 0 ? "ok" : "FAILED");
  return ok && rc == 0 ? 0 : 1;
}
