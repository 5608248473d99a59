"""gridr's shmutils API (../shared/reference/gridr-shmutils-api.txt), call
by call: the same attributes after each call and the same exceptions as
gridr's own class, over libsma."""
import re
import warnings

import numpy as np
import pytest

import sma
from conftest import fresh_name
from sma import SharedMemoryArray, create_and_register_sma, deprecated, shmarray_wrap


def test_constructor_records_attributes_and_touches_nothing(name):
    a = SharedMemoryArray((3, 4), np.float32, name, (slice(1, 2),))
    assert (a.shape, a.dtype, a.name, a.array_slice) == ((3, 4), np.float32, name,
                                                         (slice(1, 2),))
    assert a.smh is None and a.array is None
    with pytest.raises(FileNotFoundError):
        sma.info(name)
    assert isinstance(SharedMemoryArray.COUNTER, int)


def test_create_views_the_whole_array_and_an_existing_name_is_file_exists(name):
    a = SharedMemoryArray((3, 4), "float32", name, (slice(1, 2),))
    a.create()
    assert a.array.shape == (3, 4) and a.array.dtype == np.float32  # no slice at create
    assert not a.array.any()
    assert a.smh is not None and a.smh.name == name and a.smh.size == 48
    assert len(a.smh.buf) == 48
    a.array[...] = 1
    assert bytes(a.smh.buf) == np.ones((3, 4), np.float32).tobytes()
    with pytest.raises(FileExistsError):
        SharedMemoryArray((3, 4), "float32", name).create()
    a.close()


def test_load_applies_the_slice_and_a_missing_name_is_file_not_found(name):
    with pytest.raises(FileNotFoundError):
        SharedMemoryArray((2,), "i4", name).load()
    c = SharedMemoryArray((4, 3), "i4", name)
    c.create()
    c.array[...] = np.arange(12).reshape(4, 3)
    w = SharedMemoryArray((4, 3), "i4", name, (slice(1, 3), slice(None, None, -1)))
    w.load()
    assert np.array_equal(w.array, np.arange(12).reshape(4, 3)[1:3, ::-1])
    w.array[...] = 0
    assert c.array[1:3].sum() == 0
    assert w.smh is not None and w.shape == (4, 3)  # attributes unchanged by load
    c.close()
    w.close()


def test_load_is_stricter_than_gridr_about_the_record(name):
    SharedMemoryArray((4,), "f8", name).create()
    for shape, dtype in [((5,), "f8"), ((4,), "f4"), ((2, 2), "f8")]:
        with pytest.raises(ValueError) as e:
            SharedMemoryArray(shape, dtype, name).load()
        assert e.value.name == "SMA_EMISMATCH"


def test_close_drops_smh_and_array_and_never_unlinks(name):
    a = SharedMemoryArray((2,), "u1", name)
    a.create()
    a.close()
    assert a.smh is None and a.array is None
    assert sma.info(name).shape == (2,)


def test_clone_copies_and_overrides(name):
    a = SharedMemoryArray((2, 2), "u1", name, (slice(1),))
    b = SharedMemoryArray.clone(a)
    assert (b.shape, b.dtype, b.name, b.array_slice) == (a.shape, a.dtype, a.name,
                                                         a.array_slice)
    c = SharedMemoryArray.clone(a, name="other", shape=(9,), array_slice=None)
    assert (c.shape, c.dtype, c.name, c.array_slice) == ((9,), "u1", "other", None)
    assert c.smh is None and c.array is None and b is not a


def test_build_sma_name_counts_and_has_the_c_form():
    before = SharedMemoryArray.COUNTER
    n1 = SharedMemoryArray.build_sma_name("my_prefix")
    n2 = SharedMemoryArray.build_sma_name(None)
    assert SharedMemoryArray.COUNTER == before + 2 and n1 != n2
    if sma.name_max() >= 100:  # the long form: COUNTER-PREFIX-YYYYMMDD-HHMMSS-US-UUID4
        assert re.fullmatch(r"%d-my_prefix-\d{8}-\d{6}-\d{6}-[0-9a-f]{8}-[0-9a-f]{4}-4"
                            r"[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" % (before + 1), n1), n1
        assert re.fullmatch(r"%d-\d{8}-\d{6}-\d{6}-[0-9a-f-]{36}" % (before + 2), n2), n2
    else:
        assert n1.split("-")[1] == "my_prefix" and len(n1.encode()) <= sma.name_max()
    with pytest.raises(ValueError):
        SharedMemoryArray.build_sma_name("bad/prefix")


def test_clear_buffers_unlinks_each_and_raises_for_a_missing_one():
    names = [fresh_name("cb") for _ in range(3)]
    for n in names:
        SharedMemoryArray((1,), "u1", n).create()
    SharedMemoryArray.clear_buffers(names)
    for n in names:
        with pytest.raises(FileNotFoundError):
            sma.info(n)
    SharedMemoryArray((1,), "u1", names[2]).create()
    with pytest.raises(FileNotFoundError):
        SharedMemoryArray.clear_buffers(names)  # goes on past the missing ones
    with pytest.raises(FileNotFoundError):
        sma.info(names[2])
    SharedMemoryArray.clear_buffers([])


def test_create_and_register_sma():
    register = []
    a = create_and_register_sma((3,), np.int16, register, prefix="reg")
    try:
        assert register == [a.name] and "-reg-" in a.name and a.array.shape == (3,)
        assert sma.info(a.name).dtype == np.int16
        with pytest.raises(ValueError):
            create_and_register_sma((3,), object, register)
        assert register == [a.name]  # a failed create registers nothing
    finally:
        SharedMemoryArray.clear_buffers(register)


def test_shmarray_wrap_loads_passes_arrays_and_always_closes(name):
    src = SharedMemoryArray((4,), "i4", name)
    src.create()
    seen = {}

    @shmarray_wrap
    def add(x, y, *, z):
        seen["types"] = (type(x), y, type(z))
        x += y
        z[0] = 5
        return "done"

    a = SharedMemoryArray.clone(src)
    b = SharedMemoryArray.clone(src, array_slice=(slice(3, None),))
    assert add(a, 2, z=b) == "done"
    assert seen["types"] == (np.ndarray, 2, np.ndarray)
    assert a.array is None and b.array is None and a.smh is None
    assert list(src.array) == [2, 2, 2, 5]

    @shmarray_wrap
    def boom(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        boom(a)
    assert a.array is None and a.smh is None
    missing = SharedMemoryArray((1,), "u1", fresh_name("none"))
    with pytest.raises(FileNotFoundError):
        add(a, 1, z=missing)
    assert a.array is None  # loaded before the failing load: closed too
    src.close()


def test_deprecated_warns_for_functions_and_classes():
    @deprecated("use g")
    def f(x):
        return x + 1

    @deprecated("use D", category=FutureWarning)
    class C:
        def __init__(self, v):
            self.v = v

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        assert f(1) == 2 and C(3).v == 3
    assert [(type(w.message), str(w.message)) for w in got] == [
        (DeprecationWarning, "use g"), (FutureWarning, "use D")]
    assert f.__deprecated__ == "use g" and C.__deprecated__ == "use D"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert deprecated("quiet", category=None)(f.__wrapped__)(1) == 2
    with pytest.raises(TypeError):
        deprecated(42)
    with pytest.raises(TypeError):
        deprecated("x")(42)
