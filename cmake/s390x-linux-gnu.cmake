# Big-endian 64-bit s390x Linux with Debian's gcc-s390x-linux-gnu, run
# under qemu-user. (qemu-user 7.2 mistranslates System V's shm_perm.mode
# for s390x, so only POSIX runs here; System V runs big-endian on ppc64.)
set(SMA_CROSS_PROCESSOR s390x)
set(SMA_CROSS_TRIPLE s390x-linux-gnu)
set(SMA_CROSS_EMULATOR qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
