"""Training samples for the plate reader: synthetic plates (plates.py) -> scene -> perspective -> detector-like
crop -> camera degradations -> fixed-size grey input.

Only synthetic data and the MIT-licensed `ro` set (as scene backgrounds / self-training) are used here.
The AGPL dev sets (us, eu, br, br_crops) are NEVER read by this module; they are only read by eval_ocr.py.
"""
from __future__ import annotations

import glob
import json
import math
import os
import random

import cv2
import numpy as np

import plates

IN_H, IN_W = 48, 160
ALPHABET = plates.ALPHABET  # class index = 1 + position; 0 = CTC blank
CHAR2IDX = {c: i + 1 for i, c in enumerate(ALPHABET)}
NUM_CLASSES = len(ALPHABET) + 1

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RO_DIR = os.path.join(REPO, "..", "shared", "datasets", "ro")  # MIT licence: allowed for training
TRAIN_ALLOWED_SETS = ("ro",)


def encode(text):
    return [CHAR2IDX[c] for c in text]


def preprocess(img_bgr_or_grey):
    """Runtime preprocessing (must match the Swift side): grey (BGR->grey with cv2 weights), resize to
    IN_W x IN_H with bilinear interpolation, float = pixel / 255. Shape 1x1xIN_HxIN_W."""
    g = img_bgr_or_grey
    if g.ndim == 3:
        g = cv2.cvtColor(g, cv2.COLOR_BGR2GRAY)
    g = cv2.resize(g, (IN_W, IN_H), interpolation=cv2.INTER_LINEAR if g.shape[0] <= IN_H * 2 else cv2.INTER_AREA)
    return g


# ----------------------------------------------------------------------------------------------- backgrounds
_RO_IMGS = None


def _ro_images():
    global _RO_IMGS
    if _RO_IMGS is None:
        _RO_IMGS = []
        d = os.path.join(RO_DIR, "images")
        files = sorted(glob.glob(os.path.join(d, "*.jpg")))[:120]
        for f in files:
            im = cv2.imread(f)
            if im is not None:
                _RO_IMGS.append(cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA))
    return _RO_IMGS


