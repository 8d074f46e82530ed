"""Training data for the plate detector: synthetic scenes plus the MIT-licensed `ro` frames.

LICENCE SEPARATION: this module is the ONLY source of training images, and it reads nothing from
../shared/datasets except the `ro` set (MIT). The AGPL sets (us, eu, br, br_crops) are read only by
eval_detector.py, for measurement. `_check_training_path` enforces this.

A sample is (image uint8 BGR SxS letterboxed like the runtime, targets) with targets a float32 array
[K, 13]: x1, y1, x2, y2, kvalid, then the 4 plate corners (TL, TR, BR, BL) x, y in input pixels.
kvalid = 0 for the real `ro` plates (boxes only, no corners).
"""
from __future__ import annotations

import glob
import json
import math
import os
import random
import string
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATASETS = os.path.normpath(os.path.join(REPO, "..", "shared", "datasets"))
TRAIN_SETS = ("ro",)  # the only real images allowed in training (MIT)
PAD = 114

sys.path.insert(0, HERE)


def _check_training_path(path: str) -> str:
    p = os.path.normpath(os.path.abspath(path))
    allowed = [os.path.join(DATASETS, s) + os.sep for s in TRAIN_SETS]
    if p.startswith(DATASETS + os.sep) and not any((p + os.sep).startswith(a) for a in allowed):
        raise RuntimeError(f"refusing to train on {p}: only {TRAIN_SETS} may be training data")
    return p


# ----------------------------------------------------------------------------- ro frames
def load_ro(split="all"):
    """ro frames with boxes. split: 'all', 'train' or 'val' (val = every video-minute key with
    sha1 % 5 == 0, kept out of training only when split == 'train')."""
    import hashlib
    root = _check_training_path(os.path.join(DATASETS, "ro"))
    out = []
    for line in open(os.path.join(root, "labels.jsonl")):
        r = json.loads(line)
        key = r["split_key"]
        v = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 5 == 0
        if split == "train" and v or split == "val" and not v:
            continue
        out.append((_check_training_path(os.path.join(root, r["image"])),
                    np.array([p["box"] for p in r["plates"]], np.float32).reshape(-1, 4)))
    return out


# ----------------------------------------------------------------------------- fonts
def _fonts():
    pats = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
            "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
            "/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf",
            "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
            "/usr/share/fonts/truetype/open-sans/OpenSans-CondBold.ttf",
            "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Medium.ttf",
            "/usr/share/fonts/truetype/ocr-a/OCRABold.ttf",
            "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf"]
    pats += glob.glob("/usr/share/fonts/truetype/*/*Bold*.ttf")[:30]
    return sorted({p for p in pats if os.path.exists(p)})


FONTS = _fonts()
ALL_FONTS = sorted(glob.glob("/usr/share/fonts/truetype/*/*.ttf"))[:200] or FONTS
_font_cache: dict = {}


def font(path, size):
    k = (path, size)
    if k not in _font_cache:
        try:
            _font_cache[k] = ImageFont.truetype(path, size)
        except OSError:
            _font_cache[k] = ImageFont.truetype(FONTS[0], size)
    return _font_cache[k]


def text_image(txt, fpath, size, fg, bg, pad=4):
    f = font(fpath, size)
    l, t, r, b = f.getbbox(txt)
    im = Image.new("RGB", (max(1, r - l + 2 * pad), max(1, b - t + 2 * pad)), bg)
    ImageDraw.Draw(im).text((pad - l, pad - t), txt, font=f, fill=fg)
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


# ----------------------------------------------------------------------------- plates
def _rand_plate_text(rng, style):
    L, D = string.ascii_uppercase, string.digits
    if style == "br":
        return "".join(rng.choice(L) for _ in range(3)) + rng.choice(["-", " ", ""]) + "".join(rng.choice(D) for _ in range(4))
    if style == "eu":
        return "".join(rng.choice(L) for _ in range(rng.randint(1, 3))) + " " + "".join(rng.choice(L) for _ in range(rng.randint(1, 2))) + " " + "".join(rng.choice(D) for _ in range(rng.randint(1, 4)))
    n = rng.randint(5, 7)
    return "".join(rng.choice(L + D + D) for _ in range(n))


