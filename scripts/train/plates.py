"""Synthetic licence-plate renderer (US, EU, Brazil old/Mercosul, Korea, China).

Public API (kept stable; the detector training imports it):

    render_plate(rng: random.Random, style: str | None = None)
        -> (img: np.ndarray HxWx3 BGR uint8, text: str, style: str, corners: np.ndarray 4x2 float32)

`img` is the flat (unwarped) plate, `corners` its four corners (TL, TR, BR, BL) in image pixels, `text`
the characters a reader must output (no spaces, dashes, country codes, state names, slogans), top line
first for two-line plates.  `style` is one of STYLES (or a prefix family such as "eu", "br", "kr", "cn");
None picks one at random with STYLE_WEIGHTS.

Glyphs come from Debian fonts (scripts/train/setup-fonts) and from procedural stroke fonts (glyphs.py).
Non-character marks (crests, stickers, screws, small text, bands, logos) are drawn as distractors.
"""
from __future__ import annotations

import glob
import os
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

try:
    from . import glyphs as G  # type: ignore
except ImportError:  # run as a plain script / sys.path import
    import glyphs as G  # type: ignore

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LATIN = DIGITS + LETTERS
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # Chinese plates use no I / O
KR_HANGUL = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
KR_REGIONS = ["서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남", "전북", "전남",
              "경북", "경남", "제주"]
CN_PROV = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
CN_SPECIAL = "学警港澳挂使领"


def _alphabet():
    extra = []
    for s in [KR_HANGUL] + KR_REGIONS + [CN_PROV, CN_SPECIAL]:
        for c in s:
            if c not in extra:
                extra.append(c)
    return LATIN + "".join(extra)


ALPHABET = _alphabet()

STYLES = ["us", "eu", "br_old", "br_mercosul", "br_moto", "kr", "kr_old", "cn_blue", "cn_yellow", "cn_green",
          "cn_special", "cn_two"]
STYLE_WEIGHTS = {"us": 30, "eu": 26, "br_old": 11, "br_mercosul": 11, "br_moto": 2, "kr": 5, "kr_old": 2,
                 "cn_blue": 5, "cn_yellow": 2, "cn_green": 2, "cn_special": 2, "cn_two": 2}

# ----------------------------------------------------------------------------------------------- fonts
# PLATESTREAM_FONT_DIRS (colon-separated) replaces Debian's font folder: a GPU machine without Debian's font
# packages reads the subset scripts/train/pack-gpu carries to it.
_FONT_DIRS = [d for d in os.environ.get("PLATESTREAM_FONT_DIRS", "/usr/share/fonts").split(":") if d]
_LATIN_PAT = [
    "*DejaVuSans-Bold.ttf", "*DejaVuSansCondensed-Bold.ttf", "*DejaVuSansCondensed.ttf", "*DejaVuSansMono-Bold.ttf",
    "*DejaVuSans.ttf", "*LiberationSans-Bold.ttf", "*LiberationSansNarrow-Bold.ttf", "*LiberationSansNarrow-Regular.ttf",
    "*LiberationMono-Bold.ttf", "*FreeSansBold.ttf", "*FreeMonoBold.ttf", "*NimbusSans-Bold.otf",
    "*NimbusSansNarrow-Bold.otf", "*NimbusSansNarrow-Regular.otf", "*NimbusMonoPS-Bold.otf", "*URWGothic-Demi.otf",
    "*URWGothic-Book.otf", "*opendin*.ttf", "*OpenDIN*", "*B612-Bold*", "*B612Mono-Bold*", "*B612-Regular*",
    "*BebasNeue-Bold*", "*BebasNeue-Regular*", "*BebasNeue-Book*", "*OCRB*.otf", "*OCRA*.ttf", "*routed-gothic*.ttf", "*LeagueSpartan-Bold*",
    "*LeagueSpartan-SemiBold*", "*RobotoCondensed-Bold.ttf", "*RobotoCondensed-Medium.ttf",
    "*RobotoCondensed-Regular.ttf", "*Roboto-Bold.ttf", "*Roboto-Medium.ttf", "*RobotoMono-Bold*",
    "*OpenSans-CondBold.ttf", "*OpenSans-Bold.ttf", "*OpenSans-Semibold.ttf", "*ClearSans-Bold.ttf",
    "*ClearSans-Medium.ttf", "*Cabin-Bold*", "*Karla-Bold*", "*Play-Bold*", "*Play-Regular*", "*Jura-Bold*",
    "*Jura-DemiBold*", "*Dosis-Bold*", "*Dosis-SemiBold*", "*Millimetre-Bold*", "*BetecknaGSCondensed-Bold*",
    "*Beteckna*Bold*", "*JetBrainsMono-Bold*", "*Hack-Bold.ttf", "*Inconsolata-Bold*", "*mplus-1p-bold*",
    "*mplus-2c-bold*", "*mplus-1c-bold*", "*mplus-1m-bold*", "*Lato-Bold.ttf", "*Lato-Black.ttf",
    "*Manrope-Bold*", "*Manrope-ExtraBold*", "*NanumSquareB*", "*NanumGothicBold*", "*NanumBarunGothicBold*",
]
_SMALL_PAT = ["*Z003*.otf", "*DejaVuSerif-Italic*", "*LiberationSerif-BoldItalic*", "*URWBookman-LightItalic*",
              "*C059-Italic*", "*P052-Italic*", "*DejaVuSans.ttf", "*LiberationSans-Regular.ttf",
              "*NimbusSans-Regular*", "*FreeSerifBoldItalic*", "*Roboto-Italic*", "*Lato-Italic*"]
_CJK_PAT = ["*NotoSansCJK-Bold.ttc", "*NotoSansCJK-Black.ttc", "*NotoSansCJK-Medium.ttc", "*NotoSerifCJK-Bold.ttc",
            "*NanumGothicBold.ttf", "*NanumBarunGothicBold.ttf", "*NanumSquareB.ttf", "*UnDotumBold.ttf",
            "*UnGraphicBold.ttf", "*baekmuk*dotum*", "*baekmuk*gulim*", "*SmileySans*"]


def _find(pats):
    out = []
    for d in _FONT_DIRS:
        allf = glob.glob(os.path.join(d, "**", "*.*"), recursive=True)
        for p in pats:
            for f in allf:
                if f.lower().endswith((".ttf", ".otf", ".ttc")) and glob.fnmatch.fnmatch(f, p) and f not in out:
                    out.append(f)
    return sorted(out)


_FONTS = {}


def fonts():
    if not _FONTS:
        _FONTS["latin"] = _find(_LATIN_PAT)
        _FONTS["small"] = _find(_SMALL_PAT) or _FONTS["latin"]
        cjk = _find(_CJK_PAT)
        # Only keep CJK fonts that have the glyphs we need (Hangul / Hanzi).
        _FONTS["kr"] = [f for f in cjk if "Smiley" not in f]
        _FONTS["cn"] = [f for f in cjk if ("Noto" in f or "Smiley" in f)]
    return _FONTS


_PIL_FONTS = {}


