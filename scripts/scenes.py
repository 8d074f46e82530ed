#!/usr/bin/env python3
"""Renders the synthetic traffic scenes under Samples/scenes/ with their ground truth (committed outputs).

    street.mp4       1280x720, 25 fps, 14 s: six vehicles on a fixed-camera crossroads (see README there)
    street-1080.mp4  the same scene at 1920x1080 (the 1080p25 throughput benchmark)
    night.mp4        1280x720, 25 fps, 6 s: low light, sensor noise, headlight glare, IR-lit plates
    rain.mp4         1280x720, 25 fps, 8 s: small plates under rain streaks, lens drops, noise, blur and flicker
                     that change every frame: single frames are often misread, the whole pass is readable
    quiet-1080.mp4   1920x1080, 25 fps, 60 s: the crossroads, mostly empty (three vehicles in short windows), with
                     sensor noise, a slow illumination drift and swaying leaves (a mostly idle camera; motion gating)
    directions.mp4   1280x720, 25 fps, 40.8 s: 16 vehicles crossing a plain yard in 8 image directions, each
                     once near and slow and once far and fast (event directions against the truth)

Each video gets a JSON beside it (street.json, ...) saying, per vehicle, its plate, style, colour, direction of
travel in the image, when it is in the frame, when its plate is readable, its best frame, and its vehicle and
plate boxes every 5th frame. The end-to-end tests of `platestream run` compare events against it.

Everything is drawn here: vehicles are simple car-like shapes (body, windows, lights, wheels, shadow), each
plate comes from scripts/train/plates.py (render_plate, fixed seeds) and is carried on the vehicle through a
per-frame perspective warp, so its corners, and so its box, are known exactly. Deterministic: fixed seeds, one
encoder thread, bit-exact muxing; a re-run gives the same files (with the same Debian fonts installed).

Scene geometry is written once in 1280x720 "base" pixels and scaled to the output size.
Usage: scenes.py [--out Samples/scenes] [--only street|night|street-1080|rain|quiet-1080|directions]... [--check]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "train"))
import plates  # noqa: E402  (scripts/train/plates.py)

BASE_W, BASE_H = 1280, 720
FPS = 25
BOX_EVERY = 5             # frames between ground-truth boxes
READABLE_PLATE_W = 120    # base px: narrower plates count as not (yet) readable
EDGE_MARGIN = 4           # base px: a plate closer than this to the frame edge is not "whole in the frame"

COLORS = {  # BGR
    "white": (232, 234, 236), "black": (34, 34, 38), "silver": (190, 192, 196), "grey": (118, 120, 124),
    "red": (40, 36, 186), "blue": (168, 84, 30), "green": (58, 128, 44), "yellow": (40, 196, 228),
    "brown": (42, 70, 112), "orange": (30, 120, 236),
}

# The crossroads: a horizontal street across the lower part of the image, a road running away from the
# camera up the middle (vanishing above the top edge), a parking bay top-left.
BAND_TOP, BAND_BOTTOM = 398, 720
VROAD_TOP = (690, 990)       # x extent of the vertical road at y = 0
VROAD_BOTTOM = (470, 1210)   # ... at y = 720


def road_width_at(yb):
    """Width of a vehicle on the vertical road whose bottom edge is at image row yb (base px)."""
    return 150.0 + 0.444 * yb


# ----------------------------------------------------------------------------------------------- vehicles

@dataclass
class Vehicle:
    id: int
    color: str
    view: str                  # "rear" (tail lights) or "front" (headlights)
    pose: object               # t -> (cx, yb, w) in base px, or None when off the road entirely
    style: str | None = None   # plates.py style; None: no plate
    seed: int = 0
    plate_frac: float = 0.46   # plate width as a fraction of the body width
    parked: bool = False
    yaw: float = 0.0           # > 0: right side further away (shorter); a hint of a three-quarter view
    plate: np.ndarray | None = field(default=None, repr=False)
    text: str | None = None


def linear(t0, t1, p0, p1):
    """A pose moving at constant image speed from p0 = (cx, yb, w) at t0 to p1 at t1."""
    def pose(t):
        if t < t0 or t > t1:
            return None
        u = (t - t0) / (t1 - t0)
        return tuple(a + (b - a) * u for a, b in zip(p0, p1))
    return pose


def along_road(t0, t1, y0, y1, cx, ease):
    """A pose on the vertical road: bottom row from y0 to y1, width from the perspective, eased (u ** ease)."""
    def pose(t):
        if t < t0 or t > t1:
            return None
        u = ((t - t0) / (t1 - t0)) ** ease
        yb = y0 + (y1 - y0) * u
        return (cx, yb, road_width_at(yb))
    return pose


def fixed(cx, yb, w):
    return lambda t: (cx, yb, w)


def crossing(t0, deg, speed, through, w):
    """A pose crossing the picture in a straight line at constant size: image direction deg (as direction_deg:
    0 right, 90 up the image, counter-clockwise), speed in base px/s, along the line through `through` (a
    position (cx, yb) of the body's bottom centre). At t0 the sprite (body, padding, shadow) is just outside the
    picture; the pose ends once it is out again (pose.span = (t0, t1))."""
    dx, dy = math.cos(math.radians(deg)), -math.sin(math.radians(deg))
    lo, hi = -math.inf, math.inf
    # s: px along the line from `through`; the sprite's extent on each axis, [p + s d + a, p + s d + b], must
    # meet (0, L)
    for p, d, a, b, L in ((through[0], dx, -(0.5 + PAD_X) * w, (0.5 + PAD_X) * w, BASE_W),
                          (through[1], dy, -BODY_H * w, PAD_B * w, BASE_H)):
        if abs(d) < 1e-9:
            assert p + b > 0 and p + a < L, "crossing: the line misses the picture"
            continue
        s0, s1 = sorted(((-p - b) / d, (L - p - a) / d))
        lo, hi = max(lo, s0), min(hi, s1)
    assert lo < hi, "crossing: the line misses the picture"
    lo, hi = lo - 2, hi + 2
    t1 = t0 + (hi - lo) / speed

    def pose(t):
        if t < t0 or t > t1:
            return None
        s = lo + (t - t0) * speed
        return (through[0] + s * dx, through[1] + s * dy, w)
    pose.span = (t0, t1)
    return pose


BODY_H = 0.70   # body height / width (rear or front view, wheels included)
PAD_X, PAD_B = 0.06, 0.07  # sprite padding (fractions of body width) for the shadow


def plate_rect(v, bw):
    """Plate rectangle (x0, y0, x1, y1) in body coordinates for a body bw wide."""
    ph, pw = v.plate.shape[:2]
    w = v.plate_frac * bw
    h = w * ph / pw
    cy = bw * BODY_H * 0.655
    return (bw / 2 - w / 2, cy - h / 2, bw / 2 + w / 2, cy + h / 2)


def draw_sprite(v, bw, night=False):
    """The vehicle as a BGRA sprite whose body is bw px wide. Returns (sprite, body origin in the sprite)."""
    s = 4  # supersampled drawing, then INTER_AREA down
    W = int(round(bw * (1 + 2 * PAD_X))) * s
    bh = bw * BODY_H
    H = int(round(bh + bw * PAD_B)) * s
    ox, oy = bw * PAD_X * s, 0.0
    img = np.zeros((H, W, 3), np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    B = bw * s

    def P(x, y):  # body fraction -> sprite px (fixed point 4 bits for cv2's shift)
        return (int(round((ox + x * B) * 16)), int(round((oy + y * B * BODY_H) * 16)))

    def poly(pts, color, a=255):
        p = np.array([P(x, y) for x, y in pts], np.int32)
        cv2.fillPoly(img, [p], color, cv2.LINE_AA, 4)
        cv2.fillPoly(alpha, [p], a, cv2.LINE_AA, 4)

    def rrect(x0, y0, x1, y1, r, color, a=255):
        # rounded rectangle from four circles and two rectangles
        for (cx, cy) in [(x0 + r, y0 + r / BODY_H), (x1 - r, y0 + r / BODY_H),
                         (x0 + r, y1 - r / BODY_H), (x1 - r, y1 - r / BODY_H)]:
            c = P(cx, cy)
            cv2.circle(img, c, int(r * B * 16), color, -1, cv2.LINE_AA, 4)
            cv2.circle(alpha, c, int(r * B * 16), a, -1, cv2.LINE_AA, 4)
        poly([(x0 + r, y0), (x1 - r, y0), (x1 - r, y1), (x0 + r, y1)], color, a)
        poly([(x0, y0 + r / BODY_H), (x1, y0 + r / BODY_H), (x1, y1 - r / BODY_H), (x0, y1 - r / BODY_H)], color, a)

    base = np.array(COLORS[v.color], np.float32)
    if night:
        base = base * 0.30
    shade = lambda f: tuple(int(min(255, max(0, c * f))) for c in base)  # noqa: E731

    # shadow on the road (drawn first, half transparent black)
    sh = np.zeros((H, W), np.uint8)
    cv2.ellipse(sh, (int((ox + 0.5 * B)), int(bh * s)), (int(0.56 * B), int(0.07 * B)), 0, 0, 360, 150, -1, cv2.LINE_AA)
    sh = cv2.GaussianBlur(sh, (0, 0), 0.03 * B)
    alpha = np.maximum(alpha, sh)

    # wheels
    tyre = (18, 18, 20)
    rrect(0.05, 0.74, 0.23, 1.0, 0.03, tyre)
    rrect(0.77, 0.74, 0.95, 1.0, 0.03, tyre)
    # cabin (roof pillars) and window
    poly([(0.17, 0.03), (0.83, 0.03), (0.95, 0.42), (0.05, 0.42)], shade(0.92))
    glass = (46, 40, 36) if not night else (14, 12, 12)
    poly([(0.21, 0.09), (0.79, 0.09), (0.885, 0.39), (0.115, 0.39)], glass)
    poly([(0.23, 0.10), (0.42, 0.10), (0.30, 0.38), (0.15, 0.38)], tuple(int(c + 22) for c in glass))  # reflection
    # lower body
    rrect(0.0, 0.38, 1.0, 0.86, 0.05, shade(1.0))
    poly([(0.0, 0.44), (1.0, 0.44), (1.0, 0.47), (0.0, 0.47)], shade(0.78))  # shoulder line
    poly([(0.01, 0.80), (0.99, 0.80), (0.985, 0.88), (0.015, 0.88)], shade(0.55) if v.color != "black" else (60, 60, 64))
    # lights
    if v.view == "rear":
        lamp = (30, 30, 200) if not night else (60, 60, 255)
        rrect(0.03, 0.50, 0.20, 0.60, 0.015, lamp)
        rrect(0.80, 0.50, 0.97, 0.60, 0.015, lamp)
    else:
        lamp = (200, 225, 235) if not night else (255, 255, 255)
        rrect(0.03, 0.49, 0.20, 0.59, 0.02, lamp)
        rrect(0.80, 0.49, 0.97, 0.59, 0.02, lamp)
        poly([(0.25, 0.49), (0.75, 0.49), (0.73, 0.55), (0.27, 0.55)], (40, 40, 42))  # grille
    if v.plate is None:  # an empty plate recess
        poly([(0.34, 0.60), (0.66, 0.60), (0.66, 0.73), (0.34, 0.73)], shade(0.8))

    img = cv2.resize(img, (W // s, H // s), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, (W // s, H // s), interpolation=cv2.INTER_AREA)
    ox, oy = ox / s, oy / s
    if v.plate is not None:
        x0, y0, x1, y1 = plate_rect(v, bw)
        pw, ph = int(round(x1 - x0)), int(round(y1 - y0))
        p = cv2.resize(v.plate, (pw, ph), interpolation=cv2.INTER_AREA)
        if night:  # an IR camera: the retro-reflective plate glows, colour is gone
            g = cv2.cvtColor(p, cv2.COLOR_BGR2GRAY).astype(np.float32)
            g = np.clip((g - g.mean()) * 1.1 + 185, 0, 255).astype(np.uint8)
            p = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
        X, Y = int(round(ox + x0)), int(round(oy + y0))
        img[Y:Y + ph, X:X + pw] = p
        alpha[Y:Y + ph, X:X + pw] = 255
    return np.dstack([img, alpha]), (ox, oy)


def body_quad(cx, yb, w, yaw, tilt=0.05):
    """Where the body's corners (TL, TR, BR, BL) land in the image (base px)."""
    h = w * BODY_H
    dl, dr = (0, yaw * h) if yaw >= 0 else (-yaw * h, 0)  # vertical shrink of the further side
    top_in = tilt * w / 2  # the camera looks down: the top edge is a little narrower
    return np.array([[cx - w / 2 + top_in, yb - h + dl / 2], [cx + w / 2 - top_in, yb - h + dr / 2],
                     [cx + w / 2, yb - dr / 2], [cx - w / 2, yb - dl / 2]], np.float32)


# ----------------------------------------------------------------------------------------------- scenes

def street_vehicles():
    """The 14 s street scene. Plate seeds are fixed; see README for what each vehicle does."""
    return [
        # parked top-left in the bay, rear to the camera, the whole video
        Vehicle(1, "silver", "rear", fixed(215, 372, 350), "br_old", 11, parked=True),
        # left -> right on the near lane, rear view
        Vehicle(2, "red", "rear", linear(0.1, 4.3, (-230, 704, 412), (1510, 704, 412)), "us", 21, yaw=0.04),
        # down the vertical road toward the camera, front view, growing
        Vehicle(3, "blue", "front", along_road(1.0, 7.0, -5, 1215, 905, 1.4), "eu", 31, plate_frac=0.42),
        # right -> left, faster, rear view
        Vehicle(4, "green", "rear", linear(6.95, 10.3, (1520, 704, 400), (-240, 704, 400)), "br_mercosul", 41,
                yaw=-0.04),
        # up the vertical road away from the camera, rear view, shrinking, leaves through the top edge
        Vehicle(5, "white", "rear", along_road(9.3, 13.95, 1215, -2, 815, 0.6), "eu", 51, plate_frac=0.42),
        # left -> right with no plate
        Vehicle(6, "black", "front", linear(10.6, 13.8, (-230, 704, 405), (1510, 704, 405)), None, 61, yaw=0.04),
    ]


def night_vehicles():
    return [
        # right -> left on the near lane, tail lights
        Vehicle(1, "grey", "rear", linear(0.1, 4.2, (1510, 704, 412), (-230, 704, 412)), "us", 71, yaw=-0.04),
        # down the vertical road toward the camera, headlights
        Vehicle(2, "brown", "front", along_road(0.6, 5.9, 20, 1215, 905, 1.4), "br_mercosul", 82,
                plate_frac=0.42),
    ]


def rain_vehicles():
    """The 8 s rain scene: three small plates (about 120-140 px wide), one at a time on the street."""
    return [
        # left -> right on the near lane, rear view, a smaller (further) car than in street
        Vehicle(1, "orange", "rear", linear(0.1, 3.9, (-200, 706, 300), (1480, 706, 300)), "us", 105,
                plate_frac=0.44, yaw=0.04),
        # slowly down the vertical road toward the camera, front view, the whole video; still in the crossing
        # (above the near lane) at the end
        Vehicle(2, "silver", "front", along_road(0.0, 7.96, 130, 480, 880, 1.0), "br_mercosul", 103,
                plate_frac=0.40),
        # right -> left on the near lane after 1 has gone, rear view
        Vehicle(3, "blue", "rear", linear(4.1, 7.9, (1480, 706, 300), (-200, 706, 300)), "br_old", 107,
                plate_frac=0.44, yaw=-0.04),
    ]


def quiet_vehicles():
    """The 60 s quiet scene: the street's crossroads without the parked car, three vehicles in short windows;
    no vehicle is in the picture for about three quarters of the frames."""
    return [
        # left -> right on the near lane, rear view
        Vehicle(1, "yellow", "rear", linear(10.4, 14.6, (-230, 704, 412), (1510, 704, 412)), "us", 113, yaw=0.04),
        # down the vertical road toward the camera, front view, growing
        Vehicle(2, "grey", "front", along_road(30.0, 36.0, -5, 1215, 905, 1.4), "eu", 123, plate_frac=0.42),
        # right -> left on the near lane, rear view
        Vehicle(3, "blue", "rear", linear(48.4, 52.4, (1520, 704, 400), (-240, 704, 400)), "br_mercosul", 133,
                yaw=-0.04),
    ]


# The directions scene: straight crossings of a plain paved yard in the eight image directions, each direction
# once near and slow and once far and fast. Body widths in base px (plates 0.46 of that: 158 and 124 px wide),
# speeds in base px/s.
NEAR, FAR = 350, 275
SLOW, FAST = 150, 450


def directions_vehicles():
    """The 40.8 s directions scene, vehicles in order of appearance, one or two at a time, placed so that no box
    comes within 70 px of where another is or was half a second before or after (truth() checks only that none
    overlap). Lines through a point (cx, yb); the corner-cutting lines of the near diagonal ones (commented) keep
    their plates whole and readable for 1.6-1.8 s."""
    return [
        Vehicle(1, "red", "rear", crossing(0.2, 45, SLOW, (1100, 675), NEAR), "eu", 201),  # bottom-right corner
        Vehicle(2, "white", "front", crossing(0.2, 225, FAST, (350, 350), FAR), "us", 202),
        Vehicle(3, "green", "rear", crossing(2.88, 90, FAST, (420, 500), FAR), "br_mercosul", 203),
        Vehicle(4, "silver", "front", crossing(5.04, 315, SLOW, (1075, 200), NEAR), "us", 204),  # top-right corner
        Vehicle(5, "blue", "rear", crossing(6.24, 180, FAST, (640, 690), FAR), "br_old", 205),
        Vehicle(6, "orange", "front", crossing(9.68, 270, FAST, (860, 500), FAR), "us", 206),
        Vehicle(7, "grey", "front", crossing(10.48, 225, SLOW, (250, 150), NEAR), "br_mercosul", 207),  # top-left
        Vehicle(8, "brown", "rear", crossing(11.6, 180, SLOW, (640, 385), NEAR), "br_old", 208),
        Vehicle(9, "yellow", "rear", crossing(16.0, 0, SLOW, (640, 705), NEAR), "eu", 209),
        Vehicle(10, "black", "front", crossing(22.56, 315, FAST, (400, 600), FAR), "br_mercosul", 210),
        Vehicle(11, "silver", "rear", crossing(25.28, 45, FAST, (575, 575), FAR), "br_old", 211),
        Vehicle(12, "red", "front", crossing(26.96, 0, FAST, (640, 300), FAR), "us", 238),
        Vehicle(13, "white", "rear", crossing(28.12, 135, SLOW, (150, 650), NEAR), "us", 213),  # bottom-left
        Vehicle(14, "blue", "rear", crossing(30.88, 135, FAST, (650, 350), FAR), "br_mercosul", 224),
        Vehicle(15, "green", "front", crossing(33.56, 270, SLOW, (980, 500), NEAR), "br_old", 215),
        Vehicle(16, "orange", "rear", crossing(34.16, 90, SLOW, (300, 500), NEAR), "br_mercosul", 216),
    ]


# The rain scene's per-frame degradation (see Renderer.rain), drawn afresh every frame. Tuned with the current
# models so that about half the single-frame reads of each plate are wrong (characters lost under drops, smears
# and glints, or mistaken under blur and noise) and a wrong read of one plate outscores all its right ones, while
# the vote over each pass (platestream run) is right; the margins are thin, so re-check after a model change.
RAIN = dict(
    dim=0.72,             # daylight under cloud: the scene is darker and hazier
    soft=(0.7, 1.0),      # sigma of a light defocus over every frame (a water film on the lens), from this range
    noise=9.0,            # sensor noise sigma (per pixel, fresh every frame)
    streaks=(250, 350),   # rain streaks per frame (random positions, lengths and brightness)
    streak_gain=0.45,     # how bright a streak is
    streak_soft=1.2,      # sigma of the blur over the streaks
    blur_p=0.3,           # probability of a motion-blurred frame (camera shake in the wind)
    blur_len=(5, 11),     # its kernel length in px
    glare_p=0.5,          # per plate and frame: a soft sheen of reflected sky across the wet plate ...
    glare_a=(0.3, 0.6),   # ... this strong
    drop_p=0.45,          # per plate and frame: a lens drop, wiper smear or glint over one or two characters
    drop_r=(0.07, 0.11),  # its radius as a fraction of the plate's width
    drop_a=(0.8, 1.0),    # its strength (opacity), from this range
    flicker=0.10,         # sigma of the per-frame brightness gain
)

# The quiet scene's ambient change, so that its empty stretches are not still (beside the sensor noise every
# scene has): see Renderer.sway and Renderer.frame.
AMBIENT = dict(
    noise=2.2,            # sensor noise sigma (as street's), fresh every frame
    drift=0.045,          # global illumination: gain 1 - drift * cos(2 pi t / length), 0.955 -> 1.045 -> 0.955
    sway=[(1170, 300, 70), (1240, 215, 48)],  # tree crowns (x, y, r in base px, as drawn by background())
    leaves=220,           # leaves drawn on each crown (per 50 px of radius, squared)
    sway_px=2.5,          # the crown's slow sway at its top (base px) ...
    sway_period=(2.9, 3.7),  # ... with this period per tree (s)
    flutter_px=0.8,       # and a faint flutter of the leaves, varying across the crown
    flutter_period=0.8,
)

SCENES = {
    "street": dict(size=(1280, 720), seconds=14, vehicles=street_vehicles, night=False, seed=1),
    "street-1080": dict(size=(1920, 1080), seconds=14, vehicles=street_vehicles, night=False, seed=1),
    "night": dict(size=(1280, 720), seconds=6, vehicles=night_vehicles, night=True, seed=2),
    "rain": dict(size=(1280, 720), seconds=8, vehicles=rain_vehicles, night=False, seed=7, rain=RAIN, crf=31),
    "quiet-1080": dict(size=(1920, 1080), seconds=60, vehicles=quiet_vehicles, night=False, seed=1, ambient=AMBIENT),
    "directions": dict(size=(1280, 720), seconds=40.8, vehicles=directions_vehicles, night=False, seed=9,
                       backdrop="yard"),
}


def texture_fields(W, H, seed, k):
    """The random fields a ground is textured with: large blotches and mid-size mottling (the same at every
    size), fine grain; and the generator, for what the caller draws next from the same seed."""
    rng = np.random.default_rng(seed)
    low = rng.standard_normal((18, 32)).astype(np.float32)
    mid = rng.standard_normal((90, 160)).astype(np.float32)
    lowf = cv2.resize(low, (W, H), interpolation=cv2.INTER_CUBIC)
    midf = cv2.resize(mid, (W, H), interpolation=cv2.INTER_CUBIC)
    fine = np.random.default_rng(seed + 100).standard_normal((H, W)).astype(np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), 0.8 * k)
    return rng, lowf, midf, fine


