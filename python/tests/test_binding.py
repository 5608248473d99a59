"""The binding itself: finding the library, errors as exceptions with the
SMA_E* name, NumPy views of the mapping (negative strides, 0-d, empty,
every dtype) kept alive by the views, descriptors, info, list and gc."""
import ctypes
import gc
import os
import subprocess
import sys

import numpy as np
import pytest

import sma
from conftest import child_env, fresh_name, run_python

# The library's file name on Linux: its SONAME, after the major version.
SONAME = "libsma.so.%d" % sma._lib.ABI_SERIES[0]


def caps():
    c = sma._lib.Caps()
    sma.lib.sma_caps_get(ctypes.byref(c))
    return c


def test_the_installed_package_is_the_one_tested():
    if os.environ.get("SMA_EXPECT_INSTALLED"):
        assert "site-packages" in sma.__file__, sma.__file__
    assert os.path.exists(os.path.join(os.path.dirname(sma.__file__), "py.typed"))
    assert sma.library_version().startswith("%d." % sma._lib.ABI_SERIES[0])
    assert sma.backend() in ("posix", "sysv", "win32")
    if os.environ.get("SMA_LIBRARY"):
        assert sma.library_path == os.environ["SMA_LIBRARY"]


def test_a_missing_library_says_what_was_looked_for():
    env = child_env()
    env["SMA_LIBRARY"] = "/nonexistent/" + SONAME
    r = subprocess.run([sys.executable, "-c", "import sma"], env=env, capture_output=True)
    assert r.returncode != 0
    err = r.stderr.decode()
    assert "ImportError" in err and "SMA_LIBRARY=/nonexistent/" + SONAME in err
    del env["SMA_LIBRARY"]
    env["LD_LIBRARY_PATH"] = ""
    r = subprocess.run([sys.executable, "-c", "import sma; print(sma.library_path)"],
                       env=env, capture_output=True)
    if r.returncode != 0:  # no libsma installed system-wide: every candidate is named
        err = r.stderr.decode()
        assert SONAME in err or "dylib" in err or "sma.dll" in err, err
        assert "set SMA_LIBRARY" in err


def test_a_library_shipped_next_to_the_package_is_found(tmp_path):
    import shutil
    pkg = tmp_path / "sma"
    shutil.copytree(os.path.dirname(sma.__file__), str(pkg),
                    ignore=shutil.ignore_patterns("__pycache__", "lib*.so*"))
    shutil.copy(os.path.realpath(sma.library_path), str(pkg / SONAME))
    env = child_env()
    del env["SMA_LIBRARY"]
    env["PYTHONPATH"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-c", "import sma; print(sma.library_path)"],
                       env=env, capture_output=True, cwd=str(tmp_path))
    if sys.platform.startswith("linux"):
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout.decode().strip() == str(pkg / SONAME)


def test_errors_pickle_with_their_name():
    import pickle
    with pytest.raises(FileNotFoundError) as e:
        sma.info(fresh_name("none"))
    again = pickle.loads(pickle.dumps(e.value))
    assert type(again) is type(e.value) and again.name == "SMA_ENOENT"
    assert str(again) == str(e.value) and again.errno == e.value.errno


def test_errors_carry_the_c_name_and_fit_python_classes(name):
    with pytest.raises(FileNotFoundError) as e:
        sma.open(name)
    assert e.value.name == "SMA_ENOENT" and e.value.code < 0 and name in str(e.value)
    a = sma.create(name, (2,), "u1")
    with pytest.raises(FileExistsError) as e:
        sma.create(name, (2,), "u1")
    assert e.value.name == "SMA_EEXIST" and isinstance(e.value, sma.SmaError)
    with pytest.raises(ValueError) as e:
        sma.SharedMemoryArray((3,), "u1", name).load()
    assert e.value.name == "SMA_EMISMATCH"
    with pytest.raises(ValueError) as e:
        sma.create(fresh_name(), (2,), "U4")
    assert e.value.name == "SMA_EDTYPE"
    other = ">f4" if sys.byteorder == "little" else "<f4"
    with pytest.raises(ValueError) as e:
        sma.create(fresh_name(), (2,), other)
    assert e.value.name == "SMA_EBYTEORDER"
    with pytest.raises(ValueError) as e:
        sma.create(fresh_name(), (2,) * 33, "u1")
    assert e.value.name == "SMA_ENDIM"
    with pytest.raises(ValueError) as e:
        sma.create(fresh_name(), (2 ** 62, 2 ** 62), "u1")
    assert e.value.name == "SMA_EOVERFLOW"
    with pytest.raises(ValueError) as e:
        sma.open(name, (slice(None, None, 0),))
    assert e.value.name == "SMA_ESTEP"
    with pytest.raises(ValueError) as e:
        sma.open(name, (slice(2 ** 70),))
    assert e.value.name == "SMA_ESLICE"
    with pytest.raises(ValueError):
        sma.open(name, (0,))  # an integer index is not a slice
    with pytest.raises(ValueError) as e:
        sma.open("x" * 300)
    assert e.value.name == "SMA_ENAMETOOLONG"
    a.close()


