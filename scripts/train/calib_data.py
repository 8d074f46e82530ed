"""Synthetic plate crops, labelled, for fitting the read-score calibration (scripts/calibrate).

    .venv-train/bin/python scripts/train/calib_data.py --out .cache/calibration --n 600 --seed 9001

Writes <out>/synth-us, synth-eu, synth-br (br_old + br_mercosul), each with images/ and labels.jsonl in the dev sets'
format (`crop: true`), so that `platestream eval` reads them as plate crops, hinted per family or hint-free.
The crops come from the reader's own training pipeline (ocr_data.make_sample: damage, perspective, detector-like
margins, camera degradations), stopped before the network's resize, with a seed the training never uses
(training seeds are small integers). No dev-set image (us, eu, br, br_crops) is read here.
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
import ocr_data  # noqa: E402

FAMILIES = {"synth-us": ["us"], "synth-eu": ["eu"], "synth-br": ["br_old", "br_mercosul"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=600, help="crops per family")
    ap.add_argument("--seed", type=int, default=9001)
    a = ap.parse_args()
    # Keep the degraded crop at its camera resolution: the Swift reader does its own resize.
    ocr_data.preprocess = lambda g: g
    for fi, (family, styles) in enumerate(sorted(FAMILIES.items())):
        rng = random.Random(a.seed * 1000 + fi)
        np.random.seed(a.seed * 1000 + fi)
        folder = os.path.join(a.out, family)
        os.makedirs(os.path.join(folder, "images"), exist_ok=True)
        with open(os.path.join(folder, "labels.jsonl"), "w") as fh:
            for i in range(a.n):
                grey, text, style = ocr_data.make_sample(rng, styles[i % len(styles)])
                img = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR) if grey.ndim == 2 else grey
                name = "images/%s_%05d.jpg" % (style, i)
                cv2.imwrite(os.path.join(folder, name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
                h, w = img.shape[:2]
                fh.write(json.dumps({"image": name, "width": w, "height": h, "crop": True,
                                     "plates": [{"text": text, "box": [0, 0, w, h], "polygon": None}],
                                     "split_key": text, "source": "synthetic:%s" % style}) + "\n")
        print("wrote", a.n, "crops to", folder)


if __name__ == "__main__":
    main()
