"""libsma from Python: a ctypes binding of the C library's shared library.

gridr's API (gridr.scaling.shmutils) over libsma, plus access by name:

    import sma
    a = sma.SharedMemoryArray((512, 512), "float32", sma.SharedMemoryArray.build_sma_name("job"))
    a.create()                                   # a.array: a NumPy view of the segment
    with sma.open(a.name, (slice(0, 256),)) as top:   # shape and dtype from the record
        top[:] = 1
    line = a.describe()                          # the C descriptor, for any process
    sma.info(a.name).shape                       # (512, 512), nothing mapped
    [s.name for s in sma.list_segments()]
    sma.SharedMemoryArray.clear_buffers([a.name])

Every rule (names, records, slicing, gc, backends) is the C library's (the
segment format: docs/format.md in the source tree): the
package finds libsma through SMA_LIBRARY, a library shipped beside it, or
the system's loader (see sma._lib), and works with whichever backend that
library was built for (POSIX, System V, macOS, Windows). Failures raise
sma.SmaError subclasses carrying the SMA_E* name (sma.errors).
"""
from __future__ import annotations

from typing import Any

from . import _lib
from ._lib import lib
from .array import Handle, SharedMemoryArray, open_array
from .errors import (AccessError, ExistsError, InUseError, InvalidError, NotFoundError,
                     RecordError, SmaError)
from .gridr import create_and_register_sma, deprecated, shmarray_wrap
from .segments import Collected, Segment, Stray, collect, info, list_segments, unlink

__all__ = ["SharedMemoryArray", "Handle", "Segment", "Stray", "Collected", "SmaError",
           "NotFoundError", "ExistsError", "AccessError", "InvalidError", "RecordError", "InUseError",
           "open", "create", "from_description", "info", "list_segments", "unlink",
           "collect", "build_sma_name", "create_and_register_sma", "shmarray_wrap",
           "deprecated", "backend", "library_path", "library_version", "name_max"]
__version__ = "1.0.0"

#: The path of the libsma shared library in use.
library_path = _lib.path


def library_version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    v = lib.sma_version()
    return "%d.%d.%d" % (v // 10000, v // 100 % 100, v % 100)


def backend() -> str:
    """The loaded library's backend: "posix", "sysv" or "win32"."""
    return lib.sma_backend().decode()


def name_max() -> int:
    """The longest name (bytes) this backend takes."""
    caps = _lib.Caps()
    lib.sma_caps_get(caps)
    return int(caps.max_name)


def open(name: str, array_slice: Any = None) -> SharedMemoryArray:  # noqa: A001
    """Attaches to a segment knowing only its name (sma_open): shape and
    dtype come from its record; array_slice (a slice or a tuple of slices)
    is applied. A context manager giving the array:
    `with sma.open(name) as a: a[:] = 0`."""
    return open_array(name, array_slice)


def create(name: str, shape: Any, dtype: Any, persistent: bool = False,
           group: bool = False) -> SharedMemoryArray:
    """Creates a segment (sma_create) and returns it loaded. persistent:
    `sma gc` never removes it; group: mode 0660 instead of 0600."""
    a = SharedMemoryArray(shape, dtype, name, persistent=persistent)
    a.create(group=group)
    return a


def from_description(line: str) -> SharedMemoryArray:
    """An unloaded SharedMemoryArray from a describe() line."""
    return SharedMemoryArray.from_description(line)


def build_sma_name(prefix: Any = None) -> str:
    """SharedMemoryArray.build_sma_name(prefix)."""
    return SharedMemoryArray.build_sma_name(prefix)