def simple_render_plate(rng: random.Random, style: str | None = None):
    """Stand-in for plates.render_plate: returns (BGR plate image, text, style, 4x2 corners)."""
    style = style or rng.choice(["us", "eu", "br", "kr", "generic"])
    aspect = {"us": 2.0, "eu": 4.7, "br": 3.1, "kr": 4.7, "generic": rng.uniform(2.0, 5.0)}[style]
    if rng.random() < 0.3:
        aspect = rng.uniform(1.6, 5.2)
    H = 100
    W = int(H * aspect)
    bgc = rng.choice([(245, 245, 245), (235, 240, 240), (60, 215, 245), (250, 250, 250), (200, 200, 200),
                      (230, 230, 210), (40, 40, 40), (30, 120, 30), (180, 90, 20)])
    bgc = tuple(int(np.clip(c + rng.randint(-25, 25), 0, 255)) for c in bgc)
    dark = sum(bgc) > 300
    fg = (rng.randint(0, 50), rng.randint(0, 50), rng.randint(0, 60)) if dark else (235, 235, 235)
    if rng.random() < 0.2 and dark:
        fg = rng.choice([(20, 20, 140), (120, 40, 20), (30, 90, 30)])
    img = np.full((H, W, 3), bgc, np.uint8)
    if rng.random() < 0.5:  # gradient / graphics background
        g = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0), W)[None, :, None]
        img = np.clip(img * g, 0, 255).astype(np.uint8)
    x0 = 6
    if style in ("eu", "br") or rng.random() < 0.15:
        band = (rng.randint(120, 180), rng.randint(40, 80), rng.randint(0, 30))  # blue in BGR
        if style == "br":
            cv2.rectangle(img, (0, 0), (W, int(H * 0.22)), band, -1)
        else:
            bw = int(H * 0.42)
            cv2.rectangle(img, (0, 0), (bw, H), band, -1)
            x0 = bw + 4
    if rng.random() < 0.8:
        cv2.rectangle(img, (2, 2), (W - 3, H - 3), fg, rng.randint(1, 5))
    txt = _rand_plate_text(rng, style if style in ("br", "eu") else "us")
    top = int(H * 0.22) if style == "br" else 0
    bot = H
    if style == "us" or rng.random() < 0.2:  # state name / small text line
        st = text_image(rng.choice(["California", "TEXAS", "New York", "Florida", "OHIO", "Illinois",
                                    "BRASIL", "Georgia", "ARIZONA", "Virginia"]), rng.choice(ALL_FONTS), 28,
                        rng.choice([(40, 40, 200), (150, 40, 20), tuple(fg)])[::-1], bgc[::-1], 1)
        sh = int(H * 0.2); sw = min(W - 20, int(st.shape[1] * sh / st.shape[0]))
        y = 3 if rng.random() < 0.7 else H - sh - 3
        img[y:y + sh, (W - sw) // 2:(W - sw) // 2 + sw] = cv2.resize(st, (sw, sh))
        if y < H / 2:
            top = max(top, y + sh)
        else:
            bot = y
    t = text_image(txt, rng.choice(FONTS), 80, tuple(fg[::-1]), tuple(bgc[::-1]), 2)
    th = int((bot - top) * rng.uniform(0.6, 0.85))
    tw = int(t.shape[1] * th / t.shape[0] * rng.uniform(0.8, 1.1))
    tw = min(tw, W - x0 - 8)
    t = cv2.resize(t, (max(1, tw), max(1, th)), interpolation=cv2.INTER_AREA)
    xx = x0 + (W - x0 - tw) // 2
    yy = top + (bot - top - th) // 2
    img[yy:yy + th, xx:xx + tw] = t
    corners = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    return img, txt, style, corners


_RENDER = None


def get_renderer():
    """plates.render_plate when the shared renderer exists, else the simple stand-in."""
    global _RENDER
    if _RENDER is None:
        try:
            from plates import render_plate  # noqa: written by the OCR engineer
            rng = random.Random(0)
            im, _, _, c = render_plate(rng)
            assert im.ndim == 3 and np.asarray(c).shape == (4, 2)
            _RENDER = ("plates", render_plate)
        except Exception as e:  # noqa: BLE001
            print(f"[det_data] plates.render_plate unavailable ({type(e).__name__}: {e}); using simple renderer",
                  file=sys.stderr)
            _RENDER = ("simple", simple_render_plate)
    return _RENDER


def render_plate_any(rng):
    name, fn = get_renderer()
    if name == "plates" and rng.random() < 0.15:
        name, fn = "simple", simple_render_plate
    img, txt, style, c = fn(rng)
    return img, np.asarray(c, np.float32).reshape(4, 2)


# ----------------------------------------------------------------------------- drawing helpers
def rand_color(rng, car=False):
    if car:
        base = rng.choice([(235, 235, 235), (190, 190, 190), (120, 120, 120), (30, 30, 30), (20, 20, 140),
                           (140, 60, 20), (60, 60, 60), (200, 200, 210), (40, 90, 160), (30, 60, 30), (80, 40, 20)])
        return tuple(int(np.clip(c + rng.randint(-20, 20), 0, 255)) for c in base)
    return (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))


