#!/usr/bin/env bash
# The README's test command. With no argument: installs what the build
# needs (ci/install_deps.sh: Debian, as root), then builds and runs every
# test configuration below, in order, stopping at the first failure; the
# two that share nothing with the others (the s390x VM, Wine) run beside
# them (see `beside` at the end).
#
#   bash ci/test.sh               # everything (what .ci/run does)
#   bash ci/test.sh --list        # the configurations, one a line
#   bash ci/test.sh NAME [NAME…]  # only those, without the install step
#
# Build trees go under ${SMA_BUILD_ROOT:-build-ci}; each ctest run prints
# its own counts. SMA_FUZZ_SECONDS sets the fuzzing time (default 5 s per
# parser: a smoke run in CI; fuzz for longer by hand); SMA_I386_EMULATOR overrides the i386 probe (below).
set -euo pipefail
cd "$(dirname "$0")/.."
root=${SMA_BUILD_ROOT:-build-ci}
# Tests run the built programs as other users (uids 65534, 65533, 1000),
# who must reach the build trees: a clone under /root (0700 on Debian) or
# made under umask 077 is closed to them. Tests also hand build paths to
# LD_PRELOAD, pkg-config and mpirun's command lines, which split a path at
# a space. In either case the trees go under /var/tmp instead (one
# directory per clone). Files made here are readable.
umask 022
build_trees_elsewhere() {
  [ -z "${SMA_BUILD_ROOT+set}" ] || return 1
  case $PWD in *[!A-Za-z0-9/._+-]*)
    echo "its path has characters that command lines split on"; return 0 ;;
  esac
  if [ "$(id -u)" = 0 ] &&
    ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$PWD" 2>/dev/null; then
    echo "other users cannot reach it"; return 0
  fi
  return 1
}
if why=$(build_trees_elsewhere); then
  root=/var/tmp/libsma-build-ci-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)
  echo "ci/test.sh: $PWD: $why: the build trees go under $root" >&2
fi
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==== %s\n' "$*"; }

# configure NAME [cmake args...]: configure and build one tree.
configure() {
  local name=$1; shift
  step "$name: configure and build"
  cmake -S . -B "$root/$name" -G Ninja -DSMA_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$root/$name" -j "$jobs"
}
# run_ctest NAME [ctest args...]: NAME's tests (all, or those the args select).
run_ctest() { local name=$1; shift; ctest --test-dir "$root/$name" --output-on-failure -j "$jobs" "$@"; }
private_ipc_allowed() { unshare -i true 2>/dev/null; }
# System V builds: in a private IPC namespace where unshare -i is allowed,
# so every segment there is a test's and the leftover check sees them all.
run_ctest_sysv() {
  if private_ipc_allowed; then
    SMA_PRIVATE_IPC=1 unshare -i ctest --test-dir "$root/$1" --output-on-failure -j "$jobs" "${@:2}"
  else
    echo "unshare -i is not permitted here: System V tests run in the shared"
    echo "namespace; the leftover check only covers segments the tests name."
    run_ctest "$@"
  fi
}

# i386_emulator_choice: prints "" when this kernel runs a static i386
# program itself, else "qemu-i386". x86-64 kernels may be built without
# IA32 emulation or boot with it disabled (ia32_emulation=0): execve then
# fails with ENOEXEC, and a shell that retries the program as a script
# reports 'Syntax error: "(" unexpected'. SMA_I386_EMULATOR, when set,
# overrides the probe (e.g. SMA_I386_EMULATOR=qemu-i386 to run the
# emulated path on a kernel that would not need it).
i386_emulator_choice() {
  if [ -n "${SMA_I386_EMULATOR+set}" ]; then
    echo "i386: SMA_I386_EMULATOR='$SMA_I386_EMULATOR' (set by the caller)" >&2
    echo "$SMA_I386_EMULATOR"; return
  fi
  local probe=$root/i386-probe
  mkdir -p "$probe"
  printf '#include <stdio.h>\nint main(void) { puts("i386 runs"); return 0; }\n' > "$probe/hello.c"
  i686-linux-gnu-gcc -static -o "$probe/hello" "$probe/hello.c"
  local said
  said=$("$probe/hello" 2>&1) || true
  if [ "$said" = "i386 runs" ]; then
    echo "i386: this kernel executes i386 programs: the i386 suites run natively" >&2
    echo ""; return
  fi
  echo "i386: this kernel cannot execute i386 programs (${said:-no output}):" >&2
  echo "i386: the i386 suites run under qemu-i386 (qemu-user)" >&2
  if ! qemu-i386 "$probe/hello" | grep -qx 'i386 runs'; then
    echo "i386: qemu-i386 cannot run it either; install qemu-user" >&2; exit 1
  fi
  echo qemu-i386
}

