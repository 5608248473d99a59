#!/usr/bin/env bash
# The README's test command: installs what the build needs (Debian, as
# root), then builds and runs every test configuration:
#   POSIX backend with GCC, with Clang (shared library), with Clang under
#   ASan+UBSan; macOS's personality on Linux (POSIX) and under macOS's
#   default limits (System V); System V backend in a private IPC
#   namespace; i386 (POSIX and System V); big-endian s390x (POSIX under
#   qemu-user, System V on an s390x kernel under qemu-system) and ppc64
#   (System V, qemu-user); the
#   Windows backend cross-compiled with MinGW-w64 and run under Wine.
# Each ctest run prints its own counts; the script stops at the first
# failure. Build trees go under ${SMA_BUILD_ROOT:-build-ci}.
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
    cmake ninja-build gcc clang libclang-rt-14-dev libcriterion-dev libcjson-dev \
    pkg-config python3 python3-numpy python3-yaml python3-venv python3-pytest \
    python3-setuptools util-linux lintian dpkg-dev libopenmpi-dev openmpi-bin \
    gcc-mingw-w64-x86-64 wine wine64 yamllint doxygen binutils valgrind \
    gcc-i686-linux-gnu libc6-dev-i386-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross \
    gcc-powerpc64-linux-gnu libc6-dev-ppc64-cross \
    qemu-user qemu-system-misc cpio gzip >/dev/null
fi

