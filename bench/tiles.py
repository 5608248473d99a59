# sma_bench's Python side of the "many tiles" row (bench/tiles.c), as
# gridr does it (gridr_tiles.py). W forked workers share the tiles of an
# array of ones; each times its loop, summing every tile through one
# mapping, then loading every tile. The workers share the parent's
# resource tracker, where an attach's registration (Python < 3.13)
# repeats the parent's and the parent's unlink clears it. Prints the
# seconds summed over the workers of both loops: summing, loading.
#   python3 tiles.py TILE WORKERS SIDE NAME
import multiprocessing as mp
import sys
from multiprocessing import shared_memory

import numpy as np

from gridr_tiles import make_ones, tile_loop

T, W, side, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tiles = (side // T) ** 2
own, name = make_ones(prefix + '-py', side)


def work(k, load):
    first = tiles * k // W
    last = tiles * (k + 1) // W
    if load:
        return tile_loop(name, None, side, T, first, last, True)
    m = shared_memory.SharedMemory(name)
    a = np.ndarray((side, side), np.float32, buffer=m.buf)
    dt = tile_loop(name, a, side, T, first, last, False)
    del a
    m.close()
    return dt


try:
    with mp.get_context('fork').Pool(W) as pool:
        summing = sum(pool.starmap(work, [(k, False) for k in range(W)]))
        loading = sum(pool.starmap(work, [(k, True) for k in range(W)]))
finally:
    own.close()
    own.unlink()
print(summing, loading)
