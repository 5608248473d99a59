# sma_bench's Python side of the "sma save" row (bench/files.c): np.save
# of an array of ones NumPy holds in memory. Prints the seconds of the
# save alone.
#   python3 files_save.py ELEMENTS PATH
import sys
import time

import numpy as np

elements, path = int(sys.argv[1]), sys.argv[2]
a = np.ones(elements, np.float32)
t = time.perf_counter()
np.save(path, a)
print(time.perf_counter() - t)