def pil_font(path, size, index=0):
    key = (path, size, index)
    f = _PIL_FONTS.get(key)
    if f is None:
        if path.endswith(".ttc"):
            # Noto CJK collections: index 0 JP, 1 KR, 2 SC, 3 TC, 4 HK (order differs per file; any works for glyphs)
            f = ImageFont.truetype(path, size, index=index)
        else:
            f = ImageFont.truetype(path, size)
        _PIL_FONTS[key] = f
    return f


_GLYPH_CACHE = {}
_PROC_FONTS = [G.ProcFont(1000 + i) for i in range(48)]


def font_glyph(path, ch, h=64):
    """Tight ink mask of ch in a TTF font, scaled so that the ink height is h (cap height for Latin)."""
    key = (path, ch, h)
    m = _GLYPH_CACHE.get(key)
    if m is not None:
        return m
    idx = 2 if path.endswith(".ttc") and ch in CN_PROV + CN_SPECIAL else (1 if path.endswith(".ttc") else 0)
    f = pil_font(path, 96, idx)
    im = Image.new("L", (200, 160), 0)
    ImageDraw.Draw(im).text((20, 10), ch, fill=255, font=f)
    a = np.asarray(im)
    ys, xs = np.where(a > 40)
    if len(xs) == 0:
        _GLYPH_CACHE[key] = None
        return None
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    w = max(1, int(round(a.shape[1] * h / a.shape[0])))
    m = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    _GLYPH_CACHE[key] = m
    return m


class GlyphSource:
    """One typeface for a plate: a procedural font or a TTF; CJK characters always come from CJK fonts."""

    def __init__(self, rng, proc_prob=0.55, cjk_font=None):
        f = fonts()
        self.proc = _PROC_FONTS[rng.randrange(len(_PROC_FONTS))] if (rng.random() < proc_prob or not f["latin"]) else None
        self.path = None if self.proc else rng.choice(f["latin"])
        self.cjk = cjk_font

    def mask(self, ch, h=64):
        if ch in LATIN:
            if self.proc is not None:
                return self.proc.mask(ch, h)
            m = font_glyph(self.path, ch, h)
            if m is not None:
                return m
            return _PROC_FONTS[0].mask(ch, h)
        return font_glyph(self.cjk or fonts()["cn"][0], ch, h)


# ----------------------------------------------------------------------------------------------- drawing helpers

def _col(rng, base, jit=18):
    return tuple(int(np.clip(c + rng.randint(-jit, jit), 0, 255)) for c in base)


def paste_mask(img, mask, x, y, w, h, color):
    """Alpha-blend colour through mask resized to (w, h) at (x, y) (floats allowed)."""
    w = max(1, int(round(w)))
    h = max(1, int(round(h)))
    m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA if w < mask.shape[1] else cv2.INTER_LINEAR)
    x = int(round(x))
    y = int(round(y))
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = m[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)[..., None] / 255.0
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - a) + np.array(color, np.float32) * a).astype(np.uint8)


def draw_text(img, text, x, y, size, color, font_path, anchor="la"):
    """Small distractor text with PIL (x, y: anchor position). Renders only the text's bounding box."""
    if size < 4 or not text:
        return
    try:
        f = pil_font(font_path, int(size))
        l, t, r, b = f.getbbox(text, anchor=anchor)
    except Exception:
        return
    w, h = int(r - l) + 2, int(b - t) + 2
    if w <= 2 or h <= 2:
        return
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).text((1 - l, 1 - t), text, fill=255, font=f, anchor=anchor)
    paste_alpha(img, np.asarray(m), int(round(x + l - 1)), int(round(y + t - 1)), color)


def paste_alpha(img, m, x, y, color):
    H, W = img.shape[:2]
    h, w = m.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = m[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)[..., None] / 255.0
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - a) + np.array(color, np.float32) * a).astype(np.uint8)


def gradient_bg(rng, h, w, c0, c1):
    t = np.linspace(0, 1, h if rng.random() < 0.7 else w, dtype=np.float32)
    if len(t) == h:
        t = np.repeat(t[:, None], w, 1)
    else:
        t = np.repeat(t[None, :], h, 0)
    img = np.array(c0, np.float32) * (1 - t[..., None]) + np.array(c1, np.float32) * t[..., None]
    return img.astype(np.uint8)