def background(W, H, seed, night):
    """The static scene at W x H (geometry in base px, scaled)."""
    k = W / BASE_W
    rng, lowf, midf, fine = texture_fields(W, H, seed, k)

    img = np.zeros((H, W, 3), np.float32)
    # verge: grass and paving
    img[:] = (70, 110, 88)
    img += (lowf * 10)[..., None] + (midf * 7)[..., None] * np.array([0.6, 1.0, 0.7], np.float32)
    S = lambda pts: (np.array(pts, np.float32) * k).astype(np.int32)  # noqa: E731
    asphalt = (96, 98, 100)
    # parking bay and its lines
    cv2.fillPoly(img, [S([(0, 95), (470, 95), (500, 398), (0, 398)])], (128, 130, 128), cv2.LINE_AA)
    for x in (20, 410):
        cv2.line(img, tuple(S([(x, 110)])[0]), tuple(S([(x + 8, 390)])[0]), (225, 225, 225), max(2, int(4 * k)), cv2.LINE_AA)
    cv2.line(img, tuple(S([(20, 110)])[0]), tuple(S([(410, 110)])[0]), (225, 225, 225), max(2, int(4 * k)), cv2.LINE_AA)
    # buildings along the top right
    for i, (x0, x1, y1, c) in enumerate([(1010, 1120, 120, (120, 132, 150)), (1120, 1280, 150, (98, 104, 126)),
                                         (0, 240, 70, (110, 120, 136)), (240, 470, 55, (92, 100, 112))]):
        cv2.rectangle(img, tuple(S([(x0, 0)])[0]), tuple(S([(x1, y1)])[0]), c, -1)
        for wx in range(x0 + 12, x1 - 20, 30):
            for wy in range(10, y1 - 20, 28):
                cv2.rectangle(img, tuple(S([(wx, wy)])[0]), tuple(S([(wx + 14, wy + 16)])[0]), (70, 64, 60), -1)
    # trees
    for (x, y, r) in [(1060, 250, 55), (1170, 300, 70), (1240, 215, 48), (560, 60, 30)]:
        cv2.circle(img, tuple(S([(x, y)])[0]), int(r * k), (40, 78, 46), -1, cv2.LINE_AA)
        cv2.circle(img, tuple(S([(x - r * 0.3, y - r * 0.3)])[0]), int(r * 0.5 * k), (54, 96, 60), -1, cv2.LINE_AA)
    # the vertical road, then the horizontal street over it
    cv2.fillPoly(img, [S([(VROAD_TOP[0], 0), (VROAD_TOP[1], 0), (VROAD_BOTTOM[1], 720), (VROAD_BOTTOM[0], 720)])],
                 asphalt, cv2.LINE_AA)
    cv2.rectangle(img, tuple(S([(0, BAND_TOP)])[0]), tuple(S([(1280, 720)])[0]), asphalt, -1)
    cv2.rectangle(img, tuple(S([(0, BAND_TOP - 8)])[0]), tuple(S([(1280, BAND_TOP)])[0]), (150, 152, 150), -1)  # kerb
    road = np.zeros((H, W), np.uint8)
    cv2.fillPoly(road, [S([(VROAD_TOP[0], 0), (VROAD_TOP[1], 0), (VROAD_BOTTOM[1], 720), (VROAD_BOTTOM[0], 720)])], 1)
    road[int(BAND_TOP * k):] = 1
    img += ((fine * 5 + midf * 4) * road)[..., None]
    # markings: dashed centre line of the vertical road (it narrows with distance), the street's lane line
    white = (214, 216, 216)
    cxm = lambda y: (VROAD_TOP[0] + VROAD_TOP[1]) / 2 + ((VROAD_BOTTOM[0] + VROAD_BOTTOM[1]) / 2 - (VROAD_TOP[0] + VROAD_TOP[1]) / 2) * y / 720  # noqa: E731
    y = 0.0
    while y < BAND_TOP - 10:
        dash = 14 + 0.06 * y
        w0, w1 = 2 + 0.01 * y, 2 + 0.01 * (y + dash)
        cv2.fillPoly(img, [S([(cxm(y) - w0, y), (cxm(y) + w0, y), (cxm(y + dash) + w1, min(y + dash, BAND_TOP - 10)),
                              (cxm(y + dash) - w1, min(y + dash, BAND_TOP - 10))])], white, cv2.LINE_AA)
        y += dash * 2.2
    for x in range(0, 1280, 120):
        cv2.rectangle(img, tuple(S([(x, 412)])[0]), tuple(S([(x + 60, 418)])[0]), white, -1)
    cv2.rectangle(img, tuple(S([(0, 714)])[0]), tuple(S([(1280, 720)])[0]), white, -1)
    # crossing stripes where the vertical road meets the street
    for x in range(500, 1180, 46):
        cv2.rectangle(img, tuple(S([(x, 426)])[0]), tuple(S([(x + 24, 452)])[0]), (196, 198, 198), -1)
    img += (fine * 1.5)[..., None]
    if night:
        lamp = np.zeros((H, W), np.float32)
        for (x, y, r) in [(260, 520, 260), (1000, 560, 240), (840, 120, 150)]:  # street-lamp pools
            cv2.circle(lamp, tuple(S([(x, y)])[0]), int(r * k), 1.0, -1)
        lamp = cv2.GaussianBlur(lamp, (0, 0), 90 * k)
        img = img * (0.10 + 0.22 * lamp)[..., None] * np.array([1.05, 0.95, 0.85], np.float32) + 4
    return np.clip(img, 0, 255).astype(np.float32)


