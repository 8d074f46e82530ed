"""Labelled synthetic pictures in the dev sets' format, for `platestream eval` (issue 16: choose on these, confirm on dev).

The dev sets (../shared/datasets/us, eu, br) may only confirm a choice: choices picked on them did not carry to
hidden pictures of the same kinds. This writes whole synthetic scenes (runtime_crops.scene: cars, streets and
clutter on `ro` val backgrounds, 640-1280 px wide) whose plates are all of one family, with a `labels.jsonl` that
`platestream eval` reads like a dev set, so the whole runtime (detector, looks, crops, votes, templates, scores)
can be measured and compared on pictures nobody tunes to.

    .venv-train/bin/python scripts/train/synth_eval_set.py --family us --scenes 300 --out .train/synth-eval/us
    platestream eval .train/synth-eval/us --regions us --workers 1 --config '{"threshold_o":0}' [--margin-shift=D]

Families: us, eu, br (br_old, br_mercosul, br_moto at the renderer's weights). Plates cut by the picture's edge or
covered by another plate are left out of the labels and the picture is kept only if it has a labelled plate and no
dropped one (a dropped plate would count as a false positive). Same seed, same pictures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import det_data as DD  # noqa: E402
import ocr_data as D  # noqa: E402
import runtime_crops as RC  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True, choices=("us", "eu", "br"))
    ap.add_argument("--scenes", type=int, default=300, help="pictures to write")
    ap.add_argument("--seed", type=int, default=770001)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    a = ap.parse_args()

    RC._install_text_log(a.family)   # every plate of the family, its text logged
    rng = random.Random(a.seed)
    np.random.seed(a.seed)
    ro = DD.load_ro("val")   # backgrounds no training crop saw
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    written = tries = 0
    with open(os.path.join(a.out, "labels.jsonl"), "w") as labels:
        while written < a.scenes and tries < a.scenes * 4:
            tries += 1
            try:
                img, gts, real = RC.scene(rng, ro)
            except Exception as e:  # a renderer corner case: skip the picture
                print("render error:", repr(e), file=sys.stderr)
                continue
            pasted = sum(1 for entry in RC._LOG if len(entry) == 3)
            keep = [g for g in gts if g[1] and D.sample_text_ok(g[1])]
            # Real `ro` plates in street scenes have no text here, and a dropped synthetic plate would be read as a
            # false positive: only pictures whose every plate is labelled are written.
            if not keep or real or len(keep) != pasted:
                continue
            h, w = img.shape[:2]
            name = "images/%s-%05d.jpg" % (a.family, written)
            cv2.imwrite(os.path.join(a.out, name), img, [cv2.IMWRITE_JPEG_QUALITY, a.quality])
            labels.write(json.dumps({
                "image": name, "width": w, "height": h, "crop": False,
                "plates": [{"text": t, "box": [round(b[0]), round(b[1]), round(b[2]), round(b[3])], "polygon": None,
                            "style": s} for b, t, s in keep],
                "source": "synthetic:%s seed %d" % (a.family, a.seed),
            }) + "\n")
            written += 1
            if written % 50 == 0:
                print("%d pictures (%d tried)" % (written, tries), flush=True)
    print("%s: %d pictures of %d tried -> %s" % (a.family, written, tries, a.out))


if __name__ == "__main__":
    main()
