#!/usr/bin/python3
"""Measure the exported plate detector with OpenCV dnn (run it with /usr/bin/python3: OpenCV 4.6, the runtime's).

  /usr/bin/python3 scripts/train/eval_detector.py --model Models/detector/plate-detector.onnx

Per set (us, eu, br: dev only, AGPL, measurement only; ro: MIT, also used in training), prints
  det%   plates found: a detection with IoU >= 0.3 with the ground-truth box, or the GT centre inside it
  FP/img detections that match no ground-truth plate (same criterion), per image
  ms     median per image on ONE thread: letterbox + forward + decode + NMS (image decoding excluded),
         and the forward pass alone
--verify NPZ: compare the ONNX output with the PyTorch output stored by det_export.py (exit 1 on mismatch).
--dump DIR: write the misses and false positives as annotated images (for error analysis).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "datasets"))


def letterbox_blob(img, size, pad=114, height=None):
    """The runtime's copencv_letterbox_blob: centred on a size x (height or size) canvas, INTER_AREA when shrinking
    (after an integer box-filter shrink, as the runtime does), BGR, /255."""
    H = height or size
    h, w = img.shape[:2]
    r = min(size / w, H / h)
    nw, nh = max(1, int(round(w * r))), max(1, int(round(h * r)))
    px, py = (size - nw) // 2, (H - nh) // 2
    canvas = np.full((H, size, 3), pad, np.uint8)
    k = min(w // nw, h // nh)
    src = cv2.resize(img[:h // k * k, :w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA) if k >= 2 else img
    canvas[py:py + nh, px:px + nw] = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
    blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) * (1.0 / 255.0)
    return blob, r, px, py


class Detector:
    def __init__(self, path, size=None, score=0.4, nms=0.45):
        self.net = cv2.dnn.readNetFromONNX(path)
        side = os.path.splitext(path)[0] + ".json"
        meta = json.load(open(side)) if os.path.exists(side) else {}
        shape = meta.get("input", {}).get("shape", [1, 3, 448, 448])
        self.size = size or shape[3]
        self.height = None if size else shape[2]   # WxH exports (plate-detector-512x288) from their sidecar
        self.score, self.nms = score, nms
        self.min_aspect = meta.get("postprocess", {}).get("min_aspect", 0.0)

    def forward(self, blob):
        self.net.setInput(blob)
        return self.net.forward()

    def __call__(self, img):
        """-> list of (x1, y1, x2, y2, score, corners[4, 2]) in image pixels, and forward ms."""
        blob, r, px, py = letterbox_blob(img, self.size, height=self.height)
        t = time.perf_counter()
        out = self.forward(blob)[0]
        fwd = (time.perf_counter() - t) * 1000
        out = out[(out[:, 4] >= self.score) & (out[:, 2] >= self.min_aspect * out[:, 3])]
        if len(out) == 0:
            return [], fwd
        boxes = np.stack([out[:, 0] - out[:, 2] / 2, out[:, 1] - out[:, 3] / 2, out[:, 2], out[:, 3]], 1)
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), out[:, 4].tolist(), self.score, self.nms)
        res = []
        for i in np.array(keep).reshape(-1):
            o = out[i]
            x1, y1 = (o[0] - o[2] / 2 - px) / r, (o[1] - o[3] / 2 - py) / r
            x2, y2 = (o[0] + o[2] / 2 - px) / r, (o[1] + o[3] / 2 - py) / r
            c = (o[5:13].reshape(4, 2) - np.array([px, py])) / r
            res.append((x1, y1, x2, y2, float(o[4]), c))
        return res, fwd


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def matches(det, gt):
    cx, cy = (gt[0] + gt[2]) / 2, (gt[1] + gt[3]) / 2
    return iou(det, gt) >= 0.3 or (det[0] <= cx <= det[2] and det[1] <= cy <= det[3])


ONLY_SIZE = None  # (width, height): only pictures of this size (--only-size)


def evaluate(det, name, limit=None, dump=None, thresholds=None):
    root = os.path.join(DATASETS, name)
    rows = [json.loads(l) for l in open(os.path.join(root, "labels.jsonl"))][:limit]
    if ONLY_SIZE:
        rows = [r for r in rows if (r.get("width"), r.get("height")) == ONLY_SIZE]
    n_gt = found = fp = 0
    ms, fwd_ms = [], []
    sweep = {t: [0, 0] for t in (thresholds or [])}
    misses = []
    for r in rows:
        img = cv2.imread(os.path.join(root, r["image"]))
        gts = [p["box"] for p in r["plates"]]
        t = time.perf_counter()
        keep_score = det.score
        if thresholds:
            det.score = min(thresholds)
        dets, f = det(img)
        det.score = keep_score
        ms.append((time.perf_counter() - t) * 1000)
        fwd_ms.append(f)
        for th in sweep:
            d2 = [d for d in dets if d[4] >= th]
            sweep[th][0] += sum(any(matches(d, g) for d in d2) for g in gts)
            sweep[th][1] += sum(not any(matches(d, g) for g in gts) for d in d2)
        dets = [d for d in dets if d[4] >= det.score]
        hit = [any(matches(d, g) for d in dets) for g in gts]
        fps = [d for d in dets if not any(matches(d, g) for g in gts)]
        n_gt += len(gts); found += sum(hit); fp += len(fps)
        if not all(hit) or fps:
            misses.append((r["image"], [g for g, h in zip(gts, hit) if not h], [(round(d[4], 2), [int(v) for v in d[:4]]) for d in fps]))
            if dump:
                os.makedirs(os.path.join(dump, name), exist_ok=True)
                vis = img.copy()
                th = max(2, img.shape[1] // 400)
                for g, h in zip(gts, hit):
                    cv2.rectangle(vis, (int(g[0]), int(g[1])), (int(g[2]), int(g[3])), (0, 255, 0) if h else (0, 0, 255), th)
                for d in dets:
                    col = (255, 0, 0) if d in fps else (0, 255, 255)
                    cv2.rectangle(vis, (int(d[0]), int(d[1])), (int(d[2]), int(d[3])), col, th)
                    cv2.polylines(vis, [d[5].astype(np.int32)], True, (255, 0, 255), max(1, th // 2))
                    cv2.putText(vis, f"{d[4]:.2f}", (int(d[0]), int(d[1]) - 3), cv2.FONT_HERSHEY_SIMPLEX, th * 0.4, col, th // 2 + 1)
                cv2.imwrite(os.path.join(dump, name, os.path.basename(r["image"]).rsplit(".", 1)[0] + ".jpg"), vis)
    res = dict(set=name, images=len(rows), plates=n_gt, det=100.0 * found / max(1, n_gt), fp=fp / max(1, len(rows)),
               ms=float(np.median(ms)), fwd_ms=float(np.median(fwd_ms)), misses=misses,
               sweep={t: (100.0 * v[0] / max(1, n_gt), v[1] / max(1, len(rows))) for t, v in sweep.items()})
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "Models", "detector", "plate-detector.onnx"))
    ap.add_argument("--sets", default="us,eu,br,ro")
    ap.add_argument("--size", type=int, default=None, help="input size (default: from the JSON sidecar)")
    ap.add_argument("--score", type=float, default=None, help="score threshold (default: from the JSON sidecar)")
    ap.add_argument("--nms", type=float, default=0.45)
    ap.add_argument("--min-aspect", type=float, default=None, help="drop boxes with w < min_aspect * h (default: sidecar)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--sweep", default="", help="comma-separated score thresholds to report as well")
    ap.add_argument("--dump", default=None, help="write annotated misses / false positives here")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--bench", type=int, default=0, help="also time N runs on one 1280x720 frame (min and median)")
    ap.add_argument("--verify", default=None, help="NPZ with x, y from det_export.py")
    ap.add_argument("--only-size", default=None, help="WxH: only pictures of this size, e.g. 1280x720")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    global ONLY_SIZE
    if args.only_size:
        ONLY_SIZE = tuple(int(v) for v in args.only_size.split("x"))
    if args.verify:
        net = cv2.dnn.readNetFromONNX(args.model)
        z = np.load(args.verify)
        net.setInput(z["x"])
        y = net.forward()
        err = np.abs(y - z["y"])
        ok = y.shape == z["y"].shape and err.max() < 0.05 and np.abs(y[..., 4] - z["y"][..., 4]).max() < 1e-3
        print(f"OpenCV {cv2.__version__} vs PyTorch: shape {y.shape}, max abs diff {err.max():.2e} px, "
              f"score diff {np.abs(y[..., 4] - z['y'][..., 4]).max():.2e} -> {'OK' if ok else 'MISMATCH'}")
        sys.exit(0 if ok else 1)
    meta_path = os.path.splitext(args.model)[0] + ".json"
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    score = args.score if args.score is not None else meta.get("postprocess", {}).get("score_threshold", 0.4)
    det = Detector(args.model, args.size, score, args.nms)
    if args.min_aspect is not None:
        det.min_aspect = args.min_aspect
    thresholds = [float(t) for t in args.sweep.split(",") if t]
    img = np.zeros((720, 1280, 3), np.uint8)
    for _ in range(3):
        det(img)  # warm-up
    if args.bench:
        # full per-image path on a 1280x720 frame (letterbox + forward + decode + NMS), one thread
        frame = cv2.imread(os.path.join(DATASETS, "ro", "images", sorted(os.listdir(os.path.join(DATASETS, "ro", "images")))[0]))
        tot, fw = [], []
        for _ in range(args.bench):
            t = time.perf_counter()
            _, f = det(frame)
            tot.append((time.perf_counter() - t) * 1000); fw.append(f)
        print(f"bench 1280x720, {args.bench} runs, {args.threads} thread(s): total min {min(tot):.1f} / median {np.median(tot):.1f} ms, "
              f"forward min {min(fw):.1f} / median {np.median(fw):.1f} ms (min ~ an idle machine; this one is shared)")
    print(f"model {os.path.basename(args.model)} input {det.size} score>={score} nms {args.nms} min_aspect {det.min_aspect} "
          f"OpenCV {cv2.__version__} threads {args.threads}")
    print(f"{'set':5} {'imgs':>5} {'plates':>6} {'det%':>6} {'FP/img':>7} {'ms':>6} {'fwd ms':>7}")
    results = []
    for s in args.sets.split(","):
        r = evaluate(det, s, args.limit, args.dump, thresholds)
        results.append(r)
        note = "  (ro is also training data)" if s == "ro" else ""
        print(f"{s:5} {r['images']:5d} {r['plates']:6d} {r['det']:6.1f} {r['fp']:7.3f} {r['ms']:6.1f} {r['fwd_ms']:7.1f}{note}", flush=True)
        for t, (d, f) in r["sweep"].items():
            print(f"      score>={t:.2f}: det {d:5.1f}%  FP/img {f:.3f}")
        if args.verbose:
            for m in r["misses"]:
                print("   ", m)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
