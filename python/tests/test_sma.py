"""The installed `sma` package: open, create, info and list, its checks of
hostile records, and its interplay with the C library's `sma` command
(SMA_CLI names it; those tests skip without it)."""
import json
import os
import re
import struct
import subprocess
import sys
import zlib
from multiprocessing import resource_tracker, shared_memory

import numpy as np
import pytest

import sma

SMA_CLI = os.environ.get("SMA_CLI")
README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
_count = [0]


@pytest.fixture
def name():
    _count[0] += 1
    n = "smatest-py-%d-%d" % (os.getpid(), _count[0])
    yield n
    try:
        sma.unlink(n)
    except FileNotFoundError:
        pass


def patch(name, offset, data):
    """Overwrites record bytes at `offset` and re-seals the CRC, as a
    writer of the segment could."""
    shm = shared_memory.SharedMemory(name)
    resource_tracker.unregister(shm._name, "shared_memory")
    end = shm.size
    rec = bytearray(shm.buf[end - sma.RECORD_SIZE:end])
    rec[offset:offset + len(data)] = data
    rec[636:640] = struct.pack("<I", zlib.crc32(bytes(rec[:636])))
    shm.buf[end - sma.RECORD_SIZE:end] = bytes(rec)
    shm.close()


def test_the_installed_package_is_the_one_tested():
    if os.environ.get("SMA_EXPECT_INSTALLED"):
        assert "site-packages" in sma.__file__, sma.__file__
    assert sma.__version__ and os.path.exists(os.path.join(os.path.dirname(sma.__file__), "py.typed"))


def test_create_then_open_by_name_alone(name):
    with sma.create(name, (3, 4), "float32") as a:
        a[...] = np.arange(12, dtype=np.float32).reshape(3, 4)
    with sma.open(name) as b:
        assert b.shape == (3, 4) and b.dtype == np.float32
        assert np.array_equal(b, np.arange(12, dtype=np.float32).reshape(3, 4))
    with pytest.raises(FileExistsError):
        sma.create(name, (3,), "u1")


def test_info_reports_the_record_without_mapping(name):
    sma.create(name, (5, 2), "int16").close()
    s = sma.info(name)
    assert (s.name, s.shape, s.dtype, s.nbytes) == (name, (5, 2), np.dtype("int16"), 20)
    assert s.segment_size % os.sysconf("SC_PAGE_SIZE") == 0 and s.segment_size >= 20 + sma.RECORD_SIZE
    assert s.creator_pid == os.getpid() and s.creator_alive is True and not s.creating


def test_list_has_libsma_segments_and_skips_others(name):
    sma.create(name, (2,), "f8").close()
    other = shared_memory.SharedMemory(name + "-plain", create=True, size=4096)
    try:
        listed = [s.name for s in sma.list_segments()]
        assert name in listed and name + "-plain" not in listed
        with pytest.raises(sma.RecordError):
            sma.info(name + "-plain")
    finally:
        other.close()
        other.unlink()
    with pytest.raises(FileNotFoundError):
        sma.info(name + "-missing")


@pytest.mark.parametrize("typestr", [b"|O8", b"|O", b"<U2", b"<M8[s]", b"|V4",
                                     (b">f4" if np.little_endian else b"<f4"), b"\xff\xfe"])
def test_forged_dtypes_are_refused(name, typestr):
    sma.create(name, (4,), "f4").close()
    patch(name, 32, typestr.ljust(8, b"\0"))
    with pytest.raises(sma.RecordError):
        sma.open(name)
    with pytest.raises(sma.RecordError):
        sma.info(name)


def test_a_record_naming_another_segment_is_refused(name):
    sma.create(name, (4,), "u1").close()
    patch(name, 336, b"someone-else\0")
    with pytest.raises(sma.RecordError):
        sma.open(name)
    with pytest.raises(sma.RecordError):
        sma.info(name)


def test_a_truncated_segment_is_an_error_not_sigbus(name):
    sma.create(name, (1 << 16,), "u1").close()
    path = "/dev/shm/" + name
    if not os.path.exists(path):
        pytest.skip("POSIX shared memory is not the files of /dev/shm here")
    os.truncate(path, 100)  # record gone: a sparse, short segment
    with pytest.raises(sma.RecordError):
        sma.info(name)
    with pytest.raises(sma.RecordError):
        sma.open(name)


