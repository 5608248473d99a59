"""Issue 26 section 1: each defect of the pure-Python package, as a user
and an attacker met it. Every test here failed on that package (7de9536)
and passes on the binding."""
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

import sma
from conftest import backend, child_env, fresh_name, run_python, shm_path


def gone(n):
    with pytest.raises(FileNotFoundError):
        sma.info(n)


def test_pickle_reattaches_in_another_process_and_nothing_deletes_it(name):
    a = sma.create(name, (4,), "i4")
    a.array[:] = 0
    child = run_python(
        "import pickle, sys; b = pickle.loads(sys.stdin.buffer.read()); b.array[:] = 7",
        stdin=pickle.dumps(a))
    assert child.returncode == 0, child.stderr.decode()
    assert list(a.array) == [7, 7, 7, 7]  # the worker wrote the segment, not a copy
    assert sma.info(name).shape == (4,)  # the child's exit deleted nothing
    assert b"leaked" not in child.stderr and b"Traceback" not in child.stderr
    a.close()


def test_pickle_in_process_shares_the_segment(name):
    a = sma.create(name, (3,), "f8")
    b = pickle.loads(pickle.dumps(a))
    b.array[1] = 2.5
    assert a.array[1] == 2.5
    a.close()
    b.close()


FULL_SHM = """
import sys, sma
try:
    a = sma.create("big", (8 << 20,), "u1")
except getattr(sma, "SmaError", OSError) as e:
    print(e.name)
    sys.exit(3)
a.array[:] = 1  # where create did not reserve the memory: SIGBUS
"""


def test_create_on_a_full_dev_shm_raises_and_leaves_nothing():
    if backend() != "posix":
        pytest.skip("System V segments do not live in /dev/shm")
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root (unshare -m) to mount a small private /dev/shm")
    if hasattr(sma, "_lib"):
        import ctypes
        caps = sma._lib.Caps()
        sma.lib.sma_caps_get(ctypes.byref(caps))
        if not caps.reserves_memory:
            pytest.skip("this build (macOS's personality) reserves no memory at create, "
                        "as macOS, where a segment is plain memory, needs none")
    script = ('mount -t tmpfs -o size=1m tmpfs /dev/shm && "$0" -c "$1"; rc=$?; '
              'ls -A /dev/shm; exit $rc')
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                        sys.executable, FULL_SHM], capture_output=True, env=child_env(),
                       timeout=60)
    assert r.returncode == 3, (r.returncode, r.stderr.decode())  # not SIGBUS (135)
    assert r.stdout.decode().split() == ["SMA_ENOSPC"]  # and /dev/shm is empty


LIST_AND_INFO = """
import sys, sma
sma.list_segments()
try:
    sma.info(sys.argv[1])
except (OSError, ValueError) as e:
    print(type(e).__name__)
"""


def test_a_fifo_in_dev_shm_does_not_hang_list_or_info():
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    fifo = os.path.join("/dev/shm", fresh_name("fifo"))
    os.mkfifo(fifo, 0o666)
    try:
        r = run_python(LIST_AND_INFO, os.path.basename(fifo), timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("list_segments()/info() hung on a FIFO in /dev/shm")
    finally:
        os.unlink(fifo)
    assert r.returncode == 0, r.stderr.decode()


def test_a_record_with_a_hostile_shape_is_corrupt(name):
    sma.create(name, (4,), "u1").close()
    path = shm_path(name)
    if path is None:
        pytest.skip("the record is patched through /dev/shm (Linux POSIX)")
    with open(path, "r+b") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(size - 640)
        rec = bytearray(f.read(640))
        rec[16:24] = struct.pack("<Q", 0)  # array bytes: 0 x anything
        rec[24:28] = struct.pack("<I", 2)
        rec[80:96] = struct.pack("<QQ", 0, 2 ** 64 - 1)
        rec[636:640] = struct.pack("<I", zlib.crc32(bytes(rec[:636])))
        f.seek(size - 640)
        f.write(rec)
    for call in (sma.info, sma.open):
        with pytest.raises(sma.RecordError) as e:
            call(name)
        assert getattr(e.value, "name", None) == "SMA_ECORRUPT"


@pytest.mark.parametrize("bad", ["a\\b", "t\tz", "x\x7f", "dot/slash", "", ".hidden"])
def test_names_the_c_library_refuses_are_refused_and_nothing_is_made(bad):
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    with pytest.raises(ValueError):
        sma.create(bad, (2,), "u1")
    if os.path.isdir("/dev/shm"):
        assert set(os.listdir("/dev/shm")) == before


def test_unlink_of_a_name_with_nul_removes_nothing(name):
    sma.create(name, (2,), "u1").close()
    with pytest.raises(ValueError):
        sma.unlink(name + "\0tail")
    assert sma.info(name).shape == (2,)


def test_a_non_ascii_name_creates_opens_and_unlinks():
    n = fresh_name("é名")
    r = run_python("import sma, sys\n"
                   "n = sys.argv[1]\n"
                   "a = sma.create(n, (3,), 'i2'); a.array[:] = 5\n"
                   "b = sma.open(n); assert list(b.array) == [5, 5, 5]\n"
                   "a.close(); b.close(); sma.unlink(n)\n", n)
    assert r.returncode == 0, r.stderr.decode()
    assert b"Traceback" not in r.stderr
    gone(n)


def test_a_negative_shape_is_refused_before_anything_is_made(name):
    with pytest.raises(ValueError):
        sma.create(name, (4, -1), "f4")
    gone(name)


FAILED_OPEN_THEN_UNLINK = """
import sys
from multiprocessing import shared_memory
import sma
shm = shared_memory.SharedMemory(sys.argv[1], create=True, size=4096)  # no record
try:
    sma.open(sys.argv[1])
except ValueError:
    pass
shm.close()
shm.unlink()
"""


def test_a_failed_open_then_unlink_is_clean():
    if backend() != "posix":
        pytest.skip("Python's SharedMemory makes POSIX segments only")
    n = fresh_name("plain")
    r = run_python(FAILED_OPEN_THEN_UNLINK, n)
    assert r.returncode == 0, r.stderr.decode()
    assert b"KeyError" not in r.stderr and b"Traceback" not in r.stderr, r.stderr.decode()
    gone(n)
