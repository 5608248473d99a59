"""Python access to libsma segments, by name alone.

libsma (a C library) puts an array at offset 0 of a POSIX shared-memory
segment and a 640-byte metadata record at the end of the page-rounded
segment: magic, format version, dtype, shape, creator, name, CRC-32. This
package reads that record so a Python worker can open an array knowing
only its name, and writes it so a C worker can do the same with
sma_open():

    import sma
    with sma.open("1-job-...") as arr:          # a numpy.ndarray view
        arr[10:20] *= 2
    with sma.create("from-python", (512, 512), "float32") as arr:
        arr[...] = 0
    sma.create("dataset", (512,), "f8", persistent=True)  # `sma gc` keeps it
    sma.info("from-python").shape              # (512, 512), nothing mapped
    [s.name for s in sma.list_segments()]      # Linux: every readable one

Only the POSIX backend's segments are reachable from Python
(multiprocessing.shared_memory). Segments are never unlinked on close;
call sma.unlink(name). Python's resource tracker, which would unlink every
segment a process touched when it exits (CPython gh-82300), is told to
leave these alone.

A record is data from whoever can write the segment: it is read with
pread (never through the mapping, so a truncated or sparse segment is an
error, not SIGBUS), checked field by field and by CRC, and only libsma's
own dtypes in this machine's byte order are accepted (np.dtype() of the
text would also take object arrays, whose "pointers" would come from the
segment). Anything else raises RecordError.
"""
from __future__ import annotations

import mmap
import os
import stat
import struct
import time
import zlib
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

try:
    import _posixshmem
except ImportError:  # pragma: no cover - not a POSIX system
    _posixshmem = None

__all__ = ["RecordError", "Segment", "SharedArray", "create", "decode_record", "info",
           "list_segments", "open", "read_record", "unlink", "RECORD_SIZE", "DTYPES",
           "FLAG_PERSISTENT"]
__version__ = "0.1.0"

RECORD_SIZE = 640
MAGIC = b"\x89SMA\r\n\x1a\n"
VERSION = 1
MAX_DIMS = 32
# The record's flags (bytes 28..32): bit 0 is SMA_CREATE_PERSIST. A bit this
# module does not know is refused, as libsma refuses it: it may be a
# promise (such as "never collect") that a reader must not ignore.
FLAG_PERSISTENT = 1
_FLAGS_KNOWN = FLAG_PERSISTENT
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


def _untrack(shm: shared_memory.SharedMemory) -> None:
    try:
        resource_tracker.unregister(shm._name, "shared_memory")
    except Exception:  # pragma: no cover - trackers differ across versions
        pass


def _decode_dtype(raw: bytes) -> np.dtype:
    try:
        text = raw.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise RecordError("corrupt libsma record: dtype is not text") from None
    if text not in DTYPES:
        raise RecordError("dtype %r is not a libsma dtype of this machine" % text)
    return np.dtype(text)


def decode_record(rec: bytes, segment_size: int) -> Dict[str, Any]:
    """Decodes and checks `rec`, the last RECORD_SIZE bytes of a segment of
    segment_size bytes. Returns a dict with dtype, shape, nbytes,
    creator_pid, created_ns, name and persistent (SMA_CREATE_PERSIST;
    False for records written before the flag existed); raises RecordError
    for anything that does not check out, never another exception."""
    if segment_size < RECORD_SIZE or len(rec) != RECORD_SIZE:
        raise RecordError("segment too small for a libsma record")
    (magic, version, size, nbytes, ndim, flags, typestr, pid, created,
     _boot, _pidns) = _HEAD.unpack_from(rec)
    if magic != MAGIC:
        raise RecordError("no libsma record (not made by libsma)")
    crc, = struct.unpack_from("<I", rec, 636)
    if version != VERSION or size != RECORD_SIZE or crc != zlib.crc32(rec[:636]):
        raise RecordError("corrupt libsma record")
    if ndim > MAX_DIMS or flags & ~_FLAGS_KNOWN:
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
            "creator_pid": pid, "created_ns": created, "name": name,
            "persistent": bool(flags & FLAG_PERSISTENT)}


def read_record(buf: Union[bytes, memoryview]) -> Dict[str, Any]:
    """Decodes and checks the record at the end of an in-memory buffer
    (see decode_record)."""
    return decode_record(bytes(buf[len(buf) - RECORD_SIZE:]), len(buf))


def _fetch_record(fd: int) -> Tuple[bytes, os.stat_result]:
    """The record's bytes, read with pread after fstat, as libsma does: a
    sparse or truncated segment on a full /dev/shm gives an error, where
    reading the mapping would kill the process with SIGBUS."""
    st = os.fstat(fd)
    if st.st_size < RECORD_SIZE:
        raise RecordError("segment too small for a libsma record")
    rec = os.pread(fd, RECORD_SIZE, st.st_size - RECORD_SIZE)
    if len(rec) != RECORD_SIZE:
        raise RecordError("segment shrank while being read")
    return rec, st


def _read_record_fd(fd: int) -> Dict[str, Any]:
    """The checked record of an open segment that is complete."""
    rec, st = _fetch_record(fd)
    record = decode_record(rec, st.st_size)
    if st.st_mode & stat.S_IXUSR:  # libsma's being-created mark
        raise RecordError("segment is still being created (or its creator died)")
    return record


