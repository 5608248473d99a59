#!/usr/bin/env bash
# The ABI check (docs/abi.md): libsma's shared library, built with debug
# information, against the ABI of the last release kept in ci/abi/.
#
#   bash ci/abi_check.sh BUILD_DIR            # fail on any incompatible change
#   bash ci/abi_check.sh BUILD_DIR --update   # at a release: record its ABI
#
# BUILD_DIR is a build tree of this machine's native gcc with
# -DCMAKE_BUILD_TYPE=Debug (types come from DWARF). Added functions are
# compatible (a minor release may add them) and are listed; anything else
# abidiff reports -- a removed or changed function, a public struct that
# grew, shrank or moved a member, a changed parameter -- fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bash ci/abi_check.sh BUILD_DIR [--update]}
baseline=ci/abi/libsma-$(uname -m).abi
lib=$build/libsma.so

cmake --build "$build" --target sma_shared >/dev/null
if [ "${2:-}" = --update ]; then
  abidw --headers-dir include --drop-private-types --short-locs --no-corpus-path "$lib" > "$baseline"
  echo "abi: recorded $baseline from $lib"; exit 0
fi
if [ ! -f "$baseline" ]; then
  echo "abi: no baseline for $(uname -m) ($baseline): nothing to compare with, skipped"
  exit 0
fi
status=0
abidiff --no-added-syms --headers-dir2 include "$baseline" "$lib" || status=$?
if [ "$status" -ne 0 ]; then
  echo "abi: INCOMPATIBLE with the last release's ABI ($baseline, abidiff status $status):"
  echo "abi: a change like this needs a new major version (docs/abi.md)"
  exit 1
fi
added=$(abidiff --headers-dir2 include "$baseline" "$lib" | grep -cE "^  \[A\] " || true)
echo "abi: compatible with $baseline ($added function(s) added since)"