def yard(W, H, seed):
    """A plain paved yard at W x H (the directions scene): asphalt with blotches, grain and aggregate, a few
    repair patches, cracks, oil stains and two manhole covers; no lines or marks a reader could take for text."""
    k = W / BASE_W
    rng, lowf, midf, fine = texture_fields(W, H, seed, k)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (98, 100, 102)
    img += (lowf * 8 + midf * 3 + fine * 3.5)[..., None]
    # repair patches: slightly darker or lighter rotated rectangles with soft edges
    patch = np.zeros((H, W), np.float32)
    for _ in range(6):
        c = (rng.uniform(0, W), rng.uniform(0, H))
        size = (rng.uniform(90, 260) * k, rng.uniform(60, 180) * k)
        pts = cv2.boxPoints((c, size, rng.uniform(-20, 20))).astype(np.int32)
        cv2.fillPoly(patch, [pts], float(rng.choice([-1, 1]) * rng.uniform(6, 12)), cv2.LINE_AA)
    img += cv2.GaussianBlur(patch, (0, 0), 1.5 * k)[..., None]
    # oil stains: soft dark ellipses
    stain = np.zeros((H, W), np.float32)
    for _ in range(5):
        cv2.ellipse(stain, (int(rng.uniform(0, W)), int(rng.uniform(0, H))),
                    (int(rng.uniform(20, 60) * k), int(rng.uniform(10, 30) * k)), rng.uniform(0, 180), 0, 360,
                    rng.uniform(8, 16), -1, cv2.LINE_AA)
    img -= cv2.GaussianBlur(stain, (0, 0), 8 * k)[..., None]
    # cracks: thin dark random walks
    for _ in range(8):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        ang = rng.uniform(0, 2 * math.pi)
        pts = []
        for _ in range(int(rng.integers(8, 20))):
            pts.append((int(x * 16), int(y * 16)))
            ang += rng.normal(0, 0.5)
            step = rng.uniform(8, 18) * k
            x, y = x + step * math.cos(ang), y + step * math.sin(ang)
        cv2.polylines(img, [np.array(pts, np.int32)], False, (62, 64, 66), max(1, int(round(1.2 * k))), cv2.LINE_AA,
                      4)
    # two manhole covers
    for (x, y, r) in [(300, 560, 34), (1010, 180, 30)]:
        c = (int(x * k), int(y * k))
        cv2.circle(img, c, int(r * k), (74, 76, 78), -1, cv2.LINE_AA)
        cv2.circle(img, c, int(r * k), (58, 60, 62), max(2, int(4 * k)), cv2.LINE_AA)
        cv2.circle(img, c, int(r * 0.55 * k), (82, 84, 86), max(1, int(2 * k)), cv2.LINE_AA)
    # aggregate: sparse light and dark specks
    speck = np.random.default_rng(seed + 200).random((H, W)).astype(np.float32)
    speck = (speck > 0.99) * 32.0 - (speck < 0.008) * 24.0
    img += cv2.GaussianBlur(speck.astype(np.float32), (0, 0), 0.6 * k)[..., None]
    img += (fine * 1.5)[..., None]
    return np.clip(img, 0, 255).astype(np.float32)


