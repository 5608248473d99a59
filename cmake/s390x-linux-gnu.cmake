# Big-endian 64-bit s390x Linux with Debian's gcc-s390x-linux-gnu, run
# under qemu-user. qemu-user 7.2 mistranslates System V's shm_perm.mode
# for s390x, so the System V build is configured with
# -DSMA_CROSS_EMULATOR= (none) and runs on an s390x kernel under
# qemu-system instead (ci/vm_suite.sh).
set(SMA_CROSS_PROCESSOR s390x)
set(SMA_CROSS_TRIPLE s390x-linux-gnu)
if(NOT DEFINED SMA_CROSS_EMULATOR)
  set(SMA_CROSS_EMULATOR qemu-s390x)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
