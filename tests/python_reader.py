"""Hostile records against python/sma (run by test_interop.c).

Each forged record is CRC-correct, so only the reader's own checks stand
between it and NumPy: sma.open() must raise sma.RecordError, never open an
object array (whose "pointers" come from the segment) or crash. Then a
child process creates and unlinks the same name twice and must leave no
resource-tracker traceback on stderr. Exit 0 when every check holds.
usage: python_reader.py NAME-PREFIX
"""
import os
import struct
import subprocess
import sys
import zlib
from multiprocessing import resource_tracker, shared_memory

import numpy as np

import sma

RECORD_SIZE = 640  # the record that ends every libsma segment (docs/format.md)

def patch(name, offset, data):
    """Overwrites record bytes at `offset` and re-seals the CRC."""
    shm = shared_memory.SharedMemory(name)
    resource_tracker.unregister(shm._name, "shared_memory")
    end = shm.size
    rec = bytearray(shm.buf[end - RECORD_SIZE:end])
    rec[offset:offset + len(data)] = data
    rec[636:640] = struct.pack("<I", zlib.crc32(bytes(rec[:636])))
    shm.buf[end - RECORD_SIZE:end] = bytes(rec)
    shm.close()


def expect_refused(name, what):
    try:
        with sma.open(name) as arr:
            return "%s: opened as %s" % (what, arr.dtype)
    except sma.RecordError:
        return None
    except Exception as e:  # any other exception is a reader bug too
        return "%s: %s: %s" % (what, type(e).__name__, e)


def main():
    prefix = sys.argv[1]
    failures = []
    foreign = ">f4" if np.little_endian else "<f4"
    # (b"f4" is not here: the C library, which python/sma binds, reads a
    # type code without a byte order as this machine's, float32.)
    forged = [b"|O8", b"|O", b"<U2", b"<M8[s]", b"|S4", b"|V4",
              foreign.encode(), b"\xff\xfe"]
    for i, typestr in enumerate(forged):
        name = "%s-dtype%d" % (prefix, i)
        sma.create(name, (4,), "f4").close()
        patch(name, 32, typestr.ljust(8, b"\0"))
        failures.append(expect_refused(name, "dtype %r" % typestr))
        sma.unlink(name)
    name = prefix + "-badname"
    sma.create(name, (4,), "u1").close()
    patch(name, 336, b"\xff\xfe")
    failures.append(expect_refused(name, "name not UTF-8"))
    sma.unlink(name)
    name = prefix + "-creating"
    sma.create(name, (4,), "u1").close()
    fd = os.open("/dev/shm/" + name, os.O_RDWR)
    os.fchmod(fd, 0o700)  # libsma's being-created mark
    os.close(fd)
    failures.append(expect_refused(name, "being created"))
    sma.unlink(name)
    # Twice in one process: the tracker must not be told to forget names
    # it does not know (it prints KeyError tracebacks for those).
    code = ("import sma\n"
            "for _ in range(2):\n"
            "    sma.create(%r, (8,), 'f8').close()\n"
            "    sma.unlink(%r)\n") % (prefix + "-twice", prefix + "-twice")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if child.returncode != 0 or "Traceback" in child.stderr or "KeyError" in child.stderr:
        failures.append("create/unlink twice: rc %d, stderr: %s" % (child.returncode, child.stderr))
    failures = [f for f in failures if f]
    for f in failures:
        print("FAIL", f)
    print("%d hostile records refused, %d failures" % (len(forged) + 2, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
