"""Procedural stroke glyphs that mimic licence-plate typefaces (FE-Schrift, Mandatory, US penitentiary-style).

Every glyph is a list of polylines in a unit box (x right, y down, 0..1); each vertex carries a corner
rounding radius (0 = sharp, "r" = the font's roundness).  A *procedural font* fixes the roundness, stroke
width, middle-bar height, per-glyph variants (square vs oval O, flagged 1, open/closed 4, straight/hooked 6/9,
7 with/without bar, ...) and width table; `ProcFont.mask(ch, h)` renders an anti-aliased ink mask.
"""
from __future__ import annotations

import random

import cv2
import numpy as np

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _round_path(pts, closed):
    """pts: [(x, y, r)] -> dense polyline with corners rounded by quadratic Bezier arcs."""
    n = len(pts)
    out = []
    for i in range(n):
        x, y, r = pts[i]
        if r <= 0 or (not closed and (i == 0 or i == n - 1)):
            out.append((x, y))
            continue
        px, py, _ = pts[i - 1]
        nx, ny, _ = pts[(i + 1) % n]
        d0 = np.hypot(x - px, y - py)
        d1 = np.hypot(nx - x, ny - y)
        rr = min(r, d0 * 0.5, d1 * 0.5)
        if rr <= 1e-6:
            out.append((x, y))
            continue
        a = (x + (px - x) * rr / d0, y + (py - y) * rr / d0)
        b = (x + (nx - x) * rr / d1, y + (ny - y) * rr / d1)
        for t in np.linspace(0, 1, 7):
            u = 1 - t
            out.append((u * u * a[0] + 2 * u * t * x + t * t * b[0], u * u * a[1] + 2 * u * t * y + t * t * b[1]))
    return out, closed


def _flip(paths):
    return [([(1 - x, 1 - y, r) for (x, y, r) in p], c) for p, c in paths]


