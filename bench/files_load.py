# sma_bench's Python side of the "sma load" row (bench/files.c): what
# Python needs to share an .npy file's array: np.load, then a copy into a
# new SharedMemory. Prints the seconds of both.
#   python3 files_load.py PATH NAME
import sys
import time
from multiprocessing import shared_memory

import numpy as np

path, name = sys.argv[1], sys.argv[2]
t = time.perf_counter()
a = np.load(path)
m = shared_memory.SharedMemory(name, create=True, size=a.nbytes)
b = np.ndarray(a.shape, a.dtype, buffer=m.buf)
b[...] = a
dt = time.perf_counter() - t
del b
m.close()
m.unlink()
print(dt)
