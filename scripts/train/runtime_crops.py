"""Reader crops cut the way the Swift runtime cuts them (issue 16 item 1), and the crop-margin robustness figure.

The runtime does not read the labelled plate: it reads the box and corners the shipped detector gives (first pass
on the shaped or square input, then the close or second look with the refiner), warped to 160x48 grey by
`ONNXPlateReader.crop` with margins. This script ports that path (`Runtime`, `cut`) and uses it to make:

    gen      training crops of synthetic scenes with known plate texts (det_data / plates rendering, `ro` train
             backgrounds), each detection cut several times with margin / rotation / scale / shift jitter.
             Shards `DIR/shard_*.npz` (x: N x 48 x 160 uint8 grey, t: texts) for `ocr_train.py --runtime-crops DIR`.
    val      held-out synthetic scenes (other seed, `ro` val backgrounds), each plate cut at the five margins
             MARGINS (marginX = marginY = m, as the runtime's `cropMargin`): one npz.
    ro       the MIT `ro` frames of one split through the same path, cut at the five margins. `ro` has boxes but no
             texts: `--split train` keeps plates whose shipped-reader reads agree at every margin, fit a Romanian
             format and are confident (pseudo labels, written as training shards); `--split val` keeps all.
    measure  exact-read % per margin of an ONNX reader or a training checkpoint on the `val` npz, and on the ro val
             npz the label-free figures (Romanian-format %, agreement with the plate's five-margin majority).

    .venv-train/bin/python scripts/train/runtime_crops.py gen --out .train/ocr/rc/train --scenes 3000 --seed 1
    .venv-train/bin/python scripts/train/runtime_crops.py val --out .train/ocr/rc/val_synth.npz --scenes 400
    .venv-train/bin/python scripts/train/runtime_crops.py ro --split val --out .train/ocr/rc/val_ro.npz
    .venv-train/bin/python scripts/train/runtime_crops.py measure --model Models/ocr/plate-reader.onnx

Only synthetic data and `ro` (MIT) are read (det_data._check_training_path); the AGPL sets are never touched here.
"""
from __future__ import annotations

import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import glob
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import det_data as DD  # noqa: E402
import ocr_data as D  # noqa: E402
from eval_detector import iou  # noqa: E402
from eval_ocr import decode  # noqa: E402

cv2.setNumThreads(1)
REPO = D.REPO
DET_DIR = os.path.join(REPO, "Models", "detector")
MARGINS = (0.02, 0.04, 0.06, 0.08, 0.12)
DEFAULT_DIR = os.path.join(REPO, ".train", "ocr", "rc")
RO_FORMAT = re.compile(r"^(B\d{2,3}[A-Z]{3}|[A-Z]{2}\d{2}[A-Z]{3}|[A-Z]{1,2}\d{6})$")


