#!/usr/bin/env bash
# Runs a cross-built test tree on a real kernel of its target, under
# qemu-system: for what qemu-user cannot emulate (System V on s390x: its
# shm_perm.mode translation is wrong). Debian's kernel for the target, an
# initramfs holding the build tree's programs at their own absolute paths
# (the tests find the helper, the `sma` command and the data files by the
# paths compiled into them), and ci/vm_init.c as init, which runs ctest's
# own list of the tree's tests and prints "N passed, N failed".
#
#   ci/vm_suite.sh BUILD_DIR
#
# BUILD_DIR was configured with cmake/s390x-linux-gnu.cmake and
# -DSMA_CROSS_EMULATOR= (no qemu-user in front of the helpers: inside the
# VM they run natively). Needs root's apt for the kernel (multiarch).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
arch=s390x triple=s390x-linux-gnu
vm=$build/vm
rm -rf "$vm/root" && mkdir -p "$vm/root"

# Debian's current kernel for the target (the metapackage names it), and
# its static busybox as /bin/sh (popen, which the benchmark uses, needs a
# shell).
if ! ls "$vm"/kernel/boot/vmlinuz-* "$vm"/kernel/bin/busybox >/dev/null 2>&1; then
  dpkg --print-foreign-architectures | grep -qx "$arch" ||
    { dpkg --add-architecture "$arch" && apt-get update -qq; }
  image=$(apt-cache depends "linux-image-$arch:$arch" | awk '/Depends: linux-image-/ {print $2; exit}')
  (cd "$vm" && rm -f ./*.deb && apt-get download "$image" "busybox-static:$arch" 2>/dev/null)
  for deb in "$vm"/*.deb; do dpkg-deb -x "$deb" "$vm/kernel"; done
fi
kernel=$(ls "$vm"/kernel/boot/vmlinuz-* | head -1)
mkdir -p "$vm/root/bin"
cp "$vm/kernel/bin/busybox" "$vm/root/bin/busybox"
ln -s busybox "$vm/root/bin/sh"

# ctest's tests whose program is one of the tree's own (host commands
# such as the compiler checks and cmake scripts stay on the host), as
# "name<TAB>directory<TAB>argv...".
ctest --test-dir "$build" --show-only=json-v1 | /usr/bin/python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    if not cmd or not os.path.realpath(cmd[0]).startswith(build + "/"):
        continue
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    cwd = props.get("WORKING_DIRECTORY", build)
    print("\t".join([t["name"], cwd] + cmd))
' "$build" > "$vm/root/manifest"
echo "vm: $(wc -l < "$vm/root/manifest") tests of $build"

# The tree's programs and the source files the tests read, at their paths.
while IFS= read -r f; do
  mkdir -p "$vm/root$(dirname "$f")" && cp "$f" "$vm/root$f"
done < <(find "$build" -path "$vm" -prune -o -path '*/CMakeFiles' -prune -o -type f -perm -u+x -print)
for f in "$src/docs/python.md" "$src/docs/sma.1" "$src"/tests/data/*; do
  mkdir -p "$vm/root$(dirname "$f")" && cp "$f" "$vm/root$f"
done
"$triple-gcc" -static -O2 -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/ci/vm_init.c" -o "$vm/root/init"
(cd "$vm/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$vm/initrd.gz"

# Boot; init powers the VM off when the suite is done.
timeout 1800 qemu-system-$arch -M s390-ccw-virtio -m 2048 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$vm/initrd.gz" -append "console=ttysclp0 panic=-1 quiet" \
  < /dev/null | tr -d '\r' | tee "$vm/console.log"
grep -qE '^vm-init: [0-9]+ passed, 0 failed$' "$vm/console.log"
