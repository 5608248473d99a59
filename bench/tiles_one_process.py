# sma_bench's Python side of the "many tiles, one process" row
# (bench/maps.c): gridr's tile loop in one process (gridr_tiles.py) over
# an array of ones, first summing every tile through one mapping, then
# loading, summing and closing each tile. Prints the seconds of both
# loops: summing, loading.
#   python3 tiles_one_process.py TILE SIDE NAME
import sys

import numpy as np

from gridr_tiles import make_ones, tile_loop

T, side, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
tiles = (side // T) ** 2
own, name = make_ones(prefix + '-py1', side)
a = np.ndarray((side, side), np.float32, buffer=own.buf)
try:
    summing = tile_loop(name, a, side, T, 0, tiles, False)
    loading = tile_loop(name, a, side, T, 0, tiles, True)
finally:
    del a  # the view first: a SharedMemory with a view on it cannot close
    own.close()
    own.unlink()
print(summing, loading)
