#!/usr/bin/env python3
"""How far one anchor row moves under rounding alone: the same compression with the calibration windows
in K shuffled orders. The set of windows is the same, so the Hessians are the same sums; only the f32
rounding of the partial sums changes, and with it which weights round up or down. GPTQ/SparseGPT feed
each rounding error into the columns after it, so one flipped weight changes many; the spread of the
perplexities is the noise floor of comparing a method with one run of a reference implementation.

  bench/rounding_spread.py --model lm-m --orders 4 -- --method gptq --bits 4 --group -1 --act-order

Prints one JSON line per order (order 0 = the file as it is) and a summary with the increase over dense
as a multiple of the reference's, when --anchor-ppl and --dense-ppl are given.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from spread_summary import order_line, summary, window_order

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shuffled_calib(src, dst, seed):
    """Writes src (safetensors, one I32 tensor input_ids [N, L]) with its N windows in a seeded order."""
    b = open(src, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    shape = header["input_ids"]["shape"]
    assert header["input_ids"]["dtype"] == "I32" and len(header) <= 2, "expected only input_ids (I32)"
    row = shape[1] * 4
    data = b[8 + n:]
    rows = [data[i * row:(i + 1) * row] for i in window_order(shape[0], seed)]
    with open(dst, "wb") as f:
        f.write(b[:8 + n] + b"".join(rows))


def run_json(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--shared", default=os.environ.get("LMP_SHARED", os.path.join(os.path.dirname(ROOT), "shared")))
    ap.add_argument("--model", default="lm-m")
    ap.add_argument("--orders", type=int, default=4, help="shuffled orders besides the file's own")
    ap.add_argument("--first-order", type=int, default=0, help="start at this order (0 = the file's own)")
    ap.add_argument("--anchor-ppl", type=float, help="the reference implementation's perplexity")
    ap.add_argument("--dense-ppl", type=float, help="the dense model's perplexity")
    ap.add_argument("flags", nargs=argparse.REMAINDER, help="-- then the compress flags of the row")
    a = ap.parse_args()
    flags = [f for f in a.flags if f != "--"]
    lmpress = os.path.join(a.build, "lmpress")
    model = os.path.join(a.shared, "models", a.model)
    heldout = os.path.join(a.shared, "data", "corpus", "heldout_dev.jsonl")
    work = tempfile.mkdtemp(prefix="lmp-spread-")
    ppls = []
    try:
        for seed in range(a.first_order, a.first_order + a.orders + 1):
            calib = os.path.join(work, "calib.safetensors")
            shuffled_calib(os.path.join(a.shared, "reference", "calib_128x512.safetensors"), calib, seed)
            out = os.path.join(work, "model")
            run_json([lmpress, "compress", model, "-o", out, "--force", "--dtype", "f32", "-q", "--json",
                      "--calib", calib] + flags)
            ppl = run_json([lmpress, "eval", out, "--text", heldout, "--ctx", "512", "--json", "-q"])["ppl"]
            shutil.rmtree(out, ignore_errors=True)
            ppls.append(ppl)
            print(json.dumps(order_line(seed, ppl, a.anchor_ppl, a.dense_ppl)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary(ppls, a.anchor_ppl, a.dense_ppl)))


if __name__ == "__main__":
    main()
