# What tiles.py and tiles_one_process.py share, as bench/tiles.c's
# tile_loop() serves both C sides: gridr's way to reach a tile from
# Python (SharedMemoryArray.load(): SharedMemory(name), np.ndarray over
# its buffer, the slice; close), its tile loop, and the array of ones
# both make with SharedMemory (libsma's may be a System V segment Python
# cannot open).
import time
from multiprocessing import shared_memory

import numpy as np


def make_ones(name, side):
    """A new side x side float32 SharedMemory array of ones: (memory, its name)."""
    own = shared_memory.SharedMemory(name, create=True, size=side * side * 4)
    np.ndarray((side, side), np.float32, buffer=own.buf).fill(1.0)
    return own, own.name


def load_tile_sum(name, side, r, c, tile):
    """Attaches `name`, sums the tile x tile slice at (r, c), closes."""
    m = shared_memory.SharedMemory(name)
    v = np.ndarray((side, side), np.float32, buffer=m.buf)[r:r + tile, c:c + tile]
    total = float(v.sum())
    del v
    m.close()
    return total


def tile_loop(name, whole, side, tile, first, last, load):
    """Tiles first .. last-1 of the array of ones `name`, each loaded,
    summed and closed (load), or summed through `whole`, a view of it.
    Returns the seconds; asserts that every sum was right."""
    per = side // tile
    total = 0.0
    t0 = time.perf_counter()
    for t in range(first, last):
        r = t // per * tile
        c = t % per * tile
        if load:
            total += load_tile_sum(name, side, r, c, tile)
        else:
            total += float(whole[r:r + tile, c:c + tile].sum())
    seconds = time.perf_counter() - t0
    assert total == (last - first) * tile * tile
    return seconds
