# Cross-compiling for big-endian 64-bit s390x Linux with Debian's
# gcc-s390x-linux-gnu; executables are static and run under qemu-user
# (CMAKE_CROSSCOMPILING_EMULATOR), which the tests also put in front of
# the helper processes they start. The suite runs on the Criterion
# stand-in (tests/shim).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-s390x)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
