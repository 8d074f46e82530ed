"""Deterministic synthetic plate crops for tests (e.g. Swift runtime tests of the plate reader).

    .venv-train/bin/python scripts/train/render_test_crops.py --out /tmp/crops --n 5 [--seed 2024] [--degraded]
    # Samples/plates (the reader test's crops): --out Samples/plates --n 4 --seed 7 --height 96 --ext jpg

Writes <out>/<style>_<i>.png (BGR) and <out>/labels.jsonl ({"image", "text", "style"}). Same seed, same fonts
-> same images. Clean crops: the flat plate with a small margin of neutral grey; --degraded: the training
augmentation pipeline output (48x160 grey, as fed to the network).
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
import plates  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--styles", default=",".join(plates.STYLES))
    ap.add_argument("--degraded", action="store_true")
    ap.add_argument("--height", type=int, default=0, help="scale clean crops to this height (0: as rendered)")
    ap.add_argument("--ext", default="png", help="png, or jpg (quality 92) for small files")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    recs = []
    for si, st in enumerate(a.styles.split(",")):
        rng = random.Random(a.seed * 100 + si)
        np.random.seed(a.seed * 100 + si)
        for i in range(a.n):
            if a.degraded:
                import ocr_data as D
                img, text, style = D.make_sample(rng, st)
            else:
                img, text, style, corners = plates.render_plate(rng, st)
                m = int(img.shape[0] * 0.08)
                img = cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_CONSTANT, value=(128, 128, 128))
                if a.height:
                    w = max(1, round(img.shape[1] * a.height / img.shape[0]))
                    img = cv2.resize(img, (w, a.height), interpolation=cv2.INTER_AREA)
            name = "%s_%02d.%s" % (st, i, a.ext)
            cv2.imwrite(os.path.join(a.out, name), img, [cv2.IMWRITE_JPEG_QUALITY, 92] if a.ext == "jpg" else [])
            recs.append({"image": name, "text": text, "style": style})
    with open(os.path.join(a.out, "labels.jsonl"), "w") as fh:
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote", len(recs), "crops to", a.out)


if __name__ == "__main__":
    main()
