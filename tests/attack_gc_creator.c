/* test_attack_gc's creator: creates NAME (4096 bytes, not persistent),
 * closes it (no mapping, no descriptor left), prints "ready" and stays
 * alive until killed. A live creator: `sma gc` must keep its segment. */
#include "sma.h"

#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  size_t shape[1] = {4096};
  sma_t *a = NULL;
  int rc = sma_new(&a, argv[1], 1, shape, SMA_UINT8, NULL, 0);
  if (rc == 0) rc = sma_create(a, 0);
  if (rc == 0) rc = sma_close(a);
  sma_free(a);
  if (rc != 0) {
    fprintf(stderr, "create: %d\n", rc);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
