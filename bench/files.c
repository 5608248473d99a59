/*
 * sma_bench section "files": `sma save` and `sma load` against NumPy on
 * the same .npy file (float32, half of --handoff-mb: 512 MiB by default).
 * save: the whole `sma save NAME FILE` command (start, attach, write)
 * against np.save of an array NumPy holds; load: the whole `sma load FILE
 * NAME` command (read into a new segment) against np.load + a copy into a
 * new SharedMemory, which is what Python needs to share the array.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct files_ctx {
  const char *name; /* the segment saved; loads create `load_name` */
  char load_name[SMA_NAME_BUF];
  char path[512];
  size_t elements;
} files_ctx_t;

/* Wall seconds of one `sma` command (its output discarded), or -1. */
static double timed_sma(const config_t *c, const char *command, const char *from, const char *to) {
  char cmd[1200];
  const char *argv[] = {c->sma, command, from, to, NULL};
  if (shell_command(cmd, sizeof cmd, argv) != 0) return -1;
  double t0 = proc_now();
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  char sink[256];
  while (fgets(sink, sizeof sink, p) != NULL) {}
  return pclose(p) == 0 ? proc_now() - t0 : -1;
}

static double save_sma(const config_t *c, void *ctx) {
  const files_ctx_t *f = ctx;
  return timed_sma(c, "save", f->name, f->path);
}

/* np.save of an array NumPy holds (files_save.py). */
static double save_numpy(const config_t *c, void *ctx) {
  const files_ctx_t *f = ctx;
  char elements[32];
  snprintf(elements, sizeof elements, "%zu", f->elements);
  const char *args[] = {elements, f->path, NULL};
  double t;
  return python_numbers(c, "files_save.py", args, &t, 1) == 0 ? t : -1;
}

static double load_sma(const config_t *c, void *ctx) {
  files_ctx_t *f = ctx;
  double t = timed_sma(c, "load", f->path, f->load_name);
  return sma_unlink(f->load_name) == 0 ? t : -1;
}

/* np.load and a copy into a new SharedMemory (files_load.py). */
static double load_numpy(const config_t *c, void *ctx) {
  const files_ctx_t *f = ctx;
  const char *args[] = {f->path, f->load_name, NULL};
  double t;
  return python_numbers(c, "files_load.py", args, &t, 1) == 0 ? t : -1;
}

int bench_files(const config_t *c, const char *name) {
  if (!wanted(c, "files")) return 0;
  if (c->python[0] == '\0' || c->sma[0] == '\0') {
    printf("| sma save/load vs NumPy | — | — | — | — | no python3 or no sma command |\n");
    return 0;
  }
  files_ctx_t f;
  memset(&f, 0, sizeof f);
  f.name = name;
  f.elements = c->handoff_bytes / 2 / sizeof(float);
  const char *tmp = getenv("TMPDIR");
  snprintf(f.path, sizeof f.path, "%s/%s.npy", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);
  int rc = sma_build_name("benchload", f.load_name, &(size_t){sizeof f.load_name});
  size_t shape[1] = {f.elements};
  sma_t *a = NULL;
  if (rc == 0)
    rc = sma_new(
        &a, &(sma_array_desc_t){.name = name, .ndim = 1, .shape = shape, .dtype = SMA_FLOAT32});
  if (rc == 0) rc = sma_create(a, 0);
  if (rc != 0) {
    sma_free(a);
    return fail("files setup", rc);
  }
  use_array(sma_data(a), sma_nbytes(a), 1);
  double x, y;
  char what[160];
  rc = compare(c, save_sma, &f, save_numpy, &f, &x, &y);
  if (rc == 0) {
    snprintf(what, sizeof what, "sma save vs np.save: %zu MiB float32 .npy", sma_nbytes(a) >> 20);
    row(what, x * 1e3, y * 1e3, "ms", 1.0, "np.save of an array in memory");
    rc = compare(c, load_sma, &f, load_numpy, &f, &x, &y);
  }
  if (rc == 0) {
    snprintf(what, sizeof what, "sma load vs np.load + copy: %zu MiB float32 .npy",
             sma_nbytes(a) >> 20);
    row(what, x * 1e3, y * 1e3, "ms", 1.0, "np.load + copy into a new SharedMemory");
  }
  remove(f.path);
  sma_free(a);
  sma_unlink(name);
  return rc != 0 ? fail("files", -1) : 0;
}
