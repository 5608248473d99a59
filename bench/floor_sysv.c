/* The floor on the System V backend: shmget, shmat, shmdt, shmctl (see
 * floor.h). Segments have keys, not names: the lifecycle uses a key of
 * its own; the attach opens the key libsma chose. */
#include "floor.h"

#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int floor_sizes_unreserved(void) { return 0; }

/* shmget reserves the memory: l->reserve changes nothing here. */
double floor_lifecycle(const floor_life_t *l, int n) {
  size_t size = l->bytes + 4096;
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int id = shmget((key_t)(0x5a000000 + (getpid() & 0xffff)), size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) return -1;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) return -1;
    use_array(p, l->bytes, l->fill);
    shmdt(p);
    shmctl(id, IPC_RMID, NULL);
  }
  return (proc_now() - t0) / n;
}

int floor_find(floor_object_t *o, const sma_t *a, const char *name) {
  struct shmid_ds ds;
  *o = (floor_object_t){name, 0};
  if (shmctl((int)sma_os_handle(a), IPC_STAT, &ds) != 0) return -1;
  o->key = (long)ds.shm_perm.__key;
  return 0;
}

double floor_attach(const floor_object_t *o, int n) {
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int id = shmget((key_t)o->key, 0, 0);
    struct shmid_ds ds;
    if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0) return -1;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) return -1;
    shmdt(p);
  }
  return (proc_now() - t0) / n;
}
