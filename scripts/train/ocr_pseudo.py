"""Self-training on the MIT `ro` set: read every ro plate box with the current exported reader, keep confident
reads that match a Romanian plate format, and write them as pseudo labels for ocr_train.py --ro-pseudo.

    .venv-train/bin/python scripts/train/ocr_pseudo.py --model Models/ocr/plate-reader.onnx \
        --out .train/ocr/ro_pseudo.jsonl [--min-conf 0.85]

Only `ro` (MIT) is read here (ocr_data.TRAIN_ALLOWED_SETS); the AGPL dev sets are never pseudo-labelled.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocr_data as D  # noqa: E402
from eval_ocr import OnnxReader, decode  # noqa: E402

RO_FORMAT = re.compile(r"^(B\d{2,3}[A-Z]{3}|[A-Z]{2}\d{2}[A-Z]{3}|[A-Z]{1,2}\d{6})$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="Models/ocr/plate-reader.onnx")
    ap.add_argument("--out", default=D.RO_PSEUDO)
    ap.add_argument("--min-conf", type=float, default=0.85)
    a = ap.parse_args()
    assert "ro" in D.TRAIN_ALLOWED_SETS
    reader = OnnxReader(a.model)
    kept, total = [], 0
    for crop, box, image in D.ro_crops():
        total += 1
        if crop.shape[0] < 10:
            continue
        text, conf = decode(reader(crop))
        if text and RO_FORMAT.match(text) and min(conf) >= a.min_conf:
            kept.append({"image": image, "box": list(box), "text": text, "min_conf": round(min(conf), 3)})
    with open(a.out, "w") as fh:
        for r in kept:
            fh.write(json.dumps(r) + "\n")
    print("ro plates %d, pseudo-labelled %d -> %s" % (total, len(kept), a.out))
    if kept:
        print("examples:", " ".join(r["text"] for r in kept[:20]))


if __name__ == "__main__":
    main()