def test_another_user_gets_permission_error(name):
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as uid 65534")
    sma.create(name, (2,), "u1").close()
    code = ("import sma, sys\ntry:\n sma.open(sys.argv[1])\n"
            "except PermissionError as e:\n print(e.name)\n")
    env = child_env()
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-c", code, name], env=env, capture_output=True,
                       timeout=60)
    if b"ModuleNotFoundError" in r.stderr or b"ImportError" in r.stderr:
        pytest.skip("uid 65534 cannot read this package or library")
    assert r.stdout.decode().split() == ["SMA_EACCES"], r.stderr.decode()


@pytest.mark.parametrize("index", [
    (slice(None, None, -1),), (slice(None, None, -2), slice(5, 0, -3)),
    (slice(1, 6, 2), slice(None, None, -1)), (slice(-3, None), slice(2, 2)),
    (slice(100, -100, -1), slice(-1, -8, -2)), ()])
def test_views_are_numpy_slices_of_the_mapping(name, index):
    a = sma.create(name, (6, 7), "f4")
    a.array[...] = np.arange(42, dtype=np.float32).reshape(6, 7)
    b = sma.open(name, index)
    expect = np.arange(42, dtype=np.float32).reshape(6, 7)[index]
    assert b.array.shape == expect.shape and b.array.strides == expect.strides
    assert np.array_equal(b.array, expect)
    b.array[...] = -1  # writes reach the segment
    whole = np.arange(42, dtype=np.float32).reshape(6, 7)
    whole[index] = -1
    assert np.array_equal(a.array, whole)
    assert np.array_equal(np.frombuffer(b.smh.buf, np.float32).reshape(6, 7), whole)
    a.close()
    b.close()


@pytest.mark.parametrize("dtype", ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
                                   "f2", "f4", "f8", "c8", "c16"])
def test_every_dtype_round_trips(name, dtype):
    a = sma.create(name, (5,), dtype)
    a.array[:] = np.arange(5).astype(dtype)
    b = sma.open(name)
    assert b.array.dtype == np.dtype(dtype) and np.array_equal(b.array, a.array)
    assert sma.info(name).dtype == np.dtype(dtype)
    a.close()
    b.close()


def test_zero_d_and_empty_arrays(name):
    a = sma.create(name, (), "f8")
    a.array[()] = 4.5
    assert sma.open(name).array[()] == 4.5 and sma.info(name).shape == ()
    e = sma.create(name + "e", (0, 3), "i4")
    try:
        assert e.array.shape == (0, 3) and sma.open(name + "e").array.size == 0
    finally:
        sma.unlink(name + "e")


def _mapped_here(name):
    """Whether this process maps the POSIX segment (a line of Linux's
    /proc/self/maps with its /dev/shm file's inode), or None where that
    cannot be seen."""
    path = "/dev/shm/" + name
    if sma.backend() != "posix" or not os.path.exists("/proc/self/maps") or \
            not os.path.exists(path):
        return None
    inode = str(os.stat(path).st_ino)
    with open("/proc/self/maps") as f:
        return any(len(fields) > 5 and fields[4] == inode and fields[5].startswith("/dev/shm/")
                   for fields in (line.split() for line in f))


def test_close_while_a_view_lives_defers_the_release(name):
    import weakref
    a = sma.create(name, (4,), "i8")
    mapping = weakref.ref(a._mapping)
    view = a.array[1:]
    a.close()
    assert a.array is None and a.smh is None
    gc.collect()
    assert mapping() is not None and _mapped_here(name) in (True, None)
    view[:] = 9  # still mapped: no dangling pointer
    b = sma.open(name)
    assert list(b.array) == [0, 9, 9, 9]
    b.close()
    del view
    gc.collect()
    assert mapping() is None  # the last view took the mapping with it (sma_free ran)
    assert _mapped_here(name) in (False, None)