def glyph_paths(ch, v, r, m):
    """v: variant dict, r: roundness, m: middle height. Returns [(pts, closed)]."""
    O = lambda x0, y0, x1, y1, rr: ([(x0, y0, rr), (x1, y0, rr), (x1, y1, rr), (x0, y1, rr)], True)
    P = lambda *pts: ([(p[0], p[1], p[2] if len(p) > 2 else 0) for p in pts], False)
    g = v.get(ch, 0)
    if ch == "0":
        rr = max(r, 0.28) if g != 2 else r
        p = [O(0, 0, 1, 1, rr)]
        if g == 1:
            p.append(P((0.78, 0.12), (0.22, 0.88)))
        return p
    if ch == "O":
        return [O(0, 0, 1, 1, r if g == 0 else max(r, 0.4))]
    if ch == "D":
        return [([(0, 0, 0), (1, 0, r * (1.3 if g else 1)), (1, 1, r * (1.3 if g else 1)), (0, 1, 0)], True)]
    if ch == "Q":
        return [O(0, 0, 1, 1, r), P((0.58, 0.72), (1.0, 1.05))]
    if ch == "C":
        if g == 0:
            return [P((1, 0.22), (1, 0, r), (0, 0, r), (0, 1, r), (1, 1, r), (1, 0.78))]
        return [P((1, 0), (0, 0, r), (0, 1, r), (1, 1))]
    if ch == "G":
        tail = [(0.5, m + 0.05)] if g == 0 else [(0.5, m + 0.05), (1, m + 0.05)]
        if g == 1:
            return [P((1, 0.22), (1, 0, r), (0, 0, r), (0, 1, r), (1, 1, 0), (1, m + 0.05)), P(*tail)]
        return [P((1, 0.22), (1, 0, r), (0, 0, r), (0, 1, r), (1, 1, r), (1, m + 0.05), *tail)]
    if ch == "U":
        return [P((0, 0), (0, 1, r), (1, 1, r), (1, 0))]
    if ch == "J":
        p = [P((1, 0), (1, 1, r), (0, 1, r), (0, 0.68))]
        if g == 1:
            p.append(P((0.35, 0), (1, 0)))
        return p
    if ch == "S":
        if g == 0:
            return [P((1, 0.18), (1, 0, r), (0, 0, r), (0, m, r), (1, m, r), (1, 1, r), (0, 1, r), (0, 0.82))]
        return [P((1, 0), (0, 0, r), (0, m, r), (1, m, r), (1, 1, r), (0, 1))]
    if ch == "5":
        top = (0, 0) if g == 0 else (0.08, 0)
        return [P((1, 0), top, (0, m - 0.04), (1, m - 0.04, r), (1, 1, r), (0, 1, r if g else 0), (0, 0.84) if g else (0, 1))]
    if ch == "2":
        if g == 0:
            return [P((0, 0.2), (0, 0, r), (1, 0, r), (1, 0.42, r), (0, 1), (1, 1))]
        if g == 1:
            return [P((0, 0), (1, 0, r), (1, m, r), (0, m, r), (0, 1), (1, 1))]
        return [P((0, 0.18), (0, 0, r), (1, 0, r), (1, m - 0.05, r), (0, 0.85, r * 0.5), (0, 1), (1, 1))]
    if ch == "3":
        if g == 0:
            return [P((0, 0.16), (0, 0, r), (1, 0, r), (1, m, r), (0.3, m)),
                    P((0.3, m), (1, m, r), (1, 1, r), (0, 1, r), (0, 0.84))]
        return [P((0, 0), (1, 0), (0.42, m - 0.03)), P((0.42, m - 0.03), (1, m - 0.03, r), (1, 1, r), (0, 1, r), (0, 0.84))]
    if ch in "69":
        loop = O(0, m - 0.06, 1, 1, r)
        if g == 0:
            stem = P((0, m + 0.1), (0, 0, r), (1, 0, r), (1, 0.16))
        elif g == 1:
            stem = P((0.05, m + 0.08), (0.62, 0))
        else:
            stem = P((0, m + 0.1), (0, 0, r), (0.9, 0))
        p = [loop, stem]
        return _flip(p) if ch == "9" else p
    if ch == "8":
        w = 0.07 if g == 0 else 0.0
        return [O(w, 0, 1 - w, m - 0.02, r), O(0, m - 0.02, 1, 1, r)]
    if ch == "B":
        return [([(0, 0, 0), (0.9, 0, r), (0.9, m, r), (0, m, 0)], True), ([(0, m, 0), (1, m, r), (1, 1, r), (0, 1, 0)], True)]
    if ch == "P":
        return [([(0, 0, 0), (1, 0, r), (1, m + 0.06, r), (0, m + 0.06, 0)], False), P((0, 0), (0, 1))]
    if ch == "R":
        leg = P((0.45, m + 0.06), (1, 1)) if g == 0 else P((0.7, m + 0.06), (1, 1))
        return [([(0, 0, 0), (1, 0, r), (1, m + 0.06, r), (0, m + 0.06, 0)], False), P((0, 0), (0, 1)), leg]
    if ch == "A":
        if g == 0:
            return [P((0, 1), (0.5, 0), (1, 1)), P((0.22, 0.66), (0.78, 0.66))]
        if g == 1:
            return [P((0, 1), (0.36, 0), (0.64, 0), (1, 1)), P((0.2, 0.64), (0.8, 0.64))]
        return [P((0, 1), (0, 0, r), (1, 0, r), (1, 1)), P((0, m + 0.05), (1, m + 0.05))]
    if ch == "E":
        return [P((1, 0), (0, 0), (0, 1), (1, 1)), P((0, m), (0.85, m))]
    if ch == "F":
        return [P((1, 0), (0, 0), (0, 1)), P((0, m), (0.85, m))]
    if ch == "H":
        return [P((0, 0), (0, 1)), P((1, 0), (1, 1)), P((0, m), (1, m))]
    if ch == "I":
        p = [P((0.5, 0), (0.5, 1))]
        if g == 1:
            p += [P((0.15, 0), (0.85, 0)), P((0.15, 1), (0.85, 1))]
        return p
    if ch == "1":
        x = 0.62
        if g == 0:
            p = [P((x, 0), (x, 1)), P((0.1, 0.28), (x, 0))]
        elif g == 1:
            p = [P((x, 0), (x, 1)), P((0.15, 0.2), (x, 0))]
            p.append(P((0.12, 1), (1.0, 1)))
        else:
            p = [P((x, 0), (x, 1)), P((0.05, 0.14), (0.3, 0.06), (x, 0))]
        return p
    if ch == "K":
        if g == 0:
            return [P((0, 0), (0, 1)), P((1, 0), (0, 0.62)), P((0.34, 0.42), (1, 1))]
        return [P((0, 0), (0, 1)), P((1, 0), (0, m), (1, 1))]
    if ch == "L":
        return [P((0, 0), (0, 1), (1, 1))]
    if ch == "M":
        d = (0.55, 0.75, 1.0)[g]
        return [P((0, 1), (0, 0), (0.5, d), (1, 0), (1, 1))]
    if ch == "N":
        return [P((0, 1), (0, 0), (1, 1), (1, 0))]
    if ch == "T":
        return [P((0, 0), (1, 0)), P((0.5, 0), (0.5, 1))]
    if ch == "V":
        return [P((0, 0), (0.5, 1), (1, 0))]
    if ch == "W":
        d = (0.35, 0.0)[g]
        return [P((0, 0), (0.25, 1), (0.5, d), (0.75, 1), (1, 0))]
    if ch == "X":
        return [P((0, 0), (1, 1)), P((1, 0), (0, 1))]
    if ch == "Y":
        return [P((0, 0), (0.5, 0.5), (1, 0)), P((0.5, 0.5), (0.5, 1))]
    if ch == "Z":
        return [P((0, 0), (1, 0), (0, 1), (1, 1))]
    if ch == "4":
        if g == 0:
            return [P((0.78, 1), (0.78, 0), (0, 0.7), (1, 0.7))]
        if g == 1:
            return [P((0.12, 0), (0, 0.7), (1, 0.7)), P((0.72, 0.32), (0.72, 1))]
        return [P((0, 0), (0, 0.68), (1, 0.68)), P((0.74, 0.3), (0.74, 1))]
    if ch == "7":
        if g == 0:
            return [P((0, 0), (1, 0), (0.32, 1))]
        if g == 1:
            return [P((0, 0.12), (0, 0), (1, 0), (1, 0.15), (0.45, 1))]
        return [P((0, 0), (1, 0), (0.38, 1)), P((0.35, m), (0.85, m))]
    raise KeyError(ch)


