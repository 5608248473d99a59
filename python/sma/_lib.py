"""Finds and loads the shared library libsma, and declares the C functions
this package calls (include/sma.h is their contract).

Where the library comes from, in order: the file SMA_LIBRARY names (and
nothing else when it is set, so a test or a user choosing a build never
gets another one silently); a library shipped next to this package; the
system's loader (libsma.so.1, libsma.1.dylib / libsma.dylib, sma.dll /
libsma.dll). When none loads, the ImportError lists every place tried and
why each failed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import List, Tuple

MAX_DIMS = 32
NAME_BUF = 256
DESCRIPTOR_MAX = 3072
STRAY_LABEL = 288
NONE = -(2 ** 63)  # SMA_NONE: an omitted start, stop or step
COLLECT_DRY_RUN = 1
CREATE_GROUP = 1 << 0
CREATE_PREFAULT = 1 << 1
CREATE_HUGEPAGES = 1 << 2
CREATE_NORESERVE = 1 << 3
CREATE_PERSIST = 1 << 4
SET_NAME, SET_SHAPE, SET_DTYPE, SET_SLICE = 1, 2, 4, 8

# The library series whose structs the declarations below mirror
# (docs/abi.md): before 1.0 each minor release may change them, so a 0.x
# library must be exactly this minor; from 1.0 on, this major and at least
# this minor.
ABI_SERIES = (1, 0)


def _compatible(version: int) -> bool:
    major, minor = version // 10000, version // 100 % 100
    if major != ABI_SERIES[0]:
        return False
    return minor == ABI_SERIES[1] if major == 0 else minor >= ABI_SERIES[1]


class Slice(ctypes.Structure):
    _fields_ = [("start", ctypes.c_int64), ("stop", ctypes.c_int64),
                ("step", ctypes.c_int64)]


class View(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("ndim", ctypes.c_size_t),
                ("shape", ctypes.c_size_t * MAX_DIMS),
                ("strides", ctypes.c_ssize_t * MAX_DIMS),
                ("dtype", ctypes.c_int), ("itemsize", ctypes.c_size_t)]


class Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * NAME_BUF), ("dtype", ctypes.c_int),
                ("ndim", ctypes.c_size_t), ("shape", ctypes.c_size_t * MAX_DIMS),
                ("nbytes", ctypes.c_size_t), ("segment_size", ctypes.c_size_t),
                ("creator_pid", ctypes.c_uint64), ("created_ns", ctypes.c_int64),
                ("creator_alive", ctypes.c_int), ("attached", ctypes.c_int),
                ("creating", ctypes.c_int), ("huge_pages", ctypes.c_int),
                ("persistent", ctypes.c_int), ("reserved", ctypes.c_uint64 * 8)]


class Stray(ctypes.Structure):
    _fields_ = [("label", ctypes.c_char * STRAY_LABEL), ("named", ctypes.c_int),
                ("creator_pid", ctypes.c_uint64), ("creator_alive", ctypes.c_int),
                ("ident", ctypes.c_uint64 * 2), ("reserved", ctypes.c_uint64 * 8)]


class Caps(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_char_p), ("max_name", ctypes.c_size_t),
                ("granularity", ctypes.c_size_t), ("size_is_exact", ctypes.c_int),
                ("can_list", ctypes.c_int), ("unlink_keeps_maps", ctypes.c_int),
                ("outlives_creator", ctypes.c_int),
                ("unlink_by_creator_only", ctypes.c_int),
                ("proves_unused", ctypes.c_int), ("reserves_memory", ctypes.c_int),
                ("max_segment", ctypes.c_uint64), ("reserved", ctypes.c_uint64 * 8)]


class Override(ctypes.Structure):
    _fields_ = [("set", ctypes.c_uint), ("name", ctypes.c_char_p),
                ("ndim", ctypes.c_size_t), ("shape", ctypes.POINTER(ctypes.c_size_t)),
                ("dtype", ctypes.c_int), ("slice", ctypes.POINTER(Slice)),
                ("nslice", ctypes.c_size_t)]


class ArrayDesc(ctypes.Structure):
    """sma_array_desc_t: what sma_new() makes."""
    _fields_ = [("name", ctypes.c_char_p), ("ndim", ctypes.c_size_t),
                ("shape", ctypes.POINTER(ctypes.c_size_t)),
                ("dtype", ctypes.c_int), ("slice", ctypes.POINTER(Slice)),
                ("nslice", ctypes.c_size_t)]


P = ctypes.c_void_p  # sma_t *, opaque
PP = ctypes.POINTER(ctypes.c_void_p)
SIZE = ctypes.c_size_t
SIZEP = ctypes.POINTER(ctypes.c_size_t)
INT = ctypes.c_int
STR = ctypes.c_char_p
ListFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Info), ctypes.c_void_p)
StrayFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Stray), ctypes.c_void_p)

# name: (restype, argtypes), exactly as include/sma.h declares them.
_PROTOTYPES = {
    "sma_strerror": (STR, [INT]),
    "sma_err_name": (STR, [INT]),
    "sma_last_os_error": (INT, []),
    "sma_os_strerror": (INT, [INT, ctypes.c_char_p, SIZEP]),
    "sma_version": (ctypes.c_uint, []),
    "sma_backend": (STR, []),
    "sma_caps_get": (None, [ctypes.POINTER(Caps)]),
    "sma_dtype_parse": (INT, [ctypes.POINTER(ctypes.c_int), STR]),
    "sma_dtype_str": (STR, [INT]),
    "sma_new": (INT, [PP, ctypes.POINTER(ArrayDesc)]),
    "sma_free": (None, [P]),
    "sma_create": (INT, [P, ctypes.c_uint]),
    "sma_load": (INT, [P]),
    "sma_open": (INT, [PP, STR, ctypes.POINTER(Slice), SIZE]),
    "sma_close": (INT, [P]),
    "sma_unlink": (INT, [STR]),
    "sma_clone": (INT, [PP, P, ctypes.POINTER(Override)]),
    "sma_name": (STR, [P]),
    "sma_ndim": (SIZE, [P]),
    "sma_shape": (SIZEP, [P]),
    "sma_dtype_get": (INT, [P]),
    "sma_nbytes": (SIZE, [P]),
    "sma_slice_get": (ctypes.POINTER(Slice), [P, SIZEP]),
    "sma_is_loaded": (INT, [P]),
    "sma_is_persistent": (INT, [P]),
    "sma_view_get": (ctypes.POINTER(View), [P]),
    "sma_os_error": (INT, [P]),
    "sma_os_handle": (ctypes.c_ssize_t, [P]),
    "sma_name_validate": (INT, [STR]),
    "sma_build_name": (INT, [STR, ctypes.c_char_p, SIZEP]),
    "sma_name_counter": (ctypes.c_uint64, []),
    "sma_describe": (INT, [P, ctypes.c_char_p, SIZEP]),
    "sma_parse": (INT, [PP, ctypes.POINTER(ctypes.c_char_p), STR]),
    "sma_info_get": (INT, [ctypes.POINTER(Info), STR]),
    "sma_list": (INT, [ListFn, ctypes.c_void_p]),
    "sma_collect": (INT, [ctypes.POINTER(Info), STR, ctypes.c_uint]),
    "sma_list_strays": (INT, [StrayFn, ctypes.c_void_p]),
    "sma_collect_stray": (INT, [ctypes.POINTER(Stray), ctypes.c_uint]),
}


def _candidates() -> List[str]:
    """Where to look, in order, when SMA_LIBRARY is not set."""
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.platform == "win32":
        names = ["sma.dll", "libsma.dll"]
    elif sys.platform == "darwin":
        names = ["libsma.%d.dylib" % ABI_SERIES[0], "libsma.dylib"]
    else:
        names = ["libsma.so.%d" % ABI_SERIES[0]]
    shipped = [os.path.join(here, n) for n in names]
    found = ctypes.util.find_library("sma")
    return shipped + names + ([found] if found and found not in names else [])


def _open(path: str) -> ctypes.CDLL:
    if sys.platform == "win32" and os.path.isabs(path):
        return ctypes.CDLL(path, winmode=0)
    return ctypes.CDLL(path)


def _load() -> Tuple[ctypes.CDLL, str]:
    chosen = os.environ.get("SMA_LIBRARY")
    tried = []
    for path in [chosen] if chosen else _candidates():
        try:
            return _open(path), path
        except OSError as e:
            tried.append("  %s: %s" % (path, e))
    how = ("SMA_LIBRARY=%s did not load" % chosen if chosen else
           "libsma's shared library was not found (set SMA_LIBRARY to its path, "
           "or install libsma%d)" % ABI_SERIES[0])
    raise ImportError("sma: %s; tried:\n%s" % (how, "\n".join(tried)))


def _declare(lib: ctypes.CDLL, path: str) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError("sma: %s is not libsma (or too old): it lacks %s"
                              % (path, name)) from None
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.sma_version()
    if not _compatible(version):
        raise ImportError("sma: %s is libsma %d.%d.%d; this package needs libsma %d.%d "
                          "(docs/abi.md)" % (path, version // 10000, version // 100 % 100,
                                             version % 100, *ABI_SERIES))


lib, path = _load()
_declare(lib, path)


def _private(name: str) -> "ctypes._CFuncPtr":
    """A function object of our own for `name`, declared as _PROTOTYPES
    says. lib.<name> is one cached object that any code in the process may
    re-declare (a test mirroring sma_stray_t with its own struct and
    callback type does so for these two), after which our arguments would
    no longer match its argtypes; lib[name] is a fresh one nobody else
    holds."""
    fn = lib[name]
    fn.restype, fn.argtypes = _PROTOTYPES[name]
    return fn


list_strays = _private("sma_list_strays")
collect_stray = _private("sma_collect_stray")
