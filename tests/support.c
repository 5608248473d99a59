#include "support.h"

#include "../src/platform.h"

#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#include <process.h>
#else
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

#ifndef SMA_TEST_HELPER
#error "SMA_TEST_HELPER must name the helper executable"
#endif

void t_name(char *buf, size_t cap, const char *tag) {
  static unsigned n;
  snprintf(buf, cap, T_PREFIX "-%llu-%s-%u",
           (unsigned long long)sma__os_pid(), tag, n++);
}

int t_segment_exists(const char *name) {
  sma__os_segment_t seg;
  int os_err;
  if (sma__os_open(name, &seg, &os_err) != 0) return 0;
  sma__os_close(&seg, &os_err);
  return 1;
}

#if defined(_WIN32)
/* Quotes one argument for CommandLineToArgvW-style parsing. */
static void append_arg(char *cmd, size_t cap, const char *arg) {
  size_t len = strlen(cmd);
  snprintf(cmd + len, cap - len, "%s\"%s\"", len ? " " : "", arg);
}

int t_run(const char *const *argv) {
  char cmd[8192] = "";
  for (size_t i = 0; argv[i] != NULL; i++) append_arg(cmd, sizeof cmd, argv[i]);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
    return -1;
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = (DWORD)-1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return (int)code;
}
#else
int t_run(const char *const *argv) {
  pid_t pid;
  if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
    return -1;
  int status;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

int t_run_helper(const char *const *args) {
  const char *argv[32];
  size_t n = 0;
  argv[n++] = SMA_TEST_HELPER;
  for (size_t i = 0; args[i] != NULL && n < 31; i++) argv[n++] = args[i];
  argv[n] = NULL;
  return t_run(argv);
}

void t_store(void *p, sma_dtype_t dtype, double value) {
  switch (dtype) {
  case SMA_BOOL: *(unsigned char *)p = value != 0; break;
  case SMA_INT8: *(int8_t *)p = (int8_t)value; break;
  case SMA_INT16: *(int16_t *)p = (int16_t)value; break;
  case SMA_INT32: *(int32_t *)p = (int32_t)value; break;
  case SMA_INT64: *(int64_t *)p = (int64_t)value; break;
  case SMA_UINT8: *(uint8_t *)p = (uint8_t)value; break;
  case SMA_UINT16: *(uint16_t *)p = (uint16_t)value; break;
  case SMA_UINT32: *(uint32_t *)p = (uint32_t)value; break;
  case SMA_UINT64: *(uint64_t *)p = (uint64_t)value; break;
  case SMA_FLOAT32: *(float *)p = (float)value; break;
  case SMA_FLOAT64: *(double *)p = value; break;
  case SMA_COMPLEX64: ((float *)p)[0] = (float)value; ((float *)p)[1] = 0; break;
  case SMA_COMPLEX128: ((double *)p)[0] = value; ((double *)p)[1] = 0; break;
  default: memset(p, 0, sma_dtype_size(dtype)); break; /* float16: unused */
  }
}

double t_load(const void *p, sma_dtype_t dtype) {
  switch (dtype) {
  case SMA_BOOL: return *(const unsigned char *)p;
  case SMA_INT8: return *(const int8_t *)p;
  case SMA_INT16: return *(const int16_t *)p;
  case SMA_INT32: return *(const int32_t *)p;
  case SMA_INT64: return (double)*(const int64_t *)p;
  case SMA_UINT8: return *(const uint8_t *)p;
  case SMA_UINT16: return *(const uint16_t *)p;
  case SMA_UINT32: return *(const uint32_t *)p;
  case SMA_UINT64: return (double)*(const uint64_t *)p;
  case SMA_FLOAT32: return *(const float *)p;
  case SMA_FLOAT64: return *(const double *)p;
  case SMA_COMPLEX64: return ((const float *)p)[0];
  case SMA_COMPLEX128: return ((const double *)p)[0];
  default: return -1;
  }
}

/* Visits every element of a view in C order. */
static size_t visit(const sma_view_t *v, double value, int store) {
  size_t total = sma_view_size(v), mismatches = 0;
  size_t idx[SMA_MAX_DIMS] = {0};
  for (size_t k = 0; k < total; k++) {
    void *p = sma_view_at(v, idx);
    if (store)
      t_store(p, v->dtype, value);
    else if (t_load(p, v->dtype) != value)
      mismatches++;
    for (size_t d = v->ndim; d-- > 0;) {
      if (++idx[d] < v->shape[d]) break;
      idx[d] = 0;
    }
  }
  return mismatches;
}

void t_fill_view(const sma_view_t *v, double value) { visit(v, value, 1); }
size_t t_count_not(const sma_view_t *v, double value) {
  return visit(v, value, 0);
}
