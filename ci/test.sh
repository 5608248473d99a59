#!/usr/bin/env bash
# The README's test command: installs what the build needs (Debian, as
# root), then builds and runs every test configuration. Exits non-zero on
# the first failure. Build trees go under ${SMA_BUILD_ROOT:-build-ci}.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${SMA_BUILD_ROOT:-build-ci}
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==== %s\n' "$*"; }

step "install build and test dependencies"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    cmake ninja-build gcc clang libclang-rt-14-dev libcriterion-dev \
    pkg-config python3 python3-numpy >/dev/null
fi

step "common code includes no OS header and no backend #ifdef"
if grep -nE '^\s*#\s*include\s*<(windows|unistd|fcntl|errno|sys/|pthread|spawn|io\.h)' \
     src/*.c src/*.h || grep -nE '_WIN32|__APPLE__|__linux__|SMA_BACKEND_' src/*.c src/*.h; then
  echo "OS-specific code found in common src/ (belongs in a backend)"; exit 1
fi

# configure_build_test NAME [cmake args...]
configure_build_test() {
  local name=$1; shift
  step "$name: configure, build, test"
  cmake -S . -B "$root/$name" -G Ninja -DSMA_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$root/$name" -j "$jobs"
  ctest --test-dir "$root/$name" --output-on-failure -j "$jobs"
}

configure_build_test gcc-posix -DCMAKE_C_COMPILER=gcc
configure_build_test clang-posix-shared -DCMAKE_C_COMPILER=clang -DBUILD_SHARED_LIBS=ON
configure_build_test asan-ubsan-posix -DCMAKE_C_COMPILER=clang \
  -DSMA_SANITIZER=address,undefined -DCMAKE_BUILD_TYPE=Debug

step "all test configurations passed"
