/* What process_services.h does the same way on every OS, over each OS's
 * own spawn and wait (process_services_posix.c, _win32.c). */
#include "process_services.h"

#include <stddef.h>

int proc_run(const char *const *argv) {
  proc_t p;
  return proc_spawn(&p, argv, -1) == 0 ? proc_wait(&p) : -1;
}
