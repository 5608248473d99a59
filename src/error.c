/* Error codes: messages and names generated from SMA_ERRNO_MAP. */
#include "sma.h"

const char *sma_strerror(int err) {
  switch (err) {
  case SMA_OK: return "success";
#define SMA__ERR_MSG(name, value, msg) case SMA_##name: return msg;
    SMA_ERRNO_MAP(SMA__ERR_MSG)
#undef SMA__ERR_MSG
  default: return "unknown error";
  }
}

const char *sma_err_name(int err) {
  switch (err) {
  case SMA_OK: return "SMA_OK";
#define SMA__ERR_NAME(name, value, msg) case SMA_##name: return "SMA_" #name;
    SMA_ERRNO_MAP(SMA__ERR_NAME)
#undef SMA__ERR_NAME
  default: return "SMA_EUNKNOWN";
  }
}

unsigned sma_version(void) {
  return SMA_VERSION_MAJOR * 10000u + SMA_VERSION_MINOR * 100u +
         SMA_VERSION_PATCH;
}
