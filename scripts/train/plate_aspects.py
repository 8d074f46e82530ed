"""The proportions (width over height) of the plates the shipped detector finds, per labelled set: what
`PlateShapePrior` (Sources/PlateVision/PlateShapePrior.swift) reads a plate's family from without hints.

For each labelled plate of each set (a folder with labels.jsonl, as `platestream eval` reads), the runtime's
detection path (`runtime_crops.Runtime`: first pass, close or second look) is run on the picture and the detection
that overlaps the label best (IoU >= 0.4) gives its quad: the mean of its top and bottom edges over the mean of its
sides (the box's width over height when the corners are implausible, as the runtime does). Prints the median, the
spread in log-aspect and the 10th / 90th percentiles. Measures only: the AGPL dev sets may be passed here, nothing is
trained on them, and the prior's families come from the plates' sizes, not from these figures.

    .venv-train/bin/python scripts/train/plate_aspects.py .train/synth-eval/us .train/synth-eval/eu .train/synth-eval/br
    .venv-train/bin/python scripts/train/plate_aspects.py ../shared/datasets/us ../shared/datasets/eu ../shared/datasets/br
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import runtime_crops as RC  # noqa: E402
from eval_detector import iou  # noqa: E402


def aspect(box, corners):
    tl, tr, br, bl = RC.quad_of(box, corners)
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return w / max(h, 1e-6)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--limit", type=int, default=150, help="pictures per set")
    a = ap.parse_args()
    rt = RC.Runtime()
    for d in a.sets:
        vals = []
        for line in list(open(os.path.join(d, "labels.jsonl")))[:a.limit]:
            rec = json.loads(line)
            img = cv2.imread(os.path.join(d, rec["image"]))
            if img is None:
                continue
            dets = rt.detect(img)
            for p in rec["plates"]:
                b = p["box"]
                gb = (b["xmin"], b["ymin"], b["xmax"], b["ymax"]) if isinstance(b, dict) else tuple(b)
                best = max(dets, key=lambda dd: iou(dd[1][1], gb), default=None)
                if best is not None and iou(best[1][1], gb) >= 0.4:
                    vals.append(aspect(best[1][1], best[1][2]))
        if not vals:
            print("%-32s no plate found" % d)
            continue
        v = np.log(np.array(vals))
        print("%-32s n=%4d  median %.2f  sd(log) %.3f  p10 %.2f  p90 %.2f"
              % (d, len(vals), np.exp(np.median(v)), v.std(), np.exp(np.percentile(v, 10)), np.exp(np.percentile(v, 90))))


if __name__ == "__main__":
    main()
