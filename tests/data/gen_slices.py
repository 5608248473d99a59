#!/usr/bin/env python3
"""Generates slices.tsv: NumPy's own answer for basic slices of C-order
arrays, which test_slice.c checks row by row against libsma.

Columns: shape, itemsize, slice text, view shape, view strides (bytes),
byte offset of element [0,...,0] of the view from the array start (only
compared for non-empty views). Run: python3 gen_slices.py > slices.tsv

A stride is NumPy's, except where NumPy's product step x stride
overflows its 64-bit npy_intp (NumPy's C code then wraps, which C leaves
undefined): there the column holds the exact product, which fits no
64-bit integer. Such a step selects at most one element (checked here),
so the stride is never used; libsma gives 0 for any stride that does not
fit its ptrdiff_t, and test_slice.c expects that.
"""
import random

import numpy as np

rng = random.Random(20261124)


def bound(n):
    r = rng.random()
    if r < 0.2:
        return None
    if r < 0.35:
        return rng.randint(-3 * n - 3, -n - 1)  # far negative: clamped
    if r < 0.5:
        return rng.randint(n, 3 * n + 3)  # past the end: clamped
    return rng.randint(-n, n)


def step():
    return rng.choice([None, 1, 2, 3, 5, -1, -2, -3, -4, 7, -7])


def text(v):
    return "" if v is None else str(v)


def slice_text(s):
    out = text(s.start) + ":" + text(s.stop)
    if s.step is not None:
        out += ":" + str(s.step)
    return out


INT64_MAX = 2**63 - 1
DTYPES = {1: "u1", 2: "i2", 4: "f4", 8: "f8", 16: "c16"}


def view_strides(a, sl, v):
    """NumPy's strides of v = a[sl], with the exact product where NumPy's
    overflowed (then the dimension has at most one element)."""
    out = []
    for d in range(a.ndim):
        if d >= len(sl) or v.shape[d] == 0:
            exact = v.strides[d]  # whole dimension, or empty: step 1
        else:
            exact = a.strides[d] * (1 if sl[d].step is None else sl[d].step)
        if -INT64_MAX - 1 <= exact <= INT64_MAX:
            assert exact == v.strides[d], (a.shape, sl, d)
        else:
            assert v.shape[d] <= 1, (a.shape, sl, d)
        out.append(exact)
    return out


def row(shape, itemsize, sl):
    dtype = DTYPES[itemsize]
    # Every expected value is NumPy's: the array is NumPy's own view of
    # a buffer (no strides given), as Python workers see a segment.
    nbytes = itemsize
    for n in shape:
        nbytes *= n
    a = np.ndarray(shape, dtype=dtype, buffer=bytearray(nbytes))
    v = a[sl]
    base = a.__array_interface__["data"][0]
    off = v.__array_interface__["data"][0] - base
    return "\t".join([
        ",".join(map(str, shape)),
        str(itemsize),
        ", ".join(slice_text(s) for s in sl),
        ",".join(map(str, v.shape)),
        ",".join(map(str, view_strides(a, sl, v))),
        str(off),
    ])


def huge_step(hr):
    """A step that selects at most one element of any dimension here, most
    of them so large that step x stride overflows 64 bits (issue 24)."""
    r = hr.random()
    if r < 0.15:
        return hr.choice([INT64_MAX, -INT64_MAX, 2**61, -(2**61), 2**62, 2**60])
    magnitude = hr.randint(17, 2**63 - 1)
    return magnitude if r < 0.6 else -magnitude


def huge_steps():
    """Rows for steps whose product with the stride overflows: NumPy gives
    a view of at most one element per such dimension."""
    hr = random.Random(20261201)
    rows = [((5,), 8, (slice(None, None, 2305843009213693952),))]  # the case
    for case in range(120):
        ndim = 1 + case % 3
        shape = tuple(hr.choice([0, 1, 2, 3, 5, 16]) for _ in range(ndim))
        itemsize = hr.choice([1, 2, 4, 8, 16])
        sl = tuple(slice(bound(n) if hr.random() < 0.5 else None, None if hr.random() < 0.7
                         else bound(n), huge_step(hr) if hr.random() < 0.7 else step())
                   for n in shape)
        rows.append((shape, itemsize, sl))
    for shape, itemsize, sl in rows:
        print(row(shape, itemsize, sl))


def main():
    print("# shape\titemsize\tslice\tview_shape\tview_strides\toffset")
    itemsizes = [1, 2, 4, 8, 16]
    for case in range(400):
        ndim = 1 + case % 4
        shape = tuple(rng.choice([0, 1, 2, 3, 5, 7, 10, 16]) for _ in range(ndim))
        itemsize = rng.choice(itemsizes)
        # Mostly every dimension sliced; sometimes fewer (the rest whole).
        nsl = ndim if rng.random() < 0.7 else rng.randint(0, ndim - 1)
        sl = tuple(slice(bound(n), bound(n), step()) for n in shape[:nsl])
        print(row(shape, itemsize, sl))
    huge_steps()


main()
