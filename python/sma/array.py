"""gridr's SharedMemoryArray, over libsma's sma_t."""
from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any, Iterable, Optional, Tuple

import numpy as np

from . import _lib
from ._convert import (dtype_code, name_bytes, numpy_dtype, shape_array, shape_of,
                       slice_array, slices_of, text)
from ._lib import lib
from ._mapping import _Mapping
from .errors import SmaError, check

__all__ = ["SharedMemoryArray", "Handle"]


class Handle:
    """What `SharedMemoryArray.smh` holds while loaded, in the place of
    gridr's multiprocessing.shared_memory.SharedMemory: `name`, `size` (the
    array's bytes), `buf` (a memoryview of the whole array, before any
    slice), `close()` and `unlink()`.

    A Handle belongs to one create() or load(): its close() lets go of that
    mapping only, and closes its SharedMemoryArray only while the array
    still holds that same mapping (an earlier load's smh never closes a
    later one). It refers to its array weakly, so a loaded array dropped
    without close() is released when its last reference goes, not when
    the cyclic garbage collector runs."""

    def __init__(self, owner: "SharedMemoryArray", mapping: _Mapping) -> None:
        self._owner = weakref.ref(owner)
        self._mapping: Optional[_Mapping] = mapping
        self.name = owner.name
        self.size = mapping.nbytes()

    def _open(self) -> _Mapping:
        mapping = self._mapping
        if mapping is None:
            raise ValueError("this smh of %r is closed" % self.name)
        return mapping

    @property
    def buf(self) -> memoryview:
        """ValueError once closed. A memoryview taken before stays valid."""
        return self._open().whole()

    @property
    def os_handle(self) -> int:
        """sma_os_handle(): the descriptor, shmid or HANDLE (borrowed).
        ValueError once closed."""
        return self._open().os_handle()

    def close(self) -> None:
        """Lets go of this create()'s or load()'s mapping (views taken
        before stay valid); closes the array too if that is still its
        current mapping. Idempotent."""
        mapping, self._mapping = self._mapping, None
        owner = self._owner()
        if mapping is not None and owner is not None:
            owner._close_if(mapping)

    def _release(self) -> None:
        self._mapping = None

    def unlink(self) -> None:
        from .segments import unlink
        unlink(self.name)


