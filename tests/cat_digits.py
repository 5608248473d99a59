"""NumPy's side of tests/test_cat.c: `sma cat` against str() of random arrays.

    cat_digits.py PREFIX VALUES SMA...

For each of float16, float32, float64, complex64 and complex128, random
arrays holding at least VALUES shown values in all (summarised arrays
count only the elements str() shows) go through np.save -> `sma load` ->
`sma cat`, whose output must be exactly str(array). The values mix random
bit patterns (subnormals, nan with either sign, inf, the extremes),
values of one or of widely spread magnitudes, all-integer arrays, short
decimals, powers of two, values next to NumPy's format thresholds (1e-4,
1e8, a max/min ratio of 1000) and a list of special values; the shapes
run from 0-d to 3-d, from one element to summarised ones. Integer and
bool arrays are checked too. SMA... is the command that starts `sma`.
The seed is printed; SMA_CAT_DIGITS_SEED repeats a run. Exits 1 after
printing the first mismatches (with the array's bytes in hex).
"""
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

FLOATS = ["f2", "f4", "f8", "c8", "c16"]
INTS = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
SHOW_MISMATCHES = 10


def sma(*args):
    return subprocess.run([*SMA, *args], capture_output=True, text=True)


def real_dtype(dtype):
    return np.dtype(dtype).type(0).real.dtype