def glow(frame, cx, cy, r, color, strength):
    """Add a Gaussian light bloom (headlight glare) at (cx, cy), radius r, into a float frame."""
    H, W = frame.shape[:2]
    R = int(r * 3)
    x0, x1, y0, y1 = max(0, int(cx) - R), min(W, int(cx) + R), max(0, int(cy) - R), min(H, int(cy) + R)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    g = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r)) * strength
    frame[y0:y1, x0:x1] += g[..., None] * np.array(color, np.float32)


class Renderer:
    def __init__(self, name, spec):
        self.name = name
        self.W, self.H = spec["size"]
        self.k = self.W / BASE_W
        self.frames = int(round(spec["seconds"] * FPS))
        self.night = spec["night"]
        self.seed = spec["seed"]
        self.rain_fx = spec.get("rain")
        self.crf = spec.get("crf")
        self.ambient = spec.get("ambient")
        self.vehicles = spec["vehicles"]()
        for v in self.vehicles:
            if v.style:
                img, text, st, _ = plates.render_plate(random.Random(v.seed), v.style)
                v.plate, v.text, v.style = img, text, st
        self.sprites = {}
        for v in self.vehicles:  # one sprite per vehicle, drawn at the largest size it is shown at
            wmax = max(p[2] for p in (v.pose(i / FPS) for i in range(self.frames)) if p)
            bw = int(math.ceil(min(wmax, 640) * self.k))
            self.sprites[v.id] = (draw_sprite(v, bw, self.night), bw)
        if spec.get("backdrop") == "yard":
            self.bg = yard(self.W, self.H, self.seed)
        else:
            self.bg = background(self.W, self.H, self.seed, self.night)
        if self.rain_fx:  # overcast and wet: darker, lower contrast, a cold grey haze
            d = self.rain_fx["dim"]
            self.bg = self.bg * d + (1 - d) * np.array([118, 112, 104], np.float32) * 0.55
        self.crowns = []
        if self.ambient:  # per swaying crown: its region, sample grid, weights (feathered disc, top heavier), phases
            k = self.k
            for n, (x, y, r) in enumerate(self.ambient["sway"]):
                # foliage texture in the crown (the street's crowns are flat discs; a moving flat disc changes
                # only at its rim), then the crown's region and weights
                rng = np.random.default_rng(self.seed + 300 + n)
                x0, y0 = max(0, int((x - 1.4 * r) * k)), max(0, int((y - 1.4 * r) * k))
                roi = self.bg[y0:int((y + 1.4 * r) * k), x0:int((x + 1.4 * r) * k)]
                leaf = roi.copy()
                for _ in range(int(self.ambient["leaves"] * (r / 50) ** 2)):
                    a, d = rng.uniform(0, 2 * math.pi), r * math.sqrt(rng.uniform(0, 1))
                    c = (int(((x + d * math.cos(a)) * k - x0) * 16), int(((y + d * math.sin(a)) * k - y0) * 16))
                    ax = (int(rng.uniform(2.5, 6) * k * 16), int(rng.uniform(1.5, 3.5) * k * 16))
                    g = rng.uniform(0.6, 1.35)
                    cv2.ellipse(leaf, c, ax, rng.uniform(0, 180), 0, 360, (40 * g, 84 * g, 50 * g), -1, cv2.LINE_AA, 4)
                m = np.zeros(roi.shape[:2], np.float32)
                cv2.circle(m, (int(x * k) - x0, int(y * k) - y0), int(1.1 * r * k), 1.0, -1, cv2.LINE_AA)
                m = m[..., None]
                roi[:] = roi * (1 - m) + cv2.GaussianBlur(leaf, (0, 0), 0.5 * k) * m
                x1, y1 = min(self.W, int((x + 1.4 * r) * k)), min(self.H, int((y + 1.4 * r) * k))
                ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
                disc = np.zeros(xs.shape, np.float32)
                cv2.circle(disc, (int(x * k) - x0, int(y * k) - y0), int(1.1 * r * k), 1.0, -1, cv2.LINE_AA)
                disc = cv2.GaussianBlur(disc, (0, 0), 0.15 * r * k)
                top = np.clip((y * k + r * k - ys) / (2 * r * k), 0, 1)
                self.crowns.append(((x0, y0, x1, y1), xs, ys, disc, disc * top, (xs * 0.09 + ys * 0.13) / k))

    def place(self, v, t):
        """Image geometry of v at time t (output px): body quad, plate quad, z (bottom row), or None."""
        p = v.pose(t)
        if p is None:
            return None
        cx, yb, w = (c * self.k for c in p)
        q = body_quad(cx, yb, w, v.yaw)
        (sprite, (ox, oy)), bw = self.sprites[v.id]
        src = np.array([[0, 0], [bw, 0], [bw, bw * BODY_H], [0, bw * BODY_H]], np.float32)
        M = cv2.getPerspectiveTransform(src, q)  # body coords -> image
        pq = None
        if v.plate is not None:
            x0, y0, x1, y1 = plate_rect(v, bw)
            pq = cv2.perspectiveTransform(np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32), M)[0]
        return dict(M=M, body=q, plate=pq, z=yb, scale=w / bw)

    def draw(self, frame, v, g):
        (sprite, (ox, oy)), bw = self.sprites[v.id]
        # resize first (area filter: no aliasing when shrinking), then a near-unit perspective warp
        s = g["scale"]
        if s < 0.98:
            sw, sh = max(2, int(round(sprite.shape[1] * s))), max(2, int(round(sprite.shape[0] * s)))
            sp = cv2.resize(sprite, (sw, sh), interpolation=cv2.INTER_AREA)
            fx, fy = sprite.shape[1] / sw, sprite.shape[0] / sh
        else:
            sp, fx, fy = sprite, 1.0, 1.0
        # sprite px -> body coords -> image
        A = np.array([[fx, 0, -ox], [0, fy, -oy], [0, 0, 1]], np.float64)
        M = g["M"] @ A
        corners = cv2.perspectiveTransform(np.array([[[0, 0], [sp.shape[1], 0], [sp.shape[1], sp.shape[0]],
                                                      [0, sp.shape[0]]]], np.float32), M)[0]
        x0, y0 = np.floor(corners.min(0)).astype(int)
        x1, y1 = np.ceil(corners.max(0)).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.W, x1), min(self.H, y1)
        if x0 >= x1 or y0 >= y1:
            return
        T = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ M
        out = cv2.warpPerspective(sp, T, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=(0, 0, 0, 0)).astype(np.float32)
        a = out[..., 3:4] / 255.0
        roi = frame[y0:y1, x0:x1]
        roi *= 1 - a
        roi += out[..., :3] * a
        if self.night:  # lamps: glare blobs for headlights, a red glow for tail lights
            r = 0.075 * bw * s
            for fxl in (0.115, 0.885):
                c = cv2.perspectiveTransform(np.array([[[fxl * bw, 0.545 * bw * BODY_H]]], np.float32), g["M"])[0, 0]
                if v.view == "front":
                    glow(frame, c[0], c[1], r * 1.1, (255, 250, 235), 1.3)
                    glow(frame, c[0], c[1], r * 2.6, (200, 200, 190), 0.30)
                else:
                    glow(frame, c[0], c[1], r * 1.1, (60, 60, 255), 0.7)

    def frame(self, i, noise_rng, sigma):
        """Frame i as BGR uint8, and the (vehicle, geometry) pairs in it."""
        t = i / FPS
        frame = self.bg.copy()
        if self.ambient:
            self.sway(frame, t)
        placed = [(v, self.place(v, t)) for v in self.vehicles]
        placed = [(v, g) for v, g in placed if g is not None]
        for v, g in sorted(placed, key=lambda vg: vg[1]["z"]):  # nearer (lower) vehicles drawn last
            self.draw(frame, v, g)
        if self.rain_fx:
            self.rain(frame, i, placed)
        if self.ambient:  # a slow, smooth illumination drift over the whole picture, the same at both ends
            frame *= 1 - self.ambient["drift"] * math.cos(2 * math.pi * i / self.frames)
        frame += noise_rng.standard_normal((self.H, self.W, 1), dtype=np.float32) * sigma
        return np.clip(frame + 0.5, 0, 255).astype(np.uint8), placed

    def sway(self, frame, t):
        """Leaves in the wind (the quiet scene), on the background before the vehicles: each listed tree crown is
        resampled from the background displaced by a slow sway, largest at its top, and a faint flutter whose
        phase varies across the crown."""
        fx, k = self.ambient, self.k
        for n, ((x0, y0, x1, y1), xs, ys, disc, top, phase) in enumerate(self.crowns):
            s = fx["sway_px"] * k * math.sin(2 * math.pi * t / fx["sway_period"][n % 2] + 1.7 * n)
            w = 2 * math.pi * t / fx["flutter_period"]
            dx = top * s + disc * (fx["flutter_px"] * k) * np.sin(w + phase)
            dy = disc * (0.6 * fx["flutter_px"] * k) * np.cos(1.3 * w + 1.3 * phase)
            frame[y0:y1, x0:x1] = cv2.remap(self.bg, xs - dx, ys - dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def rain(self, frame, i, placed):
        """The rain scene's degradation of frame i (float BGR, in place), all of it drawn afresh every frame
        from a generator seeded with (scene seed, i): per plate a sheen and a lens drop, wiper smear or glint over
        one or two characters; then defocus, motion blur in some frames, rain streaks and a brightness flicker.
        The sensor noise is added after, by frame()."""
        fx = self.rain_fx
        rng = np.random.default_rng([self.seed, i])
        H, W, k = self.H, self.W, self.k
        for v, g in placed:
            q = g["plate"]
            if q is None:
                continue
            if rng.random() < fx["glare_p"]:  # a sheen: a slanted soft bright band over part of the plate
                x0, y0 = np.floor(q.min(0)).astype(int)
                x1, y1 = np.ceil(q.max(0)).astype(int)
                x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
                if x0 < x1 and y0 < y1:
                    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
                    pos = x0 + (x1 - x0) * rng.uniform(0.1, 0.9)
                    wid = (x1 - x0) * rng.uniform(0.08, 0.2)
                    d = (xs - pos) + (ys - (y0 + y1) / 2) * rng.uniform(-0.8, 0.8)
                    a = np.exp(-0.5 * (d / wid) ** 2) * rng.uniform(*fx["glare_a"])
                    roi = frame[y0:y1, x0:x1]
                    roi[:] = roi * (1 - a[..., None]) + 235 * a[..., None]
            # a drop on the lens (a blurred, brightened disc), a wiper smear (a dark band) or a glint (a bright one)
            if rng.random() >= fx["drop_p"]:
                continue
            u, w_ = rng.uniform(0.12, 0.88), rng.uniform(0.35, 0.65)
            c = q[0] + (q[1] - q[0]) * u + (q[3] - q[0]) * w_
            r = float(np.linalg.norm(q[1] - q[0])) * rng.uniform(*fx["drop_r"])
            R = int(r * 2 + 8)
            x0, y0 = max(0, int(c[0]) - R), max(0, int(c[1]) - R)
            x1, y1 = min(W, int(c[0]) + R), min(H, int(c[1]) + R)
            if x0 >= x1 or y0 >= y1:
                continue
            roi = frame[y0:y1, x0:x1]
            m = np.zeros(roi.shape[:2], np.float32)
            if rng.random() < 0.6:  # a drop: a round lens that blurs and lightens what is behind it
                cv2.ellipse(m, (int(c[0]) - x0, int(c[1]) - y0), (int(r), int(r * rng.uniform(0.8, 1.1))), 0, 0, 360,
                            1.0, -1, cv2.LINE_AA)
                m = cv2.GaussianBlur(m, (0, 0), max(1.0, r * 0.2)) * rng.uniform(*fx["drop_a"])
                inner = cv2.GaussianBlur(roi, (0, 0), max(1.5, r * 0.35)) * 0.85 + 40
                roi[:] = roi * (1 - m[..., None]) + inner * m[..., None]
            else:  # a smear (an elongated dark band at an angle) or the glint of a drop (bright), mostly opaque
                ang = rng.uniform(-60, 60)
                cv2.ellipse(m, (int(c[0]) - x0, int(c[1]) - y0), (int(r * 1.5), int(r * 0.6)), ang, 0, 360, 1.0, -1,
                            cv2.LINE_AA)
                m = cv2.GaussianBlur(m, (0, 0), max(1.0, r * 0.25)) * rng.uniform(*fx["drop_a"])
                tone = rng.uniform(70, 130) if rng.random() < 0.5 else rng.uniform(215, 245)
                roi[:] = roi * (1 - m[..., None]) + tone * m[..., None]
        frame[:] = cv2.GaussianBlur(frame, (0, 0), rng.uniform(*fx["soft"]))
        # camera shake in the wind: a short linear motion blur in some frames
        if rng.random() < fx["blur_p"]:
            n = int(rng.integers(fx["blur_len"][0], fx["blur_len"][1] + 1))
            ker = np.zeros((n, n), np.float32)
            ang = math.radians(rng.uniform(-25, 25))
            cx = (n - 1) / 2
            dx, dy = math.cos(ang) * cx, math.sin(ang) * cx
            cv2.line(ker, (int(round((cx - dx) * 16)), int(round((cx - dy) * 16))),
                     (int(round((cx + dx) * 16)), int(round((cx + dy) * 16))), 1.0, 1, cv2.LINE_AA, 4)
            frame[:] = cv2.filter2D(frame, -1, ker / ker.sum(), borderType=cv2.BORDER_REFLECT)
        # rain streaks over the whole frame: thin, slanted, of random length and brightness; a few near the
        # lens thicker and softer
        layer = np.zeros((H, W), np.float32)
        wind = rng.uniform(-0.28, -0.18)  # dx per dy: the rain leans left
        n = int(rng.integers(fx["streaks"][0], fx["streaks"][1] + 1))
        xs, ys = rng.uniform(-60, W + 60, n), rng.uniform(-40, H, n)
        ls, bs = rng.uniform(14, 42, n) * k, rng.uniform(0.35, 1.0, n)
        for x, y, ln, b in zip(xs, ys, ls, bs):
            cv2.line(layer, (int(x * 16), int(y * 16)), (int((x + wind * ln) * 16), int((y + ln) * 16)), float(b), 1,
                     cv2.LINE_AA, 4)
        for _ in range(int(rng.integers(6, 14))):
            x, y, ln = rng.uniform(0, W), rng.uniform(-80, H), rng.uniform(60, 140) * k
            cv2.line(layer, (int(x * 16), int(y * 16)), (int((x + wind * ln) * 16), int((y + ln) * 16)),
                     float(rng.uniform(0.4, 0.8)), max(2, int(3 * k)), cv2.LINE_AA, 4)
        layer = cv2.GaussianBlur(layer, (0, 0), fx["streak_soft"])
        frame += (layer * (fx["streak_gain"] * 255))[..., None] * np.array([1.0, 0.98, 0.94], np.float32)
        frame *= 1 + np.clip(rng.normal(0, fx["flicker"]), -2.2 * fx["flicker"], 2.2 * fx["flicker"])
        frame += rng.normal(0, 6)  # ... and a little offset (auto exposure hunting)

    def run(self, out_dir, check_only=False):
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, self.name + ".mp4")
        tmp = os.path.join(out_dir, ".tmp-" + self.name + ".mp4")
        crf = str(self.crf) if self.crf else "28" if self.W > 1280 else "27"
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", "%dx%d" % (self.W, self.H), "-framerate", str(FPS), "-i", "-", "-c:v", "libx264",
               "-preset", "medium", "-crf", crf, "-g", "50", "-pix_fmt", "yuv420p", "-threads", "1",
               "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", tmp]
        truth = self.truth()  # first: it refuses overlapping vehicles and repeated plates
        if check_only:
            return path, truth
        enc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        noise_rng = np.random.default_rng(self.seed + 1000)
        fx = self.rain_fx or self.ambient
        sigma = fx["noise"] if fx else 7.0 if self.night else 2.2
        for i in range(self.frames):
            enc.stdin.write(self.frame(i, noise_rng, sigma)[0].tobytes())
        enc.stdin.close()
        if enc.wait() != 0:
            raise SystemExit("ffmpeg failed for " + self.name)
        os.replace(tmp, path)
        with open(os.path.join(out_dir, self.name + ".json"), "w") as f:
            f.write(dump_truth(truth))
        return path, truth

    # ------------------------------------------------------------------------------------------- ground truth

    def clip_box(self, q):
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        b = [max(0, int(math.floor(x0))), max(0, int(math.floor(y0))), min(self.W - 1, int(math.ceil(x1))),
             min(self.H - 1, int(math.ceil(y1)))]
        return b if b[0] < b[2] and b[1] < b[3] else None

    def truth(self):
        track = {v.id: [] for v in self.vehicles}
        for i in range(self.frames):
            for v in self.vehicles:
                g = self.place(v, i / FPS)
                if g is not None:
                    track[v.id].append((i, g))
        m = EDGE_MARGIN * self.k
        vehicles = []
        boxes_at = {}
        for v in self.vehicles:
            seen = [(i, g) for i, g in track[v.id] if self.clip_box(g["body"])]
            for i, g in seen:
                boxes_at.setdefault(i, []).append((v, self.clip_box(g["body"]), g))
            rec = {"id": v.id, "plate": v.text, "style": v.style if v.text else None, "color": v.color, "type": "car",
                   "view": v.view, "direction_deg": None, "parked": v.parked,
                   "enter_sec": round(seen[0][0] / FPS, 2), "leave_sec": round(seen[-1][0] / FPS, 2),
                   "plate_visible_from_sec": None, "plate_visible_to_sec": None, "best_sec": None,
                   "best_plate_width": None,
                   "boxes": [[i] + self.clip_box(g["body"]) for i, g in seen if i % BOX_EVERY == 0],
                   "plate_boxes": []}
            if v.text:
                readable, pts = [], []
                for i, g in seen:
                    q = g["plate"]
                    b = self.clip_box(q)
                    if b and i % BOX_EVERY == 0:
                        rec["plate_boxes"].append([i] + b)
                    inside = q[:, 0].min() >= m and q[:, 1].min() >= m and q[:, 0].max() <= self.W - m \
                        and q[:, 1].max() <= self.H - m
                    width = float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
                    if inside and width >= READABLE_PLATE_W * self.k:
                        readable.append((i, width, q.mean(0)))
                    if b:
                        pts.append(q.mean(0))
                if readable:
                    rec["plate_visible_from_sec"] = round(readable[0][0] / FPS, 2)
                    rec["plate_visible_to_sec"] = round(readable[-1][0] / FPS, 2)
                    centre = np.array([self.W / 2, self.H / 2])
                    dmax = float(np.linalg.norm(centre))
                    # largest plate, ties (and near-ties) broken toward the centre of the image
                    mid = (readable[0][0] + readable[-1][0]) / 2  # exact ties (a parked car): the middle frame
                    best = max(readable, key=lambda r: (round(r[1] * (1 - 0.35 * np.linalg.norm(r[2] - centre) / dmax), 3),
                                                        -abs(r[0] - mid)))
                    rec["best_sec"] = round(best[0] / FPS, 2)
                    rec["best_plate_width"] = int(round(best[1]))
            else:
                pts = [(g["body"][2] + g["body"][3]) / 2 for i, g in seen]
            if not v.parked and len(pts) > 1:
                rec["direction_deg"] = direction(np.array(pts))
            vehicles.append(rec)
        # no two vehicles may overlap in any frame, so nothing hides a plate
        for i, lst in boxes_at.items():
            for a in range(len(lst)):
                for b in range(a + 1, len(lst)):
                    (va, ba, _), (vb, bb, _) = lst[a], lst[b]
                    if ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]:
                        raise SystemExit("%s: vehicles %d and %d overlap at frame %d" % (self.name, va.id, vb.id, i))
        texts = [v["plate"] for v in vehicles if v["plate"]]
        if len(set(texts)) != len(texts):
            raise SystemExit("%s: a plate text repeats: %s" % (self.name, texts))
        return {"video": self.name + ".mp4", "width": self.W, "height": self.H, "fps": FPS, "frames": self.frames,
                "box_every": BOX_EVERY, "vehicles": vehicles}


