"""Measure the exported plate reader (ONNX) on the ground-truth plate crops of the dev sets.

EVALUATION ONLY: the us, eu, br and br_crops sets are AGPL-licensed and must never be used as training data.

    .venv-train/bin/python scripts/train/eval_ocr.py [--model Models/ocr/plate-reader.onnx] [--sets us,eu,br,br_crops]
        [--misses .train/ocr/misses]   # writes miss lists + montages for error analysis

Prints per set: exact-read %, exact with O/0 and I/1 folded, CER, exact with the Hangul/Hanzi classes masked
(latin-only: what a runtime that knows the region would do), the same voted over standard / tight / loose crops
(what the runtime does outside fast mode), and (br sets) exact with Latin-only + the Brazilian
format (LLLDLDD / LLLDDDD) enforced on the per-step probabilities.

--runtime instead reads the crops the runtime would cut (runtime_crops.py's port of the detector and
ONNXPlateReader.crop) at the five margins runtime_crops.MARGINS and prints latin-only exact % per margin (br: with
the Brazilian format; no templates, no vote, no tiles or faint proposals, so fewer us plates are found; plates the
detector misses count as wrong) and the spread over the margins: the issue 16 robustness figure, reader alone.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocr_data as D  # noqa: E402  (only for preprocess + alphabet; no training data here)

DATA = os.path.join(D.REPO, "..", "shared", "datasets")
EVAL_SETS = ("us", "eu", "br", "br_crops")


# What the runtime does outside fast mode: read standard, tight and loose crops of each plate and vote.
VOTE_MARGINS = ((0.04, 0.08), (0.0, 0.0), (0.10, 0.15))


def load_set(name, mx=0.04, my=0.08, margins=None):
    """-> [(crop, text, image)]; with `margins` the crop is a list, one per (mx, my)."""
    base = os.path.join(DATA, name)
    out = []
    with open(os.path.join(base, "labels.jsonl")) as fh:
        for line in fh:
            r = json.loads(line)
            im = cv2.imread(os.path.join(base, r["image"]))
            if im is None:
                continue
            for p in r["plates"]:
                if not p.get("text"):
                    continue
                crops = []
                for (cx, cy) in (margins or ((mx, my),)):
                    if r.get("crop"):
                        crops.append(im)
                        continue
                    x0, y0, x1, y1 = p["box"]
                    w, h = x1 - x0, y1 - y0
                    X0, Y0 = int(max(0, x0 - cx * w)), int(max(0, y0 - cy * h))
                    X1, Y1 = int(min(im.shape[1], x1 + cx * w)), int(min(im.shape[0], y1 + cy * h))
                    crops.append(im[Y0:Y1, X0:X1])
                out.append((crops if margins else crops[0], p["text"], r["image"]))
    return out


def decode(probs, fmt=None):
    """probs T x K. Greedy CTC; fmt: list of allowed-char strings per position (applied if lengths match)."""
    idx = probs.argmax(1)
    chars, steps, prev = [], [], 0
    for t, k in enumerate(idx):
        k = int(k)
        if k != 0 and k != prev:
            chars.append(D.ALPHABET[k - 1])
            steps.append(t)
        prev = k
    conf = [float(probs[t].max()) for t in steps]
    if fmt is not None:
        for pat in fmt:
            if len(pat) == len(chars):
                for i, allowed in enumerate(pat):
                    if chars[i] not in allowed:
                        ids = [D.CHAR2IDX[c] for c in allowed]
                        chars[i] = allowed[int(np.argmax(probs[steps[i], ids]))]
                break
    return "".join(chars), conf


L_, D_ = D.plates.LETTERS, D.plates.DIGITS
BR_FMT = [[L_, L_, L_, D_, L_ + D_, D_, D_]]


def fold(s):
    return s.replace("O", "0").replace("I", "1")


def cer(a, b):
    dp = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, dp[0] = dp[0], i
        for j in range(1, len(b) + 1):
            cur = dp[j]
            dp[j] = min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev = cur
    return dp[len(b)]


class OnnxReader:
    def __init__(self, path):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        self.s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def __call__(self, crop):
        x = D.preprocess(crop).astype(np.float32)[None, None] / 255.0
        return self.s.run(None, {"image": x})[0][0]


def runtime_margins(reader, sets):
    """Exact % (latin-only, greedy; br with the Brazilian format) per crop margin on the runtime's own crops of the
    labelled full-frame sets."""
    import runtime_crops as R
    rt = R.Runtime()
    for name in sets:
        base = os.path.join(DATA, name)
        n, ok, found = 0, np.zeros(len(R.MARGINS)), 0
        for line in open(os.path.join(base, "labels.jsonl")):
            r = json.loads(line)
            plates = [p for p in r["plates"] if p.get("text")]
            im = cv2.imread(os.path.join(base, r["image"]))
            if r.get("crop") or im is None or not plates:
                continue
            n += len(plates)
            for (first, looked), (box, text, _) in R.match(rt.detect(im), [(tuple(p["box"]), p["text"], "") for p in plates], 0.3):
                found += 1
                for j, m in enumerate(R.MARGINS):
                    pv = reader(R.cut(im, looked[1], looked[2], m, m))
                    pv[:, 1 + len(D.plates.LATIN):] = 0
                    ok[j] += decode(pv, BR_FMT if name.startswith("br") else None)[0] == text
        ex = 100.0 * ok / max(1, n)
        print("%-9s runtime crops, %d plates (%d detected): exact %% at margins %s: %s  | max-min %.1f" % (
            name, n, found, " ".join("%.2f" % m for m in R.MARGINS), " ".join("%5.1f" % v for v in ex), ex.max() - ex.min()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(D.REPO, "Models", "ocr", "plate-reader.onnx"))
    ap.add_argument("--sets", default=",".join(EVAL_SETS))
    ap.add_argument("--misses", default="")
    ap.add_argument("--runtime", action="store_true", help="read the runtime's own crops at five margins instead")
    a = ap.parse_args()
    reader = OnnxReader(a.model)
    if a.runtime:
        runtime_margins(reader, [s for s in a.sets.split(",") if s != "br_crops"])
        return
    tot_t, tot_n = 0.0, 0
    for name in a.sets.split(","):
        items = load_set(name, margins=VOTE_MARGINS)
        n = len(items)
        ex = exf = exb = exl = exv = 0
        ed = nch = 0
        misses = []
        for crops, text, img in items:
            crop = crops[0]
            t0 = time.perf_counter()
            pr = reader(crop)
            tot_t += time.perf_counter() - t0
            tot_n += 1
            votes = []
            for i, c in enumerate(crops):
                pv = pr.copy() if i == 0 else reader(c)
                pv[:, 1 + len(D.plates.LATIN):] = 0
                s_, conf_ = decode(pv)
                votes.append((s_, float(np.exp(np.mean(np.log(np.maximum(conf_, 1e-6))))) if conf_ else 0.0))
            tally = {}
            for s_, sc in votes:
                k, b_ = tally.get(s_, (0, 0.0))
                tally[s_] = (k + 1, max(b_, sc))
            exv += max(tally, key=lambda t: tally[t]) == text
            pred, conf = decode(pr)
            ex += pred == text
            exf += fold(pred) == fold(text)
            ed += cer(pred, text)
            nch += len(text)
            pl = pr.copy()
            pl[:, 1 + len(D.plates.LATIN):] = 0  # region known to be Latin-only: mask Hangul / Hanzi classes
            exl += decode(pl)[0] == text
            if name.startswith("br"):
                pb, _ = decode(pl, BR_FMT)
                exb += pb == text
            if pred != text:
                misses.append((crop, text, pred, img, conf))
        line = "%-9s n=%4d  exact %5.1f%%  folded %5.1f%%  CER %5.1f%%  latin-only %5.1f%%" % (
            name, n, 100 * ex / n, 100 * exf / n, 100 * ed / max(1, nch), 100 * exl / n)
        line += "  3-crop vote (latin-only) %5.1f%%" % (100 * exv / n)
        if name.startswith("br"):
            line += "  br-format %5.1f%%" % (100 * exb / n)
        print(line, flush=True)
        if a.misses:
            os.makedirs(a.misses, exist_ok=True)
            with open(os.path.join(a.misses, name + ".txt"), "w") as fh:
                for crop, text, pred, img, conf in misses:
                    fh.write("%s\t%s\t%s\t%s\n" % (text, pred, img, " ".join("%.2f" % c for c in conf)))
            tiles = []
            for crop, text, pred, img, conf in misses[:60]:
                g = cv2.resize(crop, (240, 80))
                g = np.concatenate([g, np.full((22, 240, 3), 255, np.uint8)], 0)
                cv2.putText(g, "%s>%s" % (text, pred.encode("ascii", "replace").decode()), (2, 96), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 200), 1)
                tiles.append(np.pad(g, ((2, 2), (2, 2), (0, 0))))
            if tiles:
                while len(tiles) % 5:
                    tiles.append(np.zeros_like(tiles[0]))
                rows = [np.concatenate(tiles[i:i + 5], 1) for i in range(0, len(tiles), 5)]
                cv2.imwrite(os.path.join(a.misses, name + ".jpg"), np.concatenate(rows, 0))
    print("mean time per crop (onnxruntime, 1 thread, incl. preprocessing): %.2f ms" % (1000 * tot_t / max(1, tot_n)))


if __name__ == "__main__":
    main()
