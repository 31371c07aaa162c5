#!/usr/bin/env python3
"""Reproduces every row of ../shared/reference/peer_anchors.json with lmpress and prints the table.

For each row: `lmpress compress` with the reference's settings (calib_128x512, GPTQ with act-order and
"linear" sequencing, pruners with "block" sequencing) exported as f32 HF, then `lmpress eval` on
heldout_dev at ctx 512. Results are appended to a JSON-lines file so an interrupted run resumes.

  bench/anchors.py [--build build] [--models lm-s,lm-m] [--results out/anchors.jsonl] [--markdown]

GPTQ rows also show the reference implementation re-run on the anchors' own stack with the file's window
order (bench/results/reference_rerun_h100.jsonl, made by bench/reference_spread.py) and lmpress's
increase as a multiple of that re-run's.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RERUN = os.path.join(ROOT, "bench", "results", "reference_rerun_h100.jsonl")
VARIANT_KEYS = ("act_order", "true_sequential", "dtype", "attn")


def reference_reruns(path=RERUN):
    """(model, bits, group) -> ppl of the reference re-run with the published settings, file order."""
    out = {}
    if os.path.exists(path):
        for line in open(path):
            d = json.loads(line)
            if d.get("order") == 0 and not any(k in d for k in VARIANT_KEYS):
                out[(d["model"], d["bits"], d["group"])] = d["ppl"]
    return out


def row_key(r):
    return "{model}/{method}/b{bits}/g{group}/s{sparsity}/{n}:{m}".format(
        model=r["model"], method=r["method"], bits=r.get("bits", "-"), group=r.get("group", "-"),
        sparsity=r.get("sparsity", "-"), n=r.get("n", "-"), m=r.get("m", "-"))


def compress_flags(r):
    f = ["--method", r["method"]]
    if r["method"] in ("rtn", "gptq"):
        f += ["--bits", str(r["bits"]), "--group", str(r["group"])]
        if r["method"] == "gptq":
            f += ["--act-order"]
    elif "n" in r:
        f += ["--nm", "%d:%d" % (r["n"], r["m"])]
    else:
        f += ["--sparsity", str(r["sparsity"])]
    return f


def run_json(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    return json.loads(p.stdout)


def measure(r, a, shared):
    model = os.path.join(shared, "models", r["model"])
    heldout = os.path.join(shared, "data", "corpus", "heldout_dev.jsonl")
    lmpress = os.path.join(a.build, "lmpress")
    target, comp = model, None
    if r["method"] != "dense":
        target = os.path.join(a.work, r["model"] + "-" + r["method"])
        comp = run_json([lmpress, "compress", model, "-o", target, "--force", "--dtype", "f32", "-q",
                         "--calib", os.path.join(shared, "reference", "calib_128x512.safetensors"), "--json"]
                        + compress_flags(r))
    ev = run_json([lmpress, "eval", target, "--text", heldout, "--ctx", "512", "--json", "-q"])
    if comp:
        shutil.rmtree(target, ignore_errors=True)
    return {"key": row_key(r), "ppl": ev["ppl"], "compress": comp}


def markdown(rows, done):
    dense = {r["model"]: r["ppl_heldout_dev_ctx512"] for r in rows if r["method"] == "dense"}
    ours_dense = {r["model"]: done[row_key(r)]["ppl"] for r in rows
                  if r["method"] == "dense" and row_key(r) in done}
    reruns = reference_reruns()
    print("| model | method | setting | reference ppl | lmpress ppl | check | reference re-run (H100) | "
          "lmpress ÷ re-run increase | lmpress s | reference s (H100) |")
    print("|---|---|---|---:|---:|---|---:|---:|---:|---:|")
    for r in rows:
        k = row_key(r)
        if k not in done:
            continue
        ours, ref = done[k]["ppl"], r["ppl_heldout_dev_ctx512"]
        setting = ("w%d g%d" % (r["bits"], r["group"])) if "bits" in r else (
            "%d:%d" % (r["n"], r["m"]) if "n" in r else "%d%%" % round(100 * r.get("sparsity", 0)))
        if r["method"] == "dense":
            setting, check = "", "rel %.1e" % (ours / ref - 1)
        elif r["method"] in ("gptq", "sparsegpt"):
            ratio = (ours - ours_dense.get(r["model"], dense[r["model"]])) / (ref - dense[r["model"]])
            check = "increase %.2fx %s" % (ratio, "ok" if ratio <= 1.10 else "OVER 1.10")
        else:
            rel = ours / ref - 1
            check = "rel %+.4f%% %s" % (100 * rel, "ok" if abs(rel) <= 1e-3 else "OVER 0.1%")
        rerun, vs_rerun = "", ""
        again = reruns.get((r["model"], r.get("bits"), r.get("group"))) if r["method"] == "gptq" else None
        if again is not None:
            base = dense[r["model"]]
            rerun = "%.4f (%.2fx)" % (again, (again - base) / (ref - base))
            vs_rerun = "%.2fx" % ((ours - ours_dense.get(r["model"], base)) / (again - base))
        secs = done[k]["compress"]["seconds"] if done[k]["compress"] else 0.0
        print("| %s | %s | %s | %.4f | %.4f | %s | %s | %s | %.1f | %.2f |" % (
            r["model"], r["method"], setting, ref, ours, check, rerun, vs_rerun, secs, r["seconds"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--shared", default=os.environ.get("LMP_SHARED", os.path.join(os.path.dirname(ROOT), "shared")))
    ap.add_argument("--models", default="lm-s,lm-m")
    ap.add_argument("--results", default=os.path.join(ROOT, "out", "anchors.jsonl"))
    ap.add_argument("--work", default=os.path.join(ROOT, "out", "anchors-work"))
    ap.add_argument("--markdown", action="store_true", help="only print the table of the results so far")
    a = ap.parse_args()
    rows = [r for r in json.load(open(os.path.join(a.shared, "reference", "peer_anchors.json")))["rows"]
            if r["model"] in a.models.split(",")]
    done = {}
    if os.path.exists(a.results):
        for line in open(a.results):
            d = json.loads(line)
            done[d["key"]] = d
    if not a.markdown:
        os.makedirs(os.path.dirname(a.results), exist_ok=True)
        os.makedirs(a.work, exist_ok=True)
        for r in rows:
            if row_key(r) in done:
                continue
            t0 = time.time()
            d = measure(r, a, a.shared)
            done[d["key"]] = d
            with open(a.results, "a") as f:
                f.write(json.dumps(d) + "\n")
            print("%s: ppl %.4f (reference %.4f), %.0f s" % (d["key"], d["ppl"], r["ppl_heldout_dev_ctx512"],
                                                          time.time() - t0), file=sys.stderr, flush=True)
    markdown(rows, done)


if __name__ == "__main__":
    main()
