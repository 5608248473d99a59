/*
 * sma_bench section "handoff": giving a large array to a child process.
 * libsma's side passes the descriptor (a short string) and the child
 * loads it; the baseline writes the bytes through a pipe. Both children
 * are sma_bench itself (--child-load, --child-pipe; main.c).
 */
#include "bench.h"
#include "process_services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <fcntl.h>
#  include <unistd.h>
#endif

#if !defined(_WIN32)
/* Starts one of this build's programs (under the build's emulator, if any). */
static int spawn_self(proc_t *p, const char *const *argv, int stdin_fd) {
  const char *emulated[8];
  return proc_spawn(p, proc_argv(argv, emulated, sizeof emulated / sizeof *emulated), stdin_fd);
}

static double handoff_sma(const config_t *c, void *ctx) {
  const char *desc = ctx;
  const char *argv[] = {c->self, "--child-load", desc, NULL};
  proc_t p;
  double t0 = proc_now();
  if (spawn_self(&p, argv, -1) != 0 || proc_wait(&p) != 0) return -1;
  return proc_now() - t0;
}

static double handoff_pipe(const config_t *c, void *ctx) {
  const unsigned char *bytes = ctx;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  /* The child must not inherit the write end, or it never sees EOF. */
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  char size[32];
  snprintf(size, sizeof size, "%zu", c->handoff_bytes);
  const char *argv[] = {c->self, "--child-pipe", size, NULL};
  proc_t p;
  double t0 = proc_now();
  int started = spawn_self(&p, argv, fds[0]) == 0;
  close(fds[0]);
  if (!started) {
    close(fds[1]);
    return -1;
  }
  size_t done = 0;
  while (done < c->handoff_bytes) {
    ssize_t n = write(fds[1], bytes + done, c->handoff_bytes - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  close(fds[1]);
  int code = proc_wait(&p);
  double t = proc_now() - t0;
  return done == c->handoff_bytes && code == 0 ? t : -1;
}
#endif

int handoff_child_load(const char *desc) {
  sma_t *a;
  if (sma_parse(&a, NULL, desc) != 0 || sma_load(a) != 0) return 1;
  int ok = ((volatile unsigned char *)sma_data(a))[sma_nbytes(a) - 1] == 0x5a;
  sma_free(a);
  return ok ? 0 : 1;
}

int handoff_child_pipe(size_t bytes) {
#if defined(_WIN32)
  (void)bytes;
  return 1;
#else
  static unsigned char buf[1 << 16];
  size_t got = 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) got += (size_t)n;
  return got == bytes ? 0 : 1;
#endif
}

int bench_handoff(const config_t *c, const char *name) {
#if defined(_WIN32)
  (void)c;
  (void)name;
#else
  size_t hshape[1] = {c->handoff_bytes};
  sma_t *h;
  char desc[512], what[128];
  unsigned char *bytes = malloc(c->handoff_bytes);
  if (bytes == NULL) return fail("hand-off buffer", 0);
  memset(bytes, 0x5a, c->handoff_bytes);
  int rc;
  if ((rc = sma_new(&h,
                    &(sma_array_desc_t){
                        .name = name, .ndim = 1, .shape = hshape, .dtype = SMA_UINT8})) != 0 ||
      (rc = sma_create(h, SMA_CREATE_PREFAULT)) != 0 ||
      (rc = sma_describe(h, desc, &(size_t){sizeof desc})) != 0) {
    free(bytes);
    return fail("hand-off setup", rc);
  }
  memset(sma_data(h), 0x5a, c->handoff_bytes);
  double a, b;
  rc = compare(c, handoff_sma, desc, handoff_pipe, bytes, &a, &b);
  sma_free(h);
  sma_unlink(name);
  free(bytes);
  if (rc != 0) return fail("hand-off", 0);
  snprintf(what, sizeof what, "hand-off of %zu MiB to a child (descriptor: %zu bytes)",
           c->handoff_bytes >> 20, strlen(desc));
  row(what, a * 1e3, b * 1e3, "ms", 0, "the bytes through a pipe");
#endif
  return 0;
}
