# Cross-compiling for 32-bit x86 Linux with Debian's gcc-i686-linux-gnu
# (it coexists with the s390x cross compiler, unlike gcc-multilib).
# Executables are static, so they run on an x86-64 kernel without i386
# libraries; the suite runs on the Criterion stand-in (tests/shim).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
