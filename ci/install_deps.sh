#!/usr/bin/env bash
# Installs what every test configuration of ci/test.sh needs, from
# Debian's packages (as root; elsewhere it says what it skipped). Run by
# ci/test.sh before anything else; safe to run again.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install: not root on a Debian-like system: packages are not installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
packages=(
  # the build and the Criterion suite
  cmake ninja-build gcc clang libclang-rt-14-dev libcriterion-dev libcjson-dev pkg-config
  # NumPy interop, the Python package, the workflow check
  python3 python3-numpy python3-yaml python3-venv python3-pytest python3-setuptools yamllint
  # namespaces (unshare, nsenter, setpriv), the Debian packages, the docs, memcheck
  util-linux iproute2 lintian dpkg-dev doxygen binutils valgrind
  # the formatting check (the style is clang-format 14's reading of .clang-format)
  clang-format-14 git
  # the ABI check (abidw, abidiff); the Boost.Interprocess rows of sma_bench
  abigail-tools g++ libboost-dev
  # sma::mpi
  libopenmpi-dev openmpi-bin
  # Windows under Wine; i386, s390x and ppc64 cross builds, qemu-user and qemu-system
  gcc-mingw-w64-x86-64 wine wine64
  gcc-i686-linux-gnu libc6-dev-i386-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross
  gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross
  qemu-user qemu-system-misc cpio gzip
)
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install: ${#packages[@]} packages present"
