#!/usr/bin/env bash
# ctest's `consumer` test: installs the build tree into a scratch prefix,
# then builds and runs tests/consumer against it four ways: CMake
# find_package (shared, then static with SMA_USE_STATIC) and plain cc with
# pkg-config (shared, then the static archive with --static flags).
# usage: run.sh BUILD_DIR C_COMPILER
set -euo pipefail
build=$1 cc=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$build/consumer
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libsma.so' | head -1)")
test -f "$prefix/include/sma.h"
test -f "$libdir/libsma.a"
ls "$prefix"/share/man/man1/sma.1* >/dev/null   # sma.1.gz where gzip exists
"$prefix/bin/sma" --version
major=$(sed -n 's/^#define SMA_VERSION_MAJOR \([0-9]*\).*/\1/p' "$prefix/include/sma.h")
readelf -d "$libdir/libsma.so" | grep SONAME | grep -qF "[libsma.so.$major]" # SONAME: the major

for linkage in shared static; do
  use_static=$([ $linkage = static ] && echo ON || echo OFF)
  cmake -S "$here" -B "$work/cmake-$linkage" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DSMA_USE_STATIC=$use_static >/dev/null
  cmake --build "$work/cmake-$linkage" >/dev/null
  LD_LIBRARY_PATH=$libdir "$work/cmake-$linkage/consumer"
done
if ldd "$work/cmake-static/consumer" | grep -q libsma; then
  echo "the static consumer links libsma dynamically"; exit 1
fi

export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
"$cc" -std=c11 "$here/main.c" $(pkg-config --cflags --libs sma) -o "$work/pc-shared"
LD_LIBRARY_PATH=$libdir "$work/pc-shared"
# shellcheck disable=SC2046
"$cc" -std=c11 -DSMA_STATIC "$here/main.c" $(pkg-config --cflags sma) "$libdir/libsma.a" \
  $(pkg-config --libs-only-l --static sma | sed 's/-lsma\b//') -o "$work/pc-static"
"$work/pc-static"
# sma::mpi, where the tree has it: an MPI program (tests/mpi_check.c)
# built with find_package(sma COMPONENTS mpi) and run on 2 ranks.
if [ -f "$prefix/include/sma_mpi.h" ] && command -v mpiexec >/dev/null; then
  mkdir -p "$work/mpi-src"
  cp "$here/../mpi_check.c" "$work/mpi-src/main.c"
  cat > "$work/mpi-src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(sma_mpi_consumer C)
find_package(sma 1.0 CONFIG REQUIRED COMPONENTS mpi)
add_executable(mpi_consumer main.c)
target_link_libraries(mpi_consumer PRIVATE sma::mpi)
CMAKE
  cmake -S "$work/mpi-src" -B "$work/mpi-build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/mpi-build" >/dev/null
  root_flags=$([ "$(id -u)" = 0 ] && echo --allow-run-as-root || true)
  LD_LIBRARY_PATH=$libdir SMA_MPI_RANKS_PER_NODE=1 mpiexec -n 2 --oversubscribe $root_flags \
    "$work/mpi-build/mpi_consumer" layouts consumer-mpi | tail -1
fi
echo "consumer: find_package and pkg-config builds all ran"