# ---- The configurations, in the order a full run takes them -----------------

cfg_lint() {
  step "lint: common code includes no OS header and no backend #ifdef"
  if grep -nE '^\s*#\s*include\s*<(windows|unistd|fcntl|errno|sys/|pthread|spawn|io\.h)' \
       src/*.c src/*.h || grep -nE '_WIN32|__APPLE__|__linux__|SMA_BACKEND_' src/*.c src/*.h; then
    echo "OS-specific code found in common src/ (belongs in a backend)"; exit 1
  fi
  step "lint: no backend includes sma_int.h (a backend sees only the contract, src/platform.h)"
  if grep -rnE '^\s*#\s*include\s*["<]([^">]*/)?sma_int\.h[">]' src/posix src/sysv src/win32 src/unix; then
    echo "a backend includes sma_int.h: what it needs belongs in src/platform.h"; exit 1
  fi
  step "lint: every C, C++ and header file is as clang-format formats it (.clang-format)"
  # The tracked files; outside a git checkout (a tarball, or a clone git
  # will not read: another owner), every source file but the build trees'.
  local sources
  if ! sources=$(git ls-files '*.c' '*.h' '*.cpp' 2>/dev/null) || [ -z "$sources" ]; then
    echo "lint: not a git checkout git can read: formatting every source file outside build trees"
    sources=$(find . -path "./$root" -prune -o -path ./build -prune -o -type f \
      \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print)
  fi
  [ -n "$sources" ] || { echo "lint: no source file found"; exit 1; }
  # shellcheck disable=SC2086
  clang-format-14 --dry-run --Werror $sources < /dev/null
  step "lint: GitHub Actions workflow is valid YAML with the expected matrix"
  yamllint -d '{extends: default, rules: {line-length: {max: 120}, truthy: disable, document-start: disable}}' \
    ci/github-actions.yml
  /usr/bin/python3 ci/check_workflow.py ci/github-actions.yml
}

cfg_gcc_posix() {
  configure gcc-posix -DCMAKE_C_COMPILER=gcc
  step "gcc-posix: test"; run_ctest gcc-posix
  step "gcc-posix: docs target (Doxygen, warnings are errors)"
  cmake --build "$root/gcc-posix" --target docs
  # Memcheck sees reads of uninitialised memory, which ASan does not; the
  # asan-ubsan configuration covers the `sma` command's tests (test_cli
  # traced under memcheck took over 7 minutes, each child starting slowly).
  step "gcc-posix: valgrind memcheck of the multi-process tests (every child traced)"
  local t
  for t in multiprocess cli_promises; do
    (cd "$root/gcc-posix" && valgrind -q --trace-children=yes --error-exitcode=99 \
       --leak-check=full --errors-for-leak-kinds=definite,indirect \
       --show-leak-kinds=definite,indirect "./tests/test_$t" --jobs 1 2>&1 | tail -1)
    echo "valgrind: test_$t clean (no invalid access, no definite or indirect leak)"
  done
}

# The shared library's ABI against the last release's (docs/abi.md).
cfg_abi() {
  step "abi: the shared library against ci/abi/ (abidiff)"
  cmake -S . -B "$root/abi" -G Ninja -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
    -DSMA_BUILD_TESTS=OFF >/dev/null
  bash ci/abi_check.sh "$root/abi"
}

