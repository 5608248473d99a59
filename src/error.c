/* Error codes: messages and names generated from SMA_ERRNO_MAP, and the
 * OS's reasons behind SMA_EOS and friends. */
#include "sma_int.h"

const char *sma_strerror(int err) {
  switch (err) {
  case SMA_OK: return "success";
#define SMA__ERR_MSG(name, value, msg)                                                             \
  case SMA_##name: return msg;
    SMA_ERRNO_MAP(SMA__ERR_MSG)
#undef SMA__ERR_MSG
  default: return "unknown error";
  }
}

const char *sma_err_name(int err) {
  switch (err) {
  case SMA_OK: return "SMA_OK";
#define SMA__ERR_NAME(name, value, msg)                                                            \
  case SMA_##name: return "SMA_" #name;
    SMA_ERRNO_MAP(SMA__ERR_NAME)
#undef SMA__ERR_NAME
  default: return "SMA_EUNKNOWN";
  }
}

unsigned sma_version(void) {
  return SMA_VERSION_MAJOR * 10000u + SMA_VERSION_MINOR * 100u + SMA_VERSION_PATCH;
}

int sma_last_os_error(void) { return sma__os_last_error(); }

int sma_os_strerror(int os_err, char *buf, size_t *size) {
  sma__text_t out;
  int rc = sma__text_begin(&out, buf, size);
  if (rc != 0) return rc;
  char text[256] = "no OS error";
  if (os_err != 0) sma__os_error_text(os_err, text, sizeof text);
  sma__text_put(&out, text);
  return sma__text_end(&out, size);
}

int sma__named_result(int rc, int os_err) {
  if (rc != 0) sma__os_set_last_error(os_err);
  return rc;
}