def random_blobs(rng, img, n, alpha=(0.15, 0.5)):
    """Background artwork: ellipses, mountains, waves, sun, in random light colours."""
    H, W = img.shape[:2]
    over = img.copy()
    for _ in range(n):
        col = tuple(rng.randint(0, 255) for _ in range(3))
        k = rng.random()
        if k < 0.35:
            cv2.ellipse(over, (rng.randint(0, W), rng.randint(0, H)), (rng.randint(5, W // 3), rng.randint(5, H // 2)),
                        rng.uniform(0, 180), 0, 360, col, -1, cv2.LINE_AA)
        elif k < 0.65:
            pts = [(0, H)] + [(int(W * i / 6 + rng.randint(-10, 10)), rng.randint(H // 3, H)) for i in range(7)] + [(W, H)]
            cv2.fillPoly(over, [np.array(pts, np.int32)], col, cv2.LINE_AA)
        elif k < 0.85:
            yy = rng.randint(0, H)
            amp = rng.uniform(2, H / 6)
            xs = np.arange(0, W + 8, 8)
            ys = yy + amp * np.sin(xs / rng.uniform(10, 60) + rng.uniform(0, 6))
            cv2.polylines(over, [np.stack([xs, ys], 1).astype(np.int32)], False, col, rng.randint(2, 12), cv2.LINE_AA)
        else:
            cv2.rectangle(over, (rng.randint(0, W), rng.randint(0, H)), (rng.randint(0, W), rng.randint(0, H)), col, -1)
    a = rng.uniform(*alpha)
    img[:] = (img.astype(np.float32) * (1 - a) + over.astype(np.float32) * a).astype(np.uint8)


def draw_crest(rng, img, x, y, w, h, kind=None):
    """Shield / emblem between character groups (Slovak double cross, Austrian, city seals, round stickers)."""
    kind = kind or rng.choice(["shield", "shield", "round", "round", "rect", "sk"])
    x, y, w, h = int(x), int(y), max(3, int(w)), max(3, int(h))
    if kind in ("shield", "sk"):
        pts = np.array([[x, y], [x + w, y], [x + w, y + int(h * 0.6)], [x + w // 2, y + h], [x, y + int(h * 0.6)]], np.int32)
        bg = (200, 60, 30) if kind == "sk" else tuple(rng.randint(0, 255) for _ in range(3))
        if kind == "sk":
            bg = (40, 40, 210)  # red shield (BGR)
            cv2.fillPoly(img, [pts], bg, cv2.LINE_AA)
            cx = x + w // 2
            t = max(1, w // 8)
            cv2.line(img, (cx, y + h // 8), (cx, y + int(h * 0.75)), (255, 255, 255), t)
            cv2.line(img, (x + w // 4, y + h // 4), (x + 3 * w // 4, y + h // 4), (255, 255, 255), t)
            cv2.line(img, (x + w // 6, y + h // 2), (x + 5 * w // 6, y + h // 2), (255, 255, 255), t)
            cv2.ellipse(img, (cx, y + int(h * 0.8)), (w // 3, h // 8), 0, 180, 360, (160, 60, 20), -1)
            if rng.random() < 0.6:  # "SK" written under / beside the crest on newer plates
                draw_text(img, "SK", cx, y + h + 1, max(4, h * 0.35), (30, 30, 30), rng.choice(fonts()["latin"]), "ma")
        else:
            cv2.fillPoly(img, [pts], bg, cv2.LINE_AA)
            for _ in range(rng.randint(0, 3)):
                c2 = tuple(rng.randint(0, 255) for _ in range(3))
                if rng.random() < 0.5:
                    cv2.line(img, (x + rng.randint(0, w), y), (x + rng.randint(0, w), y + h), c2, max(1, w // 6))
                else:
                    cv2.circle(img, (x + w // 2, y + h // 2), max(1, w // 4), c2, -1)
            cv2.polylines(img, [pts], True, (30, 30, 30), 1, cv2.LINE_AA)
    elif kind == "round":
        r = min(w, h) // 2
        c = (x + w // 2, y + h // 2)
        cv2.circle(img, c, r, tuple(rng.randint(0, 255) for _ in range(3)), -1, cv2.LINE_AA)
        cv2.circle(img, c, max(1, int(r * 0.6)), tuple(rng.randint(0, 255) for _ in range(3)), -1, cv2.LINE_AA)
        if rng.random() < 0.5:
            for k in range(rng.randint(3, 12)):
                a = k * 2 * np.pi / 12
                cv2.line(img, c, (int(c[0] + r * 0.9 * np.cos(a)), int(c[1] + r * 0.9 * np.sin(a))), (40, 40, 40), 1)
    else:
        cv2.rectangle(img, (x, y), (x + w, y + h), tuple(rng.randint(0, 255) for _ in range(3)), -1)
        cv2.rectangle(img, (x, y), (x + w, y + h), (30, 30, 30), 1)


def draw_sticker(rng, img, x, y, w, h):
    col = tuple(rng.randint(0, 255) for _ in range(3))
    x, y, w, h = int(x), int(y), max(3, int(w)), max(3, int(h))
    cv2.rectangle(img, (x, y), (x + w, y + h), col, -1)
    if h > 8 and rng.random() < 0.7:
        txt = rng.choice(["%02d" % rng.randint(0, 99), str(rng.randint(2000, 2030)), rng.choice(["JAN", "MAR", "OCT", "DEC"])])
        tc = (0, 0, 0) if sum(col) > 380 else (255, 255, 255)
        draw_text(img, txt, x + w / 2, y + h / 2, h * 0.6, tc, rng.choice(fonts()["small"]), "mm")


def draw_screws(rng, img, positions, r):
    for (x, y) in positions:
        c = _col(rng, (rng.choice([60, 150, 200]),) * 3, 30)
        cv2.circle(img, (int(x), int(y)), max(1, int(r)), c, -1, cv2.LINE_AA)
        if r > 3 and rng.random() < 0.5:
            cv2.line(img, (int(x - r * 0.7), int(y)), (int(x + r * 0.7), int(y)), (30, 30, 30), 1)


def draw_eu_band(rng, img, x0, x1, code, font):
    H = img.shape[0]
    cv2.rectangle(img, (x0, 0), (x1, H), _col(rng, (153, 51, 0), 20), -1)  # EU blue (BGR)
    bw = x1 - x0
    cx, cy, rr = x0 + bw / 2, H * 0.3, bw * 0.3
    for k in range(12):
        a = k * np.pi / 6
        cv2.circle(img, (int(cx + rr * np.cos(a)), int(cy + rr * np.sin(a))), max(1, int(bw * 0.05)), (0, 204, 255), -1)
    if code:
        draw_text(img, code, cx, H * 0.78, min(bw * (0.7 if len(code) == 1 else 0.42), H * 0.35), (255, 255, 255), font, "mm")


def frame(rng, img, color, thick, radius_frac=0.06):
    H, W = img.shape[:2]
    if thick <= 0:
        return
    t = thick
    cv2.rectangle(img, (t // 2 + 1, t // 2 + 1), (W - t // 2 - 2, H - t // 2 - 2), color, t, cv2.LINE_AA)


# ----------------------------------------------------------------------------------------------- layout

def _char_w(gs, ch, ch_h, condense):
    m = gs.mask(ch, 64)
    return m.shape[1] * ch_h / 64.0 * (condense if ch in LATIN else 1.0), m


def layout_line(rng, img, groups, gs, x0, x1, yc, ch_h, color, spacing, gap, gap_kind=None, gap_w=None, align="center",
                condense=1.0, bold=0):
    """Draw groups of chars centred vertically at yc between x0 and x1; gaps may hold distractors.
    gap_kind: None | 'space' | 'dash' | 'dot' | 'crest' | 'sticker' | 'sk'."""
    items = []
    total = 0.0
    for gi, grp in enumerate(groups):
        for ci, ch in enumerate(grp):
            w, m = _char_w(gs, ch, ch_h, condense)
            # CJK glyph cells are square-ish
            if ch not in LATIN:
                w = min(w, ch_h * 1.0)
            items.append(("c", ch, w, m))
            total += w
            if ci < len(grp) - 1:
                items.append(("s", None, spacing, None))
                total += spacing
        if gi < len(groups) - 1:
            gw = gap if gap_w is None else gap_w
            items.append(("g", gap_kind, gw, None))
            total += gw
    avail = x1 - x0
    scale = 1.0
    if total > avail:
        scale = avail / total
    if align == "center":
        x = x0 + (avail - total * scale) / 2
    elif align == "left":
        x = x0
    else:
        x = x1 - total * scale
    boxes = []
    for kind, ch, w, m in items:
        w = w * scale
        if kind == "c":
            h = ch_h * (1.0 if scale > 0.8 else max(0.85, scale + 0.2))
            if bold and ch in LATIN:
                m = cv2.dilate(m, np.ones((1, 1 + bold), np.uint8))
            paste_mask(img, m, x, yc - h / 2, w, h, color)
            boxes.append((x, yc - h / 2, x + w, yc + h / 2))
        elif kind == "g" and ch:
            cx = x + w / 2
            if ch == "dash":
                dw, dh = min(w * 0.7, ch_h * 0.3), max(2, ch_h * 0.1)
                cv2.rectangle(img, (int(cx - dw / 2), int(yc - dh / 2)), (int(cx + dw / 2), int(yc + dh / 2)), color, -1)
            elif ch == "dot":
                cv2.circle(img, (int(cx), int(yc)), max(1, int(ch_h * 0.07)), color, -1, cv2.LINE_AA)
            elif ch in ("crest", "sk", "round"):
                cw = min(w * 0.85, ch_h * 0.6)
                draw_crest(rng, img, cx - cw / 2, yc - ch_h * 0.42, cw, ch_h * (0.65 if ch != "round" else 0.6) if ch != "round" else cw,
                           kind={"crest": None, "sk": "sk", "round": "round"}[ch])
            elif ch == "shape":  # small separator mark of US plates: square, diamond, star, state outline, heart
                r = max(2, ch_h * rng.uniform(0.08, 0.2))
                k = rng.randrange(5)
                col = color if rng.random() < 0.6 else tuple(rng.randint(0, 255) for _ in range(3))
                if k == 0:
                    cv2.rectangle(img, (int(cx - r), int(yc - r)), (int(cx + r), int(yc + r)), col, -1)
                elif k == 1:
                    pts = np.array([[cx, yc - r * 1.3], [cx + r, yc], [cx, yc + r * 1.3], [cx - r, yc]], np.int32)
                    cv2.fillConvexPoly(img, pts, col, cv2.LINE_AA)
                elif k == 2:
                    a = np.arange(10) * np.pi / 5 - np.pi / 2
                    rr = np.where(np.arange(10) % 2 == 0, r * 1.4, r * 0.6)
                    pts = np.stack([cx + rr * np.cos(a), yc + rr * np.sin(a)], 1).astype(np.int32)
                    cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
                elif k == 3:
                    n = rng.randint(6, 10)
                    a = np.sort(np.array([rng.uniform(0, 2 * np.pi) for _ in range(n)]))
                    rr = np.array([rng.uniform(0.6, 1.5) * r for _ in range(n)])
                    pts = np.stack([cx + rr * np.cos(a), yc + rr * 1.2 * np.sin(a)], 1).astype(np.int32)
                    cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
                else:
                    cv2.circle(img, (int(cx - r * 0.5), int(yc - r * 0.3)), int(r * 0.6), col, -1, cv2.LINE_AA)
                    cv2.circle(img, (int(cx + r * 0.5), int(yc - r * 0.3)), int(r * 0.6), col, -1, cv2.LINE_AA)
                    pts = np.array([[cx - r * 1.1, yc - r * 0.1], [cx + r * 1.1, yc - r * 0.1], [cx, yc + r * 1.2]], np.int32)
                    cv2.fillConvexPoly(img, pts, col, cv2.LINE_AA)
            elif ch == "sticker":
                draw_sticker(rng, img, cx - w * 0.4, yc - ch_h * 0.4, w * 0.8, ch_h * 0.8)
        x += w
    return boxes


# Real-world prior: many jurisdictions avoid I, O, Q (confusable with 1, 0); they still occur, less often.
_LETTER_W = [0.35 if c in "IOQ" else 1.0 for c in LETTERS]
_ALNUM_W = [1.0] * 10 + _LETTER_W


def _rand(rng, pat):
    """L = letter, D = digit, A = alnum, H = Korean hangul."""
    out = []
    for p in pat:
        if p == "L":
            out.append(rng.choices(LETTERS, _LETTER_W)[0])
        elif p == "D":
            out.append(rng.choice(DIGITS))
        elif p == "A":
            out.append(rng.choices(LATIN, _ALNUM_W)[0])
        elif p == "H":
            out.append(rng.choice(KR_HANGUL))
        else:
            out.append(p)
    return "".join(out)


US_STATES = ["CALIFORNIA", "Texas", "New York", "FLORIDA", "Illinois", "OHIO", "Pennsylvania", "Michigan", "GEORGIA",
             "Arizona", "Colorado", "Nevada", "OREGON", "Washington", "New Jersey", "Virginia", "MASSACHUSETTS",
             "Maryland", "Indiana", "Tennessee", "Missouri", "Wisconsin", "Minnesota", "ALABAMA", "Louisiana",
             "Kentucky", "Utah", "Iowa", "Kansas", "Idaho", "Montana", "Maine", "Vermont", "Delaware", "Alaska",
             "Hawaii", "Connecticut", "South Carolina", "North Carolina", "Oklahoma", "NEW MEXICO", "Arkansas"]
US_SLOGANS = ["Sunshine State", "Land of Lincoln", "Empire State", "The Lone Star State", "Great Lakes",
              "Grand Canyon State", "Live Free or Die", "Garden State", "dmv.ca.gov", "Famous Potatoes",
              "Go Green", "Heart of Dixie", "Wild Wonderful", "Virginia is for Lovers", "Peach State",
              "Explore Minnesota", "Keystone State", "First in Flight", "Aloha State", "In God We Trust",
              "Spirit of America", "Sportsman's Paradise", "Centennial", "The Silver State", "Beautiful",
              "Greatest Snow on Earth", "Land of Enchantment", "America's Dairyland", "Pure Michigan",
              "visitPA.com", "Official", "Choose Life", "Support Education", "Veteran", "Collegiate"]
BR_CITIES = ["SP - SAO PAULO", "RJ - RIO DE JANEIRO", "MG - BELO HORIZONTE", "PR - CURITIBA", "RS - PORTO ALEGRE",
             "SC - FLORIANOPOLIS", "BA - SALVADOR", "PE - RECIFE", "CE - FORTALEZA", "GO - GOIANIA", "DF - BRASILIA",
             "SP - CAMPINAS", "SP - SANTOS", "MG - UBERLANDIA", "PR - LONDRINA", "ES - VITORIA", "AM - MANAUS",
             "PA - BELEM", "SP - SOROCABA", "MG - CONTAGEM"]
EU_FORMATS = {  # country code -> list of (groups pattern list, gap kind choices)
    "D": ([["L", "L"], ["LL", "L", "LL"]], None), "F": ([["LL", "DDD", "LL"]], ["dash"]),
    "I": ([["LL", "DDDLL"], ["LL", "DDD", "LL"]], ["space"]), "NL": ([["DD", "LLL", "D"], ["LL", "DDD", "L"], ["D", "LLL", "DD"], ["LL", "DD", "LL"]], ["dash"]),
    "PL": ([["LL", "DDDDD"], ["LLL", "DDDD"], ["LL", "DDDLL"], ["LLL", "DDLL"]], ["space", "crest"]),
    "CZ": ([["DLD", "DDDD"], ["DLA", "DDDD"]], ["space", "crest"]), "SK": ([["LL", "DDDLL"], ["LL", "DDDDD"]], ["sk", "dash"]),
    "RO": ([["L", "DDD", "LLL"], ["LL", "DD", "LLL"], ["L", "DD", "LLL"]], ["space", "crest"]),
    "E": ([["DDDD", "LLL"]], ["space"]), "GB": ([["LLDD", "LLL"]], ["space"]),
    "A": ([["L", "DDDDL"], ["LL", "DDDLL"], ["L", "DDDD", "L"]], ["crest", "dash"]), "H": ([["LLL", "DDD"], ["LL", "LL", "DDD"]], ["dash", "crest"]),
    "B": ([["D", "LLL", "DDD"]], ["dash"]), "LT": ([["LLL", "DDD"]], ["space"]), "LV": ([["LL", "DDDD"]], ["dash"]),
    "HR": ([["LL", "DDD", "LL"], ["LL", "DDDD", "L"]], ["crest", "dash"]), "SLO": ([["LL", "LL", "DDD"], ["LL", "DD", "DDD"]], ["crest"]),
    "BG": ([["LL", "DDDD", "LL"], ["L", "DDDD", "LL"]], ["space"]), "P": ([["DD", "LL", "DD"], ["LL", "DD", "LL"]], ["dash"]),
    "S": ([["LLL", "DDL"], ["LLL", "DDD"]], ["space"]), "FIN": ([["LLL", "DDD"]], ["dash"]), "DK": ([["LL", "DD", "DDD"]], ["space"]),
    "N": ([["LL", "DDDDD"]], ["space"]), "CH": ([["LL", "DDDDDD"], ["LL", "DDDD"]], ["crest", "space"]),
    "L": ([["LL", "DDDD"]], ["space"]), "IRL": ([["DDD", "L", "DDDD"], ["DD", "LL", "DDDDD"]], ["dash"]),
}
EU_WEIGHTS = {"D": 10, "F": 5, "I": 5, "NL": 4, "PL": 5, "CZ": 4, "SK": 5, "RO": 6, "E": 4, "GB": 3, "A": 3, "H": 3, "B": 3,
              "LT": 1, "LV": 1, "HR": 2, "SLO": 1, "BG": 2, "P": 2, "S": 1, "FIN": 1, "DK": 1, "N": 1, "CH": 2, "L": 1, "IRL": 1}


def _wchoice(rng, d):
    ks = list(d)
    return rng.choices(ks, weights=[d[k] for k in ks])[0]


def _new_plate(h, w, color):
    img = np.empty((h, w, 3), np.uint8)
    img[:] = color
    return img


def _small_font(rng):
    return rng.choice(fonts()["small"])


def _screws(rng, img, prob=0.5):
    if rng.random() < prob:
        H, W = img.shape[:2]
        y1, y2 = H * rng.uniform(0.08, 0.2), H * rng.uniform(0.8, 0.92)
        xs = [W * rng.uniform(0.15, 0.3), W * rng.uniform(0.7, 0.85)]
        pos = [(x, y1) for x in xs] if rng.random() < 0.6 else [(x, y) for x in xs for y in (y1, y2)]
        draw_screws(rng, img, pos, H * rng.uniform(0.025, 0.05))


# ----------------------------------------------------------------------------------------------- styles

def _us(rng):
    H = rng.randint(120, 160)
    W = int(H * rng.uniform(1.9, 2.1))
    dark = rng.random() < 0.15
    if dark:
        bg = _col(rng, rng.choice([(20, 20, 20), (90, 30, 10), (20, 60, 20), (10, 80, 200), (120, 40, 40)]), 20)
        fg = _col(rng, rng.choice([(255, 255, 255), (40, 210, 240), (255, 255, 255)]), 20)
    else:
        bg = _col(rng, rng.choice([(245, 245, 245), (230, 240, 250), (200, 230, 250), (250, 240, 225), (215, 235, 215)]), 15)
        fg = _col(rng, rng.choice([(20, 20, 20), (110, 30, 10), (30, 30, 160), (30, 90, 20), (60, 20, 90), (130, 60, 20)]), 25)
    img = gradient_bg(rng, H, W, bg, _col(rng, bg, 35)) if rng.random() < 0.5 else _new_plate(H, W, bg)
    if rng.random() < 0.6:
        random_blobs(rng, img, rng.randint(1, 5), (0.15, 0.45 if not dark else 0.25))
    n = rng.choices([5, 6, 7, 8], weights=[1, 4, 6, 1])[0]
    pats = {5: ["LLDDD", "DLLDD", "AAAAA", "DDDLL"], 6: ["LLLDDD", "DDDLLL", "LLDDDD", "DLLDDD", "AAAAAA", "DDDDDD", "LDDDDD"],
            7: ["LLLDDDD", "DLLLDDD", "DDDLLLL", "LLDDDDD", "LLLDDDL", "AAAAAAA", "DLLDDDD"], 8: ["LLLLDDDD", "AAAAAAAA"]}
    text = _rand(rng, rng.choice(pats[n]))
    # split into groups
    if rng.random() < 0.55 and n >= 6:
        k = rng.randint(2, n - 2)
        groups = [text[:k], text[k:]]
    else:
        groups = [text]
    gs = GlyphSource(rng, 0.6)
    frame(rng, img, fg if rng.random() < 0.5 else _col(rng, (60, 60, 60)), rng.choice([0, 0, 2, 3, 5]))
    ch_h = H * rng.uniform(0.4, 0.52)
    yc = H * rng.uniform(0.5, 0.56)
    gap_kind = rng.choice(["space", "dash", "sticker", "crest", "round", None, "space", "shape", "shape", "shape"])
    # symbols beside the characters (wheelchair, cactus, star, state outline; stacked 'DP' / 'DV' letters):
    # real US plates read as an extra leading / trailing character when these are never seen in training
    left_mark, right_mark = rng.random() < 0.22, rng.random() < 0.12
    x0 = W * (rng.uniform(0.16, 0.22) if left_mark else 0.06)
    x1 = W * (rng.uniform(0.82, 0.87) if right_mark else 0.94)
    if left_mark:
        _us_mark(rng, img, W * rng.uniform(0.02, 0.04), yc - ch_h * 0.55, x0 - W * 0.05, ch_h * 1.1, fg)
    if right_mark:
        letters = rng.choice(["DP", "DV", "PH", "HP", "DIS", "VET", "FD", "TR"])
        lh = ch_h * 1.0 / len(letters)
        for i, c in enumerate(letters):
            draw_text(img, c, x1 + W * 0.05, yc - ch_h / 2 + lh * (i + 0.5), lh * 0.95, fg, _small_font(rng), "mm")
    layout_line(rng, img, groups, gs, x0, x1, yc, ch_h, fg, ch_h * rng.uniform(0.03, 0.15),
                ch_h * rng.uniform(0.25, 0.7), gap_kind, condense=rng.uniform(0.75, 1.1), bold=rng.choice([0, 0, 1]))
    sf = _small_font(rng)
    tc = _col(rng, rng.choice([fg, (30, 30, 200), (120, 40, 10), (20, 20, 20)]), 20)
    if rng.random() < 0.92:
        draw_text(img, rng.choice(US_STATES), W / 2 + rng.uniform(-W * 0.1, W * 0.1), H * rng.uniform(0.05, 0.25),
                  H * rng.uniform(0.12, 0.24), tc, sf, "mm")
    if rng.random() < 0.75:
        draw_text(img, rng.choice(US_SLOGANS), W / 2, H * rng.uniform(0.84, 0.93), H * rng.uniform(0.07, 0.13), tc,
                  _small_font(rng), "mm")
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            sx = rng.choice([rng.uniform(0.02, 0.12), rng.uniform(0.78, 0.9)]) * W
            draw_sticker(rng, img, sx, H * rng.uniform(0.02, 0.07), W * rng.uniform(0.08, 0.14), H * rng.uniform(0.1, 0.16))
    _screws(rng, img, 0.55)
    return img, text, "us"


def _us_mark(rng, img, x, y, w, h, fg):
    """A symbol left of a US plate's characters: wheelchair, cactus, star, state outline, emblem, logo."""
    x, y, w, h = int(x), int(y), max(4, int(w)), max(4, int(h))
    k = rng.randrange(6)
    col = fg if rng.random() < 0.5 else tuple(rng.randint(0, 255) for _ in range(3))
    t = max(1, int(w * rng.uniform(0.08, 0.16)))
    if k == 0:  # wheelchair on a blue square
        if rng.random() < 0.7:
            cv2.rectangle(img, (x, y), (x + w, y + h), (160, 80, 20), -1)
            col = (255, 255, 255)
        cv2.circle(img, (x + w // 2, y + h // 6), max(1, w // 9), col, -1, cv2.LINE_AA)
        cv2.line(img, (x + w // 2, y + h // 4), (x + w // 2, y + h // 2), col, t)
        cv2.line(img, (x + w // 2, y + h // 2), (x + int(w * 0.8), y + int(h * 0.55)), col, t)
        cv2.ellipse(img, (x + int(w * 0.45), y + int(h * 0.68)), (w // 3, h // 5), 0, 20, 300, col, t, cv2.LINE_AA)
    elif k == 1:  # cactus
        cx = x + w // 2
        cv2.line(img, (cx, y + h // 8), (cx, y + h), col, max(2, w // 5))
        cv2.line(img, (cx, y + h // 2), (x + w // 6, y + h // 2), col, t)
        cv2.line(img, (x + w // 6, y + h // 2), (x + w // 6, y + h // 4), col, t)
        cv2.line(img, (cx, y + int(h * 0.6)), (x + 5 * w // 6, y + int(h * 0.6)), col, t)
        cv2.line(img, (x + 5 * w // 6, y + int(h * 0.6)), (x + 5 * w // 6, y + h // 3), col, t)
    elif k == 2:  # star
        cx, cy, r = x + w / 2, y + h / 2, min(w, h) / 2
        a = np.arange(10) * np.pi / 5 - np.pi / 2
        rr = np.where(np.arange(10) % 2 == 0, r, r * 0.4)
        pts = np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], 1).astype(np.int32)
        cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
    elif k == 3:  # state outline
        n = rng.randint(5, 9)
        pts = np.array([[x + rng.uniform(0, 1) * w, y + rng.uniform(0, 1) * h] for _ in range(n)], np.float32)
        hull = cv2.convexHull(pts).astype(np.int32)
        cv2.fillPoly(img, [hull], col, cv2.LINE_AA)
    elif k == 4:
        draw_crest(rng, img, x, y + h // 6, w, int(h * 0.7))
    else:  # small logo text stacked
        draw_text(img, rng.choice(["USA", "ARMY", "VET", "EST", "1889", "UNIV"]), x + w / 2, y + h / 2, min(h * 0.3, w * 0.4),
                  col, _small_font(rng), "mm")


def _eu(rng):
    country = _wchoice(rng, EU_WEIGHTS)
    pats, gap_choices = EU_FORMATS[country]
    if country == "D":
        groups = [_rand(rng, "L" * rng.randint(1, 3)), _rand(rng, "L" * rng.randint(1, 2)), _rand(rng, "D" * rng.randint(1, 4))]
        if rng.random() < 0.05:
            groups[-1] += rng.choice("EH")
        gap_kind = "round"
    else:
        groups = [_rand(rng, p) for p in rng.choice(pats)]
        gap_kind = rng.choice(gap_choices)
    text = "".join(groups)
    H = rng.randint(90, 120)
    W = int(H * rng.uniform(4.3, 4.8))
    yellow = country in ("NL", "GB", "L") and rng.random() < 0.5
    bg = _col(rng, (40, 200, 250) if yellow else (245, 245, 245), 12)
    fg = _col(rng, (25, 25, 25), 20) if country != "B" else _col(rng, (40, 30, 170), 20)
    img = _new_plate(H, W, bg)
    if rng.random() < 0.2:
        random_blobs(rng, img, rng.randint(1, 2), (0.05, 0.15))
    band = country != "CH" and rng.random() < 0.93
    bw = int(H * rng.uniform(0.36, 0.44)) if band else 0
    frame(rng, img, fg, rng.choice([0, 2, 3, 4]))
    if band:
        draw_eu_band(rng, img, 0, bw, country, rng.choice(fonts()["latin"]))
    gs = GlyphSource(rng, 0.55)
    ch_h = H * rng.uniform(0.62, 0.76)
    yc = H * rng.uniform(0.48, 0.53)
    if country == "SK" and gap_kind == "sk":
        gap_w = ch_h * rng.uniform(0.5, 0.8)
    else:
        gap_w = ch_h * (rng.uniform(0.3, 0.6) if gap_kind not in ("crest", "round", "sk") else rng.uniform(0.5, 0.9))
    if country == "D":
        # German: round stickers between city code and the rest, plain space elsewhere
        g = [groups[0], groups[1] + "\x00" + groups[2]]
        layout_groups = [groups[0], groups[1], groups[2]]
        # draw city | stickers | letters space digits
        x0, x1 = bw + H * 0.08, W - H * 0.08
        boxes = layout_line(rng, img, layout_groups, gs, x0, x1, yc, ch_h, fg, ch_h * 0.06, gap_w, None,
                            condense=rng.uniform(0.75, 1.0))
        # stickers in the first gap
        if len(boxes) > len(groups[0]):
            gx0 = boxes[len(groups[0]) - 1][2]
            gx1 = boxes[len(groups[0])][0]
            cw = max(3, min(gx1 - gx0, ch_h * 0.5))
            if rng.random() < 0.9:
                draw_crest(rng, img, (gx0 + gx1) / 2 - cw / 2, yc - ch_h * 0.45, cw, cw, "round")
                draw_crest(rng, img, (gx0 + gx1) / 2 - cw / 2, yc + ch_h * 0.02, cw, cw, "round")
        del g
    else:
        lx0 = bw + H * 0.08
        if country in ("SK", "CZ", "HR", "SLO", "A", "PL") and rng.random() < 0.35:
            # crest (and for SK often the "SK" letters under it) at the left, before the characters
            cw = ch_h * rng.uniform(0.35, 0.55)
            draw_crest(rng, img, lx0, yc - ch_h * 0.45, cw, ch_h * 0.6, "sk" if country == "SK" else None)
            lx0 += cw + H * 0.05
            if gap_kind in ("sk", "crest"):
                gap_kind = rng.choice(["dash", "space"])
        layout_line(rng, img, groups, gs, lx0, W - H * 0.08, yc, ch_h, fg, ch_h * rng.uniform(0.04, 0.12),
                    gap_w, gap_kind, condense=rng.uniform(0.75, 1.05), bold=rng.choice([0, 0, 1]))
    if rng.random() < 0.15:  # dealer text under the plate
        draw_text(img, rng.choice(["AUTOHAUS", "www.auto.de", "DEALER", "SERVICE"]), W / 2, H * 0.95, H * 0.09, fg, _small_font(rng), "ms")
    _screws(rng, img, 0.3)
    return img, text, "eu"


def _br_old(rng):
    H = rng.randint(110, 140)
    W = int(H * rng.uniform(3.0, 3.2))
    red = rng.random() < 0.18
    bg = _col(rng, (40, 40, 190) if red else rng.choice([(185, 185, 185), (205, 205, 200), (160, 160, 160)]), 20)
    fg = _col(rng, (240, 240, 240) if red else rng.choice([(25, 25, 25), (50, 50, 50)]), 20)
    img = gradient_bg(rng, H, W, bg, _col(rng, bg, 25))
    frame(rng, img, fg, rng.choice([2, 3, 4, 5]))
    text = _rand(rng, "LLLDDDD")
    gs = GlyphSource(rng, 0.7)
    ch_h = H * rng.uniform(0.52, 0.62)
    yc = H * rng.uniform(0.58, 0.64)
    layout_line(rng, img, [text[:3], text[3:]], gs, W * 0.05, W * 0.95, yc, ch_h, fg, ch_h * rng.uniform(0.06, 0.16),
                ch_h * rng.uniform(0.3, 0.55), rng.choice(["dash", "dash", "dot", "dot", "space"]), condense=rng.uniform(0.8, 1.1),
                bold=rng.choice([0, 1]))
    draw_text(img, rng.choice(BR_CITIES), W / 2, H * rng.uniform(0.14, 0.2), H * rng.uniform(0.12, 0.18), fg,
              rng.choice(fonts()["latin"]), "mm")
    _screws(rng, img, 0.4)
    return img, text, "br_old"


def _mercosul_band(rng, img, bh, country="BRASIL"):
    H, W = img.shape[:2]
    cv2.rectangle(img, (0, 0), (W, bh), _col(rng, (160, 60, 0), 20), -1)
    draw_text(img, country, W / 2, bh / 2, bh * 0.7, (255, 255, 255), rng.choice(fonts()["latin"]), "mm")
    # Mercosul logo at the left, flag at the right
    cv2.circle(img, (int(bh * 0.9), bh // 2), max(2, int(bh * 0.32)), (255, 255, 255), 1, cv2.LINE_AA)
    fx = int(W - bh * 1.5)
    cv2.rectangle(img, (fx, int(bh * 0.2)), (fx + int(bh * 0.9), int(bh * 0.8)), (40, 160, 40), -1)
    cv2.circle(img, (fx + int(bh * 0.45), bh // 2), max(1, int(bh * 0.18)), (160, 60, 0), -1)


def _br_mercosul(rng):
    H = rng.randint(110, 140)
    W = int(H * rng.uniform(3.0, 3.15))
    bg = _col(rng, (245, 245, 245), 12)
    fg = _col(rng, rng.choice([(20, 20, 20)] * 6 + [(30, 30, 190), (40, 120, 30), (140, 60, 20)]), 15)
    img = _new_plate(H, W, bg)
    if rng.random() < 0.5:  # faint wavy security print
        random_blobs(rng, img, 2, (0.04, 0.1))
    bh = int(H * rng.uniform(0.2, 0.26))
    _mercosul_band(rng, img, bh)
    frame(rng, img, (30, 30, 30), rng.choice([1, 2, 3]))
    text = _rand(rng, "LLLDLDD")
    gs = GlyphSource(rng, 0.6)
    ch_h = H * rng.uniform(0.5, 0.6)
    yc = bh + (H - bh) * rng.uniform(0.48, 0.54)
    layout_line(rng, img, [text], gs, W * 0.05, W * 0.95, yc, ch_h, fg, ch_h * rng.uniform(0.06, 0.16), 0,
                condense=rng.uniform(0.8, 1.1), bold=rng.choice([0, 1]))
    if rng.random() < 0.6:  # QR code-ish square and BR at left
        q = int(H * 0.18)
        y0 = bh + int(H * 0.05)
        cv2.rectangle(img, (int(W * 0.02), y0), (int(W * 0.02) + q, y0 + q), (40, 40, 40), 1)
        draw_text(img, "BR", W * 0.02 + q / 2, H * 0.88, H * 0.12, (30, 30, 30), rng.choice(fonts()["latin"]), "mm")
    return img, text, "br_mercosul"


def _br_moto(rng):
    H = rng.randint(120, 150)
    W = int(H * rng.uniform(1.15, 1.3))
    merc = rng.random() < 0.5
    if merc:
        img = _new_plate(H, W, _col(rng, (245, 245, 245), 10))
        bh = int(H * 0.16)
        _mercosul_band(rng, img, bh)
        text = _rand(rng, "LLLDLDD")
        fg = (20, 20, 20)
    else:
        img = _new_plate(H, W, _col(rng, (185, 185, 185), 20))
        bh = int(H * 0.14)
        draw_text(img, rng.choice(BR_CITIES)[:2], W / 2, bh / 2 + 2, bh * 0.8, (30, 30, 30), rng.choice(fonts()["latin"]), "mm")
        text = _rand(rng, "LLLDDDD")
        fg = (30, 30, 30)
    frame(rng, img, fg, 2)
    gs = GlyphSource(rng, 0.6)
    ch_h = (H - bh) * rng.uniform(0.36, 0.42)
    layout_line(rng, img, [text[:3]], gs, W * 0.06, W * 0.94, bh + (H - bh) * 0.27, ch_h, fg, ch_h * 0.1, 0)
    layout_line(rng, img, [text[3:]], gs, W * 0.06, W * 0.94, bh + (H - bh) * 0.73, ch_h, fg, ch_h * 0.1, 0)
    return img, text, "br_moto"


def _kr(rng):
    H = rng.randint(90, 120)
    W = int(H * rng.uniform(4.4, 4.8))
    kind = rng.random()
    text = _rand(rng, rng.choice(["DDDHDDDD", "DDHDDDD", "DDHDDDD"]))
    img = _new_plate(H, W, _col(rng, (245, 245, 245), 10))
    fg = _col(rng, (20, 20, 20), 15)
    bw = 0
    if kind < 0.3:  # 2019 plate with KOR band
        bw = int(H * 0.35)
        cv2.rectangle(img, (0, 0), (bw, H), _col(rng, (150, 60, 20), 15), -1)
        cv2.circle(img, (bw // 2, int(H * 0.35)), max(2, bw // 4), (255, 255, 255), -1)
        draw_text(img, "KOR", bw / 2, H * 0.78, H * 0.16, (255, 255, 255), rng.choice(fonts()["latin"]), "mm")
    elif kind < 0.45:  # yellow commercial single line
        img[:] = _col(rng, (20, 200, 240), 15)
    frame(rng, img, fg, rng.choice([2, 3, 4]))
    gs = GlyphSource(rng, 0.5, rng.choice(fonts()["kr"]))
    ch_h = H * rng.uniform(0.62, 0.75)
    k = text.index(next(c for c in text if c in KR_HANGUL))
    layout_line(rng, img, [text[:k], text[k], text[k + 1:]], gs, bw + H * 0.12, W - H * 0.12, H * 0.5, ch_h, fg,
                ch_h * 0.08, ch_h * rng.uniform(0.1, 0.25), None, condense=rng.uniform(0.75, 1.0))
    _screws(rng, img, 0.5)
    return img, text, "kr"


def _kr_old(rng):
    H = rng.randint(130, 170)
    W = int(H * rng.uniform(1.9, 2.1))
    green = rng.random() < 0.6
    bg = _col(rng, (60, 110, 40) if green else (20, 200, 240), 20)
    fg = _col(rng, (235, 235, 235) if green else (30, 30, 30), 15) if rng.random() < 0.85 else _col(rng, (40, 200, 230), 15)
    img = _new_plate(H, W, bg)
    frame(rng, img, fg, rng.choice([2, 3, 4]))
    region = rng.choice(KR_REGIONS)
    top = region + _rand(rng, rng.choice(["DD", "D"]))
    bot = _rand(rng, "HDDDD")
    gs = GlyphSource(rng, 0.5, rng.choice(fonts()["kr"]))
    th = H * rng.uniform(0.25, 0.3)
    bh = H * rng.uniform(0.45, 0.52)
    layout_line(rng, img, [region, top[len(region):]], gs, W * 0.2, W * 0.8, H * 0.2, th, fg, th * 0.1, th * 0.3, None)
    layout_line(rng, img, [bot[0], bot[1:]], gs, W * 0.05, W * 0.95, H * 0.64, bh, fg, bh * 0.08, bh * 0.15, None,
                condense=rng.uniform(0.75, 1.0))
    _screws(rng, img, 0.6)
    return img, top + bot, "kr_old"


def _cn_font(rng):
    return rng.choice(fonts()["cn"])


def _cn(rng, kind):
    H = rng.randint(100, 130)
    W = int(H * rng.uniform(3.05, 3.2))
    prov = rng.choice(CN_PROV)
    tail = ""
    if kind == "cn_green":
        W = int(H * rng.uniform(3.35, 3.5))
        rest = _rand(rng, rng.choice(["LDDDDD", "DDDDDL"]))
        rest = (rng.choice("DF") + rest[1:]) if rest[0].isalpha() else rest
        text = prov + rng.choice(CN_LETTERS) + rest
        img = gradient_bg(rng, H, W, _col(rng, (245, 250, 245), 10), _col(rng, (90, 200, 60), 20))
        fg = (20, 20, 20)
    else:
        rest = _rand(rng, rng.choice(["DDDDD", "LDDDD", "DLDDD", "DDLDD", "LLDDD", "DDDDL"]))
        if kind == "cn_special":
            sp = rng.choice("学警港澳挂领使")
            if sp == "使":
                text = "使" + _rand(rng, "DDDDDD")
            else:
                text = prov + rng.choice(CN_LETTERS) + rest[:4] + sp
            tail = sp
        else:
            text = prov + rng.choice(CN_LETTERS) + rest
        if kind == "cn_yellow" or tail in ("学", "挂"):
            bgc, fg = (20, 190, 245), (20, 20, 20)
        elif tail in ("警",) :
            bgc, fg = (245, 245, 245), (20, 20, 20)
        elif tail in ("港", "澳", "使", "领"):
            bgc, fg = (20, 20, 20), (245, 245, 245)
        else:
            bgc, fg = (170, 70, 10), (245, 245, 245)
        img = _new_plate(H, W, _col(rng, bgc, 15))
    fg = _col(rng, fg, 10)
    cv2.rectangle(img, (3, 3), (W - 4, H - 4), fg, max(1, H // 40), cv2.LINE_AA)
    gs = GlyphSource(rng, 0.65, _cn_font(rng))
    ch_h = H * rng.uniform(0.68, 0.76)
    if text[0] == "使":
        groups = [text[0], text[1:]]
    else:
        groups = [text[:2], text[2:]]
    col_last = (30, 30, 200) if tail == "警" else fg
    boxes = layout_line(rng, img, groups, gs, W * 0.04, W * 0.96, H * 0.5, ch_h, fg, ch_h * 0.12, ch_h * 0.35, "dot",
                        condense=rng.uniform(0.6, 0.8))
    if tail == "警" and boxes:
        x0, y0, x1, y1 = boxes[-1]
        paste_mask(img, gs.mask("警"), x0, y0, x1 - x0, y1 - y0, col_last)
    return img, text, kind


def _cn_two(rng):
    H = rng.randint(140, 170)
    W = int(H * rng.uniform(1.9, 2.1))
    img = _new_plate(H, W, _col(rng, (20, 190, 245), 15))
    fg = _col(rng, (20, 20, 20), 10)
    cv2.rectangle(img, (3, 3), (W - 4, H - 4), fg, 2)
    prov = rng.choice(CN_PROV)
    top = prov + rng.choice(CN_LETTERS)
    bot = _rand(rng, rng.choice(["DDDDD", "LDDDD", "DDDDL"]))
    if rng.random() < 0.2:
        bot = bot[:4] + "挂"
    gs = GlyphSource(rng, 0.65, _cn_font(rng))
    th = H * 0.26
    layout_line(rng, img, [top], gs, W * 0.25, W * 0.75, H * 0.22, th, fg, th * 0.5, 0)
    bh = H * 0.5
    layout_line(rng, img, [bot], gs, W * 0.05, W * 0.95, H * 0.66, bh, fg, bh * 0.1, 0, condense=0.7)
    return img, top + bot, "cn_two"


_RENDER = {"us": _us, "eu": _eu, "br_old": _br_old, "br_mercosul": _br_mercosul, "br_moto": _br_moto, "kr": _kr,
           "kr_old": _kr_old, "cn_blue": lambda r: _cn(r, "cn_blue"), "cn_yellow": lambda r: _cn(r, "cn_yellow"),
           "cn_green": lambda r: _cn(r, "cn_green"), "cn_special": lambda r: _cn(r, "cn_special"), "cn_two": _cn_two}

TWO_LINE = {"br_moto", "kr_old", "cn_two"}


def pick_style(rng, style=None):
    if style in _RENDER:
        return style
    cands = {k: v for k, v in STYLE_WEIGHTS.items() if style is None or k.startswith(style)}
    if not cands:
        raise ValueError("unknown style %r" % style)
    return _wchoice(rng, cands)


def render_plate(rng: random.Random, style: str | None = None):
    """Render one flat plate. Returns (BGR uint8 image, text, style, 4x2 float32 corners TL,TR,BR,BL)."""
    st = pick_style(rng, style)
    img, text, st = _RENDER[st](rng)
    H, W = img.shape[:2]
    corners = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    return img, text, st, corners


if __name__ == "__main__":
    import sys
    r = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    os.makedirs(".train/ocr/samples", exist_ok=True)
    for i, st in enumerate(STYLES * 2):
        im, t, s, c = render_plate(r, st)
        cv2.imwrite(".train/ocr/samples/%02d_%s_%s.png" % (i, s, t), im)
        print(s, t, im.shape)