step "common code includes no OS header and no backend #ifdef"
if grep -nE '^\s*#\s*include\s*<(windows|unistd|fcntl|errno|sys/|pthread|spawn|io\.h)' \
     src/*.c src/*.h || grep -nE '_WIN32|__APPLE__|__linux__|SMA_BACKEND_' src/*.c src/*.h; then
  echo "OS-specific code found in common src/ (belongs in a backend)"; exit 1
fi

step "GitHub Actions workflow is valid YAML with the expected matrix"
yamllint -d '{extends: default, rules: {line-length: {max: 120}, truthy: disable, document-start: disable}}' \
  ci/github-actions.yml
/usr/bin/python3 ci/check_workflow.py ci/github-actions.yml

# configure NAME [cmake args...]: configure and build one tree.
configure() {
  local name=$1; shift
  step "$name: configure and build"
  cmake -S . -B "$root/$name" -G Ninja -DSMA_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$root/$name" -j "$jobs"
}
run_ctest() { ctest --test-dir "$root/$1" --output-on-failure -j "$jobs"; }
# System V builds: in a private IPC namespace where unshare -i is allowed,
# so every segment there is a test's and the leftover check sees them all.
run_ctest_sysv() {
  if unshare -i true 2>/dev/null; then
    SMA_PRIVATE_IPC=1 unshare -i ctest --test-dir "$root/$1" --output-on-failure -j "$jobs"
  else
    run_ctest "$1"
  fi
}

configure gcc-posix -DCMAKE_C_COMPILER=gcc
step "gcc-posix: test"; run_ctest gcc-posix

step "gcc-posix: docs target (Doxygen, warnings are errors)"
cmake --build "$root/gcc-posix" --target docs

step "gcc-posix: valgrind memcheck of the multi-process tests (every child traced)"
for t in multiprocess cli cli_promises; do
  (cd "$root/gcc-posix" && valgrind -q --trace-children=yes --error-exitcode=99 \
     --leak-check=full --errors-for-leak-kinds=definite,indirect \
     --show-leak-kinds=definite,indirect "./tests/test_$t" --jobs 1 2>&1 | tail -1)
  echo "valgrind: test_$t clean (no invalid access, no definite or indirect leak)"
done

# The Python package as a user installs it: into a fresh virtual
# environment, offline (Debian's setuptools, no index), then its pytest
# suite against the installed copy and the C `sma` command. Debian's
# python3, which has NumPy (the first python3 on PATH may not).
step "python package: pip install ./python (offline, in a venv) and pytest"
builds=$(cd "$root" && pwd)
rm -rf "$builds/venv"
/usr/bin/python3 -m venv --system-site-packages "$builds/venv"
"$builds/venv/bin/pip" install --quiet --no-index --no-build-isolation ./python
SMA_EXPECT_INSTALLED=1 SMA_CLI="$builds/gcc-posix/sma" \
  "$builds/venv/bin/python" -m pytest -q -p no:cacheprovider python/tests

step "debian packages: cpack -G DEB, lintian, and a consumer built against them"
bash ci/debian_packages.sh "$root/deb"

configure clang-posix-shared -DCMAKE_C_COMPILER=clang -DBUILD_SHARED_LIBS=ON
step "clang-posix-shared: test"; run_ctest clang-posix-shared

configure asan-ubsan-posix -DCMAKE_C_COMPILER=clang \
  -DSMA_SANITIZER=address,undefined -DCMAKE_BUILD_TYPE=Debug
step "asan-ubsan-posix: test"; run_ctest asan-ubsan-posix

# macOS's personality on Linux (src/unix/personality.h): 30-byte names,
# page-rounded sizes, the record written through the map, no reservation,
# no O_TMPFILE, listing through the per-user index, nothing proven unused;
# with every OS call of create/load/open failing in turn. The macOS jobs
# of ci/github-actions.yml run this same configuration on Darwin.
configure gcc-posix-darwin -DCMAKE_C_COMPILER=gcc -DSMA_OS_PERSONALITY=darwin \
  -DSMA_FAULT_INJECTION=ON
step "gcc-posix-darwin: test (macOS's personality)"; run_ctest gcc-posix-darwin

# Every OS call of create/load/open failing in turn (tests/test_faults.c).
configure gcc-posix-faults -DCMAKE_C_COMPILER=gcc -DSMA_FAULT_INJECTION=ON
step "gcc-posix-faults: test"; run_ctest gcc-posix-faults
configure gcc-sysv-faults -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv -DSMA_FAULT_INJECTION=ON
step "gcc-sysv-faults: test in a private IPC namespace"
run_ctest_sysv gcc-sysv-faults

configure gcc-sysv -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv
step "gcc-sysv: test in a private IPC namespace"
if unshare -i true 2>/dev/null; then
  # Every segment in the namespace is a test's; it vanishes with the
  # namespace, pass or fail, and the last test checks none is left.
  SMA_PRIVATE_IPC=1 unshare -i bash -c \
    "ctest --test-dir '$root/gcc-sysv' --output-on-failure -j '$jobs' && ipcs -m"
  # macOS's default limits: shmmax 4 MiB, shmmni 32, shmall 1024 pages
  # (4 MiB for all segments together, hence one test at a time), with
  # macOS's personality (listing through the index, no stray walk).
  # shmseg, macOS's 8 attaches per process, has no Linux counterpart.
  configure gcc-sysv-darwin -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv \
    -DSMA_OS_PERSONALITY=darwin
  step "gcc-sysv-darwin: test under macOS's default System V limits"
  SMA_PRIVATE_IPC=1 unshare -i bash -c "echo 4194304 > /proc/sys/kernel/shmmax &&
    echo 32 > /proc/sys/kernel/shmmni && echo 1024 > /proc/sys/kernel/shmall &&
    ctest --test-dir '$root/gcc-sysv-darwin' --output-on-failure -j 1"
else
  echo "unshare -i is not permitted here: System V tests run in the shared"
  echo "namespace; the leftover check only covers segments the tests name."
  run_ctest gcc-sysv
fi

# Other ABIs, on the Criterion stand-in (no Criterion for them here):
# i386 (32-bit size_t, 64-bit off_t) runs natively, static; s390x and
# ppc64 (big-endian) run under qemu-user, which also starts the helpers.
configure i386-posix -DCMAKE_TOOLCHAIN_FILE=cmake/i686-linux-gnu.cmake -DSMA_TEST_SHIM=ON
step "i386-posix: test"; run_ctest i386-posix
configure i386-sysv -DCMAKE_TOOLCHAIN_FILE=cmake/i686-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
  -DSMA_BACKEND=sysv
step "i386-sysv: test in a private IPC namespace"
run_ctest_sysv i386-sysv
configure s390x-posix -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake -DSMA_TEST_SHIM=ON
step "s390x-posix: test under qemu-user (big-endian)"; run_ctest s390x-posix
# System V on s390x: qemu-user 7.2 (Debian 12) swaps shm_perm.mode as 16
# bits for s390x, where it is 32 (IPC_STAT of a 0700 segment reads
# 0160000000, IPC_SET writes 0), so the backend's permission protocol
# cannot run under it. The suite boots Debian's s390x kernel under
# qemu-system instead, with ctest's list of the tree's tests as its init's
# work (ci/vm_suite.sh; no emulator in front of the helpers there).
configure s390x-sysv -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
  -DSMA_BACKEND=sysv -DSMA_CROSS_EMULATOR=
step "s390x-sysv: test on an s390x kernel under qemu-system (big-endian)"
bash ci/vm_suite.sh "$root/s390x-sysv"
# System V big-endian under qemu-user too, on ppc64, whose translation is
# right.
configure ppc64-sysv -DCMAKE_TOOLCHAIN_FILE=cmake/powerpc64-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
  -DSMA_BACKEND=sysv
step "ppc64-sysv: test under qemu-user (big-endian) in a private IPC namespace"
run_ctest_sysv ppc64-sysv

configure mingw-win32 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
step "mingw-win32: test under Wine"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineboot --init >/dev/null 2>&1 || true   # first start creates the prefix
run_ctest mingw-win32

step "fuzz smoke: each libFuzzer target for ${SMA_FUZZ_SECONDS:-60} s (clang, ASan+UBSan)"
cmake -S . -B "$root/fuzz" -G Ninja -DCMAKE_C_COMPILER=clang -DSMA_BUILD_FUZZERS=ON \
  -DSMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/fuzz" -j "$jobs" >/dev/null
for t in dtype slice descriptor record view npy; do
  work=$root/fuzz/corpus-$t
  rm -rf "$work" && cp -r fuzz/corpus/$t "$work"   # the committed seeds stay as they are
  "$root/fuzz/fuzz/fuzz_$t" -max_total_time="${SMA_FUZZ_SECONDS:-60}" -print_final_stats=1 \
    -artifact_prefix="$root/fuzz/crash-$t-" "$work" > "$root/fuzz/$t.log" 2>&1 ||
    { tail -40 "$root/fuzz/$t.log"; echo "fuzz_$t found a crash"; exit 1; }
  echo "fuzz_$t: $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$root/fuzz/$t.log" \
    | grep -oE '[0-9]+') inputs, no crash, $(grep -oE 'cov: [0-9]+' "$root/fuzz/$t.log" | tail -1)"
done

step "the main job: sma demo (Release build, default size, one worker per core)"
bash ci/demo.sh

step "all test configurations passed"