# The Python package (a ctypes binding of libsma), installed offline in a
# venv with Debian's python3 (which has NumPy; the first python3 on PATH
# may not), its pytest suite run against three builds of the library it
# binds: gcc-posix's, and a System V and a macOS-personality tree in which
# only the shared library, the sma command and sma_example (the suite's C
# side) are built.
python_library_tree() {
  local name=$1; shift
  step "$name: configure and build libsma.so, sma and sma_example"
  cmake -S . -B "$root/$name" -G Ninja -DSMA_WARNINGS_AS_ERRORS=ON -DCMAKE_C_COMPILER=gcc \
    -DBUILD_SHARED_LIBS=ON -DSMA_BUILD_TESTS=OFF "$@" >/dev/null
  cmake --build "$root/$name" -j "$jobs" --target sma_shared sma_cli sma_example
}
# python_pytest TREE [RUNNER...]: the suite against that tree's libsma.
python_pytest() {
  local tree=$builds/$1; shift
  local soname
  soname=libsma.so.$(sed -n 's/^#define SMA_VERSION_MAJOR \([0-9]*\).*/\1/p' include/sma.h)
  step "python: pytest against $tree/$soname"
  SMA_EXPECT_INSTALLED=1 SMA_LIBRARY="$tree/$soname" SMA_CLI="$tree/sma" \
    SMA_EXAMPLE="$tree/sma_example" \
    "$@" "$builds/venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
}
cfg_python() {
  [ -x "$root/gcc-posix/sma" ] || configure gcc-posix -DCMAKE_C_COMPILER=gcc
  python_library_tree python-sysv -DSMA_BACKEND=sysv
  python_library_tree python-darwin -DSMA_OS_PERSONALITY=darwin
  step "python: pip install ./python (offline, in a venv)"
  local builds
  builds=$(cd "$root" && pwd)
  rm -rf "$builds/venv"
  /usr/bin/python3 -m venv --system-site-packages "$builds/venv"
  "$builds/venv/bin/pip" install --quiet --no-index --no-build-isolation ./python
  python_pytest gcc-posix
  if private_ipc_allowed; then
    python_pytest python-sysv env SMA_PRIVATE_IPC=1 unshare -i
  else
    python_pytest python-sysv
  fi
  python_pytest python-darwin
}

cfg_deb() {
  step "deb: cpack -G DEB, lintian, and a consumer built against them"
  bash ci/debian_packages.sh "$root/deb"
}

cfg_clang_posix_shared() {
  configure clang-posix-shared -DCMAKE_C_COMPILER=clang -DBUILD_SHARED_LIBS=ON
  step "clang-posix-shared: test"; run_ctest clang-posix-shared
}

cfg_asan_ubsan_posix() {
  configure asan-ubsan-posix -DCMAKE_C_COMPILER=clang \
    -DSMA_SANITIZER=address,undefined -DCMAKE_BUILD_TYPE=Debug
  step "asan-ubsan-posix: test"; run_ctest asan-ubsan-posix
}

