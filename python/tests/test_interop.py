"""Python with C, as users combine them: a multiprocessing.Pool (fork and
spawn) handing SharedMemoryArray objects to workers that write through
them, a C parent (the `sma` command) with Python workers, a Python parent
with C workers (sma_example), and the examples of docs/python.md as written."""
import multiprocessing
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import pool_workers
import sma
from conftest import SMA_CLI, SMA_EXAMPLE, child_env, fresh_name, run_python

PYTHON_DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "python.md")


def c_program(path, what):
    """A C program of the same library build as the binding (its backend
    must match): skip when none is given; a program that is given but
    missing fails (a build that moved it would otherwise turn these tests
    into quiet skips)."""
    if not path:
        pytest.skip("%s not given (SMA_CLI / SMA_EXAMPLE)" % what)
    if not os.path.exists(path):
        pytest.fail("%s is given as %s, which does not exist" % (what, path))
    return path


def test_a_given_c_program_that_is_missing_fails_rather_than_skips(tmp_path):
    missing = str(tmp_path / "no-such-sma")
    with pytest.raises(pytest.fail.Exception, match="does not exist"):
        c_program(missing, "the sma command")
    with pytest.raises(pytest.skip.Exception):
        c_program(None, "the sma command")


def cli(*args, check=True):
    r = subprocess.run([c_program(SMA_CLI, "the sma command"), *args],
                       capture_output=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


@pytest.fixture
def same_backend_cli():
    out = cli("--help")
    if "backend: %s" % sma.backend() not in out:
        pytest.skip("SMA_CLI is another backend's build")


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_write_through_shared_memory_arrays(name, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip("no %s here" % method)
    a = sma.SharedMemoryArray((6, 5), "f8", name)
    a.create()
    rows = [sma.SharedMemoryArray.clone(a, array_slice=(slice(i, i + 1),)) for i in range(3)]
    loaded = [sma.open(name, (slice(i, i + 1),)) for i in range(3, 6)]
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        pids = pool.starmap(pool_workers.fill_row, [(r, i + 1) for i, r in enumerate(rows)])
        pids += pool.starmap(pool_workers.fill_loaded,
                             [(o, i + 4) for i, o in enumerate(loaded)])
    assert os.getpid() not in pids
    assert np.array_equal(a.array, np.repeat(np.arange(1, 7.0), 5).reshape(6, 5))
    assert sma.info(name).shape == (6, 5)  # no worker's exit removed it
    for o in loaded:
        o.close()
    a.close()


def test_a_workers_error_reaches_the_parent_with_its_name():
    missing = sma.SharedMemoryArray((2,), "u1", fresh_name("gone"))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises(FileNotFoundError) as e:
            pool.apply(pool_workers.touch, (missing,))
    assert e.value.name == "SMA_ENOENT" and missing.name in str(e.value)


def test_c_parent_with_python_workers(same_backend_cli):
    n = fresh_name("cpar")
    cli("create", n, "--shape", "4,3", "--dtype", "int32", "--transient")
    try:
        code = ("import sma, sys\n"
                "with sma.open(sys.argv[1], (slice(int(sys.argv[2]), None, 2),)) as a:\n"
                "    a[...] = int(sys.argv[2]) + 1\n")
        for k in (0, 1):
            r = run_python(code, n, str(k))
            assert r.returncode == 0, r.stderr.decode()
        assert cli("cat", n).strip() == str(np.array([[1] * 3, [2] * 3] * 2, np.int32))
    finally:
        cli("rm", n)


def test_python_parent_with_c_workers(same_backend_cli):
    example = c_program(SMA_EXAMPLE, "sma_example")
    a = sma.create(fresh_name("ppar"), (300, 20), "float32")
    try:
        r = subprocess.run([example, "child", a.name], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()  # it writes a[100:200] = 1
        expect = np.zeros((300, 20), np.float32)
        expect[100:200] = 1
        assert np.array_equal(a.array, expect)
        assert re.search(r"\b%s\b" % re.escape(a.name), cli("ls"))
        assert "300" in cli("info", a.name)
    finally:
        sma.unlink(a.name)
        a.close()


def python_doc_package_section():
    with open(PYTHON_DOC, encoding="utf-8") as f:
        text = f.read()
    start = text.index("### The Python package")
    return text[start:text.index("### Sharing segments with NumPy", start)]


def test_python_doc_examples_run_as_written(same_backend_cli, tmp_path):
    section = python_doc_package_section()
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 3, "docs/python.md's Python package section lost its examples"
    n = fresh_name("rd")
    cli("create", n, "--shape", "64,64", "--dtype", "float32", "--transient")
    try:
        for i, block in enumerate(blocks):
            script = tmp_path / ("example%d.py" % i)  # a file: a spawned Pool imports it
            script.write_text(block.replace('"job-1"', repr(n)))
            r = subprocess.run([sys.executable, str(script), n], capture_output=True,
                               env=child_env(), timeout=120)
            assert r.returncode == 0, (block, r.stderr.decode())
        assert np.array_equal(sma.open(n).array[:, 0], np.arange(64, dtype=np.float32))
    finally:
        for s in sma.list_segments():
            if s.creator_pid != os.getpid() and s.name.startswith(n):
                sma.unlink(s.name)
        try:
            sma.unlink(n)
        except FileNotFoundError:
            pass
