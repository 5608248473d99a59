"""NumPy side of test_interop.c.

  interop.py read NAME SHAPE DTYPE SLICE   attach to a libsma segment with
      multiprocessing.shared_memory, view it as ndarray(SHAPE, DTYPE) and
      check it holds arange(size) and that a[SLICE] equals the same slice
      of arange; exit 0 if so.
  interop.py create NAME SHAPE DTYPE       create a plain SharedMemory
      segment (no libsma record) holding arange(size) and leave it.
  interop.py byname NAME SLICE VALUE       open a libsma segment by name
      alone with python/sma, check it holds arange, set a[SLICE] = VALUE.
  interop.py sma-create NAME SHAPE DTYPE   create a segment with a libsma
      record via python/sma, holding arange(size), and leave it.
Python's resource tracker would unlink every segment this process touched
when it exits (CPython gh-82300), so each one is unregistered from it.
"""
import sys
from multiprocessing import resource_tracker, shared_memory

import numpy as np


def untrack(shm):
    resource_tracker.unregister(shm._name, "shared_memory")


def parse_slice(text):
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        bounds = [int(b) if b.strip() else None for b in part.split(":")]
        out.append(slice(*bounds))
    return tuple(out)


def main():
    if sys.argv[1] == "byname":
        import sma
        name, slice_text, value = sys.argv[2:5]
        with sma.open(name) as a:
            want = np.arange(a.size).astype(a.dtype).reshape(a.shape)
            if not np.array_equal(a, want):
                return 1
            a[parse_slice(slice_text)] = float(value)
        return 0
    if sys.argv[1] == "sma-create":
        import sma
        name, shape_text, dtype = sys.argv[2:5]
        shape = tuple(int(s) for s in shape_text.split(","))
        arr = sma.create(name, shape, dtype)
        arr.array[...] = np.arange(arr.array.size).reshape(shape)
        arr.close()
        return 0
    mode, name, shape_text, dtype = sys.argv[1:5]
    shape = tuple(int(s) for s in shape_text.split(","))
    dt = np.dtype(dtype)
    size = int(np.prod(shape))
    expected = np.arange(size).astype(dt).reshape(shape)
    if mode == "create":
        shm = shared_memory.SharedMemory(name, create=True, size=size * dt.itemsize)
        untrack(shm)
        np.ndarray(shape, dt, buffer=shm.buf)[...] = expected
        shm.close()
        return 0
    shm = shared_memory.SharedMemory(name)
    untrack(shm)
    a = np.ndarray(shape, dt, buffer=shm.buf)
    sl = parse_slice(sys.argv[5])
    ok = np.array_equal(a, expected) and np.array_equal(a[sl], expected[sl])
    del a
    shm.close()
    return 0 if ok else 1


sys.exit(main())