NVAR = {"0": 3, "O": 2, "D": 2, "C": 2, "G": 2, "J": 2, "S": 2, "5": 2, "2": 3, "3": 2, "6": 3, "9": 3, "8": 2,
        "R": 2, "A": 3, "I": 2, "1": 3, "K": 2, "M": 3, "W": 2, "4": 3, "7": 3}
WIDTH = {"I": 0.0, "1": 0.36, "M": 0.68, "W": 0.72, "O": 0.6, "0": 0.52, "Q": 0.6, "J": 0.48, "L": 0.48,
         "T": 0.56, "A": 0.6, "V": 0.6, "X": 0.58, "Y": 0.6, "N": 0.58, "H": 0.56, "E": 0.5, "F": 0.5}


class ProcFont:
    """A procedural plate typeface with fixed random parameters."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        self.seed = seed
        self.r = rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.2, 0.5)])
        self.t = rng.uniform(0.09, 0.19)  # stroke width / height
        self.m = rng.uniform(0.44, 0.54)
        self.wscale = rng.uniform(0.8, 1.15)
        self.var = {c: rng.randrange(n) for c, n in NVAR.items()}
        self.var["I"] = 1 if rng.random() < 0.12 else 0  # plate fonts almost always have a plain I
        self.serif_I = self.var["I"]
        self.cache = {}

    def mask(self, ch: str, h: int = 64) -> np.ndarray:
        key = (ch, h)
        if key in self.cache:
            return self.cache[key]
        sw = max(1.0, self.t * h)
        w_frac = WIDTH.get(ch, 0.54) * self.wscale
        if ch == "I":
            w_frac = 0.36 if self.serif_I else 0.0
        ss = 4  # supersample
        H = h * ss
        inner_w = w_frac * h
        W = int(round((inner_w + sw) * ss)) + 2
        Wc = W + int(0.3 * h * ss)
        img = np.zeros((H, Wc), np.uint8)
        pad = sw * ss / 2
        for pts, closed in glyph_paths(ch, self.var, self.r, self.m):
            dense, closed = _round_path(pts, closed)
            arr = np.array([[pad + x * inner_w * ss, pad + y * (H - 2 * pad)] for x, y in dense], np.float64)
            arr = np.round(arr * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(img, [arr], closed, 255, thickness=max(1, int(round(sw * ss))), lineType=cv2.LINE_AA, shift=4)
        # Crop to ink columns (tails such as Q may overflow to the right) and downsample.
        cols = np.where(img.max(0) > 0)[0]
        img = img[:, cols[0]:cols[-1] + 1]
        # Make stroke ends square-ish at top and bottom: the ink box is the glyph box.
        out = cv2.resize(img, (max(1, int(round(img.shape[1] / ss))), h), interpolation=cv2.INTER_AREA)
        self.cache[key] = out
        return out
