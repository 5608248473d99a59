# sma_bench's Python side of the lifecycle rows (bench/lifecycle.c): n
# times SharedMemory create, then touch one byte or fill every float32
# element through NumPy, close, unlink. Prints the seconds per lifecycle.
#   python3 lifecycle.py N BYTES NAME FILL
import sys
import time
from multiprocessing import shared_memory

import numpy as np

n, nbytes, name, fill = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t = time.perf_counter()
for i in range(n):
    m = shared_memory.SharedMemory(name, create=True, size=nbytes)
    if fill:
        a = np.ndarray((nbytes // 4,), np.float32, buffer=m.buf)
        a.fill(1.0)
        del a
    else:
        m.buf[0] = 1
    m.close()
    m.unlink()
print((time.perf_counter() - t) / n)