class SharedMemoryArray:
    """gridr's class: a named shared-memory array. The constructor only
    records shape, dtype, name and array_slice (nothing happens in the OS,
    nothing is checked yet, as in gridr); create() makes the segment and
    views the whole array, load() attaches to it and views array_slice,
    close() lets go of it (never unlinks). While loaded, `array` is a
    NumPy view of the mapping and `smh` its Handle; both are None
    otherwise.

    Pickling (as multiprocessing does to hand it to a worker) sends the
    description, never the data: the copy re-attaches to the same segment
    where it is unpickled if the original was loaded."""

    COUNTER = 0

    def __init__(self, shape: Any, dtype: Any, name: str,
                 array_slice: Optional[Tuple[slice, ...]] = None, *,
                 persistent: bool = False) -> None:
        self.shape = shape
        self.dtype = dtype
        self.name = name
        self.array_slice = array_slice
        self.persistent = persistent
        self.smh: Optional[Handle] = None
        self.array: Optional[np.ndarray] = None
        self._mapping: Optional[_Mapping] = None
        # Guards the swap of (_mapping, smh, array) by load()/close() and a
        # Handle's close(); never held across a C call.
        self._state = threading.Lock()

    # -- the C object --------------------------------------------------------
    def _new(self) -> int:
        """A new, unloaded sma_t of these attributes (the caller frees it)."""
        name = name_bytes(self.name)
        dims, shape = shape_array(self.shape)
        ndim = len(dims)
        dtype = dtype_code(self.dtype)
        slices, nslice = slice_array(self.array_slice)
        out = ctypes.c_void_p()
        desc = _lib.ArrayDesc(name=name, ndim=ndim,
                              shape=ctypes.cast(shape, ctypes.POINTER(ctypes.c_size_t)),
                              dtype=dtype,
                              slice=ctypes.cast(slices, ctypes.POINTER(_lib.Slice)),
                              nslice=nslice)
        check(lib.sma_new(ctypes.byref(out), ctypes.byref(desc)), self.name)
        return out.value

    def _attach(self, ptr: int, sliced: bool) -> None:
        """Owns the loaded `ptr` from here on and makes it the current load,
        closing the previous one (if any) in the same step."""
        mapping = _Mapping(ptr, sliced)
        persistent = mapping.is_persistent()
        handle = Handle(self, mapping)
        array = mapping.ndarray()
        with self._state:
            # the old values die after the lock: a last reference may sma_free()
            old = (self._mapping, self.smh, self.array)
            self.persistent = persistent
            self._mapping, self.smh, self.array = mapping, handle, array
        if old[1] is not None:
            old[1]._release()

    def _close_if(self, mapping: Optional[_Mapping]) -> None:
        """Closes the current load; with `mapping`, only if that is still
        the current one (checked and cleared under the object's lock, so a
        stale smh racing a load() on another thread never closes it)."""
        with self._state:
            if mapping is not None and self._mapping is not mapping:
                return
            old = (self._mapping, self.smh, self.array)  # die after the lock
            self.smh, self.array, self._mapping = None, None, None
        if old[1] is not None:
            old[1]._release()

    # -- gridr's methods ------------------------------------------------------
    def create(self, *, persistent: Optional[bool] = None, group: bool = False,
               noreserve: bool = False) -> None:
        """Creates the segment exclusively (FileExistsError if the name is
        taken), owner-only unless group, its memory reserved (a full store
        fails here, not with SIGBUS later) unless noreserve, and views the
        whole array (array_slice is for load()). persistent=True: `sma gc`
        never removes it."""
        if persistent is not None:
            self.persistent = bool(persistent)
        flags = ((_lib.CREATE_PERSIST if self.persistent else 0) |
                 (_lib.CREATE_GROUP if group else 0) |
                 (_lib.CREATE_NORESERVE if noreserve else 0))
        ptr = self._new()
        code = lib.sma_create(ptr, flags)
        if code != 0:
            try:
                check(code, self.name, ptr)
            finally:
                lib.sma_free(ptr)
        self._attach(ptr, sliced=False)

    def load(self) -> None:
        """Attaches to the existing segment (FileNotFoundError if there is
        none) and views array_slice of it. libsma checks shape and dtype
        against the segment's record (InvalidError SMA_EMISMATCH)."""
        ptr = self._new()
        code = lib.sma_load(ptr)
        if code != 0:
            try:
                check(code, self.name, ptr)
            finally:
                lib.sma_free(ptr)
        self._attach(ptr, sliced=True)

    def close(self) -> None:
        """Lets go of the segment; never unlinks; a no-op when not loaded.
        Views of `array` taken before stay valid: the mapping goes with
        the last of them. The smh it had is closed too (its buf raises
        ValueError; memoryviews taken of it before stay valid)."""
        self._close_if(None)

    @property
    def loaded(self) -> bool:
        return self._mapping is not None

    @classmethod
    def clone(cls, sma: "SharedMemoryArray", **override: Any) -> "SharedMemoryArray":
        """A new, unloaded object with sma's shape, dtype, name and
        array_slice, each replaced where `override` says."""
        kwargs = {"shape": sma.shape, "dtype": sma.dtype, "name": sma.name,
                  "array_slice": sma.array_slice}
        kwargs.update(override)
        return cls(**kwargs)

    @classmethod
    def build_sma_name(cls, prefix: Optional[str] = None) -> str:
        """A fresh name, by the C library's rule (sma_build_name):
        COUNTER-PREFIX-YYYYMMDD-HHMMSS-MICROSECONDS-UUID4, or a short form
        where the backend's names are short. COUNTER follows it."""
        pre = None if prefix is None else name_bytes(prefix)
        name = text(lambda buf, size: lib.sma_build_name(pre, buf, size), prefix)
        SharedMemoryArray.COUNTER = int(lib.sma_name_counter())
        return name

    @classmethod
    def clear_buffers(cls, buffer_names: Iterable[str]) -> None:
        """Unlinks each name, going on past failures, then raises the first
        failure (FileNotFoundError for a missing name, as gridr does)."""
        from .segments import unlink
        first: Optional[BaseException] = None
        for name in list(buffer_names):
            try:
                unlink(name)
            except (SmaError, TypeError) as e:
                first = first or e
        if first is not None:
            raise first

    # -- libsma's additions ----------------------------------------------------
    def describe(self) -> str:
        """The C descriptor (sma_describe): one printable line that
        from_description() turns back into an object, in any process."""
        mapping = self._mapping  # read once: another thread may close() meanwhile
        if mapping is not None:
            return mapping.describe(self.name)
        ptr = self._new()
        try:
            return text(lambda buf, size: lib.sma_describe(ptr, buf, size), self.name)
        finally:
            lib.sma_free(ptr)

    @classmethod
    def from_description(cls, line: str) -> "SharedMemoryArray":
        """An unloaded object from a describe() line (sma_parse); call
        load() to attach."""
        out = ctypes.c_void_p()
        bad = ctypes.c_char_p()
        raw = line.encode("utf-8") if isinstance(line, str) else bytes(line)
        if b"\0" in raw:
            raise TypeError("a descriptor line holds no NUL")
        code = lib.sma_parse(ctypes.byref(out), ctypes.byref(bad), raw)
        if code != 0:
            field = bad.value.decode() if bad.value else "line"
            check(code, "descriptor field %s of %r" % (field, line))
        try:
            return cls._of(out.value)
        finally:
            lib.sma_free(out.value)

    @classmethod
    def _of(cls, ptr: int) -> "SharedMemoryArray":
        """A Python object with a sma_t's attributes (not loaded)."""
        return cls(shape_of(ptr), numpy_dtype(lib.sma_dtype_get(ptr)),
                   lib.sma_name(ptr).decode("utf-8"), slices_of(ptr),
                   persistent=bool(lib.sma_is_persistent(ptr)))

    def __reduce__(self) -> Any:
        return (_reattach, (type(self), self.shape, self.dtype, self.name,
                            self.array_slice, self.persistent, self.loaded))

    def __enter__(self) -> np.ndarray:
        if self.array is None:
            self.load()
        assert self.array is not None
        return self.array

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "%s(shape=%r, dtype=%r, name=%r, array_slice=%r)%s" % (
            type(self).__name__, self.shape, self.dtype, self.name, self.array_slice,
            " loaded" if self.loaded else "")


def _reattach(cls: type, shape: Any, dtype: Any, name: str, array_slice: Any,
              persistent: bool, loaded: bool) -> SharedMemoryArray:
    obj = cls(shape, dtype, name, array_slice, persistent=persistent)
    if loaded:
        obj.load()
    return obj


def open_array(name: str, array_slice: Any = None) -> SharedMemoryArray:
    """sma_open(): attaches knowing only the name; shape and dtype come
    from the segment's record, array_slice (as gridr's) is applied."""
    raw = name_bytes(name)
    slices, nslice = slice_array(array_slice)
    out = ctypes.c_void_p()
    check(lib.sma_open(ctypes.byref(out), raw, slices, nslice), name)
    try:
        obj = SharedMemoryArray._of(out.value)
    except BaseException:
        lib.sma_free(out.value)
        raise
    obj._attach(out.value, sliced=True)
    return obj
