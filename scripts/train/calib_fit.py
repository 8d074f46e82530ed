"""Fits the read-score calibration (Models/ocr/score-calibration.json) from `platestream eval --scores`
files: isotonic regression (pool-adjacent-violators) of "read exactly right" on the raw score, one curve for reads that
fit a hinted template in a hinted run (files named *-hinted.jsonl), one for hint-free reads that fit a template and one
for reads that fit none, each reduced to knots (mean raw score, fraction right) of pooled
blocks of at least --min-block reads. Plain Python (no numpy), so the fit is the same everywhere.

    python3 scripts/train/calib_fit.py .cache/calibration/scores-*.jsonl > Models/ocr/score-calibration.json
"""
from __future__ import annotations

import argparse
import json
import sys


def isotonic(points, min_block):
    """points: [(raw, right 0/1)] -> knots [(raw, p)] rising, from PAV over blocks of >= min_block points."""
    points = sorted(points)
    # Start from blocks of min_block neighbours so that single reads cannot make a knot.
    blocks = []
    for i in range(0, len(points), min_block):
        chunk = points[i:i + min_block]
        blocks.append([sum(p[0] for p in chunk), sum(p[1] for p in chunk), len(chunk)])
    if len(blocks) > 1 and blocks[-1][2] < min_block:  # fold a short tail into its neighbour
        tail = blocks.pop()
        blocks[-1] = [a + b for a, b in zip(blocks[-1], tail)]
    merged = []
    for b in blocks:
        merged.append(b)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            b2 = merged.pop()
            merged[-1] = [a + c for a, c in zip(merged[-1], b2)]
    # A knot per block at its mean raw score, with the fraction right smoothed (Laplace: (right + 1) / (n + 2)) so that
    # no block claims certainty, then kept from falling.
    out, floor = [], 0.0
    for s, r, n in merged:
        floor = max(floor, (r + 1) / (n + 2))
        k = (round(s / n, 4), round(floor, 4))
        if out and k[0] <= out[-1][0]:
            continue
        out.append(k)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--min-block", type=int, default=40)
    a = ap.parse_args()
    hinted, fitting, free = [], [], []
    sets = set()
    for path in a.files:
        with open(path) as fh:
            for line in fh:
                r = json.loads(line)
                sets.add(r["set"])
                # scripts/calibrate names the hinted runs' files scores-<family>-hinted.jsonl.
                curve = free if not r["matches_template"] else hinted if path.endswith("-hinted.jsonl") else fitting
                curve.append((r["score"], 1 if r["right"] else 0))
    if len(free) < a.min_block:  # too few to fit their own curve: they share the template curve
        free_knots = isotonic(fitting + free, a.min_block)
    else:
        free_knots = isotonic(free, a.min_block)
    doc = {
        "description": "Maps the reader's raw read score to the probability that the read is exactly right "
                       "(isotonic fit on synthetic plate crops; ScoreCalibration.swift).",
        "rebuild": "scripts/calibrate",
        "reads": {"hinted": len(hinted), "fitting": len(fitting), "free": len(free)},
        "sets": sorted(sets),
        "hinted": [list(k) for k in isotonic(hinted, a.min_block)],
        "fitting": [list(k) for k in isotonic(fitting, a.min_block)],
        "free": [list(k) for k in free_knots],
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
