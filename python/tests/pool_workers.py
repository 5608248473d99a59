"""Workers for test_interop's multiprocessing pools: importable by name,
as the spawn start method needs."""
import os

from sma import shmarray_wrap


@shmarray_wrap
def fill_row(row, value):
    """gridr's way: the worker gets an unloaded SharedMemoryArray of one
    row, which shmarray_wrap loads, passes as an array and closes."""
    row[...] = value
    return os.getpid()


def fill_loaded(loaded, value):
    """A loaded object re-attaches where it is unpickled: write through it."""
    loaded.array[...] = value
    loaded.close()
    return os.getpid()


@shmarray_wrap
def touch(arr):
    """Loads a segment that may not exist: the error crosses back."""
    return arr.shape