# ThreadSanitizer: the thread-safety contract of sma.h's conventions.
# Clang's TSan runtime maps its shadow at fixed addresses and stops with
# "unexpected memory mapping" when the kernel randomises mmap over more
# bits than it expects (vm.mmap_rnd_bits above 28 with clang 14's
# runtime): a probe program tells, and then the tests run with address
# randomisation off for them only (setarch -R). Only the tests where
# threads meet the library's state run (the others run one thread, and
# ten times slower here, for nothing): the thread test, the mapping cache,
# the name counter and the registry (test_stress, 50 s here, repeats the
# name counter's threads at length). A report
# fails the test at once (halt_on_error; the exit code is TSan's 66).
# The tests run on the Criterion stand-in (SMA_TEST_SHIM): Criterion's
# BoxFort maps its arena at a random fixed address in a range TSan keeps
# for its shadow, and most runs die at start ("Could not initialize
# inheritable arena").
tsan_launcher() {
  local probe=$root/tsan-probe
  mkdir -p "$probe"
  printf '%s\n' '#include <pthread.h>' '#include <stdio.h>' \
    'static void *run(void *p) { return p; }' \
    'int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); pthread_join(t, 0);' \
    '  puts("tsan runs"); return 0; }' > "$probe/probe.c"
  clang -fsanitize=thread -o "$probe/probe" "$probe/probe.c"
  if [ "$("$probe/probe" 2>&1)" = "tsan runs" ]; then
    echo "tsan: the TSan runtime runs here as is" >&2; return
  fi
  if [ "$(setarch "$(uname -m)" -R "$probe/probe" 2>&1)" = "tsan runs" ]; then
    echo "tsan: vm.mmap_rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null) is too many" \
         "for the TSan runtime: tests run under setarch -R" >&2
    echo "setarch $(uname -m) -R"; return
  fi
  echo "tsan: the TSan runtime cannot run here, even under setarch -R" >&2; exit 1
}
# tsan_build NAME [cmake args...]: configures NAME for TSan and builds
# only the tests named in the array `tests` and their helper.
tsan_build() {
  local name=$1; shift
  local t targets=(sma_test_helper)
  for t in "${tests[@]}"; do targets+=("test_$t"); done
  step "$name: configure and build (${tests[*]} and their helper)"
  cmake -S . -B "$root/$name" -G Ninja -DSMA_WARNINGS_AS_ERRORS=ON -DCMAKE_C_COMPILER=clang \
    -DSMA_SANITIZER=thread -DCMAKE_BUILD_TYPE=Debug -DSMA_TEST_SHIM=ON "$@" >/dev/null
  cmake --build "$root/$name" -j "$jobs" --target "${targets[@]}"
}
# tsan_run NAME [command prefix...]: runs those tests, a report failing one.
tsan_run() {
  local name=$1; shift
  step "$name: the tests where threads meet the library (${tests[*]})"
  local launcher
  launcher=$(tsan_launcher)
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" $launcher "$@" \
    ctest --test-dir "$root/$name" --output-on-failure -j "$jobs" \
      -R "^($(IFS='|'; echo "${tests[*]}"))\$"
}
cfg_tsan_posix() {
  local tests=(threads map_cache name registry)
  tsan_build tsan-posix
  tsan_run tsan-posix
}
# System V under TSan: the thread test (its mapping-cache part included;
# test_map_cache's 6,400 loads take minutes here), in a private IPC
# namespace as gcc-sysv runs where unshare -i is allowed.
cfg_tsan_sysv() {
  local tests=(threads)
  tsan_build tsan-sysv -DSMA_BACKEND=sysv
  if private_ipc_allowed; then
    SMA_PRIVATE_IPC=1 tsan_run tsan-sysv unshare -i
  else
    echo "unshare -i is not permitted here: the System V tests run in the shared namespace."
    tsan_run tsan-sysv
  fi
}

# macOS's personality on Linux (src/unix/personality.h): 30-byte names,
# page-rounded sizes, the record written through the map, no reservation,
# no O_TMPFILE, listing through the per-user index, nothing proven unused;
# with every OS call of create/load/open failing in turn. The macOS jobs
# of ci/github-actions.yml run this same configuration on Darwin.
cfg_gcc_posix_darwin() {
  configure gcc-posix-darwin -DCMAKE_C_COMPILER=gcc -DSMA_OS_PERSONALITY=darwin \
    -DSMA_FAULT_INJECTION=ON
  step "gcc-posix-darwin: test (macOS's personality)"; run_ctest gcc-posix-darwin
}

# The fault-injection build: every OS call of create/load/open failing in
# turn (tests/test_faults.c), and the pause points that widen the race
# windows of gc, names and loads. Only the tests that use them run here;
# the others, compiled the same without injection, ran in gcc-posix and
# gcc-sysv (and all of them run in gcc-posix-darwin, which injects too).
fault_tests="^(attack_names|attack_sysv|cli|faults|gc|gc_attacked|gc_revoked|gc_strays"
fault_tests+="|load_interrupted|long_names|no_leftover_segments)\$"
cfg_gcc_posix_faults() {
  configure gcc-posix-faults -DCMAKE_C_COMPILER=gcc -DSMA_FAULT_INJECTION=ON
  step "gcc-posix-faults: the tests that inject faults or pause"
  run_ctest gcc-posix-faults -R "$fault_tests"
}

cfg_gcc_sysv_faults() {
  configure gcc-sysv-faults -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv -DSMA_FAULT_INJECTION=ON
  step "gcc-sysv-faults: the tests that inject faults or pause, in a private IPC namespace"
  run_ctest_sysv gcc-sysv-faults -R "$fault_tests"
}

cfg_gcc_sysv() {
  configure gcc-sysv -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv
  step "gcc-sysv: test in a private IPC namespace"
  if private_ipc_allowed; then
    # Every segment in the namespace is a test's; it vanishes with the
    # namespace, pass or fail, and the last test checks none is left.
    SMA_PRIVATE_IPC=1 unshare -i bash -c \
      "ctest --test-dir '$root/gcc-sysv' --output-on-failure -j '$jobs' && ipcs -m"
  else
    run_ctest_sysv gcc-sysv
  fi
}

