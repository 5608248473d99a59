"""Python values to libsma's C arguments and back. Only what ctypes cannot
check is checked here: a NUL in a name (C would see a shorter name), and
integers that do not fit their C type (ctypes would wrap -1 to SIZE_MAX
silently). Every other rule (what a name, dtype, shape or slice may be)
is the C library's."""
from __future__ import annotations

import ctypes
import operator
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._lib import lib
from .errors import error

# Every SMA_E* code by name, read from the library's own table.
CODES = {lib.sma_err_name(-c).decode(): -c for c in range(1, 256)
         if lib.sma_err_name(-c) != b"SMA_EUNKNOWN"}

SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def name_bytes(name: Any) -> bytes:
    """A segment name as the C library takes it: UTF-8 without NUL."""
    if not isinstance(name, str):
        raise TypeError("a segment name is a str, not %s" % type(name).__name__)
    if "\0" in name:
        raise error(CODES["SMA_ENAME"], name)
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not UTF-8
        raise error(CODES["SMA_ENAME"], name) from None


def shape_array(shape: Any) -> Tuple[Tuple[int, ...], Any]:
    """(shape as a tuple, its C size_t array). An int is a 1-d shape, as
    NumPy takes it. A negative extent is SMA_ESHAPE and one beyond size_t
    SMA_EOVERFLOW, raised here: ctypes would hand C either wrapped around."""
    try:
        dims = (operator.index(shape),)
    except TypeError:
        dims = tuple(operator.index(d) for d in shape)
    for d in dims:
        if d < 0:
            raise error(CODES["SMA_ESHAPE"], "negative extent in shape %r" % (dims,))
        if d > SIZE_MAX:
            raise error(CODES["SMA_EOVERFLOW"], "shape %r" % (dims,))
    if len(dims) > _lib.MAX_DIMS:
        raise error(CODES["SMA_ENDIM"], "shape %r" % (dims,))
    return dims, (ctypes.c_size_t * max(len(dims), 1))(*dims)


def dtype_code(dtype: Any) -> int:
    """libsma's dtype for a NumPy dtype-like, parsed by the C library from
    NumPy's type string (so object, string, structured and foreign-order
    dtypes are the C library's errors)."""
    text = np.dtype(dtype).str
    out = ctypes.c_int()
    code = lib.sma_dtype_parse(ctypes.byref(out), text.encode("ascii"))
    if code != 0:
        raise error(code, "dtype %s" % text)
    return out.value


def numpy_dtype(code: int) -> np.dtype:
    """The NumPy dtype of a libsma dtype."""
    return np.dtype(lib.sma_dtype_str(code).decode("ascii"))


def _bound(v: Any) -> int:
    if v is None:
        return _lib.NONE
    v = operator.index(v)
    if not INT64_MIN < v <= INT64_MAX:  # INT64_MIN is SMA_NONE
        raise error(CODES["SMA_ESLICE"], "slice bound %d does not fit int64" % v)
    return v


def slice_array(array_slice: Any) -> Tuple[Any, int]:
    """(C sma_slice_t array or None, count) for gridr's array_slice: None,
    a slice, or a tuple of slices. Integer indices and Ellipsis are not
    slices: libsma views keep every dimension."""
    if array_slice is None:
        return None, 0
    items: Sequence[Any] = (array_slice,) if isinstance(array_slice, slice) else \
        tuple(array_slice)
    for s in items:
        if not isinstance(s, slice):
            raise error(CODES["SMA_ESLICE"], "array_slice holds %r, not a slice" % (s,))
    arr = (_lib.Slice * max(len(items), 1))()
    for i, s in enumerate(items):
        arr[i] = _lib.Slice(_bound(s.start), _bound(s.stop), _bound(s.step))
    return arr, len(items)


def _unbound(v: int) -> Optional[int]:
    return None if v == _lib.NONE else v


def slices_of(obj: int) -> Optional[Tuple[slice, ...]]:
    """The slice a sma_t holds, as Python slices (None for none)."""
    count = ctypes.c_size_t()
    ptr = lib.sma_slice_get(obj, ctypes.byref(count))
    if not ptr or count.value == 0:
        return None
    return tuple(slice(_unbound(ptr[i].start), _unbound(ptr[i].stop), _unbound(ptr[i].step))
                 for i in range(count.value))


def shape_of(obj: int) -> Tuple[int, ...]:
    ptr = lib.sma_shape(obj)
    return tuple(ptr[i] for i in range(lib.sma_ndim(obj))) if ptr else ()


def text(call: Any, what: Optional[str] = None) -> str:
    """The text a libsma writer gives: call(buf, size_ptr) returns its code;
    the buffer grows as SMA_ENOBUFS asks (it sets *size to what it needs)."""
    size = ctypes.c_size_t(_lib.DESCRIPTOR_MAX)
    for _ in range(3):
        buf = ctypes.create_string_buffer(size.value)
        code = call(buf, ctypes.byref(size))
        if code == 0:
            return buf.value.decode("utf-8")
        if code != CODES["SMA_ENOBUFS"]:
            break
    raise error(code, what, lib.sma_last_os_error())