def noise_bg(rng, h, w):
    """Procedural clutter: gradient + blobs + rectangles + lines."""
    c1, c2 = np.array(rand_color(rng), np.float32), np.array(rand_color(rng), np.float32)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (c1 * (1 - t) + c2 * t) * np.ones((1, w, 1), np.float32)
    small = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 1, (max(2, h // 32), max(2, w // 32), 3)).astype(np.float32)
    img += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * rng.uniform(5, 40)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.randint(3, 25)):
        kind = rng.random()
        col = rand_color(rng)
        x, y = rng.randint(-w // 4, w), rng.randint(-h // 4, h)
        if kind < 0.45:
            cv2.rectangle(img, (x, y), (x + rng.randint(5, w // 2), y + rng.randint(5, h // 2)), col, -1 if rng.random() < 0.7 else rng.randint(1, 4))
        elif kind < 0.7:
            cv2.ellipse(img, (x, y), (rng.randint(3, w // 4), rng.randint(3, h // 4)), rng.randint(0, 180), 0, 360, col, -1)
        else:
            cv2.line(img, (x, y), (rng.randint(0, w), rng.randint(0, h)), col, rng.randint(1, 6))
    return img


_IMG_CACHE: dict = {}


def imread_cached(path):
    im = _IMG_CACHE.get(path)
    if im is None:
        im = _IMG_CACHE[path] = cv2.imread(_check_training_path(path))
    return im.copy()


def ro_background(rng, h, w, ro_items):
    path, boxes = rng.choice(ro_items)
    im = imread_cached(path)
    # mask out the real plates (we do not label them here): fill with a nearby colour + blur
    for b in boxes:
        x1, y1, x2, y2 = [int(v) for v in b]
        x1, y1 = max(0, x1 - 3), max(0, y1 - 3)
        patch = im[max(0, y1 - 8):y1 + 1, x1:x2 + 3]
        col = patch.reshape(-1, 3).mean(0) if patch.size else (90, 90, 90)
        cv2.rectangle(im, (x1, y1), (x2 + 3, y2 + 3), tuple(float(c) for c in col), -1)
    H0, W0 = im.shape[:2]
    cw = rng.uniform(0.25, 1.0) * W0
    ch = min(H0, cw * h / w)
    cw = ch * w / h
    x0, y0 = rng.uniform(0, W0 - cw), rng.uniform(0, H0 - ch)
    crop = im[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR)


WORDS = ["STOP", "PARKING", "Pizza", "OPEN", "Hotel", "SALE", "Toyota", "COROLLA", "Civic", "HYBRID", "4MATIC",
         "quattro", "TDI", "1.6", "GTI", "Auto Sales", "Dealer", "Bank", "EXIT", "Lane", "Taxi", "POLICE", "BUS",
         "Km/h", "Rua", "Av. Paulista", "Main St", "ONE WAY", "CAFE", "Farmacia", "Mercado", "NO ENTRY", "24h",
         "www.autos.com", "Tel 555-0199", "LIMITED", "SPORT", "V6", "XLE", "Ford", "Honda", "Volkswagen", "FIAT"]


def draw_text_distractor(img, rng, x, y, size):
    """Signs, badges and stickers: text that is not a plate."""
    h, w = img.shape[:2]
    n = rng.choice([1, 1, 2, 3])
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    fg = rand_color(rng)
    bg = None if rng.random() < 0.4 else rand_color(rng)
    for i, ln in enumerate(lines):
        t = text_image(ln, rng.choice(ALL_FONTS), 40, fg, bg or (0, 0, 0), 3)
        sc = size / t.shape[0]
        t = cv2.resize(t, (max(1, int(t.shape[1] * sc)), max(1, int(size))), interpolation=cv2.INTER_AREA)
        yy = y + i * int(size * 1.2)
        x1, y1, x2, y2 = max(0, x), max(0, yy), min(w, x + t.shape[1]), min(h, yy + t.shape[0])
        if x2 <= x1 or y2 <= y1:
            continue
        sub = t[y1 - yy:y2 - yy, x1 - x:x2 - x]
        if bg is None:  # text only
            m = (np.abs(sub.astype(np.int16) - np.array(fg, np.int16)).sum(2) < 120)
            img[y1:y2, x1:x2][m] = sub[m]
        else:
            img[y1:y2, x1:x2] = sub


def draw_fence(img, rng, x, y, fw, fh):
    """Fences, gates, railings: vertical bars plus rails (frequent false positives in parking lots)."""
    col = rng.choice([(20, 20, 20), (200, 200, 200), (90, 90, 90), rand_color(rng)])
    step = max(3, int(fw / rng.randint(6, 40)))
    thick = max(1, int(step * rng.uniform(0.15, 0.5)))
    for xx in range(x, x + fw, step):
        cv2.line(img, (xx, y), (xx, y + fh), col, thick)
    for k in range(rng.randint(1, 3)):
        yy = y + int(fh * rng.uniform(0, 1))
        cv2.line(img, (x, yy), (x + fw, yy), col, max(1, thick * 2))


def draw_distractors(img, rng, n, big=False):
    h, w = img.shape[:2]
    for _ in range(n):
        k = rng.random()
        x, y = rng.randint(0, w - 1), rng.randint(0, h - 1)
        s = rng.uniform(0.02, 0.12) * w
        if (big or k < 0.1) and rng.random() < 0.6:
            draw_fence(img, rng, x - int(w * 0.2), y - int(h * 0.1), int(w * rng.uniform(0.1, 0.7)), int(h * rng.uniform(0.05, 0.35)))
        elif big or k < 0.1:  # building facade: a grid of windows
            bw_, bh_ = int(w * rng.uniform(0.15, 0.6)), int(h * rng.uniform(0.15, 0.5))
            x0_, y0_ = x - bw_ // 2, y - bh_
            cv2.rectangle(img, (x0_, y0_), (x0_ + bw_, y0_ + bh_), rand_color(rng), -1)
            nx_, ny_ = rng.randint(3, 10), rng.randint(2, 8)
            wc = rand_color(rng)
            for i in range(nx_):
                for j in range(ny_):
                    xx, yy = x0_ + int((i + 0.2) * bw_ / nx_), y0_ + int((j + 0.2) * bh_ / ny_)
                    cv2.rectangle(img, (xx, yy), (xx + int(0.6 * bw_ / nx_), yy + int(0.6 * bh_ / ny_)), wc, -1)
        elif k < 0.35:
            draw_text_distractor(img, rng, x, y, max(6, s * rng.uniform(0.2, 0.6)))
        elif k < 0.55:  # grille / vents / blinds
            gw, gh = int(s * rng.uniform(1.5, 5)), int(s * rng.uniform(0.3, 1.2))
            col, col2 = rand_color(rng), rand_color(rng)
            cv2.rectangle(img, (x, y), (x + gw, y + gh), col, -1)
            step = max(2, int(gh / rng.randint(3, 8)))
            for yy in range(y, y + gh, step):
                cv2.line(img, (x, yy), (x + gw, yy), col2, max(1, step // 3))
            if rng.random() < 0.4:
                for xx in range(x, x + gw, step * 2):
                    cv2.line(img, (xx, y), (xx, y + gh), col2, max(1, step // 3))
        elif k < 0.7:  # logo / emblem
            cv2.ellipse(img, (x, y), (int(s * 0.5), int(s * rng.uniform(0.25, 0.5))), 0, 0, 360, (200, 200, 205), max(1, int(s * 0.08)))
            if rng.random() < 0.5:
                cv2.putText(img, rng.choice(["H", "VW", "T", "KIA", "M"]), (x - int(s * 0.3), y + int(s * 0.2)),
                            cv2.FONT_HERSHEY_SIMPLEX, s / 40, (210, 210, 210), max(1, int(s / 25)))
        elif k < 0.82:  # road markings (bright strokes / zebra)
            col = (230, 230, 230) if rng.random() < 0.7 else (40, 200, 230)
            for i in range(rng.randint(1, 6)):
                xx = x + i * int(s * 0.8)
                pts = np.array([[xx, y], [xx + s * 0.5, y], [xx + s * 0.8, y + s * 0.4], [xx + s * 0.2, y + s * 0.4]], np.int32)
                cv2.fillPoly(img, [pts], col)
        else:  # small sticker with a few characters / barcode
            sw, sh = int(s * rng.uniform(0.5, 1.5)), int(s * rng.uniform(0.3, 0.9))
            cv2.rectangle(img, (x, y), (x + sw, y + sh), rand_color(rng), -1)
            if rng.random() < 0.5:
                for xx in range(x + 2, x + sw - 2, 3):
                    if rng.random() < 0.6:
                        cv2.line(img, (xx, y + 2), (xx, y + sh - 2), (20, 20, 20), 1)
            else:
                cv2.putText(img, "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.randint(2, 4))),
                            (x + 2, y + sh - 3), cv2.FONT_HERSHEY_SIMPLEX, max(0.2, sh / 40), rand_color(rng), 1)


# ----------------------------------------------------------------------------- pasting plates
def paste_plate(img, rng, cx, cy, pw, yaw=None):
    """Warp a rendered plate onto img with its centre at (cx, cy) and width pw. Returns the 4x2 quad."""
    pimg, pc = render_plate_any(rng)
    src_w = float(np.linalg.norm(pc[1] - pc[0]))
    src_h = float(np.linalg.norm(pc[3] - pc[0]))
    ph = pw * src_h / max(src_w, 1) * rng.uniform(0.85, 1.15)
    # perspective: yaw shrinks one side, pitch shrinks top or bottom, roll rotates
    yaw = rng.uniform(-0.35, 0.35) if yaw is None else yaw
    pitch = rng.uniform(-0.2, 0.2)
    roll = math.radians(rng.gauss(0, 4))
    hw, hh = pw / 2, ph / 2
    q = np.array([[-hw, -hh * (1 - yaw * 0.5)], [hw, -hh * (1 + yaw * 0.5)], [hw, hh * (1 + yaw * 0.5)], [-hw, hh * (1 - yaw * 0.5)]], np.float32)
    q[:, 0] *= 1 - abs(yaw) * 0.6
    q[0, 0] -= pitch * hw * 0.3; q[1, 0] += pitch * hw * 0.3
    q[:, 0] += q[:, 1] * rng.gauss(0, 0.08)  # shear
    R = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]], np.float32)
    q = q @ R.T + np.array([cx, cy], np.float32)
    # pre-shrink the plate image so warping does not alias
    sc = min(1.0, 1.3 * pw / max(src_w, 1))
    if sc < 1.0:
        oh, ow = pimg.shape[:2]
        pimg = cv2.resize(pimg, (max(2, int(ow * sc)), max(2, int(oh * sc))), interpolation=cv2.INTER_AREA)
        pc = pc * np.array([pimg.shape[1] / ow, pimg.shape[0] / oh], np.float32)
    pimg = photometric_plate(pimg, rng)
    h, w = img.shape[:2]
    M = cv2.getPerspectiveTransform(pc.astype(np.float32), q.astype(np.float32))
    if rng.random() < RECESS_P:
        draw_recess(img, rng, q)
    # frame / shadow behind the plate
    if rng.random() < 0.4:
        grow = q.mean(0) + (q - q.mean(0)) * np.array([1 + rng.uniform(0.03, 0.12), 1 + rng.uniform(0.08, 0.3)], np.float32)
        cv2.fillPoly(img, [grow.astype(np.int32)], rng.choice([(20, 20, 20), (40, 40, 40), (180, 180, 185), rand_color(rng)]), cv2.LINE_AA)
    warped = cv2.warpPerspective(pimg, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(q * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    m = (mask.astype(np.float32) / 255.0)[..., None]
    img[:] = (warped * m + img * (1 - m)).astype(np.uint8)
    return q


RECESS_P = 0.0  # share of pasted plates drawn in a recess / surround (draw_recess); det_cache.py --recess sets it


def draw_recess(img, rng, q):
    """The panel a plate is mounted in: a recess or surround 1.25-2.8x the plate's width and 1.25-2.2x its
    height, shadowed, dark or chrome, often edged, with licence lamps at its top, tail / reverse lamps or
    reflectors right beside the plate, an emblem above. Only the plate is labelled: on US trunks the detector
    boxed such a panel with the plate at 0.9 and the plate alone at 0.36 (Models/detector/README.md)."""
    h, w = img.shape[:2]
    c = q.mean(0)
    ux = ((q[1] - q[0]) + (q[2] - q[3])) / 2
    uy = ((q[3] - q[0]) + (q[2] - q[1])) / 2
    pw, ph = float(np.linalg.norm(ux)), float(np.linalg.norm(uy))
    if pw < 6 or ph < 3:
        return
    sx, sy = rng.uniform(1.25, 2.8), rng.uniform(1.25, 2.2)
    cc = c + ux * rng.gauss(0, 0.05 * sx) + uy * rng.uniform(-0.12, 0.12) * sy
    poly = np.array([cc + a * sx / 2 * ux + b * sy / 2 * uy for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))], np.float32)
    x0, y0 = np.floor(poly.min(0)).astype(int)
    x1, y1 = np.ceil(poly.max(0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    roi = img[y0:y1, x0:x1].astype(np.float32)
    kind = rng.random()
    if kind < 0.45:  # shadowed recess: the body colour, darker
        col = roi.reshape(-1, 3).mean(0) * rng.uniform(0.25, 0.7)
    elif kind < 0.8:  # black / dark grey plastic
        col = np.full(3, rng.uniform(10, 70), np.float32)
    else:  # chrome / light surround
        col = np.full(3, rng.uniform(150, 230), np.float32) + np.array([rng.uniform(-10, 10) for _ in range(3)], np.float32)
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(mask, [np.round((poly - np.array([x0, y0], np.float32)) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
    if rng.random() < 0.5:  # rounded inner edge
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, ph * 0.08))
    shade = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.9, 1.25), y1 - y0, dtype=np.float32)[:, None, None]
    fill = np.clip(col[None, None, :] * shade, 0, 255)
    m = mask[..., None]
    img[y0:y1, x0:x1] = (roi * (1 - m) + fill * m).astype(np.uint8)
    if rng.random() < 0.5:  # edge: chrome strip or dark seam
        ec = rng.choice([(200, 200, 205), (235, 235, 240), (25, 25, 25), tuple(int(v) for v in col * 0.5)])
        cv2.polylines(img, [np.round(poly * 4).astype(np.int32)], True, ec, max(1, int(ph * rng.uniform(0.04, 0.15))), cv2.LINE_AA, shift=2)
    if rng.random() < 0.35:  # licence lamps at the panel's top
        for a in (-0.3, 0.3):
            p = cc + a * ux - uy * (sy / 2 - 0.12)
            cv2.ellipse(img, (int(p[0]), int(p[1])), (max(1, int(pw * 0.07)), max(1, int(ph * 0.06))), 0, 0, 360,
                        rng.choice([(235, 240, 245), (200, 230, 250)]), -1, cv2.LINE_AA)
    if rng.random() < 0.4:  # lamps or reflectors right beside the plate, at its height
        lw, lh = pw * rng.uniform(0.25, 0.8), ph * rng.uniform(0.7, 1.6)
        gap = pw * rng.uniform(0.03, 0.3)
        lcol = rng.choice([(30, 30, 200), (40, 40, 160), (60, 120, 230), (225, 225, 225), (40, 140, 230)])
        for side in (-1, 1):
            lx = c[0] + side * (pw / 2 + gap) - (lw if side < 0 else 0)
            draw_lamp(img, rng, lx, c[1] - lh / 2 + ph * rng.gauss(0, 0.1), lw, lh, lcol, mirrored=side > 0)
    if rng.random() < 0.25:  # emblem / badge above the plate
        p = cc - uy * (sy / 2 + rng.uniform(0.2, 0.8))
        ec = rng.choice([(120, 60, 20), (200, 200, 205), (30, 30, 30)])
        cv2.ellipse(img, (int(p[0]), int(p[1])), (max(1, int(pw * rng.uniform(0.1, 0.25))), max(1, int(ph * rng.uniform(0.2, 0.4)))),
                    0, 0, 360, ec, -1, cv2.LINE_AA)


def photometric_plate(p, rng):
    p = p.astype(np.float32)
    if rng.random() < 0.5:  # dirt / uneven light
        g = cv2.resize(np.random.default_rng(rng.randint(0, 2**31)).uniform(0.7, 1.1, (3, 5)).astype(np.float32), (p.shape[1], p.shape[0]))
        p *= g[..., None]
    p = p * rng.uniform(0.6, 1.15) + rng.uniform(-25, 25)
    return np.clip(p, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- scenes
def draw_car(img, rng, cx, ground_y, cw, with_plate=True):
    """Draw a stylised car front/rear (width cw, wheels on ground_y) on img; return the plate quad or None."""
    h, w = img.shape[:2]
    ch = cw * rng.uniform(0.55, 0.8)
    top = ground_y - ch
    body = rand_color(rng, car=True)
    x1, x2 = cx - cw / 2, cx + cw / 2
    for wx in (x1 + cw * 0.12, x2 - cw * 0.12):  # wheels
        cv2.ellipse(img, (int(wx), int(ground_y - ch * 0.05)), (max(1, int(cw * 0.09)), max(1, int(ch * 0.12))), 0, 0, 360, (20, 20, 20), -1)
    pts = np.array([[x1 + cw * 0.15, top], [x2 - cw * 0.15, top], [x2 - cw * 0.05, top + ch * 0.35], [x2, top + ch * 0.45],
                    [x2, ground_y - ch * 0.08], [x1, ground_y - ch * 0.08], [x1, top + ch * 0.45], [x1 + cw * 0.05, top + ch * 0.35]], np.int32)
    cv2.fillPoly(img, [pts], body, cv2.LINE_AA)
    # vertical shading of the body
    ys0, ys1 = max(0, int(top)), min(h, int(ground_y))
    if ys1 > ys0:
        shade = np.linspace(rng.uniform(0.85, 1.15), rng.uniform(0.6, 1.0), ys1 - ys0, dtype=np.float32)[:, None, None]
        car_mask = np.zeros((ys1 - ys0, w), np.uint8)
        cv2.fillPoly(car_mask, [pts - np.array([0, ys0], np.int32)], 1)
        band = img[ys0:ys1]
        img[ys0:ys1] = np.where(car_mask[..., None] > 0, np.clip(band * shade, 0, 255), band).astype(np.uint8)
    win = np.array([[x1 + cw * 0.2, top + ch * 0.04], [x2 - cw * 0.2, top + ch * 0.04], [x2 - cw * 0.1, top + ch * 0.33], [x1 + cw * 0.1, top + ch * 0.33]], np.int32)
    cv2.fillPoly(img, [win], tuple(rng.randint(10, 90) for _ in range(3)), cv2.LINE_AA)
    rear = rng.random() < 0.55
    ly = top + ch * rng.uniform(0.38, 0.5)
    lcol = rng.choice([(30, 30, 200), (40, 40, 160), (60, 120, 230)]) if rear else (230, 230, 230)
    lw, lh = cw * rng.uniform(0.12, 0.26), ch * rng.uniform(0.06, 0.16)
    realistic = rng.random() < 0.7
    for side, lx in ((0, x1 + cw * 0.02), (1, x2 - cw * 0.02 - lw)):
        if realistic:
            draw_lamp(img, rng, lx, ly, lw, lh, lcol, mirrored=side == 1)
        else:
            cv2.rectangle(img, (int(lx), int(ly)), (int(lx + lw), int(ly + lh)), lcol, -1)
    if rng.random() < 0.3:  # chrome / light strip between the lamps
        sy = int(ly + lh * rng.uniform(0.2, 0.9))
        cv2.line(img, (int(x1 + cw * 0.2), sy), (int(x2 - cw * 0.2), sy), rng.choice([(210, 210, 215), (40, 40, 200), (150, 150, 150)]), max(1, int(ch * rng.uniform(0.01, 0.04))))
    by = top + ch * rng.uniform(0.68, 0.78)  # bumper
    cv2.rectangle(img, (int(x1), int(by)), (int(x2), int(ground_y - ch * 0.08)),
                  tuple(int(c * rng.uniform(0.3, 1.0)) for c in body), -1)
    if rear and rng.random() < 0.5:  # exhaust pipes (a common false positive)
        ex = x1 + cw * rng.uniform(0.1, 0.3)
        for k in range(rng.choice([1, 2])):
            cv2.ellipse(img, (int(ex + k * cw * 0.07), int(ground_y - ch * 0.1)), (max(1, int(cw * 0.03)), max(1, int(ch * 0.025))), 0, 0, 360, (15, 15, 15), -1)
            cv2.ellipse(img, (int(ex + k * cw * 0.07), int(ground_y - ch * 0.1)), (max(1, int(cw * 0.03)), max(1, int(ch * 0.025))), 0, 0, 360, (170, 170, 170), max(1, int(cw * 0.006)))
    if not rear:
        draw_grille(img, rng, int(cx - cw * 0.22), int(top + ch * 0.42), int(cw * 0.44), int(ch * 0.2))
    if rng.random() < 0.6:  # model badge / dealer text on the trunk
        draw_text_distractor(img, rng, int(cx + cw * rng.uniform(-0.45, 0.2)), int(top + ch * rng.uniform(0.35, 0.6)), max(4, ch * rng.uniform(0.03, 0.07)))
    if rng.random() < 0.25:  # bumper sticker
        draw_text_distractor(img, rng, int(cx + cw * rng.uniform(-0.45, 0.1)), int(by + ch * 0.02), max(4, ch * rng.uniform(0.03, 0.06)))
    if not with_plate:
        return None
    pw = cw * rng.uniform(0.13, 0.38)
    py = (by + ground_y - ch * 0.08) / 2 if rng.random() < 0.5 else top + ch * rng.uniform(0.5, 0.7)
    return paste_plate(img, rng, cx + rng.gauss(0, cw * 0.05), py, pw)


def car_scene(rng, h, w, ro_items):
    """Cars seen from the front or rear: close-ups (plate 10..45 % of the image width, like eu/br) and
    parking-lot views with smaller, farther cars (plate 3..10 %, like many us images)."""
    img = ro_background(rng, h, w, ro_items) if (ro_items and rng.random() < 0.5) else noise_bg(rng, h, w)
    horizon = int(h * rng.uniform(0.2, 0.6))
    cv2.rectangle(img, (0, horizon), (w, h), tuple(int(v) for v in np.array(rand_color(rng)) * 0.3 + 70), -1)
    if rng.random() < 0.5:
        draw_distractors(img, rng, rng.randint(1, 4), big=True)
    draw_distractors(img, rng, rng.randint(1, 5))  # before the cars, so that they never cover a plate
    quads = []
    if rng.random() < 0.5:  # one close-up car
        cars = [(w * rng.uniform(0.3, 0.7), h * rng.uniform(0.6, 1.05), w * rng.uniform(0.5, 1.3))]
    else:  # several, farther away; nearer ones drawn last
        cars = []
        for _ in range(rng.randint(1, 4)):
            gy = h * rng.uniform(0.4, 1.0)
            cars.append((w * rng.uniform(0.0, 1.0), gy, w * rng.uniform(0.12, 0.5) * (0.5 + gy / h)))
        cars.sort(key=lambda c: c[1])
    for (cx, gy, cw) in cars:
        # plates of farther cars that this (nearer) car hides are no longer visible: drop them
        bx1, bx2, by1 = cx - cw / 2 - 2, cx + cw / 2 + 2, gy - cw * 0.8 - 2
        quads = [p for p in quads if not (bx1 < p[:, 0].max() and p[:, 0].min() < bx2 and p[:, 1].max() > by1 and p[:, 1].min() < gy)]
        q = draw_car(img, rng, cx, gy, cw, with_plate=rng.random() < 0.9)
        if q is not None:
            quads.append(q)
    return img, quads


def draw_lamp(img, rng, x, y, lw, lh, col, mirrored=False):
    """A head / tail lamp: a rounded polygon with a bright core, inner segments and glare (plate-sized,
    bright, rectangular: a frequent false positive)."""
    h, w = img.shape[:2]
    pts = np.array([[0, 0.2], [0.7, 0], [1, 0.1], [1, 0.9], [0.3, 1], [0, 0.8]], np.float32)
    if rng.random() < 0.5:
        pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    if mirrored:
        pts[:, 0] = 1 - pts[:, 0]
    poly = (pts * np.array([lw, lh], np.float32) + np.array([x, y], np.float32)).astype(np.int32)
    dark = tuple(int(c * rng.uniform(0.3, 0.7)) for c in col)
    cv2.fillPoly(img, [poly], dark, cv2.LINE_AA)
    x0, y0 = int(max(0, x)), int(max(0, y))
    x1_, y1_ = int(min(w, x + lw)), int(min(h, y + lh))
    if x1_ - x0 < 2 or y1_ - y0 < 2:
        return
    mask = np.zeros((y1_ - y0, x1_ - x0), np.float32)
    cv2.fillPoly(mask, [poly - np.array([x0, y0], np.int32)], 1.0)
    core = np.zeros_like(mask)
    for _ in range(rng.randint(1, 3)):
        cv2.ellipse(core, (rng.randint(0, mask.shape[1] - 1), rng.randint(0, mask.shape[0] - 1)),
                    (max(1, int(lw * rng.uniform(0.1, 0.3))), max(1, int(lh * rng.uniform(0.2, 0.5)))), 0, 0, 360, 1.0, -1)
    core = cv2.GaussianBlur(core, (0, 0), max(0.5, lh * 0.2)) * mask
    if rng.random() < 0.5:  # segments
        for k in range(1, rng.randint(2, 5)):
            xx = int(mask.shape[1] * k / 5)
            cv2.line(core, (xx, 0), (xx, mask.shape[0]), 0.0, 1)
    bright = np.array([min(255, c + 120) for c in col], np.float32) if rng.random() < 0.6 else np.array([245, 245, 255], np.float32)
    roi = img[y0:y1_, x0:x1_].astype(np.float32)
    a = np.clip(core * rng.uniform(0.6, 1.0), 0, 1)[..., None]
    img[y0:y1_, x0:x1_] = (roi * (1 - a) + bright * a).astype(np.uint8)


def draw_grille(img, rng, x, y, gw, gh):
    col = rng.choice([(20, 20, 20), (160, 160, 165), (60, 60, 60)])
    cv2.rectangle(img, (x, y), (x + gw, y + gh), col, -1)
    step = max(2, gh // rng.randint(3, 7))
    c2 = (200, 200, 200) if col[0] < 100 else (30, 30, 30)
    for yy in range(y, y + gh, step):
        cv2.line(img, (x, yy), (x + gw, yy), c2, max(1, step // 3))


def street_scene(rng, h, w, ro_items, with_real=True):
    """A whole or zoomed ro frame with its real plates labelled (kvalid 0), plus pasted plates."""
    path, boxes = rng.choice(ro_items)
    im = imread_cached(path)
    H0, W0 = im.shape[:2]
    zoom = rng.random()
    if zoom < 0.45 or len(boxes) == 0:
        cw = W0 * rng.uniform(0.5, 1.0)
        ch = min(H0, cw * h / w); cw = ch * w / h
        x0, y0 = rng.uniform(0, W0 - cw), rng.uniform(0, H0 - ch)
    else:  # zoom on a real plate so that it becomes 8..40 % of the crop width
        b = boxes[rng.randrange(len(boxes))]
        bw = b[2] - b[0]
        cw = min(W0, bw / rng.uniform(0.08, 0.4))
        ch = min(H0, cw * h / w); cw = ch * w / h
        bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        x0 = np.clip(bx - cw * rng.uniform(0.2, 0.8), 0, W0 - cw)
        y0 = np.clip(by - ch * rng.uniform(0.2, 0.8), 0, H0 - ch)
    sx, sy = w / cw, h / ch
    crop = im[int(y0):int(y0) + int(ch), int(x0):int(x0) + int(cw)]
    img = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR)
    sx, sy = w / crop.shape[1], h / crop.shape[0]
    flip = rng.random() < 0.5
    if flip:
        img = np.ascontiguousarray(img[:, ::-1])
    real = []
    for b in boxes:
        x1, y1, x2, y2 = (b[0] - int(x0)) * sx, (b[1] - int(y0)) * sy, (b[2] - int(x0)) * sx, (b[3] - int(y0)) * sy
        if flip:
            x1, x2 = w - x2, w - x1
        real.append((x1, y1, x2, y2))
    draw_distractors(img, rng, rng.randint(0, 4))
    quads = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        pw = w * rng.uniform(0.03, 0.25)
        cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(0.3, 0.95) * h
        # keep pasted plates off the real ones (a covered real plate would keep a wrong label)
        if any(abs(cx - (b[0] + b[2]) / 2) < (pw + b[2] - b[0]) * 0.6 and abs(cy - (b[1] + b[3]) / 2) < pw * 0.5 + (b[3] - b[1])
               for b in real):
            continue
        quads.append(paste_plate(img, rng, cx, cy, pw))
    return img, quads, real


def clutter_scene(rng, h, w, ro_items):
    img = ro_background(rng, h, w, ro_items) if (ro_items and rng.random() < 0.5) else noise_bg(rng, h, w)
    draw_distractors(img, rng, rng.randint(3, 12))
    quads = []
    for _ in range(rng.choice([0, 1, 1, 2, 4])):
        pw = w * rng.uniform(0.04, 0.5)
        quads.append(paste_plate(img, rng, rng.uniform(0.05, 0.95) * w, rng.uniform(0.05, 0.95) * h, pw))
    return img, quads


def photometric_scene(img, rng):
    img = img.astype(np.float32)
    if rng.random() < 0.12:  # night: dark, bluish/reddish, bright lights
        img = img * rng.uniform(0.15, 0.45)
        img[..., rng.randrange(3)] *= rng.uniform(0.8, 1.3)
        for _ in range(rng.randint(0, 4)):
            mask = np.zeros(img.shape[:2], np.float32)
            cv2.circle(mask, (rng.randrange(img.shape[1]), rng.randrange(img.shape[0])), rng.randint(3, 25), 1.0, -1)
            mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(3, 15))
            img += mask[..., None] * np.array([rng.uniform(150, 255) for _ in range(3)], np.float32)
    else:
        img = img * rng.uniform(0.5, 1.4) + rng.uniform(-40, 40)
        img *= np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    if rng.random() < 0.3:
        gam = rng.uniform(0.6, 1.6)
        img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** gam
    img = np.clip(img, 0, 255).astype(np.uint8)
    r = rng.random()
    if r < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.8))
    elif r < 0.35:  # motion blur
        k = rng.randint(3, 9)
        ker = np.zeros((k, k), np.float32); ker[k // 2] = 1.0 / k
        ker = cv2.warpAffine(ker, cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0), (k, k))
        img = cv2.filter2D(img, -1, ker / max(ker.sum(), 1e-6))
    if rng.random() < 0.3:
        img = np.clip(img + np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(2, 12), img.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        img = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.6:
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 95)])
        img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img


def letterbox(img, size, pad=PAD):
    """Same as the runtime (COpenCV copencv_letterbox_blob): keep aspect, centre, INTER_AREA when shrinking."""
    h, w = img.shape[:2]
    r = min(size / w, size / h)
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    px, py = (size - nw) // 2, (size - nh) // 2
    out = np.full((size, size, 3), pad, np.uint8)
    out[py:py + nh, px:px + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
    return out, r, px, py


def make_sample(rng: random.Random, size: int, ro_items):
    """One training image (size x size, letterboxed) and its targets [K, 13]."""
    aspect = rng.choice([4 / 3, 4 / 3, 16 / 9, 3 / 2, 1.0, 3 / 4, 9 / 16])
    # the scene is rendered larger than the input, then letterboxed down like the runtime does
    up = rng.uniform(1.0, 1.6)
    if aspect >= 1:
        w = int(size * up); h = int(w / aspect)
    else:
        h = int(size * up); w = int(h * aspect)
    kind = rng.random()
    real = []
    if kind < 0.40:
        img, quads = car_scene(rng, h, w, ro_items)
    elif kind < 0.80 and ro_items:
        img, quads, real = street_scene(rng, h, w, ro_items)
    else:
        img, quads = clutter_scene(rng, h, w, ro_items)
    img = photometric_scene(img, rng)
    img, r, px, py = letterbox(img, size)
    t = []
    for q in quads:
        q = q * r + np.array([px, py], np.float32)
        x1, y1 = q.min(0); x2, y2 = q.max(0)
        t.append([x1, y1, x2, y2, 1.0, *q.reshape(-1).tolist()])
    for (x1, y1, x2, y2) in real:
        t.append([x1 * r + px, y1 * r + py, x2 * r + px, y2 * r + py, 0.0] + [0.0] * 8)
    t = np.array(t, np.float32).reshape(-1, 13)
    if len(t):  # clip; drop boxes that are mostly outside
        area0 = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
        c = t.copy()
        c[:, [0, 2]] = c[:, [0, 2]].clip(px, size - px)
        c[:, [1, 3]] = c[:, [1, 3]].clip(py, size - py)
        area1 = (c[:, 2] - c[:, 0]).clip(0) * (c[:, 3] - c[:, 1]).clip(0)
        keep = (area1 > 0.6 * area0) & ((c[:, 2] - c[:, 0]) >= 4)
        c[area1 < 0.95 * area0, 4] = 0.0  # corners partly outside: do not train them
        t = c[keep]
    return img, t


class SceneStream:
    """Infinite stream of training samples (use from a torch IterableDataset worker)."""

    def __init__(self, size, seed, ro_split="all"):
        self.size = size
        self.rng = random.Random(seed)
        self.ro = load_ro(ro_split)

    def __iter__(self):
        while True:
            yield make_sample(self.rng, self.size, self.ro)


if __name__ == "__main__":  # preview: python det_data.py OUT.png [N]
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".train/detector/viz/samples.png")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    rng = random.Random(int(os.environ.get("SEED", "1")))
    ro = load_ro()
    tiles = []
    import time
    t0 = time.time()
    for i in range(n):
        img, t = make_sample(rng, 384, ro)
        for r in t:
            col = (0, 255, 0) if r[4] > 0 else (0, 255, 255)
            cv2.rectangle(img, (int(r[0]), int(r[1])), (int(r[2]), int(r[3])), col, 1)
            if r[4] > 0:
                cv2.polylines(img, [r[5:].reshape(4, 2).astype(np.int32)], True, (255, 0, 255), 1)
                cv2.circle(img, (int(r[5]), int(r[6])), 2, (0, 0, 255), -1)
        tiles.append(img)
    print(f"{(time.time() - t0) / n * 1000:.1f} ms/sample")
    cols = 4
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    cv2.imwrite(out, np.vstack(rows))