def test_a_segment_being_created_is_refused_and_reported(name):
    sma.create(name, (8,), "u1").close()
    path = "/dev/shm/" + name
    if not os.path.exists(path):
        pytest.skip("POSIX shared memory is not the files of /dev/shm here")
    os.chmod(path, 0o700)  # libsma's being-created mark
    assert sma.info(name).creating
    with pytest.raises(sma.RecordError):
        sma.open(name)


@pytest.mark.parametrize("bad", ["", "a/b", "nul\0here"])
def test_invalid_names_are_value_errors(bad):
    with pytest.raises(ValueError):
        sma.create(bad, (1,), "u1")
    with pytest.raises(ValueError):
        sma.info(bad)


def cli(*args):
    if not SMA_CLI:
        pytest.skip("SMA_CLI (the sma command) is not set")
    return subprocess.run([SMA_CLI, *args], capture_output=True, text=True, check=True).stdout


def test_a_c_created_segment_opens_in_python(name):
    cli("create", name, "--shape", "3,4", "--dtype", "float32", "--fill", "2.5")
    with sma.open(name) as a:
        assert a.shape == (3, 4) and np.all(a == 2.5)
    assert sma.info(name).creator_alive is False  # the command has exited


def test_a_python_created_segment_is_seen_by_the_c_tools(name):
    with sma.create(name, (6, 7), "uint16") as a:
        a[...] = 7
    shown = json.loads(cli("info", name, "--json"))
    assert shown["shape"] == [6, 7] and shown["dtype"] == "uint16"
    assert name in cli("ls")


def test_the_readme_c_parent_python_worker_example(name, tmp_path):
    """The README's Python worker, run as written against a segment the C
    command made, as the README's C parent would."""
    text = open(README).read()
    block = re.search(r"# worker\.py\n(.*?)```", text, re.S)
    assert block, "the README has the worker example"
    worker = tmp_path / "worker.py"
    worker.write_text(block.group(1))
    cli("create", name, "--shape", "64,64", "--dtype", "float32")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(sma.__file__)))
    subprocess.run([sys.executable, str(worker), name], check=True, env=env)
    with sma.open(name) as a:
        assert np.all(a == np.arange(64, dtype=np.float32)[:, None])


def test_persistence_is_recorded_and_an_unknown_flag_is_refused(name):
    sma.create(name, (4,), "u1", persistent=True).close()
    assert sma.info(name).persistent
    with sma.open(name):
        pass
    shown = sma.open(name)
    assert shown.record["persistent"]
    shown.close()
    patch(name, 28, struct.pack("<I", 2))  # a flag this version does not know
    with pytest.raises(sma.RecordError):
        sma.open(name)
    with pytest.raises(sma.RecordError):
        sma.info(name)


def test_a_segment_is_transient_unless_asked_and_older_records_read_so(name):
    sma.create(name, (4,), "u1").close()
    assert sma.info(name).persistent is False
    patch(name, 28, struct.pack("<I", 1))
    assert sma.info(name).persistent
    patch(name, 28, struct.pack("<I", 0))  # as every record before the flag
    assert sma.info(name).persistent is False


def test_the_commands_create_persistent_segments_unless_transient(name):
    cli("create", name, "--shape", "2", "--dtype", "u1")
    assert sma.info(name).persistent
    sma.unlink(name)
    out = cli("create", name, "--shape", "2", "--dtype", "u1", "--transient")
    assert "transient" in out and sma.info(name).persistent is False


def test_gc_keeps_a_persistent_python_segment_and_collects_a_transient_one(name):
    """A Python process makes both and exits: `sma gc` keeps the persistent
    one, says why, lists it as persistent, and removes the other."""
    if not SMA_CLI:
        pytest.skip("SMA_CLI (the sma command) is not set")
    keep, drop = name + "-keep", name + "-drop"
    code = ("import sma, sys; sma.create(sys.argv[1], (8,), 'u1', persistent=True).close(); "
            "sma.create(sys.argv[2], (8,), 'u1').close()")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(sma.__file__)))
    try:
        subprocess.run([sys.executable, "-c", code, keep, drop], check=True, env=env)
        out = cli("gc", "--prefix", name)
        assert "kept %s: it is persistent" % keep in out, out
        assert "removed %s " % drop in out, out
        listed = json.loads(cli("ls", "--json", "--prefix", name))
        assert [(s["name"], s["persistent"]) for s in listed] == [(keep, True)]
        with pytest.raises(FileNotFoundError):
            sma.info(drop)
    finally:
        for n in (keep, drop):
            try:
                sma.unlink(n)
            except FileNotFoundError:
                pass
