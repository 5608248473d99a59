"""libsma's errors as Python exceptions.

Every failure of a libsma call raises an SmaError (an OSError) whose
`name` is the C code's name ("SMA_ENOENT"), `code` its value, `os_error`
the OS's error number behind it (0 when the failure was not the OS's) and
whose message is sma_strerror()'s, plus the OS's reason and the name
involved. Where a built-in exception fits, the class derives from it too:
SMA_ENOENT is a FileNotFoundError, SMA_EEXIST a FileExistsError,
SMA_EACCES a PermissionError; malformed arguments (a bad name, dtype,
shape, slice or descriptor, a shape that contradicts the record) are also
ValueErrors, and a segment libsma did not make or whose record is damaged
is a RecordError (also a ValueError).
"""
from __future__ import annotations

import ctypes
from typing import Dict, Optional, Type

from ._lib import lib

__all__ = ["SmaError", "NotFoundError", "ExistsError", "AccessError", "InvalidError",
           "RecordError", "InUseError", "check"]


class SmaError(OSError):
    """A libsma call failed; `name` is its SMA_E* name."""

    def __init__(self, code: int, message: str, os_error: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.name = lib.sma_err_name(code).decode()
        self.os_error = os_error
        self.message = message
        if os_error:
            self.errno = os_error

    def __reduce__(self) -> tuple:
        # A worker's exception crosses to its multiprocessing parent pickled:
        # rebuild it from these, not from OSError's args.
        return (type(self), (self.code, self.message, self.os_error))

    def __str__(self) -> str:
        return self.message


class NotFoundError(SmaError, FileNotFoundError):
    """SMA_ENOENT: no segment with this name."""


class ExistsError(SmaError, FileExistsError):
    """SMA_EEXIST: the name is taken."""


class AccessError(SmaError, PermissionError):
    """SMA_EACCES: permission denied."""


class InvalidError(SmaError, ValueError):
    """A malformed argument, or one that contradicts the segment."""


class RecordError(SmaError, ValueError):
    """The segment has no libsma record, a damaged or hostile one, one of
    the other byte order, or is still being created."""


class InUseError(SmaError):
    """SMA_EINUSE: not provably orphaned (gc keeps it)."""


_CLASSES: Dict[str, Type[SmaError]] = {
    "SMA_ENOENT": NotFoundError, "SMA_EEXIST": ExistsError, "SMA_EACCES": AccessError,
    "SMA_EINUSE": InUseError,
    **{n: RecordError for n in ("SMA_ENORECORD", "SMA_ECORRUPT", "SMA_EBYTEORDER",
                                "SMA_EBUSY")},
    **{n: InvalidError for n in (
        "SMA_EINVAL", "SMA_ENAME", "SMA_ENAMETOOLONG", "SMA_EDTYPE", "SMA_ENDIM",
        "SMA_EOVERFLOW", "SMA_ESLICE", "SMA_ESTEP", "SMA_ETOOMANYSLICES",
        "SMA_ETOOSMALL", "SMA_EMISMATCH", "SMA_EDESCRIPTOR", "SMA_ESHAPE")},
}


def os_reason(os_error: int) -> str:
    """sma_os_strerror()'s description of an OS error number."""
    buf = ctypes.create_string_buffer(256)
    size = ctypes.c_size_t(len(buf))
    if lib.sma_os_strerror(os_error, buf, ctypes.byref(size)) != 0:
        return "OS error %d" % os_error
    return buf.value.decode("utf-8", "replace")


def error(code: int, what: Optional[str] = None, os_error: int = 0) -> SmaError:
    """The exception for `code`, naming `what` (a segment name) if given."""
    name = lib.sma_err_name(code).decode()
    message = "%s: %s" % (name, lib.sma_strerror(code).decode())
    if os_error:
        message += " (%s)" % os_reason(os_error)
    if what is not None:
        message += ": %r" % (what,)
    return _CLASSES.get(name, SmaError)(code, message, os_error)


def check(code: int, what: Optional[str] = None, obj: Optional[int] = None) -> None:
    """Raises the exception for a nonzero libsma return code. The OS's
    reason comes from the object `obj` (a sma_t *) when the call had one,
    else from sma_last_os_error(); read at once, on the calling thread."""
    if code == 0:
        return
    os_error = lib.sma_os_error(obj) if obj else lib.sma_last_os_error()
    raise error(code, what, os_error)