# macOS's default limits: shmmax 4 MiB, shmmni 32, shmall 1024 pages
# (4 MiB for all segments together, hence one test at a time), with
# macOS's personality (listing through the index, no stray walk). shmseg,
# macOS's 8 attaches per process, has no Linux counterpart. The limits are
# set inside a private IPC namespace, through /proc/sys, which a container
# may mount read-only: probed, and said when skipped.
cfg_gcc_sysv_darwin() {
  if ! private_ipc_allowed ||
     ! unshare -i sh -c 'echo 4194304 > /proc/sys/kernel/shmmax' 2>/dev/null; then
    step "gcc-sysv-darwin: SKIPPED: no private IPC namespace whose limits can be set"
    echo "(unshare -i refused, or /proc/sys/kernel/shmmax read-only there)"
    return
  fi
  configure gcc-sysv-darwin -DCMAKE_C_COMPILER=gcc -DSMA_BACKEND=sysv \
    -DSMA_OS_PERSONALITY=darwin
  step "gcc-sysv-darwin: test under macOS's default System V limits"
  SMA_PRIVATE_IPC=1 unshare -i bash -c "echo 4194304 > /proc/sys/kernel/shmmax &&
    echo 32 > /proc/sys/kernel/shmmni && echo 1024 > /proc/sys/kernel/shmall &&
    ctest --test-dir '$root/gcc-sysv-darwin' --output-on-failure -j 1"
}

# Other ABIs, on the Criterion stand-in (no Criterion for them here):
# i386 (32-bit size_t, 64-bit off_t) runs natively where this kernel
# executes i386 programs and under qemu-user where it does not (probed);
# s390x and ppc64 (big-endian) run under qemu-user, which also starts the
# helpers.
i386_emulator=unprobed
configure_i386() {
  [ "$i386_emulator" != unprobed ] || i386_emulator=$(i386_emulator_choice)
  local name=$1; shift
  configure "$name" -DCMAKE_TOOLCHAIN_FILE=cmake/i686-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
    "-DSMA_CROSS_EMULATOR=$i386_emulator" "$@"
}
cfg_i386_posix() {
  configure_i386 i386-posix
  step "i386-posix: test"; run_ctest i386-posix
}
cfg_i386_sysv() {
  configure_i386 i386-sysv -DSMA_BACKEND=sysv
  step "i386-sysv: test in a private IPC namespace"; run_ctest_sysv i386-sysv
}

cfg_s390x_posix() {
  configure s390x-posix -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake -DSMA_TEST_SHIM=ON
  step "s390x-posix: test under qemu-user (big-endian)"; run_ctest s390x-posix
}

# System V on s390x: qemu-user 7.2 (Debian 12) swaps shm_perm.mode as 16
# bits for s390x, where it is 32 (IPC_STAT of a 0700 segment reads
# 0160000000, IPC_SET writes 0), so the backend's permission protocol
# cannot run under it. The suite boots Debian's s390x kernel under
# qemu-system instead, with ctest's list of the tree's tests as its init's
# work (ci/vm_suite.sh; no emulator in front of the helpers there).
cfg_s390x_sysv() {
  configure s390x-sysv -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
    -DSMA_BACKEND=sysv -DSMA_CROSS_EMULATOR= -DSMA_TEST_ON_EMULATED_KERNEL=ON
  step "s390x-sysv: test on an s390x kernel under qemu-system (big-endian)"
  bash ci/vm_suite.sh "$root/s390x-sysv"
}

# System V big-endian under qemu-user too, on ppc64, whose translation is
# right.
cfg_ppc64_sysv() {
  configure ppc64-sysv -DCMAKE_TOOLCHAIN_FILE=cmake/powerpc64-linux-gnu.cmake -DSMA_TEST_SHIM=ON \
    -DSMA_BACKEND=sysv
  step "ppc64-sysv: test under qemu-user (big-endian) in a private IPC namespace"
  run_ctest_sysv ppc64-sysv
}

cfg_mingw_win32() {
  configure mingw-win32 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
  step "mingw-win32: test under Wine"
  export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  wineboot --init >/dev/null 2>&1 || true   # first start creates the prefix
  run_ctest mingw-win32
}

