"""Segments by name: info, list, unlink and gc, as the C library does them
(sma_info_get, sma_list, sma_unlink, sma_collect)."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._convert import CODES, name_bytes, numpy_dtype
from ._lib import lib
from .errors import SmaError, check, error

__all__ = ["Segment", "Stray", "Collected", "info", "list_segments", "unlink", "collect"]


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
    """One segment's record and state, without mapping it (sma_info_get).
    Raises FileNotFoundError, PermissionError, or RecordError for a segment
    libsma did not make or whose record is damaged."""
    out = _lib.Info()
    check(lib.sma_info_get(ctypes.byref(out), name_bytes(name)), name)
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


# Codes for which sma_collect() keeps a segment for a reason that is no
# failure of the sweep (in use, gone meanwhile, another user's, not libsma's).
_KEPT = ("SMA_EINUSE", "SMA_EREPLACED", "SMA_ENOENT", "SMA_EBUSY", "SMA_ENORECORD",
         "SMA_ECORRUPT", "SMA_EBYTEORDER", "SMA_EACCES")
# The same for sma_collect_stray(), as `sma gc` judges it.
_KEPT_STRAY = ("SMA_EINUSE", "SMA_EREPLACED", "SMA_ENOENT")


@dataclass(frozen=True)
class Stray:
    """A segment whose creator was killed between its exclusive create and
    publishing it (sma_stray_t): no name or record shows it to
    list_segments(). Only where create is not atomic (System V; POSIX
    without O_TMPFILE)."""

    # "NAME (unpublished: WHERE)": the name it was being created under, then
    # the OS object (a /dev/shm path, or "shmid N key 0xK")
    label: str
    creator_pid: int
    creator_alive: Optional[bool]  # None: cannot be judged here


class Collected(list):
    """What collect() without a name returns: a list of the Segments removed
    (with dry_run: that would be), as before, and two attributes:

    - strays: the Strays removed (would be), as `sma gc` removes them;
    - failed: (name or stray label, SmaError) for each segment or stray
      whose removal failed with an unexpected error; the sweep went on past
      it. The label is None when listing the strays itself failed."""

    def __init__(self) -> None:
        super().__init__()
        self.strays: List[Stray] = []
        self.failed: List[Tuple[Optional[str], SmaError]] = []


def _codes(names: Tuple[str, ...]) -> List[int]:
    return [CODES[n] for n in names]


def collect(name: Optional[str] = None, dry_run: bool = False
            ) -> Union[Segment, Collected]:
    """libsma's gc (sma_collect). With a name: removes that segment only if
    it is provably orphaned and returns what it was; otherwise raises
    (InUseError SMA_EINUSE: creator alive or unknown, in use, persistent).
    Without, as `sma gc` does: every listed segment that is provably
    orphaned, then every stray whose creator is provably gone and that
    nothing holds (sma_collect_stray); returns a Collected (a list of the
    Segments removed, with .strays and .failed). A segment or stray that
    fails with an unexpected error is reported in .failed and the sweep goes
    on; only a failure to list the segments raises. dry_run judges without
    removing."""
    flags = _lib.COLLECT_DRY_RUN if dry_run else 0
    if name is not None:
        out = _lib.Info()
        check(lib.sma_collect(ctypes.byref(out), name_bytes(name), flags), name)
        return _segment(out)
    result = Collected()
    for seg in list_segments():
        try:
            result.append(collect(seg.name, dry_run))
        except SmaError as e:
            if e.code not in _codes(_KEPT):
                result.failed.append((seg.name, e))
    _collect_strays(flags, result)
    return result


def _list_strays() -> List[_lib.Stray]:
    """Copies of every stray sma_list_strays() reports (the callback's
    pointer is valid only during the call)."""
    found: List[_lib.Stray] = []
    failed: List[BaseException] = []

    def each(p: "ctypes._Pointer[_lib.Stray]", _user: Optional[int]) -> int:
        try:
            copy = _lib.Stray()
            ctypes.memmove(ctypes.byref(copy), p, ctypes.sizeof(_lib.Stray))
            found.append(copy)
        except BaseException as e:  # never let an exception cross the C frame
            failed.append(e)
            return 1
        return 0

    callback = _lib.StrayFn(each)
    code = _lib.list_strays(callback, None)
    if failed:
        raise failed[0]
    check(code, "strays")
    return found


def _collect_strays(flags: int, result: Collected) -> None:
    try:
        strays = _list_strays()
    except SmaError as e:
        result.failed.append((None, e))
        return
    for s in strays:
        if s.creator_alive == 1:  # still creating it
            continue
        label = s.label.decode("utf-8", "surrogateescape")
        code = _lib.collect_stray(ctypes.byref(s), flags)
        os_error = lib.sma_last_os_error()
        if code == 0:
            result.strays.append(Stray(label, s.creator_pid, _tristate(s.creator_alive)))
        elif code not in _codes(_KEPT_STRAY):
            result.failed.append((label, error(code, label, os_error)))
