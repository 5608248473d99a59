#!/usr/bin/env python3
"""Generates slices.tsv: NumPy's own answer for basic slices of C-order
arrays, which test_slice.c checks row by row against libsma.

Columns: shape, itemsize, slice text, view shape, view strides (bytes),
byte offset of element [0,...,0] of the view from the array start (only
compared for non-empty views). Run: python3 gen_slices.py > slices.tsv
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


def main():
    print("# shape\titemsize\tslice\tview_shape\tview_strides\toffset")
    itemsizes = [1, 2, 4, 8, 16]
    for case in range(400):
        ndim = 1 + case % 4
        shape = tuple(rng.choice([0, 1, 2, 3, 5, 7, 10, 16]) for _ in range(ndim))
        itemsize = rng.choice(itemsizes)
        dtype = {1: "u1", 2: "i2", 4: "f4", 8: "f8", 16: "c16"}[itemsize]
        # Every expected value is NumPy's: the array is NumPy's own view of
        # a buffer (no strides given), as Python workers see a segment.
        nbytes = itemsize
        for n in shape:
            nbytes *= n
        a = np.ndarray(shape, dtype=dtype, buffer=bytearray(nbytes))
        # Mostly every dimension sliced; sometimes fewer (the rest whole).
        nsl = ndim if rng.random() < 0.7 else rng.randint(0, ndim - 1)
        sl = tuple(slice(bound(n), bound(n), step()) for n in shape[:nsl])
        v = a[sl]
        base = a.__array_interface__["data"][0]
        off = v.__array_interface__["data"][0] - base
        print("\t".join([
            ",".join(map(str, shape)),
            str(itemsize),
            ", ".join(slice_text(s) for s in sl),
            ",".join(map(str, v.shape)),
            ",".join(map(str, v.strides)),
            str(off),
        ]))


main()
