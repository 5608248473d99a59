#!/usr/bin/env bash
# The README's main command: installs what the build needs (Debian, as
# root), builds libsma and runs the example: a parent creates a shared
# array, a child process loads a slice of it by name and writes it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cmake ninja-build gcc >/dev/null
fi
cmake -S . -B build -G Ninja -DSMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sma_example
./build/sma_example
