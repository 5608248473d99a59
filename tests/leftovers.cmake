# Fails if a test left a segment behind.
#  posix: any /dev/shm/smatest* or /dev/shm/*-smatest-* file.
#  sysv:  run inside a private IPC namespace (SMA_PRIVATE_IPC=1, set by
#         ci/test.sh under `unshare -i`), where every segment is a test's:
#         /proc/sysvipc/shm must list none.
#  win32: Windows deletes a mapping with its last handle, so nothing can
#         outlive the test processes; there is nothing to list.
if(BACKEND STREQUAL "posix" AND EXISTS /dev/shm)
  # Names the tests chose, and names sma_build_name() made with their
  # prefix ("<counter>-smatest-...").
  file(GLOB _left /dev/shm/smatest* /dev/shm/*-smatest-*)
  if(_left)
    message(FATAL_ERROR "segments left behind: ${_left}")
  endif()
  message(STATUS "no test segment left in /dev/shm")
elseif(BACKEND STREQUAL "sysv")
  if(NOT "$ENV{SMA_PRIVATE_IPC}" STREQUAL "1")
    message(STATUS "not in a private IPC namespace: other programs' System V "
                   "segments cannot be told apart; nothing checked")
    return()
  endif()
  file(STRINGS /proc/sysvipc/shm _lines)
  list(LENGTH _lines _n)
  if(_n GREATER 1)
    message(FATAL_ERROR "System V segments left behind:\n${_lines}")
  endif()
  message(STATUS "no System V segment left in this IPC namespace")
else()
  message(STATUS "${BACKEND}: segments cannot outlive the test processes")
endif()
