"""Shared by rounding_spread.py (lmpress) and reference_spread.py (the reference implementation): the
seeded calibration orders, so that order k is the same permutation of the windows in both, and the
per-order and summary lines they print."""
import math
import random


def window_order(n, seed):
    """Order 0 is the file's own; order k > 0 is random.Random(k).shuffle of range(n)."""
    rows = list(range(n))
    if seed:
        random.Random(seed).shuffle(rows)
    return rows


def increase_ratio(ppl, anchor_ppl, dense_ppl):
    """The increase over dense as a multiple of the reference's increase (None without both numbers)."""
    if anchor_ppl is None or dense_ppl is None:
        return None
    return round((ppl - dense_ppl) / (anchor_ppl - dense_ppl), 4)


def order_line(seed, ppl, anchor_ppl, dense_ppl, **extra):
    line = {"order": seed, "ppl": ppl, **extra}
    ratio = increase_ratio(ppl, anchor_ppl, dense_ppl)
    if ratio is not None:
        line["increase_vs_reference"] = ratio
    return line


def summary(ppls, anchor_ppl, dense_ppl):
    mean = sum(ppls) / len(ppls)
    out = {"runs": len(ppls), "ppl_min": min(ppls), "ppl_max": max(ppls), "ppl_mean": mean}
    if len(ppls) > 1:
        out["ppl_stdev"] = math.sqrt(sum((p - mean) ** 2 for p in ppls) / (len(ppls) - 1))
    ratio = increase_ratio(mean, anchor_ppl, dense_ppl)
    if ratio is not None:
        out["mean_increase_vs_reference"] = ratio
    return out
