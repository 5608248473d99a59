# Big-endian 64-bit PowerPC Linux with Debian's gcc-powerpc64-linux-gnu,
# run under qemu-user, whose System V translation is right for this
# target (a 32-bit shm_perm.mode, unlike its s390x one).
set(SMA_CROSS_PROCESSOR ppc64)
set(SMA_CROSS_TRIPLE powerpc64-linux-gnu)
set(SMA_CROSS_EMULATOR qemu-ppc64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