def direction(pts):
    """Direction of travel in the image (degrees, 0 = right, 90 = up, counter-clockwise), fitted by least
    squares to the centre points over time (as platestream does), rounded to a whole degree."""
    t = np.arange(len(pts), dtype=np.float64)
    t -= t.mean()
    vx = float((t * (pts[:, 0] - pts[:, 0].mean())).sum())
    vy = float((t * (pts[:, 1] - pts[:, 1].mean())).sum())
    return int(round(math.degrees(math.atan2(-vy, vx)))) % 360


def dump_truth(truth):
    """JSON with one vehicle field per line and each box on one line: diffable and still compact."""
    out = ['{"video": %s, "width": %d, "height": %d, "fps": %d, "frames": %d, "box_every": %d,' % (
        json.dumps(truth["video"]), truth["width"], truth["height"], truth["fps"], truth["frames"], truth["box_every"]),
        ' "vehicles": [']
    for n, v in enumerate(truth["vehicles"]):
        head = {k: val for k, val in v.items() if k not in ("boxes", "plate_boxes")}
        out.append('  {' + json.dumps(head)[1:-1] + ',')
        for key in ("boxes", "plate_boxes"):
            rows = ",\n    ".join(json.dumps(b) for b in v[key])
            out.append('   "%s": [%s%s]%s' % (key, "\n    " if rows else "", rows, "," if key == "boxes" else ""))
        out.append('  }' + ("," if n < len(truth["vehicles"]) - 1 else ""))
    out.append(']}')
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Samples", "scenes"))
    ap.add_argument("--only", action="append", choices=sorted(SCENES))
    ap.add_argument("--check", action="store_true", help="check the geometry and print the timings; encode nothing")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    all_texts = {}
    for name in args.only or ["street", "night", "street-1080", "rain", "quiet-1080", "directions"]:
        path, truth = Renderer(name, SCENES[name]).run(args.out, args.check)
        for v in truth["vehicles"]:
            if v["plate"]:
                all_texts.setdefault(v["plate"], set()).add(name.split("-")[0])
        size = os.path.getsize(path) / 1024 if os.path.exists(path) else 0
        print("scenes: %s  %.0f kB  %s" % (os.path.relpath(path), size,
                                          " ".join("%d:%s@%ss" % (v["id"], v["plate"], v["best_sec"])
                                                   for v in truth["vehicles"])))
        if args.check:
            seen = set()
            for v in truth["vehicles"]:
                seen.update(range(int(round(v["enter_sec"] * FPS)), int(round(v["leave_sec"] * FPS)) + 1))
            print("  frames with no vehicle in the picture: %d of %d (%.1f %%)" % (
                truth["frames"] - len(seen), truth["frames"], 100.0 * (truth["frames"] - len(seen)) / truth["frames"]))
            for v in truth["vehicles"]:
                print("  %d %-9s %-11s dir=%-4s in %5.2f-%5.2f  plate %s-%s best %s w=%s" % (
                    v["id"], v["plate"], v["style"], v["direction_deg"], v["enter_sec"], v["leave_sec"],
                    v["plate_visible_from_sec"], v["plate_visible_to_sec"], v["best_sec"], v["best_plate_width"]))
    # scenes not rendered now: their committed ground truth (no plate may appear in two scenes)
    for name in sorted(SCENES):
        jp = os.path.join(args.out, name + ".json")
        if name in (args.only or SCENES) or not os.path.exists(jp):
            continue
        with open(jp) as f:
            for v in json.load(f)["vehicles"]:
                if v["plate"]:
                    all_texts.setdefault(v["plate"], set()).add(name.split("-")[0])
    for text, where in all_texts.items():
        if len(where) > 1:
            raise SystemExit("plate %s appears in more than one scene" % text)


if __name__ == "__main__":
    main()
