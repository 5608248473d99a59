"""Shared fixtures: unique segment names (removed after each test), the C
side's programs (SMA_CLI: the `sma` command; SMA_EXAMPLE: sma_example;
tests needing them skip without, and fail when one is given but missing),
and a way to run Python children that import this very package."""
import os
import subprocess
import sys

import pytest

import sma

SMA_CLI = os.environ.get("SMA_CLI")
SMA_EXAMPLE = os.environ.get("SMA_EXAMPLE")
_count = [0]


def fresh_name(tag="t"):
    """A name unique to this process and call, short enough for every
    backend (macOS allows 30 bytes)."""
    _count[0] += 1
    return "pt%s%d-%d" % (tag, os.getpid() % 100000, _count[0])


@pytest.fixture
def name():
    n = fresh_name()
    yield n
    try:
        sma.unlink(n)
    except FileNotFoundError:
        pass


def child_env():
    """The environment of a child Python: it imports the same package and
    loads the same library."""
    env = dict(os.environ)
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(sma.__file__)))
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    if getattr(sma, "library_path", None):  # (the pure-Python package had none)
        env["SMA_LIBRARY"] = sma.library_path
    return env


def run_python(code, *args, stdin=None, timeout=60):
    """Runs `code` in a fresh interpreter; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", code, *args], input=stdin,
                          capture_output=True, env=child_env(), timeout=timeout)


def shm_path(n):
    """The file of a POSIX segment on Linux, or None where segments are
    not files in /dev/shm (System V)."""
    p = os.path.join("/dev/shm", n)
    return p if backend() == "posix" and os.path.exists(p) else None


def backend():
    """The library's backend ("posix" for the pure-Python package)."""
    return sma.backend() if hasattr(sma, "backend") else "posix"
