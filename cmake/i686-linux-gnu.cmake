# 32-bit x86 Linux with Debian's gcc-i686-linux-gnu (it coexists with the
# big-endian cross compilers, unlike gcc-multilib). Static executables run
# natively on an x86-64 kernel that executes i386 programs; on one that
# does not (IA32 emulation left out, or disabled at boot with
# ia32_emulation=0), configure with -DSMA_CROSS_EMULATOR=qemu-i386 and
# every program and helper runs under qemu-user (ci/test.sh probes which).
set(SMA_CROSS_PROCESSOR i686)
set(SMA_CROSS_TRIPLE i686-linux-gnu)
if(NOT DEFINED SMA_CROSS_EMULATOR)
  set(SMA_CROSS_EMULATOR "")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
