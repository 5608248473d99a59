"""Segments by name: info, list, unlink and gc, as the C library does them
(sma_info, sma_list, sma_unlink, sma_collect)."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._convert import CODES, name_bytes, numpy_dtype
from ._lib import lib
from .errors import SmaError, check

__all__ = ["Segment", "info", "list_segments", "unlink", "collect"]


@dataclass(frozen=True)
class Segment:
    """What info(), list_segments() and collect() report of one segment
    (the C library's sma_info_t). None stands for "cannot be told"."""

    name: str
    dtype: np.dtype
    shape: Tuple[int, ...]
    nbytes: int
    segment_size: int
    creator_pid: int
    created_ns: int
    creator_alive: Optional[bool]
    creating: bool  # still being created (or its creator died creating it)
    persistent: bool = False  # SMA_CREATE_PERSIST: `sma gc` never removes it
    attached: Optional[int] = None  # processes mapping it
    huge_pages: Optional[bool] = None


def _tristate(v: int) -> Optional[bool]:
    return None if v < 0 else bool(v)


def _segment(i: _lib.Info) -> Segment:
    return Segment(
        name=i.name.decode("utf-8", "surrogateescape"), dtype=numpy_dtype(i.dtype),
        shape=tuple(i.shape[d] for d in range(i.ndim)), nbytes=i.nbytes,
        segment_size=i.segment_size, creator_pid=i.creator_pid, created_ns=i.created_ns,
        creator_alive=_tristate(i.creator_alive), creating=bool(i.creating),
        persistent=bool(i.persistent), attached=None if i.attached < 0 else i.attached,
        huge_pages=_tristate(i.huge_pages))


def info(name: str) -> Segment:
    """One segment's record and state, without mapping it (sma_info).
    Raises FileNotFoundError, PermissionError, or RecordError for a segment
    libsma did not make or whose record is damaged."""
    out = _lib.Info()
    check(lib.sma_info(name_bytes(name), ctypes.byref(out)), name)
    return _segment(out)


def list_segments() -> List[Segment]:
    """Every libsma segment this user can see, sorted by name (sma_list:
    other programs' segments are skipped)."""
    found: List[Segment] = []

    def each(p: "ctypes._Pointer[_lib.Info]", _user: Optional[int]) -> int:
        try:
            found.append(_segment(p.contents))
        except Exception:  # never let an exception cross the C frame
            return 0
        return 0

    callback = _lib.ListFn(each)
    check(lib.sma_list(callback, None))
    return sorted(found, key=lambda s: s.name)


def unlink(name: str) -> None:
    """Removes the name (sma_unlink); processes that have it loaded keep
    their mapping."""
    check(lib.sma_unlink(name_bytes(name)), name)


_KEPT = ("SMA_EINUSE", "SMA_EREPLACED", "SMA_ENOENT", "SMA_EBUSY", "SMA_ENORECORD",
         "SMA_ECORRUPT", "SMA_EBYTEORDER", "SMA_EACCES")


def collect(name: Optional[str] = None, dry_run: bool = False
            ) -> Union[Segment, List[Segment]]:
    """libsma's gc (sma_collect). With a name: removes that segment only if
    it is provably orphaned and returns what it was; otherwise raises
    (InUseError SMA_EINUSE: creator alive or unknown, in use, persistent).
    Without: does so for every listed segment and returns those removed.
    dry_run judges without removing."""
    flags = _lib.COLLECT_DRY_RUN if dry_run else 0
    if name is not None:
        out = _lib.Info()
        check(lib.sma_collect(name_bytes(name), flags, ctypes.byref(out)), name)
        return _segment(out)
    removed = []
    for seg in list_segments():
        try:
            removed.append(collect(seg.name, dry_run))
        except SmaError as e:
            if e.code not in [CODES[n] for n in _KEPT]:
                raise
    return removed
