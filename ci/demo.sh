#!/usr/bin/env bash
# The README's main command: installs what the build needs (Debian, as
# root), builds libsma and the `sma` command in Release mode, and runs the
# main job, `sma demo`: a 4096 x 4096 float32 raster blurred in shared
# memory by one worker process per core, checked bit for bit against a
# single-process run. Extra arguments go to `sma demo` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cmake ninja-build gcc >/dev/null
fi
cmake -S . -B build-demo -G Ninja -DSMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-demo --target sma_cli sma_example >/dev/null
exec ./build-demo/sma demo "$@"
