/* The floor on the POSIX backend: shm_open, posix_fallocate (Linux) or
 * ftruncate, mmap (see floor.h). */
#include "floor.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void object_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "/%s", name);
}

int floor_sizes_unreserved(void) {
#if defined(__linux__)
  return 1;
#else
  return 0;
#endif
}

static int size_segment(int fd, off_t size, int reserve) {
#if defined(__linux__)
  if (reserve) return posix_fallocate(fd, 0, size);
#else
  (void)reserve;
#endif
  return ftruncate(fd, size);
}

double floor_lifecycle(const floor_life_t *l, int n) {
  char path[300];
  object_path(path, sizeof path, l->name);
  size_t size = l->bytes + 4096;
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int e = size_segment(fd, (off_t)size, l->reserve);
    void *p = e == 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED) return -1;
    use_array(p, l->bytes, l->fill);
    munmap(p, size);
    close(fd);
    shm_unlink(path);
  }
  return (proc_now() - t0) / n;
}

int floor_find(floor_object_t *o, const sma_t *a, const char *name) {
  (void)a;
  *o = (floor_object_t){name, 0};
  return 0;
}

double floor_attach(const floor_object_t *o, int n) {
  char path[300];
  object_path(path, sizeof path, o->name);
  double t0 = proc_now();
  for (int i = 0; i < n; i++) {
    int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return -1;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -1;
    munmap(p, (size_t)st.st_size);
    close(fd);
  }
  return (proc_now() - t0) / n;
}
