/* test_attack_gc's creator: creates NAME (4096 bytes, not persistent),
 * closes it (no mapping, no descriptor left), prints "ready" and stays
 * alive until killed. A live creator: `sma gc` must keep its segment.
 * With a second argument "thread", the main thread then exits
 * (pthread_exit) while another thread keeps the process running.
 * Fault-injection builds, Linux POSIX: ATTACK_STAGED=1 in the environment
 * fails the O_TMPFILE open, so the create takes the staged path. */
#include "sma.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(SMA_FAULT_INJECTION)
void sma__fault_arm(int n);
#endif

static void *stay(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) return 2;
  size_t shape[1] = {4096};
  sma_t *a = NULL;
#if defined(SMA_FAULT_INJECTION)
  if (getenv("ATTACK_STAGED") != NULL) sma__fault_arm(1);
#endif
  int rc = sma_new(
      &a, &(sma_array_desc_t){.name = argv[1], .ndim = 1, .shape = shape, .dtype = SMA_UINT8});
  if (rc == 0) rc = sma_create(a, 0);
  if (rc == 0) rc = sma_close(a);
  sma_free(a);
  if (rc != 0) {
    fprintf(stderr, "create: %d\n", rc);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  if (argc == 3 && strcmp(argv[2], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, stay, NULL) != 0) return 1;
    pthread_exit(NULL);
  }
  for (;;) pause();
}
