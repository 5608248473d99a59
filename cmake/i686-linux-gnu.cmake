# 32-bit x86 Linux with Debian's gcc-i686-linux-gnu (it coexists with the
# big-endian cross compilers, unlike gcc-multilib). Static executables run
# natively on an x86-64 kernel, with no emulator.
set(SMA_CROSS_PROCESSOR i686)
set(SMA_CROSS_TRIPLE i686-linux-gnu)
set(SMA_CROSS_EMULATOR "")
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
