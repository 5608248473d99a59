"""A loaded libsma object (sma_t) and the NumPy views of its mapping.

Every view made here holds a reference to the _Mapping it was made from
(through the ctypes buffer under the ndarray), so the mapping outlives
every view of it: dropping the owner's reference (close()) while a view
is alive defers the release to the moment the last view goes, never
leaving a view pointing at unmapped memory.

Every C call on the loaded sma_t is a method of _Mapping, never a call
with its bare pointer: ctypes releases the GIL during the call, and a
bound method holds the _Mapping (so its sma_free() cannot run) until the
call returns, whatever another thread's close() or load() drops meanwhile."""
from __future__ import annotations

import ctypes
import weakref
from typing import Any

import numpy as np

from ._convert import numpy_dtype, shape_of, slices_of, text
from ._lib import lib


class _Mapping:
    """Owns one loaded sma_t; sma_free() runs when the last reference (the
    owner's or a view's) goes."""

    def __init__(self, ptr: int, sliced: bool) -> None:
        self.ptr = ptr
        self.sliced = sliced  # the view is the object's slice (load/open), not the whole array
        # Not at interpreter exit: the OS unmaps then, and a view may still
        # be used by other exit handlers.
        self._free = weakref.finalize(self, lib.sma_free, ptr)
        self._free.atexit = False

    def nbytes(self) -> int:
        return int(lib.sma_nbytes(self.ptr))

    def is_persistent(self) -> bool:
        return bool(lib.sma_is_persistent(self.ptr))

    def os_handle(self) -> int:
        """sma_os_handle(): the descriptor, shmid or HANDLE (borrowed)."""
        return int(lib.sma_os_handle(self.ptr))

    def describe(self, what: str) -> str:
        """sma_describe() of the loaded object."""
        return text(lambda buf, size: lib.sma_describe(self.ptr, buf, size), what)

    def _buffer(self, address: int, length: int) -> Any:
        """A ctypes buffer of `length` bytes at `address` that keeps this
        mapping alive as long as anything (an ndarray) holds it."""
        if length == 0 or not address:
            buf = (ctypes.c_char * 0)()
        else:
            buf = (ctypes.c_char * length).from_address(address)
        buf._sma_mapping = self  # type: ignore[attr-defined]
        return buf

    def ndarray(self) -> np.ndarray:
        """The object's sma_view_get() as an ndarray: same data pointer, shape
        and (possibly negative) strides, no copy."""
        v = lib.sma_view_get(self.ptr).contents
        shape = tuple(v.shape[i] for i in range(v.ndim))
        strides = tuple(v.strides[i] for i in range(v.ndim))
        dtype = numpy_dtype(v.dtype)
        data = v.data or 0
        if 0 in shape:
            return np.ndarray(shape, dtype, buffer=self._buffer(0, 0), strides=strides)
        low = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
        high = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0) + v.itemsize
        return np.ndarray(shape, dtype, buffer=self._buffer(data + low, high - low),
                          offset=-low, strides=strides)

    def whole(self) -> memoryview:
        """The whole array's bytes (before any slice), as SharedMemory.buf
        offers them: the view's data pointer less the slice's start offset,
        as Python's slice.indices() computes it (the C library's clamping
        is Python's)."""
        nbytes = lib.sma_nbytes(self.ptr)
        v = lib.sma_view_get(self.ptr).contents
        base = v.data or 0
        shape = shape_of(self.ptr)
        slices = slices_of(self.ptr) if self.sliced else None
        if nbytes and slices and all(v.shape[i] for i in range(v.ndim)):
            stride = nbytes
            for d, n in enumerate(shape):
                stride //= n
                if d < len(slices):
                    base -= slices[d].indices(n)[0] * stride
        return memoryview(self._buffer(base, nbytes)).cast("B")
