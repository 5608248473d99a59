"""Compiles every C snippet of the given Markdown files against this
tree's headers, so that the docs follow the API (issue 25: every example
and doc compiles against 1.0). A snippet with its own main() is compiled
and linked as a program; a fragment is compiled inside a main(), its
`static` functions at file scope, with the placeholders it names but does
not declare (an open file, the array it writes) declared extern. A
snippet that includes sma_mpi.h is compiled only where mpi.h is found.

usage: doc_snippets.py CC INCLUDE_DIR LIBRARY [MPI_INCLUDE_DIR|-] FILE.md...
"""
import os
import re
import subprocess
import sys
import tempfile

# Names the docs' fragments use as given (what the text around them says
# they are), declared here so that the fragment itself is what compiles.
PLACEHOLDERS = """
#include <stdio.h>
extern int argc; extern char **argv;
extern sma_t *loaded, *array;
extern FILE *out_file, *in_file; extern void *whole_on_rank_0;
"""

# API misuse is an error; style warnings of a fragment are not.
FLAGS = ["-std=c11", "-Werror=implicit-function-declaration",
         "-Werror=incompatible-pointer-types", "-Werror=int-conversion",
         "-Werror=int-to-pointer-cast", "-Werror=return-type"]


def snippets(path):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"^```c\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, m.start()) + 1
        yield line, m.group(1)


def as_program(code):
    """The snippet as a translation unit, and whether it is a whole program."""
    if re.search(r"\bint main\s*\(", code):
        return code, True
    includes, statics, body = [], [], []
    depth = 0  # braces open in a static function being copied to file scope
    for line in code.splitlines():
        if line.startswith("#include"):
            includes.append(line)
        elif depth > 0 or line.startswith("static "):
            statics.append(line)
            depth += line.count("{") - line.count("}")
        else:
            body.append(line)
    returns = re.search(r"\breturn\b", "\n".join(body)) is not None
    kind = "int" if returns else "void"  # a fragment's `return 1;` is a main()'s
    source = "\n".join(["#include \"sma.h\""] + includes + [PLACEHOLDERS] + statics +
                       ["%s snippet(void);" % kind, "%s snippet(void) {" % kind] + body +
                       (["return 0;"] if returns else []) + ["}", ""])
    return source, False


def main():
    cc, include, library, mpi_include = sys.argv[1:5]
    docs = sys.argv[5:]
    failed = checked = skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for doc in docs:
            for line, code in snippets(doc):
                where = "%s:%d" % (os.path.relpath(doc), line)
                flags = FLAGS + ["-I", include]
                if "sma_mpi.h" in code:
                    if mpi_include == "-":
                        print("skipped %s: no mpi.h here" % where)
                        skipped += 1
                        continue
                    flags += ["-I", mpi_include]
                source, whole = as_program(code)
                src = os.path.join(tmp, "snippet.c")
                with open(src, "w") as f:
                    f.write(source)
                cmd = [cc] + flags + ([src, library, "-lpthread", "-o", os.path.join(tmp, "a.out")]
                                      if whole else ["-c", src, "-o", os.path.join(tmp, "a.o")])
                r = subprocess.run(cmd, capture_output=True, text=True)
                checked += 1
                if r.returncode != 0:
                    failed += 1
                    print("FAILED %s:\n%s\n--- as compiled:\n%s" % (where, r.stderr, source))
                else:
                    print("ok %s%s" % (where, " (linked)" if whole else ""))
    print("%d snippets compiled, %d failed, %d skipped" % (checked, failed, skipped))
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