def test_reload_and_double_close(name):
    a = sma.create(name, (3,), "u2")
    a.close()
    a.close()  # a no-op, as sma_close()
    a.load()
    a.array[0] = 1
    a.load()  # again: a fresh attachment, the old one let go
    assert a.array[0] == 1
    a.close()


def test_describe_and_from_description_across_processes(name):
    a = sma.create(name, (4, 4), "i4")
    line = sma.SharedMemoryArray(a.shape, a.dtype, name, (slice(1, 3),)).describe()
    assert line.startswith("sma/") and line.endswith("name=" + name)
    r = run_python("import sma, sys\nb = sma.from_description(sys.argv[1])\n"
                   "b.load(); b.array[...] = 3\n", line)
    assert r.returncode == 0, r.stderr.decode()
    assert a.array.sum() == 3 * 8 and a.array[1:3].min() == 3
    b = sma.from_description(line)
    assert (b.shape, b.dtype, b.name, b.array_slice) == ((4, 4), np.dtype("i4"), name,
                                                        (slice(1, 3, None),))
    with pytest.raises(ValueError) as e:
        sma.from_description("sma/1 backend=nope dtype=int32 shape=1 slice= name=x")
    assert e.value.name in ("SMA_EMISMATCH", "SMA_EDESCRIPTOR")
    p = sma.create(name + "p", (1,), "u1", persistent=True)
    try:
        assert sma.from_description(p.describe()).persistent and sma.info(name + "p").persistent
    finally:
        sma.unlink(name + "p")
    a.close()


def test_info_list_and_collect(name):
    a = sma.create(name, (5, 2), "int16")
    s = sma.info(name)
    assert (s.name, s.shape, s.dtype, s.nbytes) == (name, (5, 2), np.dtype("int16"), 20)
    assert s.creator_pid == os.getpid() and s.creator_alive is True and not s.creating
    assert name in [x.name for x in sma.list_segments()]
    with pytest.raises(sma.InUseError) as e:
        sma.collect(name)
    assert e.value.name == "SMA_EINUSE"
    assert name not in [x.name for x in sma.collect(dry_run=True)]
    a.close()
    orphan = fresh_name("orph")
    r = run_python("import sma, sys; sma.create(sys.argv[1], (3,), 'u1')", orphan)
    assert r.returncode == 0, r.stderr.decode()
    if not caps().proves_unused:
        with pytest.raises(sma.InUseError):
            sma.collect(orphan)
        sma.unlink(orphan)
        return
    assert sma.collect(orphan, dry_run=True).name == orphan
    assert sma.info(orphan).creator_alive is False
    judged = [x.name for x in sma.collect(dry_run=True)]  # (other users' orphans: theirs)
    assert orphan in judged and name not in judged
    assert sma.collect(orphan).name == orphan
    with pytest.raises(FileNotFoundError):
        sma.info(orphan)


def test_many_threads_share_one_segment(name):
    import threading
    a = sma.create(name, (8, 1000), "i8")

    def work(i):
        b = sma.open(name, (slice(i, i + 1),))
        b.array[...] += i + 1
        b.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert list(a.array[:, 0]) == list(range(1, 9)) and a.array.sum() == 36 * 1000
    a.close()


@pytest.mark.parametrize("struct, fill", [
    ("Info", lambda lib, buf, name: lib.sma_info_get(buf, name.encode())),
    ("Caps", lambda lib, buf, name: lib.sma_caps_get(buf)),
])
def test_ctypes_structs_are_exactly_the_c_structs(name, struct, fill):
    # The library fills (zeroes) sizeof(C struct) bytes: a ctypes mirror
    # smaller than the C struct would let it write past the buffer. The
    # buffer is larger, patterned, and the bytes past the mirror must stay.
    from sma import _lib
    a = sma.create(name, (4,), "u1")
    try:
        size = ctypes.sizeof(getattr(_lib, struct))
        raw = (ctypes.c_ubyte * (size + 256))(*([0xA5] * (size + 256)))
        fill(_lib.lib, ctypes.cast(raw, ctypes.POINTER(getattr(_lib, struct))), name)
        assert bytes(raw[size:]) == b"\xa5" * 256, "the C struct is larger than its mirror"
        assert any(b != 0xA5 for b in raw[size - 64:size]), "the C struct is smaller"
    finally:
        a.close()
        sma.unlink(name)
