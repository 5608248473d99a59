#!/usr/bin/env python3
"""Checks the GitHub Actions workflow (which cannot run here) beyond YAML
syntax: the cross-OS matrix users expect is there, and every job runs the
same configure, build and test commands as ci/test.sh."""
import sys

import yaml

wf = yaml.safe_load(open(sys.argv[1]))
errors = []
jobs = wf.get("jobs", {})
on = wf.get(True, wf.get("on"))  # YAML 1.1 reads a bare `on` as True
if not on:
    errors.append("no trigger ('on')")
combos = set()
arches = set()
for name, job in jobs.items():
    if "runs-on" not in job:
        errors.append(f"{name}: no runs-on")
    for entry in job.get("strategy", {}).get("matrix", {}).get("include", []):
        combos.add((entry.get("os", "").split("-")[0], entry.get("backend"),
                    entry.get("cc", "")))
        if entry.get("arch"):
            arches.add((entry["arch"], entry.get("backend")))
    text = yaml.safe_dump(job.get("steps", []))
    for needed in ("cmake -S . -B", "cmake --build", ("ctest --test-dir", "ci/vm_suite.sh")):
        if not any(n in text for n in (needed if isinstance(needed, tuple) else (needed,))):
            errors.append(f"{name}: no '{needed}' step")
want = {("ubuntu", "posix", "gcc"), ("ubuntu", "posix", "clang"),
        ("ubuntu", "sysv", "gcc"), ("ubuntu", "sysv", "clang"),
        ("macos", "posix", "clang"), ("macos", "sysv", "clang"),
        ("windows", "win32", "msvc"), ("windows", "win32", "mingw")}
for missing in sorted(want - combos):
    errors.append(f"matrix lacks {missing}")
# The other ABIs .ci/run covers: i386 on both Unix backends, big-endian
# s390x (POSIX under qemu-user, System V in a VM) and ppc64 System V.
for missing in sorted({("i386", "posix"), ("i386", "sysv"), ("s390x", "posix"),
                       ("s390x", "sysv"), ("ppc64", "sysv")} - arches):
    errors.append(f"matrix lacks the {missing[0]} {missing[1]} job")
# macOS POSIX must run what passes here under Darwin's personality.
unix = jobs.get("unix", {}).get("strategy", {}).get("matrix", {}).get("include", [])
personality = [e.get("options", "").split() for e in unix
               if "-DSMA_OS_PERSONALITY=darwin" in e.get("options", "")]
mac = [e.get("options", "").split() for e in unix
       if e.get("os", "").startswith("macos") and e.get("backend") == "posix"]
if not personality:
    errors.append("no Linux job under -DSMA_OS_PERSONALITY=darwin")
elif [sorted(o) for o in mac] != [sorted(o for o in personality[0]
                                         if not o.startswith("-DSMA_OS_PERSONALITY"))]:
    errors.append(f"macOS POSIX options {mac} differ from the personality job's {personality[0]}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"workflow ok: {len(combos)} OS entries, {len(arches)} cross-ABI entries")