# ----------------------------------------------------------------------------------------------- detector (runtime port)
class Net:
    """One exported detector (`plate-detector*.json` sidecar): letterbox, forward, filter, NMS as the runtime does."""

    def __init__(self, onnx_path):
        import onnxruntime as ort
        side = json.load(open(onnx_path[:-5] + ".json"))
        self.h, self.w = side["input"]["shape"][2], side["input"]["shape"][3]
        pp = side["postprocess"]
        self.min_aspect, self.nms = pp["min_aspect"], pp["nms_threshold"]
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        self.inp = self.s.get_inputs()[0].name

    def letterbox(self, img):
        """copencv_letterbox_blob: integer pre-shrink (INTER_AREA), then INTER_AREA / INTER_LINEAR, centred, pad 114."""
        h, w = img.shape[:2]
        r = min(self.w / w, self.h / h)
        nw, nh = max(1, round(w * r)), max(1, round(h * r))
        px, py = (self.w - nw) // 2, (self.h - nh) // 2
        src = img
        k = min(w // nw, h // nh)
        if k >= 2:
            src = cv2.resize(img[:h // k * k, :w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA)
        canvas = np.full((self.h, self.w, 3), 114, np.uint8)
        canvas[py:py + nh, px:px + nw] = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
        return canvas, r, px, py

    def detect(self, img, threshold):
        """[(score, box x0,y0,x1,y1, corners 4x2)] in picture pixels."""
        canvas, r, px, py = self.letterbox(img)
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        out = self.s.run(None, {self.inp: blob})[0][0]
        keep = (out[:, 4] >= threshold) & (out[:, 2] >= self.min_aspect * out[:, 3])
        rows = out[keep]
        if not len(rows):
            return []
        boxes = [[float(c[0] - c[2] / 2), float(c[1] - c[3] / 2), float(c[2]), float(c[3])] for c in rows]
        idx = cv2.dnn.NMSBoxes(boxes, rows[:, 4].tolist(), threshold, self.nms)
        res = []
        for i in np.array(idx).reshape(-1):
            c = rows[i]
            x0, y0 = (c[0] - c[2] / 2 - px) / r, (c[1] - c[3] / 2 - py) / r
            x1, y1 = (c[0] + c[2] / 2 - px) / r, (c[1] + c[3] / 2 - py) / r
            corners = (c[5:13].reshape(4, 2) - np.array([px, py], np.float32)) / r
            res.append((float(c[4]), np.array([x0, y0, x1, y1], np.float64), corners.astype(np.float64)))
        return res


def inter_area(a, b):
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


class Runtime:
    """ONNXRecognizer's detection path with the default RecognizerConfiguration: shaped first pass (score 0.6),
    then per plate the close look (first-pass width >= 60 input px, window 1.3x) or the second look (window two
    plate widths, at least four heights), plus the tighter 1.15x window when the look's best is under 0.9.
    Faint proposals, tiles and search windows are left out (they add plates, not other crops of a plate)."""

    def __init__(self):
        self.square = Net(os.path.join(DET_DIR, "plate-detector.onnx"))
        self.shaped = [Net(p) for p in sorted(glob.glob(os.path.join(DET_DIR, "plate-detector-*x*.onnx")))]
        self.refiner = Net(os.path.join(DET_DIR, "plate-refiner.onnx"))

    def first_net(self, w, h):
        """FirstPassSizing: the smallest input that holds the picture at >= 95 % of the square input's scale."""
        rs = min(self.square.w / w, self.square.h / h)
        best = self.square
        for n in self.shaped:
            if min(n.w / w, n.h / h) >= 0.95 * rs and n.w * n.h < best.w * best.h:
                best = n
        return best

    @staticmethod
    def _window(img, box, side, aspect):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        tall = side * aspect
        x0, y0 = max(0, math.floor(cx - side / 2)), max(0, math.floor(cy - tall / 2))
        x1, y1 = min(img.shape[1], math.ceil(cx + side / 2)), min(img.shape[0], math.ceil(cy + tall / 2))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def look(self, img, det, scale):
        score, box, corners = det
        bw, bh = box[2] - box[0], box[3] - box[1]
        aspect = self.refiner.h / self.refiner.w
        close = bw * scale >= 60
        if close:
            own = self._window(img, box, max(bw, bh * 2, 32) * 1.3, aspect)
        else:
            own = self._window(img, box, max(bw * 2, bh * 4, 64), aspect)
            if own and own[2] * own[3] >= 0.5 * img.shape[0] * img.shape[1]:
                own = None
        if own is None:
            return det
        wins = [own]
        t = self._window(img, box, max(bw, bh * 2, 32) * 1.15, aspect)
        if t and t[2] < own[2]:
            wins.append(t)
        found = []
        for i, (x0, y0, w, h) in enumerate(wins):
            if i > 0:
                s = self._strongest(found, box)
                if s and s[0] >= 0.9:
                    break
            for s_, b_, c_ in self.refiner.detect(img[y0:y0 + h, x0:x0 + w], 0.3):
                found.append((s_, b_ + np.array([x0, y0, x0, y0]), c_ + np.array([x0, y0])))
        best = self._strongest(found, box)
        if best is None:
            return det
        return (score, best[1], best[2])

    @staticmethod
    def _strongest(found, box):
        ok = [f for f in found if iou(f[1], box) >= 0.3 or inter_area(f[1], box) >= 0.7 * (f[1][2] - f[1][0]) * (f[1][3] - f[1][1])]
        return max(ok, key=lambda f: f[0]) if ok else None

    def detect(self, img):
        """[(first-pass detection, looked detection)], each (score, box, corners) in picture pixels."""
        h, w = img.shape[:2]
        net = self.first_net(w, h)
        scale = min(net.w / w, net.h / h)
        return [(d, self.look(img, d, scale)) for d in net.detect(img, 0.6)]


# ----------------------------------------------------------------------------------------------- crop (runtime port)
def plausible(q, box):
    """ONNXPlateReader.isPlausible: a convex quad whose hull overlaps the box by IoU > 0.5."""
    sign = 0.0
    for i in range(4):
        a, b, c = q[i], q[(i + 1) % 4], q[(i + 2) % 4]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if cross == 0 or (sign != 0 and (cross > 0) != (sign > 0)):
            return False
        sign = cross
    hull = (q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max())
    return iou(hull, box) > 0.5


def quad_of(box, corners):
    if corners is not None and plausible(corners, box):
        return np.asarray(corners, np.float64).copy()
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def cut(img, box, corners, mx, my, jitter=None, grey=True):
    """ONNXPlateReader.crop(marginX:marginY:) then the reader's BGR->grey: 48 x 160 uint8 (grey=False: the BGR crop,
    48 x 160 x 3, as the runtime's colour checks and the look model see it).
    jitter: (angle degrees, scale, shift x, shift y as fractions of the plate) applied to the quad first."""
    q = quad_of(box, corners)
    if jitter is not None:
        ang, sc, sx, sy = jitter
        c = q.mean(0)
        ux0 = ((q[1] - q[0]) + (q[2] - q[3])) / 2
        uy0 = ((q[3] - q[0]) + (q[2] - q[1])) / 2
        a = math.radians(ang)
        R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        q = (q - c) @ R.T * sc + c + sx * ux0 + sy * uy0
    tl, tr, br, bl = q
    ux = ((tr - tl) + (br - bl)) / 2
    uy = ((bl - tl) + (br - tr)) / 2
    signs = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    g = np.array([p + s0 * mx * ux + s1 * my * uy for p, (s0, s1) in zip(q, signs)], np.float32)
    dst = np.array([[0, 0], [D.IN_W, 0], [D.IN_W, D.IN_H], [0, D.IN_H]], np.float32)
    m = cv2.getPerspectiveTransform(g, dst)
    out = cv2.warpPerspective(img, m, (D.IN_W, D.IN_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) if grey else out


def random_jitter(rng):
    """Margins and quad jitter beyond what the runtime produces (its margins are 0..0.15)."""
    mx, my = rng.uniform(-0.02, 0.16), rng.uniform(-0.02, 0.16)
    jit = (max(-4.0, min(4.0, rng.gauss(0, 1.5))), 1 + max(-0.08, min(0.08, rng.gauss(0, 0.03))),
           rng.gauss(0, 0.015), rng.gauss(0, 0.04))
    return mx, my, jit


# ----------------------------------------------------------------------------------------------- synthetic scenes
_LOG = []


def _install_text_log(style=None):
    """det_data.paste_plate draws plates without keeping their text: record (quad, text, style) per paste.
    style: every plate of this style or family (plates.render_plate's); None: any, at the renderer's weights."""
    import plates
    orig = DD.paste_plate

    def render_logged(rng):
        img, txt, style_drawn, c = plates.render_plate(rng, style)
        _LOG.append([txt, style_drawn])
        return img, np.asarray(c, np.float32).reshape(4, 2)

    def paste_logged(img, rng, cx, cy, pw, yaw=None):
        q = orig(img, rng, cx, cy, pw, yaw)
        _LOG[-1].append(q)
        return q

    DD.render_plate_any = render_logged
    DD.paste_plate = paste_logged


def scene(rng, ro_items):
    """A synthetic picture (16:9, 4:3 or other, 640..1280 px wide) and its plates [(quad, text, style)]."""
    del _LOG[:]
    aspect = rng.choice([16 / 9, 16 / 9, 4 / 3, 3 / 2, 1.0])
    w = rng.choice([640, 800, 960, 1280, 1280])
    h = int(w / aspect)
    k = rng.random()
    real = []
    if k < 0.45:
        img, quads = DD.car_scene(rng, h, w, ro_items)
    elif k < 0.75 and ro_items:
        img, quads, real = DD.street_scene(rng, h, w, ro_items)
    else:
        img, quads = DD.clutter_scene(rng, h, w, ro_items)
    img = DD.photometric_scene(img, rng)
    ids = {id(q) for q in quads}
    gts = []
    for txt, style, q in _LOG:
        if id(q) not in ids:
            continue
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:   # partly outside the picture: its text is not all there
            continue
        gts.append(((float(x0), float(y0), float(x1), float(y1)), txt, style))
    # a plate that a later one covers in part has lost characters: drop it
    gts = [g for i, g in enumerate(gts) if not any(inter_area(g[0], h[0]) > 0 for h in gts[i + 1:])]
    return img, gts, real


def match(dets, gts, min_iou=0.4):
    """Greedy one-to-one matching of looked detections to ground-truth boxes: [(det pair, gt)]."""
    pairs = sorted(((iou(d[1][1], g[0]), i, j) for i, d in enumerate(dets) for j, g in enumerate(gts)), reverse=True)
    used_d, used_g, out = set(), set(), []
    for v, i, j in pairs:
        if v < min_iou or i in used_d or j in used_g:
            continue
        used_d.add(i)
        used_g.add(j)
        out.append((dets[i], gts[j]))
    return out


def train_crops(rng, img, pair, n):
    """n jittered crops of one plate: mostly the looked box, sometimes the first pass's, sometimes the box alone."""
    first, looked = pair
    out = []
    for _ in range(n):
        _, box, corners = looked if rng.random() < 0.8 else first
        if rng.random() < 0.15:
            corners = None
        mx, my, jit = random_jitter(rng)
        out.append(cut(img, box, corners, mx, my, jit))
    return out


class ShardWriter:
    def __init__(self, out, prefix, every=512):
        os.makedirs(out, exist_ok=True)
        self.out, self.prefix, self.every = out, prefix, every
        self.x, self.t = [], []
        self.n = len(glob.glob(os.path.join(out, prefix + "_*.npz")))

    def add(self, x, t):
        self.x.append(x)
        self.t.append(t)
        if len(self.x) >= self.every:
            self.flush()

    def flush(self):
        if not self.x:
            return
        p = os.path.join(self.out, "%s_%04d.npz" % (self.prefix, self.n))
        np.savez_compressed(p + ".tmp.npz", x=np.stack(self.x), t=np.array(self.t))
        os.replace(p + ".tmp.npz", p)
        self.n += 1
        self.x, self.t = [], []


def cmd_gen(a):
    _install_text_log()
    rng = random.Random(a.seed)
    np.random.seed(a.seed)
    ro = DD.load_ro("train")
    rt = Runtime()
    wr = ShardWriter(a.out, "shard_s%d" % a.seed)
    stats = Counter()
    t0 = time.time()
    for i in range(a.scenes):
        try:
            img, gts, _ = scene(rng, ro)
        except Exception as e:  # a renderer corner case must not stop the run
            print("render error:", repr(e), file=sys.stderr)
            continue
        gts = [g for g in gts if g[1] and D.sample_text_ok(g[1])]
        stats["plates"] += len(gts)
        if not gts:
            continue
        dets = rt.detect(img)
        for pair, (gbox, txt, style) in match(dets, gts):
            stats["matched"] += 1
            for c in train_crops(rng, img, pair, a.per_plate):
                wr.add(c, txt)
                stats["crops"] += 1
        if (i + 1) % 50 == 0:
            print("scene %d  %s  %.2f s/scene" % (i + 1, dict(stats), (time.time() - t0) / (i + 1)), flush=True)
    wr.flush()
    print("done", dict(stats))


def cmd_val(a):
    _install_text_log()
    rng = random.Random(a.seed)
    np.random.seed(a.seed)
    ro = DD.load_ro("val")   # backgrounds the training crops never saw
    rt = Runtime()
    xs, ts, styles = [], [], []
    n_gt = 0
    for i in range(a.scenes):
        try:
            img, gts, _ = scene(rng, ro)
        except Exception as e:
            print("render error:", repr(e), file=sys.stderr)
            continue
        gts = [g for g in gts if g[1] and D.sample_text_ok(g[1])]
        n_gt += len(gts)
        for (first, looked), (gbox, txt, style) in match(rt.detect(img), gts):
            xs.append(np.stack([cut(img, looked[1], looked[2], m, m) for m in MARGINS]))
            ts.append(txt)
            styles.append(style)
        if (i + 1) % 50 == 0:
            print("scene %d: %d of %d plates detected" % (i + 1, len(xs), n_gt), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez_compressed(a.out, x=np.stack(xs), t=np.array(ts), style=np.array(styles), margins=np.array(MARGINS))
    print("val: %d plates (of %d rendered) x %d margins -> %s" % (len(xs), n_gt, len(MARGINS), a.out))


def cmd_ro(a):
    rt = Runtime()
    items = DD.load_ro(a.split)
    xs, keys, boxes = [], [], []
    n_gt = 0
    for path, gt in items:
        img = cv2.imread(path)
        n_gt += len(gt)
        dets = rt.detect(img)
        for pair, g in match(dets, [(tuple(b), "", "") for b in gt]):
            looked = pair[1]
            xs.append(np.stack([cut(img, looked[1], looked[2], m, m) for m in MARGINS]))
            keys.append(os.path.relpath(path, os.path.join(DD.DATASETS, "ro")))
            boxes.append(np.concatenate([looked[1], looked[2].reshape(-1)]))
    print("ro %s: %d of %d labelled plates detected" % (a.split, len(xs), n_gt))
    x = np.stack(xs)
    if a.split == "val":
        np.savez_compressed(a.out, x=x, image=np.array(keys), det=np.stack(boxes), margins=np.array(MARGINS))
        print("->", a.out)
        return
    # train split: pseudo labels from the reader's agreement over the five margins, then jittered crops
    reader = make_reader(a.model, None)
    rng = random.Random(a.seed)
    wr = ShardWriter(a.out, "ro_pseudo")
    kept = []
    for j in range(len(x)):
        reads = [decode_conf(p) for p in reader(x[j])]
        texts = {r[0] for r in reads}
        if len(texts) != 1 or not RO_FORMAT.match(reads[0][0]) or min(min(r[1]) for r in reads) < a.min_conf:
            continue
        kept.append(reads[0][0])
        img = cv2.imread(os.path.join(DD.DATASETS, "ro", keys[j]))
        box, corners = boxes[j][:4], boxes[j][4:].reshape(4, 2)
        for _ in range(a.per_plate):
            mx, my, jit = random_jitter(rng)
            wr.add(cut(img, box, corners, mx, my, jit), reads[0][0])
    wr.flush()
    print("ro train: %d of %d detected plates pseudo-labelled: %s" % (len(kept), len(x), " ".join(kept[:30])))


# ----------------------------------------------------------------------------------------------- reading / measuring
def decode_conf(probs):
    """Greedy CTC: (text, per-character confidences, [0] for an empty read)."""
    text, conf = decode(probs)
    return text, conf or [0.0]


def make_reader(model, ckpt, raw=False):
    """A function: N x 48 x 160 uint8 -> N x 80 x C probabilities, from an ONNX file or a training checkpoint."""
    if ckpt:
        import torch
        torch.set_num_threads(1)
        from ocr_export import load_model
        m, _ = load_model(ckpt, use_ema=not raw)

        def run(x):
            with torch.no_grad():
                return m(torch.from_numpy(x).float().div(255.0).unsqueeze(1)).numpy()
        return run
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    batch = s.get_inputs()[0].shape[0]

    def run_onnx(x):
        x = x.astype(np.float32)[:, None] / 255.0
        if isinstance(batch, int) and batch == 1:
            return np.concatenate([s.run(None, {"image": x[i:i + 1]})[0] for i in range(len(x))])
        return np.concatenate([s.run(None, {"image": x[i:i + 256]})[0] for i in range(0, len(x), 256)])
    return run_onnx


def read_all(reader, x):
    """x: P x M x 48 x 160 -> P x M texts."""
    p, m = x.shape[:2]
    probs = reader(x.reshape(p * m, *x.shape[2:]))
    return [[decode_conf(probs[i * m + j])[0] for j in range(m)] for i in range(p)]


def cmd_measure(a):
    reader = make_reader(a.model, a.ckpt, a.raw)
    name = a.ckpt or a.model
    res = {"model": name}
    if os.path.exists(a.val):
        z = np.load(a.val)
        reads = read_all(reader, z["x"])
        t = list(z["t"])
        ex = [100.0 * np.mean([r[j] == g for r, g in zip(reads, t)]) for j in range(len(MARGINS))]
        anyok = 100.0 * np.mean([g in r for r, g in zip(reads, t)])
        print("synthetic runtime crops (%d plates): exact %% at margins %s" % (len(t), " ".join("%.2f" % m for m in MARGINS)))
        print("   " + "  ".join("%5.1f" % e for e in ex) + "   | mean %.1f  max-min %.1f  any-margin %.1f" % (np.mean(ex), max(ex) - min(ex), anyok))
        res["synthetic"] = {"n": len(t), "exact": ex, "spread": max(ex) - min(ex), "any": anyok}
        if a.per_style:
            st = list(z["style"])
            for s in sorted(set(st)):
                idx = [i for i, v in enumerate(st) if v == s]
                e = [100.0 * np.mean([reads[i][j] == t[i] for i in idx]) for j in range(len(MARGINS))]
                print("   %-10s n=%4d  " % (s, len(idx)) + " ".join("%5.1f" % v for v in e))
    if os.path.exists(a.ro_val):
        z = np.load(a.ro_val)
        reads = read_all(reader, z["x"])
        fmt = [100.0 * np.mean([bool(RO_FORMAT.match(r[j])) for r in reads]) for j in range(len(MARGINS))]
        maj = [Counter(r).most_common(1)[0][0] for r in reads]
        agree = [100.0 * np.mean([r[j] == mj for r, mj in zip(reads, maj)]) for j in range(len(MARGINS))]
        same = 100.0 * np.mean([len(set(r)) == 1 for r in reads])
        res["ro"] = {"n": len(reads), "format": fmt, "agree": agree, "all_same": same}
        print("ro val runtime crops (%d plates, no texts): Romanian-format %% per margin" % len(reads))
        print("   " + "  ".join("%5.1f" % e for e in fmt) + "   | max-min %.1f" % (max(fmt) - min(fmt)))
        print("   agreement with the plate's 5-margin majority: " + "  ".join("%5.1f" % e for e in agree)
              + "   | all five the same %.1f" % same)
        labels = a.ro_labels if a.ro_labels and os.path.exists(a.ro_labels) else None
        if labels:
            lab = json.load(open(labels))
            idx = [i for i in range(len(reads)) if str(i) in lab and lab[str(i)]]
            ex = [100.0 * np.mean([reads[i][j] == lab[str(i)] for i in idx]) for j in range(len(MARGINS))]
            res["ro"]["exact"] = ex
            print("   exact vs hand labels (%d plates): " % len(idx) + "  ".join("%5.1f" % e for e in ex)
                  + "   | max-min %.1f" % (max(ex) - min(ex)))
    if a.json:
        with open(a.json, "a") as fh:
            fh.write(json.dumps(res) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", default=os.path.join(DEFAULT_DIR, "train"))
    g.add_argument("--scenes", type=int, default=2000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--per-plate", type=int, default=4)
    v = sub.add_parser("val")
    v.add_argument("--out", default=os.path.join(DEFAULT_DIR, "val_synth.npz"))
    v.add_argument("--scenes", type=int, default=400)
    v.add_argument("--seed", type=int, default=990001)
    r = sub.add_parser("ro")
    r.add_argument("--split", choices=("train", "val"), default="val")
    r.add_argument("--out", default="")
    r.add_argument("--model", default=os.path.join(REPO, "Models", "ocr", "plate-reader.onnx"))
    r.add_argument("--min-conf", type=float, default=0.7)
    r.add_argument("--per-plate", type=int, default=6)
    r.add_argument("--seed", type=int, default=5)
    m = sub.add_parser("measure")
    m.add_argument("--model", default=os.path.join(REPO, "Models", "ocr", "plate-reader.onnx"))
    m.add_argument("--ckpt", default="", help="a training checkpoint (EMA weights) instead of --model")
    m.add_argument("--raw", action="store_true", help="with --ckpt: the raw weights, not the EMA")
    m.add_argument("--val", default=os.path.join(DEFAULT_DIR, "val_synth.npz"))
    m.add_argument("--ro-val", default=os.path.join(DEFAULT_DIR, "val_ro.npz"))
    m.add_argument("--ro-labels", default="", help="json {index: text} of hand-read ro val plates")
    m.add_argument("--per-style", action="store_true")
    m.add_argument("--json", default="", help="append the figures to this jsonl")
    a = ap.parse_args()
    if a.cmd == "ro" and not a.out:
        a.out = os.path.join(DEFAULT_DIR, "val_ro.npz" if a.split == "val" else "train")
    {"gen": cmd_gen, "val": cmd_val, "ro": cmd_ro, "measure": cmd_measure}[a.cmd](a)


if __name__ == "__main__":
    main()