def background(rng, h, w):
    k = rng.random()
    ro = _ro_images()
    if k < 0.45 and ro:
        im = ro[rng.randrange(len(ro))]
        s = rng.uniform(0.5, 2.0)
        ph, pw = min(im.shape[0] - 1, max(8, int(h / s))), min(im.shape[1] - 1, max(8, int(w / s)))
        y = rng.randint(0, im.shape[0] - ph)
        x = rng.randint(0, im.shape[1] - pw)
        return cv2.resize(im[y:y + ph, x:x + pw], (w, h))
    col = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    if rng.random() < 0.5:
        col = np.full(3, rng.randint(0, 255), np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = col
    if k < 0.8:
        gy = np.linspace(rng.uniform(-60, 60), rng.uniform(-60, 60), h, dtype=np.float32)[:, None, None]
        img += gy
    img += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 12), (h, w, 1)).astype(np.float32)
    if rng.random() < 0.5:  # bumper / grille lines
        for _ in range(rng.randint(1, 5)):
            y = rng.randint(0, h - 1)
            c = tuple(int(v) for v in np.clip(col + rng.uniform(-80, 80), 0, 255))
            cv2.line(img, (0, y), (w, y + rng.randint(-5, 5)), c, rng.randint(1, max(2, h // 15)))
    return np.clip(img, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- plate-level damage

def plate_damage(rng, img):
    H, W = img.shape[:2]
    f = img.astype(np.float32)
    if rng.random() < 0.3:  # dirt: dark translucent blobs / speckles
        m = np.zeros((H, W), np.float32)
        for _ in range(rng.randint(1, 8)):
            cv2.ellipse(m, (rng.randint(0, W), rng.randint(0, H)), (rng.randint(2, W // 6), rng.randint(2, H // 4)),
                        rng.uniform(0, 180), 0, 360, rng.uniform(0.2, 0.7), -1)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(1, 6))
        dirt = np.array([rng.uniform(20, 90)] * 3, np.float32)
        m *= rng.uniform(0.4, 0.9)
        f = f * (1 - m[..., None]) + dirt * m[..., None]
    if rng.random() < 0.25:  # shadow edge
        m = np.zeros((H, W), np.float32)
        p = np.array([[rng.randint(0, W), 0], [rng.randint(0, W), H], [W * 2, H], [W * 2, 0]], np.int32)
        if rng.random() < 0.5:
            p[:, 0] = W - p[:, 0]
        cv2.fillPoly(m, [p], 1.0)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(1, 8))
        f = f * (1 - m[..., None] * rng.uniform(0.3, 0.7))
    if rng.random() < 0.15:  # glare / specular highlight
        m = np.zeros((H, W), np.float32)
        cv2.ellipse(m, (rng.randint(0, W), rng.randint(0, H)), (rng.randint(W // 10, W // 2), rng.randint(H // 6, H)),
                    rng.uniform(0, 180), 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(3, 15))
        f = f + m[..., None] * rng.uniform(40, 130)
    if rng.random() < 0.12:  # dealer frame covering bottom/top strip
        fh = int(H * rng.uniform(0.08, 0.18))
        c = rng.choice([(20, 20, 20), (200, 200, 200), (40, 40, 120)])
        y0 = H - fh if rng.random() < 0.7 else 0
        f[y0:y0 + fh] = c
        if rng.random() < 0.7:  # dealer name on the frame
            f8 = np.clip(f, 0, 255).astype(np.uint8)
            tc = (240, 240, 240) if sum(c) < 300 else (20, 20, 20)
            txt = rng.choice(["DEALER SALES", "TOYOTA", "HONDA", "FORD", "AUTO MALL", "MOTORS", "CHEVROLET",
                              "www.cars.com", "NISSAN", "BOARDWALK", "SUBARU", "AUTOHAUS"])
            plates.draw_text(f8, txt, W / 2, y0 + fh / 2, fh * 0.8, tc, rng.choice(plates.fonts()["latin"]), "mm")
            f = f8.astype(np.float32)
    if rng.random() < 0.08:  # partial occlusion from the side (tow hitch, bar)
        ow = int(W * rng.uniform(0.03, 0.08))
        x = rng.randint(0, W - ow)
        c = rng.uniform(0, 255)
        f[:, x:x + ow] = f[:, x:x + ow] * 0.3 + c * 0.7
    return np.clip(f, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- camera

def motion_blur(img, rng):
    k = rng.randint(3, 9)
    ker = np.zeros((k, k), np.float32)
    ker[k // 2, :] = 1.0
    M = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
    ker = cv2.warpAffine(ker, M, (k, k))
    ker /= max(ker.sum(), 1e-6)
    return cv2.filter2D(img, -1, ker)


def camera(rng, img):
    """img: BGR crop at its native (low) resolution -> grey uint8, degraded."""
    mode = rng.random()
    f = img.astype(np.float32)
    if mode < 0.12:  # IR / night: one channel, high contrast, noisy
        g = f[..., rng.randrange(3)] if rng.random() < 0.5 else f.max(2)
        g = (g - g.mean()) * rng.uniform(1.0, 2.0) + rng.uniform(60, 160)
    else:
        w = np.array([rng.uniform(0.05, 0.2), rng.uniform(0.5, 0.7), rng.uniform(0.2, 0.4)], np.float32)
        w /= w.sum()
        g = f @ w
    if rng.random() < 0.15:  # night: dark, low contrast
        g = g * rng.uniform(0.25, 0.7)
    # gamma / contrast
    g = np.clip(g, 0, 255) / 255.0
    g = g ** rng.uniform(0.7, 1.4)
    lo, hi = rng.uniform(0, 0.2), rng.uniform(0.8, 1.0)
    if rng.random() < 0.5:
        g = lo + g * (hi - lo)
    elif rng.random() < 0.3:  # strongly washed out (haze, over/under exposure)
        lo, hi = rng.uniform(0.15, 0.45), rng.uniform(0.55, 0.85)
        g = lo + g * (hi - lo)
    g = g * 255.0
    if rng.random() < 0.45:
        g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.3, 1.0) if rng.random() < 0.7 else rng.uniform(1.0, 2.2))
    if rng.random() < 0.15:
        g = motion_blur(g, rng)
    if rng.random() < 0.6:
        g = g + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(1, 10), g.shape).astype(np.float32)
    g = np.clip(g, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, enc = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 90)])
        g = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    if rng.random() < 0.18:
        g = 255 - g  # inverted polarity: IR cameras / retro-reflective characters often read bright on dark
    return g


# ----------------------------------------------------------------------------------------------- sample

def make_sample(rng: random.Random, style=None, easy=False):
    """Returns (grey uint8 IN_HxIN_W, text, style). easy=True: mild geometry, no damage/degradation
    (curriculum for the first training steps, which otherwise sit on the CTC all-blank plateau)."""
    plate, text, style, corners = plates.render_plate(rng, style)
    if not easy:
        plate = plate_damage(rng, plate)
    H, W = plate.shape[:2]
    # perspective in plate units around the centre: rotation, shear, out-of-plane tilts, aspect
    k = 0.3 if easy else 1.0
    ang = math.radians(k * (rng.gauss(0, 3.5) if rng.random() < 0.85 else rng.uniform(-12, 12)))
    sh = k * rng.gauss(0, 0.07)
    asp = math.exp(k * rng.gauss(0, 0.12))
    pts = corners - np.array([W / 2, H / 2], np.float32)
    pts = pts * np.array([asp, 1.0], np.float32)
    pts[:, 0] += sh * pts[:, 1]
    R = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], np.float32)
    pts = pts @ R.T
    tx = k * rng.gauss(0, 0.06)
    ty = k * rng.gauss(0, 0.05)
    pts[[1, 2], 1] *= (1 + tx)
    pts[[0, 3], 1] *= (1 - tx)
    pts[[2, 3], 0] *= (1 + ty)
    pts[[0, 1], 0] *= (1 - ty)
    # detector-like crop around the warped quad
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    bw, bh = x1 - x0, y1 - y0
    if easy:
        ml, mr, mt, mb = [rng.uniform(0.0, 0.08) for _ in range(4)]
    elif rng.random() < 0.25:  # very tight: cuts the plate border, characters touch the crop edge
        ml, mr = rng.uniform(-0.06, 0.02), rng.uniform(-0.06, 0.02)
        mt, mb = rng.uniform(-0.06, 0.05), rng.uniform(-0.06, 0.05)
    else:
        ml, mr = rng.uniform(-0.02, 0.15), rng.uniform(-0.02, 0.15)
        mt, mb = rng.uniform(-0.04, 0.3), rng.uniform(-0.04, 0.3)
    cx0, cx1 = x0 - ml * bw, x1 + mr * bw
    cy0, cy1 = y0 - mt * bh, y1 + mb * bh
    # native resolution of the crop in the camera image: character height ~ 11..60 px
    ch_frac = 0.5 if style not in plates.TWO_LINE else 0.35
    target_ch = math.exp(rng.uniform(math.log(20 if easy else 11), math.log(60)))
    s = min(1.5, target_ch / (H * ch_frac))
    ow, oh = max(8, int(round((cx1 - cx0) * s))), max(6, int(round((cy1 - cy0) * s)))
    s0 = min(1.0, s * 1.25)
    if s0 < 1.0:
        plate = cv2.resize(plate, (max(4, int(W * s0)), max(4, int(H * s0))), interpolation=cv2.INTER_AREA)
    ph, pw = plate.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    dst = ((pts - np.array([cx0, cy0], np.float32)) * s).astype(np.float32)
    M = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, M, (ow, oh), flags=cv2.INTER_LINEAR)
    wmask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), M, (ow, oh), flags=cv2.INTER_LINEAR)
    bg = background(rng, oh, ow)
    a = wmask.astype(np.float32)[..., None] * (1.0 / 255.0)
    small = (bg * (1 - a) + warped * a).astype(np.uint8)
    g = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if easy else camera(rng, small)
    return preprocess(g), text, style


def sample_text_ok(text):
    return all(c in CHAR2IDX for c in text)


# ----------------------------------------------------------------------------------------------- ro self-training
RO_PSEUDO = os.path.join(REPO, ".train", "ocr", "ro_pseudo.jsonl")


def ro_crops(margin=0.06):
    """Yields (crop BGR, box, image path) for every plate box of the MIT `ro` set."""
    lab = os.path.join(RO_DIR, "labels.jsonl")
    with open(lab) as fh:
        for line in fh:
            r = json.loads(line)
            im = None
            for p in r["plates"]:
                if im is None:
                    im = cv2.imread(os.path.join(RO_DIR, r["image"]))
                x0, y0, x1, y1 = p["box"]
                mx, my = (x1 - x0) * margin, (y1 - y0) * margin
                X0, Y0 = int(max(0, x0 - mx)), int(max(0, y0 - my))
                X1, Y1 = int(min(im.shape[1], x1 + mx)), int(min(im.shape[0], y1 + my))
                if X1 - X0 < 8 or Y1 - Y0 < 4:
                    continue
                yield im[Y0:Y1, X0:X1], (X0, Y0, X1, Y1), r["image"]
