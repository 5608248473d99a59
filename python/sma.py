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
import stat
import struct
import time
import zlib
from multiprocessing import resource_tracker, shared_memory

import numpy as np

try:
    import _posixshmem
except ImportError:  # pragma: no cover - not a POSIX system
    _posixshmem = None

RECORD_SIZE = 640
MAGIC = b"\x89SMA\r\n\x1a\n"
VERSION = 1
MAX_DIMS = 32
_HEAD = struct.Struct("<8sIIQII8sQq16sQ")  # bytes 0..80 of the record


class RecordError(ValueError):
    """The segment has no libsma record, a damaged or hostile one, or is
    still being created."""


# Exactly libsma's dtypes, in this machine's byte order: a record is data
# from whoever can write the segment, and np.dtype() of its text would also
# accept object arrays ("|O": pointers read from the segment), strings,
# datetimes and the other byte order.
_ORDER = "<" if np.little_endian else ">"
DTYPES = frozenset(["|b1", "|i1", "|u1"] + [_ORDER + t for t in (
    "i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")])


def _untrack(shm):
    try:
        resource_tracker.unregister(shm._name, "shared_memory")
    except Exception:  # pragma: no cover - trackers differ across versions
        pass


def _decode_dtype(raw):
    try:
        text = raw.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise RecordError("corrupt libsma record: dtype is not text") from None
    if text not in DTYPES:
        raise RecordError("dtype %r is not a libsma dtype of this machine" % text)
    return np.dtype(text)


def decode_record(rec, segment_size):
    """Decodes and checks `rec`, the last RECORD_SIZE bytes of a segment of
    segment_size bytes. Returns a dict with dtype, shape, nbytes,
    creator_pid, created_ns and name; raises RecordError for anything that
    does not check out, never another exception."""
    if segment_size < RECORD_SIZE or len(rec) != RECORD_SIZE:
        raise RecordError("segment too small for a libsma record")
    (magic, version, size, nbytes, ndim, flags, typestr, pid, created,
     _boot, _pidns) = _HEAD.unpack_from(rec)
    if magic != MAGIC:
        raise RecordError("no libsma record (not made by libsma)")
    crc, = struct.unpack_from("<I", rec, 636)
    if version != VERSION or size != RECORD_SIZE or crc != zlib.crc32(rec[:636]):
        raise RecordError("corrupt libsma record")
    if ndim > MAX_DIMS or flags != 0:
        raise RecordError("corrupt libsma record")
    shape = struct.unpack_from("<%dQ" % MAX_DIMS, rec, 80)[:ndim]
    dtype = _decode_dtype(typestr)
    raw_name = rec[336:592].split(b"\0", 1)[0]
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("corrupt libsma record: name is not UTF-8") from None
    if not name or int(np.prod(shape, dtype=object)) * dtype.itemsize != nbytes or \
            nbytes > segment_size - RECORD_SIZE:
        raise RecordError("corrupt libsma record")
    return {"dtype": dtype, "shape": tuple(shape), "nbytes": nbytes,
            "creator_pid": pid, "created_ns": created, "name": name}


def read_record(buf):
    """Decodes and checks the record at the end of an in-memory buffer
    (see decode_record)."""
    return decode_record(bytes(buf[len(buf) - RECORD_SIZE:]), len(buf))


def _read_record_fd(fd):
    """Reads the record with pread after fstat, as libsma does: a sparse
    or truncated segment on a full /dev/shm gives an error, where reading
    the mapping would kill the process with SIGBUS."""
    st = os.fstat(fd)
    if st.st_size < RECORD_SIZE:
        raise RecordError("segment too small for a libsma record")
    rec = os.pread(fd, RECORD_SIZE, st.st_size - RECORD_SIZE)
    if len(rec) != RECORD_SIZE:
        raise RecordError("segment shrank while being read")
    record = decode_record(rec, st.st_size)
    if st.st_mode & stat.S_IXUSR:  # libsma's being-created mark
        raise RecordError("segment is still being created (or its creator died)")
    return record


def _boot_id():
    """This boot's id, as libsma records it (zeros where there is none)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return bytes.fromhex(f.read().strip().replace("-", ""))[:16].ljust(16, b"\0")
    except (OSError, ValueError):
        return b"\0" * 16


def _pid_namespace():
    """This process's pid namespace, as libsma records it (0 if none)."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _record_bytes(name, shape, dtype):
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    head = _HEAD.pack(MAGIC, VERSION, RECORD_SIZE, nbytes, len(shape), 0,
                      dtype.str.encode("ascii"), os.getpid(), time.time_ns(),
                      _boot_id(), _pid_namespace())
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
        record = _read_record_fd(shm._fd)
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
    if dtype.byteorder not in "=|" and dtype.byteorder != _ORDER:
        raise ValueError("libsma arrays use the machine's byte order")
    dtype = dtype.newbyteorder("=")
    if dtype.str not in DTYPES:
        raise ValueError("libsma has no dtype %s" % dtype)
    shape = tuple(int(d) for d in shape)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    padded = (nbytes + 63) // 64 * 64
    size = (padded + RECORD_SIZE + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    shm = shared_memory.SharedMemory(name, create=True, size=size)  # O_EXCL, 0600
    _untrack(shm)
    shm.buf[size - RECORD_SIZE:size] = _record_bytes(name, shape, dtype)
    return SharedArray(shm, read_record(shm.buf))


def unlink(name):
    """Removes the name, like sma_unlink(); mappings stay valid. Goes
    straight to shm_unlink: SharedMemory.unlink() would also tell the
    resource tracker to forget a name this module never left registered,
    and the tracker prints a KeyError traceback for each such name."""
    if _posixshmem is not None:
        _posixshmem.shm_unlink("/" + name)
        return
    shm = shared_memory.SharedMemory(name)  # pragma: no cover
    shm.close()
    shm.unlink()