def specials(rt):
    """Values where digits and formats are easy to get wrong, in dtype rt."""
    info = np.finfo(rt)
    tiny_sub = np.array(1, dtype={2: np.uint16, 4: np.uint32, 8: np.uint64}[rt.itemsize]).view(rt)
    one = rt.type(1)
    vals = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, info.max, -info.max, info.tiny,
            tiny_sub, -tiny_sub, np.nextafter(info.tiny, rt.type(0)), info.eps, 1.0, -1.0,
            0.5, 0.1, 1 / 3, 2 / 3, 1e-4, 1e8, 9.5, 0.25, 1000.0, 1e16, 1e-5, 65504.0]
    out = [rt.type(v) for v in vals]
    for v in (1e-4, 1e8, 1000.0, 1e16, 0.1, 1.0):  # the neighbours of thresholds
        x = rt.type(v)
        out += [np.nextafter(x, rt.type(np.inf)), np.nextafter(x, rt.type(0))]
    out += [np.ldexp(one, e) for e in range(info.minexp, info.maxexp, max(1, info.maxexp // 40))]
    return np.array(out, dtype=rt)


def reals(rng, rt, n):
    """n values of dtype rt, from one randomly chosen family."""
    kind = rng.integers(0, 9)
    if kind == 0:  # any bit pattern: subnormals, nan, inf, extremes
        bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[rt.itemsize]
        return rng.integers(0, np.iinfo(bits).max, size=n, dtype=bits, endpoint=True).view(rt)
    if kind == 1:  # one magnitude
        scale = 10.0 ** rng.integers(-12, 12)
        return (rng.standard_normal(n) * scale).astype(rt)
    if kind == 2:  # magnitudes spread over a range
        lo, span = rng.integers(-10, 10), rng.integers(0, 8)
        v = 10.0 ** rng.uniform(lo, lo + span, n) * rng.choice([-1, 1], n)
        return v.astype(rt)
    if kind == 3:  # integers
        return rng.integers(-10 ** int(rng.integers(1, 9)), 10 ** int(rng.integers(1, 9)), n).astype(rt)
    if kind == 4:  # short decimals
        return np.round(rng.uniform(-100, 100, n), int(rng.integers(0, 9))).astype(rt)
    if kind == 5:  # powers of two (a margin below half the one above)
        return np.ldexp(rng.choice([-1.0, 1.0], n), rng.integers(-30, 30, n)).astype(rt)
    if kind == 6:  # near a format threshold
        base = rng.choice([1e-4, 1e8, 1e3, 1.0, 0.1])
        return (base * (1 + rng.integers(-3, 4, n) * np.finfo(rt).eps)).astype(rt)
    if kind == 7:  # specials, mixed with plain values
        s = specials(rt)
        v = rng.choice(s, n)
        return np.where(rng.random(n) < 0.5, v, rng.standard_normal(n).astype(rt))
    with np.errstate(over="ignore"):  # a ratio of exactly ~1000 between two values
        m = rng.uniform(0.5, 2)
        return np.array([m, m * 1000 * (1 + rng.integers(-2, 3) * float(np.finfo(rt).eps))]
                        * (n // 2) + [m] * (n % 2), dtype=rt)


def values(rng, dtype, n):
    rt = real_dtype(dtype)
    if np.dtype(dtype).kind != "c":
        return reals(rng, rt, n)
    re, im = reals(rng, rt, n), reals(rng, rt, n)
    pick = rng.integers(0, 5)
    if pick == 0:
        re = np.zeros(n, dtype=rt)
    elif pick == 1:
        im = np.zeros(n, dtype=rt)
    out = np.empty(n, dtype=dtype)
    out.real, out.imag = re, im
    return out


def shape_for(rng):
    pick = rng.integers(0, 20)
    if pick == 0:
        return ()
    if pick == 1:  # summarised: only the edges are shown
        if rng.integers(0, 2):
            return (int(rng.integers(1001, 3000)),)
        return (int(rng.integers(2, 60)), int(rng.integers(20, 60)), int(rng.integers(1, 4)))
    if pick == 2:
        return (int(rng.integers(1, 12)), int(rng.integers(1, 12)), int(rng.integers(1, 6)))
    if pick <= 5:
        return (int(rng.integers(1, 24)), int(rng.integers(1, 12)))
    return (int(rng.integers(1, 240)),)


def shown(a):
    """How many elements str(a) shows."""
    if a.size <= 1000:
        return a.size
    return int(np.prod([min(n, 6) for n in a.shape]))


# Segments removed together: few enough for macOS's default System V limit
# of 32 segments (shmmni), under which one configuration runs this.
BATCH = 16


class Run:
    def __init__(self, tmp):
        self.tmp, self.k, self.mismatches, self.arrays = tmp, 0, 0, 0
        self.names = []

    def check(self, a):
        self.k += 1
        self.arrays += 1
        path, name = f"{self.tmp}/a{self.k}.npy", f"{PREFIX}-{self.k}"
        np.save(path, a)
        r = sma("load", path, name)
        if r.returncode != 0:
            self.report(a, f"sma load failed: {r.stderr}")
            return
        self.names.append(name)
        got = sma("cat", name)
        want = str(a)
        if got.returncode != 0 or got.stdout != want + "\n":
            self.report(a, f"sma cat printed\n{got.stdout.rstrip()}\n{got.stderr}"
                           f"NumPy prints\n{want}")
        os.unlink(path)
        if len(self.names) >= BATCH:
            self.clean()

    def report(self, a, what):
        self.mismatches += 1
        if self.mismatches <= SHOW_MISMATCHES:
            print(f"MISMATCH {a.dtype} shape {a.shape}, bytes {a.tobytes().hex()}:\n{what}\n",
                  flush=True)

    def clean(self):
        for i in range(0, len(self.names), 200):
            sma("rm", *self.names[i:i + 200])  # after a failed run: at most BATCH
        self.names = []


def main(tmp):
    seed = int(os.environ.get("SMA_CAT_DIGITS_SEED", random.SystemRandom().randrange(2 ** 32)))
    print(f"cat_digits: seed {seed} (SMA_CAT_DIGITS_SEED={seed} repeats this run)", flush=True)
    rng = np.random.default_rng(seed)
    run = Run(tmp)
    for dtype in FLOATS:
        rt = real_dtype(dtype)
        run.check(specials(rt).astype(dtype))
        tested = 0
        while tested < VALUES:
            shape = shape_for(rng)
            a = values(rng, dtype, int(np.prod(shape, dtype=np.int64))).reshape(shape)
            run.check(a)
            tested += shown(a)
        run.clean()
        print(f"cat_digits: {dtype}: {tested} values shown", flush=True)
    for dtype in INTS:  # these matched before; a few arrays each keep them so
        for _ in range(max(2, VALUES // 1000)):
            shape = shape_for(rng)
            n = int(np.prod(shape, dtype=np.int64))
            raw = rng.integers(0, 256, n * np.dtype(dtype).itemsize, dtype=np.uint8)
            a = raw.view(np.uint8 if dtype == "?" else dtype).reshape(shape)
            run.check(a.astype(bool) if dtype == "?" else a)
        run.clean()
    print(f"cat_digits: {run.arrays} arrays, {run.mismatches} mismatches")
    return run.mismatches


if __name__ == "__main__":
    PREFIX, VALUES = sys.argv[1], int(sys.argv[2])
    SMA = sys.argv[3:]
    np.seterr(all="ignore")  # values out of float16's range become inf, as meant
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(1 if main(tmp) else 0)
