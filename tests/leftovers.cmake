# Fails if a test left a segment behind. POSIX: /dev/shm/smatest*.
# Other backends add their own listing here.
if(BACKEND STREQUAL "posix" AND EXISTS /dev/shm)
  file(GLOB _left /dev/shm/smatest*)
  if(_left)
    message(FATAL_ERROR "segments left behind: ${_left}")
  endif()
  message(STATUS "no test segment left in /dev/shm")
endif()
