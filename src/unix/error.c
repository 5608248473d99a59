/*
 * OS error numbers on Unix (both backends): the thread's errno as the one
 * place a call that takes a name leaves its OS reason, and the text that
 * describes a number. XSI strerror_r (no _GNU_SOURCE here), so the
 * message is thread-safe and the same call on every Unix.
 */
#define _POSIX_C_SOURCE 200809L
#include "../platform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sma__os_last_error(void) { return errno; }

void sma__os_set_last_error(int os_err) { errno = os_err; }

/* The symbolic names of the errors a shared-memory call can meet; NULL
 * for another number (then the text gives the number). */
static const char *error_name(int e) {
  static const struct {
    int value;
    const char *name;
  } names[] = {
      {EPERM, "EPERM"},     {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},
      {EINTR, "EINTR"},     {EIO, "EIO"},         {ENXIO, "ENXIO"},
      {EBADF, "EBADF"},     {EAGAIN, "EAGAIN"},   {ENOMEM, "ENOMEM"},
      {EACCES, "EACCES"},   {EFAULT, "EFAULT"},   {EBUSY, "EBUSY"},
      {EEXIST, "EEXIST"},   {EXDEV, "EXDEV"},     {ENODEV, "ENODEV"},
      {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},   {EINVAL, "EINVAL"},
      {ENFILE, "ENFILE"},   {EMFILE, "EMFILE"},   {ETXTBSY, "ETXTBSY"},
      {EFBIG, "EFBIG"},     {ENOSPC, "ENOSPC"},   {EROFS, "EROFS"},
      {EMLINK, "EMLINK"},   {ERANGE, "ERANGE"},   {ENAMETOOLONG, "ENAMETOOLONG"},
      {ENOSYS, "ENOSYS"},   {ELOOP, "ELOOP"},     {EOVERFLOW, "EOVERFLOW"},
      {EIDRM, "EIDRM"},     {ENOTSUP, "ENOTSUP"}, {EOPNOTSUPP, "EOPNOTSUPP"},
      {EDQUOT, "EDQUOT"},   {ESTALE, "ESTALE"},   {ENOTEMPTY, "ENOTEMPTY"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].value == e) return names[i].name;
  return NULL;
}

void sma__os_error_text(int os_err, char *buf, size_t cap) {
  char message[200];
  if (strerror_r(os_err, message, sizeof message) != 0)
    snprintf(message, sizeof message, "unknown error");
  const char *name = error_name(os_err);
  if (name != NULL)
    snprintf(buf, cap, "%s: %s", name, message);
  else
    snprintf(buf, cap, "errno %d: %s", os_err, message);
}