cfg_fuzz() {
  step "fuzz: each libFuzzer target for ${SMA_FUZZ_SECONDS:-5} s (clang, ASan+UBSan)"
  cmake -S . -B "$root/fuzz" -G Ninja -DCMAKE_C_COMPILER=clang -DSMA_BUILD_FUZZERS=ON \
    -DSMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$root/fuzz" -j "$jobs" >/dev/null
  local t work
  for t in dtype slice descriptor record view npy; do
    work=$root/fuzz/corpus-$t
    rm -rf "$work" && cp -r fuzz/corpus/$t "$work"   # the committed seeds stay as they are
    "$root/fuzz/fuzz/fuzz_$t" -max_total_time="${SMA_FUZZ_SECONDS:-5}" -print_final_stats=1 \
      -artifact_prefix="$root/fuzz/crash-$t-" "$work" > "$root/fuzz/$t.log" 2>&1 ||
      { tail -40 "$root/fuzz/$t.log"; echo "fuzz_$t found a crash"; exit 1; }
    echo "fuzz_$t: $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$root/fuzz/$t.log" \
      | grep -oE '[0-9]+') inputs, no crash, $(grep -oE 'cov: [0-9]+' "$root/fuzz/$t.log" | tail -1)"
  done
}

cfg_demo() {
  step "demo: sma demo (Release build, default size, one worker per core)"
  bash ci/demo.sh
}

configs=(lint gcc-posix abi python deb clang-posix-shared asan-ubsan-posix tsan-posix tsan-sysv
         gcc-posix-darwin
         gcc-posix-faults gcc-sysv-faults gcc-sysv gcc-sysv-darwin i386-posix i386-sysv
         s390x-posix s390x-sysv ppc64-sysv mingw-win32 fuzz demo)

run_config() {
  local name=$1 fn=cfg_${1//-/_}
  if ! declare -F "$fn" >/dev/null; then
    echo "ci/test.sh: no configuration '$name'; --list shows them" >&2; exit 2
  fi
  "$fn"
}

case "${1:-}" in
  --list) printf '%s\n' "${configs[@]}"; exit 0 ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
# Configurations that share nothing with the others run beside them in a
# full run: the s390x VM has a kernel of its own, and Wine its own
# namespace of sections and its own prefix (no /dev/shm names, System V
# segments or libsma index of the host's). On 2 cores the native suites
# leave about half the CPU idle (children waited for, the MPI tests run
# one at a time), which these two fill. Their output is printed, in one
# piece, once the others are done.
beside=(s390x-sysv mingw-win32)

# run_configs NAME...: runs each in turn, stopping at the first failure,
# then prints each one's wall time (the run's budget, CI: 30 min on 2
# cores, can be seen and kept).
run_configs() {
  local name started timings=()
  for name in "$@"; do
    started=$SECONDS
    run_config "$name"
    timings+=("$(printf '%5d s  %s' $((SECONDS - started)) "$name")")
  done
  step "wall time per configuration: $*"
  printf '%s\n' "${timings[@]}"
}

if [ $# -gt 0 ]; then
  run_configs "$@"
  step "passed: $* ($SECONDS s in all)"
  exit 0
fi

step "install build and test dependencies"
bash ci/install_deps.sh
mkdir -p "$root"
beside_log=$root/beside.log
step "${beside[*]}: started beside the others (their output follows theirs)"
set -m # the lane gets a process group of its own, ended with the run
run_configs "${beside[@]}" < /dev/null > "$beside_log" 2>&1 &
beside_pid=$!
set +m
trap 'kill -- "-$beside_pid" 2>/dev/null || true' EXIT
rest=()
for name in "${configs[@]}"; do
  [[ " ${beside[*]} " == *" $name "* ]] || rest+=("$name")
done
run_configs "${rest[@]}"
beside_rc=0
wait "$beside_pid" || beside_rc=$?
trap - EXIT
step "${beside[*]}: what they printed"
cat "$beside_log"
if [ "$beside_rc" -ne 0 ]; then
  step "FAILED: ${beside[*]} (exit $beside_rc; their output above)"
  exit "$beside_rc"
fi
step "passed: every configuration ($SECONDS s in all)"