def _boot_id() -> bytes:
    """This boot's id, as libsma records it (zeros where there is none)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return bytes.fromhex(f.read().strip().replace("-", ""))[:16].ljust(16, b"\0")
    except (OSError, ValueError):
        return b"\0" * 16


def _pid_namespace() -> int:
    """This process's pid namespace, as libsma records it (0 if none)."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _record_bytes(name: str, shape: Tuple[int, ...], dtype: np.dtype,
                  persistent: bool = False) -> bytes:
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    flags = FLAG_PERSISTENT if persistent else 0
    head = _HEAD.pack(MAGIC, VERSION, RECORD_SIZE, nbytes, len(shape), flags,
                      dtype.str.encode("ascii"), os.getpid(), time.time_ns(),
                      _boot_id(), _pid_namespace())
    body = head + struct.pack("<%dQ" % MAX_DIMS, *(list(shape) + [0] * (MAX_DIMS - len(shape))))
    body += name.encode("utf-8").ljust(256, b"\0") + b"\0" * 44
    return body + struct.pack("<I", zlib.crc32(body))


class SharedArray:
    """An open segment: `.array` is the ndarray view, `.record` the record.
    Use as a context manager, or call close(); close() never unlinks."""

    def __init__(self, shm: shared_memory.SharedMemory, record: Dict[str, Any]) -> None:
        self._shm = shm
        self.record = record
        self.name = record["name"]
        self.array: Optional[npt.NDArray[Any]] = np.ndarray(
            record["shape"], record["dtype"], buffer=shm.buf)

    def close(self) -> None:
        self.array = None
        if self._shm is not None:
            self._shm.close()
            self._shm = None

    def __enter__(self) -> npt.NDArray[Any]:
        assert self.array is not None, "closed"
        return self.array

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(name: str) -> SharedArray:  # noqa: A001 - the module's verb, as in sma_open()
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


def create(name: str, shape: Sequence[int], dtype: npt.DTypeLike,
           persistent: bool = False) -> SharedArray:
    """Creates a segment laid out as libsma does (array, padding, record at
    the end of the page-rounded size), exclusively and owner-only, so C's
    sma_open(name) finds it. Returns a SharedArray (zero-filled).

    persistent=True records SMA_CREATE_PERSIST: the segment is meant to
    outlive this process, and `sma gc` never removes it (only unlink() or
    `sma rm` does). Otherwise, once this process has exited and nothing
    holds the segment, `sma gc` may remove it."""
    dtype = np.dtype(dtype)
    if not isinstance(name, str) or not name or "/" in name or "\0" in name:
        raise ValueError("invalid segment name %r" % (name,))
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
    shm.buf[size - RECORD_SIZE:size] = _record_bytes(name, shape, dtype, bool(persistent))
    return SharedArray(shm, read_record(shm.buf))


def unlink(name: str) -> None:
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


@dataclass(frozen=True)
class Segment:
    """What sma.info() and sma.list_segments() report of one segment (the C
    library's sma_info_t)."""

    name: str
    dtype: np.dtype
    shape: Tuple[int, ...]
    nbytes: int
    segment_size: int
    creator_pid: int
    created_ns: int
    creator_alive: Optional[bool]  # None: cannot be told from here
    creating: bool  # still being created (or its creator died creating it)
    persistent: bool = False  # SMA_CREATE_PERSIST: `sma gc` never removes it


def _creator_alive(rec: bytes, pid: int) -> Optional[bool]:
    """As libsma judges it: another boot's creator is gone; one of another
    pid namespace cannot be judged; otherwise the pid must still run."""
    fields = _HEAD.unpack_from(rec)
    boot, pidns = fields[9], fields[10]
    if any(boot) and boot != _boot_id():
        return False
    if pidns != _pid_namespace() or pid <= 0 or pid > 2**31 - 1:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def info(name: str) -> Segment:
    """One segment's record and state, without mapping it (shm_open, fstat,
    pread, close). Raises FileNotFoundError, PermissionError, or RecordError
    for a segment libsma did not make, a damaged record, or one naming
    another segment."""
    if _posixshmem is None:  # pragma: no cover - not a POSIX system
        raise NotImplementedError("libsma segments need POSIX shared memory")
    if not isinstance(name, str) or not name or "/" in name or "\0" in name:
        raise ValueError("invalid segment name %r" % (name,))
    fd = _posixshmem.shm_open("/" + name, os.O_RDONLY, mode=0)
    try:
        rec, st = _fetch_record(fd)
        record = decode_record(rec, st.st_size)
    finally:
        os.close(fd)
    if record["name"] != name:
        raise RecordError("record names another segment")
    return Segment(name, record["dtype"], record["shape"], record["nbytes"], st.st_size,
                   record["creator_pid"], record["created_ns"],
                   _creator_alive(rec, record["creator_pid"]),
                   bool(st.st_mode & stat.S_IXUSR), record["persistent"])


def list_segments(directory: str = "/dev/shm") -> List[Segment]:
    """Every libsma segment this user can read, sorted by name (Linux, where
    POSIX shared memory is the files of /dev/shm). Other programs'
    segments, unreadable ones and those that vanish meanwhile are skipped,
    as `sma ls` does."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        raise NotImplementedError("no %s to list: POSIX shared memory cannot be "
                                  "enumerated on this system" % directory) from None
    found = []
    for name in names:
        if name.startswith("."):
            continue
        try:
            found.append(info(name))
        except (OSError, RecordError, ValueError):
            continue
    return found
