#!/usr/bin/env python3
"""Writes docs/performance.md's table from one run of sma_bench.

    python3 bench/performance_doc.py --bench BUILD/sma_bench [--doc docs/performance.md]
                                     [--output PATH] [-- SMA_BENCH_OPTIONS...]

runs sma_bench with the options after `--`, and replaces what lies between
the two markers of the document (BEGIN and END below) with the run's
conditions (date, command, machine, load average before and after, the
/dev/shm mount) and the table sma_bench printed. The prose around the
markers is written by hand and cites rows by name, so a new run never
leaves it quoting numbers of an older table. With --output the document is
left as it is and the result written there (ctest's bench_smoke does so
with --quick). sma_bench's output is also printed, as it ran.

The table is sma_bench's own output, copied unchanged: a run that fails,
or prints no table, leaves the document as it was and exits non-zero.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys

BEGIN = "<!-- begin: written by bench/performance_doc.py from one sma_bench run -->"
END = "<!-- end: written by bench/performance_doc.py -->"


def load_average():
    try:
        return "%.1f" % os.getloadavg()[0]
    except OSError:
        return "unknown"


def dev_shm_mount():
    """The options /dev/shm is mounted with (Linux), or None: the last
    mount on it, the one that hides the others."""
    found = None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) >= 4 and fields[1] == "/dev/shm":
                    found = "%s %s" % (fields[2], fields[3])
    except OSError:
        pass
    return found


def run_bench(bench, options):
    """sma_bench's standard output; raises on failure."""
    result = subprocess.run([bench] + options, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError("%s exited with %d:\n%s" % (bench, result.returncode, result.stderr))
    return result.stdout


def table_of(output):
    """The machine line, the table and sma_bench's closing line, as printed."""
    lines = output.splitlines()
    machine = [line for line in lines if line.startswith("machine: ")]
    rows = [line for line in lines if line.startswith("| ")]
    closing = [line for line in lines if line.startswith("sma_bench: ")]
    if len(machine) != 1 or len(rows) < 3 or not re.match(r"\| benchmark \|", rows[0]):
        raise RuntimeError("sma_bench printed no table:\n" + output)
    return machine[0], rows, closing


def generated_block(options, load_before, output):
    """The text between the markers, the markers included."""
    machine, rows, closing = table_of(output)
    mount = dev_shm_mount()
    conditions = "Run on %s (UTC) as `%s`, load average %s before and %s after%s." % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        " ".join(["sma_bench"] + options), load_before, load_average(),
        "; `/dev/shm`: %s" % mount if mount else "")
    return "\n".join([BEGIN, "", conditions, "", machine, ""] + rows + [""] + closing + ["", END])


def replace_block(text, block):
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise RuntimeError("the document has no markers:\n%s\n%s" % (BEGIN, END))
    return text[:start] + block + text[stop + len(END):]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", required=True, help="the sma_bench program")
    parser.add_argument("--doc", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                      "performance.md"))
    parser.add_argument("--output", help="where to write the result (default: the document)")
    parser.add_argument("options", nargs="*", help="sma_bench's options (after --)")
    args = parser.parse_args()
    with open(args.doc, encoding="utf-8") as doc:
        text = doc.read()
    load_before = load_average()
    try:
        replace_block(text, "")  # the markers are there before the run is spent
        output = run_bench(args.bench, args.options)
        print(output, end="")
        new_text = replace_block(text, generated_block(args.options, load_before, output))
    except RuntimeError as error:
        print("performance_doc.py: %s" % error, file=sys.stderr)
        return 1
    output_path = args.output or args.doc
    with open(output_path, "w", encoding="utf-8") as out:
        out.write(new_text)
    print("performance_doc.py: %s written" % output_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
