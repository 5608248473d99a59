"""Python access to libsma segments, by name alone.

libsma (a C library) puts an array at offset 0 of a POSIX shared-memory
segment and a 640-byte metadata record at the end of the page-rounded
segment: magic, format version, dtype, shape, creator, name, CRC-32. This
module reads that record so a Python worker can open an array knowing only
its name, and writes it so a C worker can do the same with sma_open():

    import sma
    with sma.open("1-job-...") as arr:          # a numpy.ndarray view
        arr[10:20] *= 2
    with sma.create("from-python", (512, 512), "float32") as arr:
        arr[...] = 0

Only the POSIX backend's segments are reachable from Python
(multiprocessing.shared_memory). Segments are never unlinked on close;
call sma.unlink(name). Python's resource tracker, which would unlink every
segment a process touched when it exits (CPython gh-82300), is told to
leave these alone.
"""
import mmap
import os
import struct
import time
import zlib
from multiprocessing import resource_tracker, shared_memory

import numpy as np

RECORD_SIZE = 640
MAGIC = b"\x89SMA\r\n\x1a\n"
VERSION = 1
MAX_DIMS = 32
_HEAD = struct.Struct("<8sIIQII8sQq16s8x")  # bytes 0..80 of the record


class RecordError(ValueError):
    """The segment has no libsma record, or a damaged one."""


def _untrack(shm):
    try:
        resource_tracker.unregister(shm._name, "shared_memory")
    except Exception:  # pragma: no cover - trackers differ across versions
        pass


def read_record(buf):
    """Decodes and checks the record at the end of a segment's buffer.

    Returns a dict with dtype, shape, nbytes, creator_pid, created_ns and
    name; raises RecordError if there is none or it does not check out."""
    if len(buf) < RECORD_SIZE:
        raise RecordError("segment too small for a libsma record")
    rec = bytes(buf[len(buf) - RECORD_SIZE:])
    (magic, version, size, nbytes, ndim, flags, typestr, pid, created,
     _boot) = _HEAD.unpack_from(rec)
    if magic != MAGIC:
        raise RecordError("no libsma record (not made by libsma)")
    crc, = struct.unpack_from("<I", rec, 636)
    if version != VERSION or size != RECORD_SIZE or crc != zlib.crc32(rec[:636]):
        raise RecordError("corrupt libsma record")
    if ndim > MAX_DIMS or flags != 0:
        raise RecordError("corrupt libsma record")
    shape = struct.unpack_from("<%dQ" % MAX_DIMS, rec, 80)[:ndim]
    dtype = np.dtype(typestr.rstrip(b"\0").decode("ascii"))
    name = rec[336:592].split(b"\0", 1)[0].decode("utf-8")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != nbytes or \
            nbytes > len(buf) - RECORD_SIZE:
        raise RecordError("corrupt libsma record")
    return {"dtype": dtype, "shape": tuple(shape), "nbytes": nbytes,
            "creator_pid": pid, "created_ns": created, "name": name}


def _record_bytes(name, shape, dtype):
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    head = _HEAD.pack(MAGIC, VERSION, RECORD_SIZE, nbytes, len(shape), 0,
                      dtype.str.encode("ascii"), os.getpid(), time.time_ns(),
                      b"\0" * 16)
    body = head + struct.pack("<%dQ" % MAX_DIMS, *(list(shape) + [0] * (MAX_DIMS - len(shape))))
    body += name.encode("utf-8").ljust(256, b"\0") + b"\0" * 44
    return body + struct.pack("<I", zlib.crc32(body))


class SharedArray:
    """An open segment: `.array` is the ndarray view, `.record` the record.
    Use as a context manager, or call close(); close() never unlinks."""

    def __init__(self, shm, record):
        self._shm = shm
        self.record = record
        self.name = record["name"]
        self.array = np.ndarray(record["shape"], record["dtype"], buffer=shm.buf)

    def close(self):
        self.array = None
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    def __enter__(self):
        return self.array

    def __exit__(self, *exc):
        self.close()


def open(name):  # noqa: A001 - the module's verb, as in sma_open()
    """Opens a libsma segment by name alone; shape and dtype come from its
    record. Raises FileNotFoundError, or RecordError for a segment that
    libsma did not make or whose record is damaged."""
    shm = shared_memory.SharedMemory(name)
    _untrack(shm)
    try:
        record = read_record(shm.buf)
        if record["name"] != name:
            raise RecordError("record names another segment")
        return SharedArray(shm, record)
    except Exception:
        shm.close()
        raise


def create(name, shape, dtype):
    """Creates a segment laid out as libsma does (array, padding, record at
    the end of the page-rounded size), exclusively and owner-only, so C's
    sma_open(name) finds it. Returns a SharedArray (zero-filled)."""
    dtype = np.dtype(dtype)
    if dtype.byteorder == ">" or dtype.byteorder == "=" and np.little_endian is False:
        raise ValueError("libsma arrays use the machine's byte order")
    dtype = dtype.newbyteorder("=")
    shape = tuple(int(d) for d in shape)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    padded = (nbytes + 63) // 64 * 64
    size = (padded + RECORD_SIZE + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    shm = shared_memory.SharedMemory(name, create=True, size=size)  # O_EXCL, 0600
    _untrack(shm)
    shm.buf[size - RECORD_SIZE:size] = _record_bytes(name, shape, dtype)
    return SharedArray(shm, read_record(shm.buf))


def unlink(name):
    """Removes the name, like sma_unlink(); mappings stay valid."""
    shm = shared_memory.SharedMemory(name)
    _untrack(shm)
    shm.close()
    shm.unlink()
