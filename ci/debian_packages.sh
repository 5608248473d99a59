#!/usr/bin/env bash
# Debian packages, as ci/test.sh builds and checks them (root, Debian):
# a system-layout Release build with Debian's hardening flags, `cpack -G
# DEB` (libsmaN for major version N, libsma-dev, sma-tools:
# cmake/packaging.cmake) and
# python3-libsma (dpkg-deb, below), lintian
# (any error fails; the remaining warnings are explained in docs/api.md),
# then the packages unpacked into a scratch root and tests/consumer built
# and run against that root with find_package (shared and static) and
# pkg-config, the packaged `sma` run, and the packaged Python module used.
#   ci/debian_packages.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$1" && mkdir -p "$1"
build=$(cd "$1" && pwd) # absolute: the consumer's CMAKE_PREFIX_PATH must be
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr \
    -DBUILD_SHARED_LIBS=ON -DCMAKE_SKIP_INSTALL_RPATH=ON -DSMA_BUILD_TESTS=OFF \
    -DSMA_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$build" >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
# The runtime package and the SONAME are named after the major version.
major=$(sed -n 's/^#define SMA_VERSION_MAJOR \([0-9]*\).*/\1/p' "$src/include/sma.h")
runtime=libsma$major
soname=libsma.so.$major
# python3-libsma: the Python package (pure Python, Architecture: all),
# made with dpkg-deb beside CPack's three; it finds $runtime's $soname
# through the system's loader.
python_deb() {
  local version pkg=$build/python3-libsma
  version=$(dpkg-deb -f "$build/${runtime}"_*.deb Version)
  # The binding mirrors the library's structs (docs/abi.md): before 1.0
  # only the same minor series, from 1.0 on the same major.
  local major=${version%%.*} minor rest next_abi
  rest=${version#*.}; minor=${rest%%.*}
  if [ "$major" = 0 ]; then next_abi=0.$((minor + 1)); else next_abi=$((major + 1)); fi
  rm -rf "$pkg" && mkdir -p "$pkg/DEBIAN" "$pkg/usr/lib/python3/dist-packages/sma" \
    "$pkg/usr/share/doc/python3-libsma"
  install -m 0644 "$src"/python/sma/*.py "$src"/python/sma/py.typed \
    "$pkg/usr/lib/python3/dist-packages/sma/"
  cp "$build/debian-doc/$runtime/copyright" "$pkg/usr/share/doc/python3-libsma/"
  zcat "$build/debian-doc/$runtime/changelog.gz" | sed "s/^$runtime /python3-libsma /" |
    gzip -9n > "$pkg/usr/share/doc/python3-libsma/changelog.gz"
  chmod 0644 "$pkg/usr/share/doc/python3-libsma/"*
  cat > "$pkg/DEBIAN/control" <<CONTROL
Package: python3-libsma
Version: $version
Architecture: all
Section: python
Priority: optional
Maintainer: $(dpkg-deb -f "$build/${runtime}"_*.deb Maintainer)
Depends: $runtime (>= $version), $runtime (<< $next_abi), python3:any, python3-numpy
Description: named shared-memory N-dimensional arrays for Python
 A ctypes binding of libsma with the API of gridr's SharedMemoryArray:
 NumPy arrays in named shared memory that worker processes open by
 name, with libsma's checks of names and metadata records.
CONTROL
  (cd "$pkg" && find usr -type f -exec md5sum {} + > DEBIAN/md5sums)
  dpkg-deb --root-owner-group --build "$pkg" "$build/python3-libsma_${version}_all.deb" >/dev/null
}
python_deb
debs=("$build/${runtime}"_*.deb "$build"/libsma-dev_*.deb "$build"/sma-tools_*.deb
      "$build"/python3-libsma_*.deb)
for deb in "${debs[@]}"; do
  echo "$(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done

echo "lintian (errors fail):"
lintian --fail-on error --display-level '>=warning' "${debs[@]}" 2>&1 | grep -v 'root privileges' || true
lintian --fail-on error "${debs[@]}" >/dev/null 2>&1

# What the packages promise, checked from their contents.
dpkg-deb -f "${debs[1]}" Depends | grep -q "$runtime (= $(dpkg-deb -f "${debs[0]}" Version))"
dpkg-deb -f "${debs[2]}" Depends | grep -q "$runtime"
root=$build/root
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
libdir=$(dirname "$(find "$root/usr/lib" -name "$soname" | head -1)")
readelf -d "$libdir/$soname" | grep SONAME | grep -qF "[$soname]"
if readelf -d "$root/usr/bin/sma" | grep -qE 'RPATH|RUNPATH'; then
  echo "the packaged sma carries an rpath"; exit 1
fi
LD_LIBRARY_PATH=$libdir "$root/usr/bin/sma" --version
test -f "$root/usr/share/man/man1/sma.1.gz"

consumer=$src/tests/consumer
for linkage in shared static; do
  cmake -S "$consumer" -B "$build/consumer-$linkage" -DCMAKE_PREFIX_PATH="$root/usr" \
    -DSMA_USE_STATIC=$([ $linkage = static ] && echo ON || echo OFF) >/dev/null
  cmake --build "$build/consumer-$linkage" >/dev/null
  LD_LIBRARY_PATH=$libdir "$build/consumer-$linkage/consumer"
done
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 "$consumer/main.c" $(pkg-config --cflags --libs sma) -o "$build/consumer-pc"
LD_LIBRARY_PATH=$libdir "$build/consumer-pc"
# The Python package, as installed, finds $soname through the loader.
dpkg-deb -f "${debs[3]}" Depends | grep -q "$runtime (>= "
shm=${SMA_PYTHON_DEB_NAME:-deb-py-$$}
LD_LIBRARY_PATH=$libdir PYTHONPATH=$root/usr/lib/python3/dist-packages /usr/bin/python3 -c "
import sys, sma
assert sma.library_path == sys.argv[2], sma.library_path
a = sma.create(sys.argv[1], (3,), 'f8'); a.array[:] = 2
assert sma.open(sys.argv[1]).array.sum() == 6
sma.unlink(sys.argv[1])
print('python3-libsma: sma', sma.__version__, 'on libsma', sma.library_version(), sma.backend())
" "$shm" "$soname"
echo "debian packages: built, lintian-clean of errors, and used from $root"
