"""NumPy's side of tests/test_npy.c: .npy files through the `sma` command.

    npy_interop.py roundtrip|roundtrip-few-shapes|slices|refuse PREFIX ORDER SMA...

SMA... is the command that starts `sma` (an emulator may come first);
ORDER is its machine's byte order ('<' or '>'), which `sma save` writes.

roundtrip: for every dtype libsma holds, 0-d to 4-d and empty shapes, in C
and Fortran order and both byte orders, np.save -> `sma load` -> `sma cat`
must print exactly str(array), and `sma save` must write the bytes np.save
writes for the same (native, C-order) array; roundtrip-few-shapes does so
in three of the shapes (every dtype, order and byte order still). slices: `sma save --slice`
with negative steps gives NumPy's slice. refuse: objects, strings,
records, dates, truncated and lying files make `sma load` exit 1 and leave
no segment. Exits 1 after printing every mismatch.
"""
import io
import os
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (0,), (3, 0)]
# Where each `sma` starts slowly (qemu-user, sanitizers): 0-d, the 4-d one
# (Fortran order and a length-1 axis included) and an empty 2-d.
FEW_SHAPES = [(), (2, 1, 3, 2), (3, 0)]
failures = []


def sma(*args):
    return subprocess.run([*SMA, *args], capture_output=True, text=True)


def in_sma_order(a):
    """The array as `sma save` writes it: C order, sma's byte order."""
    a = a.astype(a.dtype.newbyteorder(ORDER))
    return np.ascontiguousarray(a) if a.ndim else a


def values(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    x = np.arange(n, dtype=np.float64)
    kind = np.dtype(dtype).kind
    if kind == "b":
        v = x % 3 == 0
    elif kind == "i":
        v = x - n // 2
    elif kind == "u":
        v = x * 3
    elif kind == "f":
        v = (x - n / 2) * 0.37
    else:
        v = (x - n / 2) * 0.37 + 1j * (x * 0.5)
    return v.astype(dtype).reshape(shape)


def np_bytes(a):
    out = io.BytesIO()
    np.save(out, a)
    return out.getvalue()


def check(ok, what):
    if not ok:
        failures.append(what)
        print("MISMATCH:", what, flush=True)


def roundtrip(tmp, shapes=SHAPES):
    k = 0
    for dtype in DTYPES:
        for shape in shapes:
            native = values(dtype, shape)
            variants = [("C", native)]
            if len(shape) >= 2:
                variants.append(("F", np.asfortranarray(native)))
            if native.dtype.itemsize > 1:
                variants.append(("swapped", native.astype(native.dtype.newbyteorder("S"))))
            for label, arr in variants:
                k += 1
                what = f"{dtype} {shape} {label}"
                path, out, name = f"{tmp}/in{k}.npy", f"{tmp}/out{k}.npy", f"{PREFIX}-{k}"
                np.save(path, arr)
                r = sma("load", path, name)
                check(r.returncode == 0 and r.stdout.split("\n")[0] == name, f"{what}: load {r.stderr}")
                if r.returncode != 0:
                    continue
                shown = sma("cat", name).stdout.rstrip("\n")
                check(shown == str(native), f"{what}: cat printed\n{shown}\nNumPy prints\n{native}")
                check(sma("save", name, out).returncode == 0, f"{what}: save")
                back = np.load(out)
                check(back.dtype == in_sma_order(native).dtype and back.shape == native.shape
                      and np.array_equal(back, native), f"{what}: np.load of sma save")
                with open(out, "rb") as f:
                    check(f.read() == np_bytes(in_sma_order(native)), f"{what}: bytes differ from np.save")
                sma("rm", name)
    # Without NAME, load builds one and prints it.
    np.save(f"{tmp}/auto.npy", values("f4", (2, 2)))
    r = sma("load", f"{tmp}/auto.npy")
    name = r.stdout.split("\n")[0]
    check(r.returncode == 0 and sma("info", name).returncode == 0, f"load without NAME: {r.stderr}")
    sma("rm", name)


def parse_slice(text):
    out = []
    for part in text.split(","):
        fields = [int(f) if f.strip() else None for f in part.split(":")]
        out.append(slice(*fields))
    return tuple(out)


def slices(tmp):
    cases = {(6, 7): ["::-1", "::-2, 1:", "5:0:-2, ::-3", "1:5, ::-1", "::-1, ::-1", "-2::-2, 6:0:-4"],
             (4, 5, 3): ["::-1, ::2, ::-1", "3:0:-1, -1::-2", ":, :, ::-2", "::-3"]}
    for k, (shape, texts) in enumerate(cases.items()):
        a = values("f8" if k == 0 else "i4", shape)
        np.save(f"{tmp}/s{k}.npy", a)
        name = f"{PREFIX}-s{k}"
        check(sma("load", f"{tmp}/s{k}.npy", name).returncode == 0, f"slices: load {shape}")
        for j, text in enumerate(texts):
            out = f"{tmp}/s{k}-{j}.npy"
            r = sma("save", name, out, "--slice", text)
            check(r.returncode == 0, f"save --slice {text}: {r.stderr}")
            if r.returncode == 0:
                want = a[parse_slice(text)]
                got = np.load(out)
                check(got.shape == want.shape and np.array_equal(got, want), f"slice {text} of {shape}")
                shown = sma("cat", name, "--slice", text).stdout.rstrip("\n")
                check(shown == str(want), f"cat --slice {text}:\n{shown}\nNumPy:\n{want}")
        sma("rm", name)


def refuse_one(tmp, label, data):
    path, name = f"{tmp}/bad-{label}.npy", f"{PREFIX}-bad"
    with open(path, "wb") as f:
        f.write(data)
    r = sma("load", path, name)
    check(r.returncode == 1 and r.stderr.startswith("sma: load"), f"{label}: exit {r.returncode} {r.stderr}")
    check(sma("info", name).returncode == 1, f"{label}: a segment was left")
    sma("rm", name)
    return r.stderr


def refuse(tmp):
    for label, arr in [("object", np.array([1, "a", None], dtype=object)),
                       ("string", np.array(["ab", "c"])), ("bytes", np.array([b"ab"])),
                       ("record", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")])),
                       ("date", np.array(["2026-12-01"], dtype="datetime64[D]"))]:
        out = io.BytesIO()
        np.save(out, arr, allow_pickle=True)
        said = refuse_one(tmp, label, out.getvalue())
        check("dtype" in said, f"{label}: the message names the dtype: {said}")
    good = np_bytes(values("f8", (4, 5)))
    for cut in (0, 9, 11, 60, len(good) // 2, len(good) - 1):
        refuse_one(tmp, f"cut{cut}", good[:cut])
    lying = np_bytes(values("f8", (4,)))
    lying = lying.replace(b"'shape': (4,)", b"'shape': (9,)")
    refuse_one(tmp, "lying", lying)


if __name__ == "__main__":
    MODE, PREFIX, ORDER = sys.argv[1:4]
    SMA = sys.argv[4:]
    with tempfile.TemporaryDirectory() as tmp:
        modes = {"roundtrip": roundtrip, "slices": slices, "refuse": refuse,
                 "roundtrip-few-shapes": lambda tmp: roundtrip(tmp, FEW_SHAPES)}
        modes[MODE](tmp)
    print(f"npy_interop {MODE}: {len(failures)} mismatches")
    sys.exit(1 if failures else 0)
