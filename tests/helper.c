/* The multi-process tests' child: one scenario per run, chosen by argv[1].
 *   fill NAME SLICE VALUE    open NAME by name through SLICE, set every
 *                            element of the view to VALUE, close
 *   check NAME SLICE VALUE   exit 0 if every element of the view is VALUE
 *   load NAME SHAPE DTYPE    load with an explicit shape ("4,5") and dtype
 *   create NAME SHAPE DTYPE  create (not unlinked: the parent cleans up)
 *   unlink NAME              unlink from this (non-creating) process
 *   stress CYCLES FILE       CYCLES times: create a registered array with
 *                            a built name, fill it with a value unique to
 *                            this process and cycle, open it again by name,
 *                            check every element, close both, clear the
 *                            registry; append each name to FILE
 *   args ARG...              exit 0 if ARG... are exactly t_tricky_args
 *   write-readonly NAME      open NAME read-only and write through it:
 *                            dies of the fault (Windows: exits with the
 *                            exception's code, e.g. 0xC0000005, without a
 *                            debugger); exit 0 means the write went in
 * Exit codes: 0 ok, 1 check failed, 10 + |SMA error| for a library error,
 * 2 usage. */
#include "sma.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lib_error(int rc) { return 10 - rc; }

#if defined(_WIN32)
#  include <windows.h>
/* An unhandled exception ends the process with its code as the exit
 * code, instead of starting a debugger. */
static LONG WINAPI exit_with_exception_code(EXCEPTION_POINTERS *e) {
  ExitProcess((UINT)e->ExceptionRecord->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}
#endif

static int write_readonly(int argc, char **argv) {
  if (argc != 3) return 2;
  sma_t *a;
  int rc = sma_open_as(&a, argv[2], NULL, 0, SMA_OPEN_READONLY);
  if (rc != 0) return lib_error(rc);
#if defined(_WIN32)
  SetErrorMode(SEM_NOGPFAULTERRORBOX);
  SetUnhandledExceptionFilter(exit_with_exception_code);
#endif
  *(volatile unsigned char *)sma_data(a) = 1;
  sma_free(a);
  return 0;
}

static int open_sliced(const char *name, const char *slice_text, sma_t **a) {
  sma_slice_t slices[SMA_MAX_DIMS];
  size_t n;
  int rc = sma_slice_parse(slices, SMA_MAX_DIMS, &n, slice_text);
  if (rc == 0) rc = sma_open(a, name, slices, n);
  return rc;
}

static int fill_or_check(int argc, char **argv, int fill) {
  if (argc != 5) return 2;
  sma_t *a;
  int rc = open_sliced(argv[2], argv[3], &a);
  if (rc != 0) return lib_error(rc);
  double value = atof(argv[4]);
  size_t bad = 0;
  if (fill)
    t_fill_view(sma_view_get(a), value);
  else
    bad = t_count_not(sma_view_get(a), value);
  rc = sma_close(a);
  sma_free(a);
  if (rc != 0) return lib_error(rc);
  return bad == 0 ? 0 : 1;
}

static int load_or_create(int argc, char **argv, int create) {
  if (argc != 5) return 2;
  size_t shape[SMA_MAX_DIMS], ndim;
  sma_dtype_t dtype;
  if (sma_shape_parse(shape, SMA_MAX_DIMS, &ndim, argv[3]) != 0) return 2;
  int rc = sma_dtype_parse(&dtype, argv[4]);
  sma_t *a = NULL;
  if (rc == 0)
    rc = sma_new(
        &a, &(sma_array_desc_t){.name = argv[2], .ndim = ndim, .shape = shape, .dtype = dtype});
  if (rc == 0) rc = create ? sma_create(a, 0) : sma_load(a);
  sma_free(a);
  return rc == 0 ? 0 : lib_error(rc);
}

static int stress(int argc, char **argv) {
  if (argc != 4) return 2;
  long cycles = atol(argv[2]);
  FILE *out = fopen(argv[3], "w");
  sma_registry_t *reg;
  if (out == NULL || sma_registry_new(&reg) != 0) return 2;
  size_t shape[1] = {512};
  int status = 0;
  for (long i = 0; i < cycles && status == 0; i++) {
    sma_t *a = NULL, *b = NULL;
    int rc = sma_create_and_register(
        &a, reg,
        &(sma_array_desc_t){.name = T_PREFIX "-st", .ndim = 1, .shape = shape, .dtype = SMA_INT64},
        0);
    if (rc == 0) {
      double value = (double)(sma_creator_pid(a) * 100000 + (uint64_t)i);
      t_fill_view(sma_view_get(a), value);
      rc = sma_open(&b, sma_name(a), NULL, 0);
      if (rc == 0 && t_count_not(sma_view_get(b), value) != 0) status = 1; /* lost write */
      fprintf(out, "%s\n", sma_name(a));
    }
    sma_free(b);
    sma_free(a);
    int cleared = sma_registry_clear(reg);
    if (rc != 0 || cleared != 0) status = lib_error(rc ? rc : cleared);
  }
  sma_registry_free(reg);
  return fclose(out) == 0 ? status : 2;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *what = argv[1];
  if (strcmp(what, "fill") == 0) return fill_or_check(argc, argv, 1);
  if (strcmp(what, "check") == 0) return fill_or_check(argc, argv, 0);
  if (strcmp(what, "load") == 0) return load_or_create(argc, argv, 0);
  if (strcmp(what, "create") == 0) return load_or_create(argc, argv, 1);
  if (strcmp(what, "stress") == 0) return stress(argc, argv);
  if (strcmp(what, "write-readonly") == 0) return write_readonly(argc, argv);
  if (strcmp(what, "args") == 0) {
    int i = 0;
    for (; t_tricky_args[i] != NULL; i++)
      if (2 + i >= argc || strcmp(argv[2 + i], t_tricky_args[i]) != 0) {
        fprintf(stderr, "helper: argument %d: got [%s], sent [%s]\n", i,
                2 + i < argc ? argv[2 + i] : "(none)", t_tricky_args[i]);
        return 1;
      }
    return 2 + i == argc ? 0 : 1;
  }
  if (strcmp(what, "unlink") == 0 && argc == 3) {
    int rc = sma_unlink(argv[2]);
    return rc == 0 ? 0 : lib_error(rc);
  }
  return 2;
}
