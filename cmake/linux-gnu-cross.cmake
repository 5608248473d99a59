# What every cross build of this project shares: Debian's
# <triple>-gcc, the target's libraries under /usr/<triple>, static
# executables (so they run without the target's shared libraries, natively
# or under qemu-user), and the emulator, if any, in front of every target
# program (CMAKE_CROSSCOMPILING_EMULATOR; the tests and the demo also put
# it in front of the helper processes they start). The suite runs on the
# Criterion stand-in (tests/shim). Included by the per-target files, which
# set SMA_CROSS_PROCESSOR, SMA_CROSS_TRIPLE and SMA_CROSS_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SMA_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${SMA_CROSS_TRIPLE}-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/${SMA_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
if(SMA_CROSS_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SMA_CROSS_EMULATOR})
endif()
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
