"""Train the plate detector (CPU). Resumable.

  nice -n 19 nohup .venv-train/bin/python scripts/train/det_train.py --out .train/detector/run1 \
      --minutes 60 > .train/detector/run1.log 2>&1 &

Needs det_cache.py running (it renders the scenes into --cache).
Resume: the same command (it picks up OUT/last.pt), or --resume Models/detector/checkpoint.pt.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from det_model import STRIDES, PlateDetector, count_params, decode_consts, grid_info  # noqa: E402

# level assignment by plate width in input pixels (overlapping ranges)
LEVEL_RANGES = {8: (0, 96), 16: (48, 192), 32: (128, 1e9)}


def box_iou_giou(a, b):
    """a, b [M, 4] x1y1x2y2 -> iou, giou [M]."""
    ix1, iy1 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix2, iy2 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix2 - ix1).clamp(0) * (iy2 - iy1).clamp(0)
    aa = (a[:, 2] - a[:, 0]).clamp(0) * (a[:, 3] - a[:, 1]).clamp(0)
    ab = (b[:, 2] - b[:, 0]).clamp(0) * (b[:, 3] - b[:, 1]).clamp(0)
    union = aa + ab - inter + 1e-6
    iou = inter / union
    cx1, cy1 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx2, cy2 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    carea = (cx2 - cx1) * (cy2 - cy1) + 1e-6
    return iou, iou - (carea - union) / carea


def assign(targets, gx, gy, gs):
    """targets: list of [K, 13] tensors. Returns (img_idx, cell_idx, tgt rows [P, 13])."""
    out_i, out_c, out_t = [], [], []
    for bi, t in enumerate(targets):
        if len(t) == 0:
            continue
        cx, cy = (t[:, 0] + t[:, 2]) / 2, (t[:, 1] + t[:, 3]) / 2
        w, h = t[:, 2] - t[:, 0], t[:, 3] - t[:, 1]
        s = gs[None]                                                   # [1, N]
        lo = torch.where(s == 8, LEVEL_RANGES[8][0], torch.where(s == 16, LEVEL_RANGES[16][0], LEVEL_RANGES[32][0]))
        hi = torch.where(s == 8, LEVEL_RANGES[8][1], torch.where(s == 16, LEVEL_RANGES[16][1], LEVEL_RANGES[32][1]))
        wl = w[:, None]
        level_ok = (wl >= lo) & (wl <= hi)                             # [K, N]
        dx = (gx[None] - cx[:, None]).abs()
        dy = (gy[None] - cy[:, None]).abs()
        rx = torch.maximum(torch.minimum(w[:, None] / 2, 2.5 * s), 0.5 * s)
        ry = torch.maximum(torch.minimum(h[:, None] / 2, 1.5 * s), 0.5 * s)
        pos = level_ok & (dx <= rx) & (dy <= ry)
        # the nearest cell of the right level is always positive
        d = torch.where(level_ok, dx / s + dy / s, torch.full_like(dx, 1e9))
        nearest = d.argmin(1)
        pos[torch.arange(len(t)), nearest] = True
        area = (w * h)[:, None].expand_as(pos)
        cost = torch.where(pos, area, torch.full_like(area, float("inf")))
        best = cost.argmin(0)                                           # [N] smallest gt per cell
        cell_pos = pos.any(0)
        cells = cell_pos.nonzero().squeeze(1)
        out_i.append(torch.full((len(cells),), bi, dtype=torch.long))
        out_c.append(cells)
        out_t.append(t[best[cells]])
    if not out_i:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), torch.zeros(0, 13)
    return torch.cat(out_i), torch.cat(out_c), torch.cat(out_t)


def compute_loss(raw, targets, A, B, gx, gy, gs):
    """raw [B, 13, N] logits."""
    bi, ci, t = assign(targets, gx, gy, gs)
    score_logit = raw[:, 4]                                             # [B, N]
    dec = torch.sigmoid(raw) * A + B                                    # [B, 13, N]
    npos = max(1, len(ci))
    score_t = torch.zeros_like(score_logit)
    if len(ci):
        p = dec[bi, :, ci]                                              # [P, 13]
        pb = torch.stack([p[:, 0] - p[:, 2] / 2, p[:, 1] - p[:, 3] / 2, p[:, 0] + p[:, 2] / 2, p[:, 1] + p[:, 3] / 2], 1)
        iou, giou = box_iou_giou(pb, t[:, :4])
        l_box = (1 - giou).sum() / npos
        # soft target sqrt(IoU): IoU alone under-scores small plates, whose IoU is naturally lower
        score_t[bi, ci] = iou.detach().clamp(0.1, 1.0).sqrt()
        kv = t[:, 4] > 0
        if kv.any():
            hgt = (t[kv, 3] - t[kv, 1]).clamp(min=4.0)[:, None]
            l_kpt = F.smooth_l1_loss((p[kv, 5:] - t[kv, 5:]) / hgt, torch.zeros_like(p[kv, 5:]), reduction="sum", beta=0.1) / 8 / npos
        else:
            l_kpt = raw.sum() * 0
    else:
        l_box = raw.sum() * 0
        l_kpt = raw.sum() * 0
    # focal-weighted BCE on the score
    bce = F.binary_cross_entropy_with_logits(score_logit, score_t, reduction="none")
    pr = torch.sigmoid(score_logit)
    wgt = (score_t - pr).abs().pow(1.5)
    l_obj = (bce * wgt).sum() / npos
    total = 2.0 * l_obj + 2.0 * l_box + 1.0 * l_kpt
    return total, dict(obj=l_obj.item(), box=l_box.item(), kpt=l_kpt.item(), npos=len(ci))


class CachePool:
    """Samples from the shards written by det_cache.py: newest shards first, each sample reused a few times,
    random horizontal flip (corners re-ordered so TL stays top-left)."""

    def __init__(self, cache_dir, size, max_samples=60000, seed=0):
        self.dir, self.size, self.max = cache_dir, size, max_samples
        self.loaded: set = set()
        self.jpg: list = []
        self.tgt: list = []
        self.rng = random.Random(seed)
        self.refresh(wait=True)

    def refresh(self, wait=False):
        import glob
        while True:
            shards = sorted(glob.glob(os.path.join(self.dir, "shard_*.npz")), key=os.path.getmtime)
            new = [p for p in shards if p not in self.loaded]
            if new or not wait or self.jpg:
                break
            time.sleep(10)
        for p in new:
            try:
                z = np.load(p, allow_pickle=True)
                if int(z["size"]) != self.size:
                    self.loaded.add(p); continue
                self.jpg.extend(z["jpg"].tolist()); self.tgt.extend(z["tgt"].tolist())
            except Exception as e:  # noqa: BLE001
                print("bad shard", p, e, flush=True)
            self.loaded.add(p)
        if len(self.jpg) > self.max:
            self.jpg = self.jpg[-self.max:]; self.tgt = self.tgt[-self.max:]
        return len(new)

    def batch(self, n, height=None):
        """n samples; with `height` each is cut to that many rows (a wide picture, as 16:9 frames reach the
        runtime's 512x288 input: no letterbox bands), inside the picture's content where it has bands."""
        import cv2
        imgs, tg = [], []
        N = len(self.jpg)
        for _ in range(n):
            # favour recent samples: half of the picks from the newest 25 %
            i = self.rng.randrange(N) if self.rng.random() < 0.5 else N - 1 - self.rng.randrange(max(1, N // 4))
            img = cv2.imdecode(np.frombuffer(self.jpg[i], np.uint8), cv2.IMREAD_COLOR)
            t = self.tgt[i].copy()
            if self.rng.random() < 0.5:
                img = img[:, ::-1]
                W = img.shape[1]
                x1 = W - t[:, 2]; x2 = W - t[:, 0]
                t[:, 0], t[:, 2] = x1, x2
                c = t[:, 5:].reshape(-1, 4, 2).copy()
                c[:, :, 0] = W - c[:, :, 0]
                t[:, 5:] = c[:, [1, 0, 3, 2]].reshape(-1, 8)
            if height is not None and height < img.shape[0]:
                pad = (np.abs(img.astype(np.int16) - 114) <= 2).all(axis=(1, 2))
                rows = np.flatnonzero(~pad)
                top, bottom = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, img.shape[0])
                lo, hi = (top, bottom - height) if bottom - top >= height else (max(0, bottom - height), min(top, img.shape[0] - height))
                y0 = self.rng.randint(min(lo, hi), max(lo, hi))
                img = img[y0:y0 + height]
                t = t.copy()
                t[:, [1, 3]] -= y0
                t[:, 6::2] -= y0
                cy = (t[:, 1] + t[:, 3]) / 2
                t = t[(cy >= 0) & (cy < height)]
            imgs.append(torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))))
            tg.append(torch.from_numpy(t))
        return torch.stack(imgs), tg


def collate(batch):
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]


def save_ckpt(path, model, opt, step, args, extra=None):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "cfg": model.cfg,
                "args": vars(args), "torch_rng": torch.get_rng_state(), "py_rng": random.getstate(),
                "np_rng": np.random.get_state(), **(extra or {})}, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".train/detector/run1")
    ap.add_argument("--resume", default=None, help="checkpoint to start from (default OUT/last.pt if present)")
    ap.add_argument("--size", type=int, default=352)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--steps", type=int, default=200000, help="total steps of the cosine schedule")
    ap.add_argument("--minutes", type=float, default=60, help="finish the (remaining) cosine schedule in this many minutes, then stop")
    ap.add_argument("--sched-reset", action="store_true", help="start a new cosine schedule instead of continuing the stored one")
    ap.add_argument("--cache", default=".train/detector/cache")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-min", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", default="12,24,40,80,128")
    ap.add_argument("--depth", default="0,2,2,2")
    ap.add_argument("--neck", type=int, default=32)
    ap.add_argument("--wide", type=float, default=0.4, help="share of batches cut to 16:9 (no letterbox bands)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    last = os.path.join(args.out, "last.pt")
    resume = args.resume or (last if os.path.exists(last) else None)
    ck = torch.load(resume, map_location="cpu", weights_only=False) if resume else None
    if ck:
        cfg = ck["cfg"]
        model = PlateDetector(width=cfg["width"], depth=cfg["depth"], neck=cfg["neck"])
        model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    else:
        model = PlateDetector(width=[int(v) for v in args.width.split(",")], depth=[int(v) for v in args.depth.split(",")], neck=args.neck)
    print(f"params {count_params(model)} cfg {model.cfg}", flush=True)
    import copy
    ema = copy.deepcopy(model).eval()
    for p_ in ema.parameters():
        p_.requires_grad_(False)
    if ck and "ema" in ck:
        ema.load_state_dict({k: v.float() for k, v in ck["ema"].items()})
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=args.lr)
    step = 0
    if ck:
        if "opt" in ck and ck["opt"]:
            try:
                opt.load_state_dict(ck["opt"])
            except Exception as e:  # noqa: BLE001
                print("optimizer state not loaded:", e)
        step = ck.get("step", 0)
        if "torch_rng" in ck:
            torch.set_rng_state(ck["torch_rng"]); random.setstate(ck["py_rng"]); np.random.set_state(ck["np_rng"])
        print(f"resumed from {resume} at step {step}", flush=True)
    pool = CachePool(args.cache, args.size, seed=args.seed + step)
    print(f"cache: {len(pool.jpg)} samples", flush=True)
    wide_h = args.size * 9 // 16 // 32 * 32   # 352 -> 192: a 16:9 frame's share of a square input
    consts = {h: (*decode_consts(h, args.size), *grid_info(h, args.size)) for h in (args.size, wide_h)}
    model.train()
    t0 = time.time(); tck = time.time(); tlog = time.time()
    agg = {}
    warm = 300
    p0 = 0.0 if (not ck or args.sched_reset) else float(ck.get("sched_p", 0.0))
    p = p0
    consumed_total = 0  # since this process started (the renderer counts from its own start too)
    import signal
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))  # checkpoint, then exit
    while True:
        if step % 25 == 0:
            pool.refresh()
            consumed_total += 25 * args.batch
            try:
                with open(os.path.join(args.cache, "consumed.txt"), "w") as f:
                    f.write(f"{consumed_total}\n")
            except OSError:
                pass
        h = wide_h if random.random() < args.wide else args.size
        A, B, gx, gy, gs = consts[h]
        imgs, targets = pool.batch(args.batch, height=h if h != args.size else None)
        # schedule progress: the larger of steps done and wall time used; resumes continue from the stored p
        p = max(p0 + (1 - p0) * (time.time() - t0) / (args.minutes * 60), step / args.steps)
        p = min(1.0, p)
        lr = args.lr * min(1.0, (step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))
        for g in opt.param_groups:
            g["lr"] = lr
        x = imgs.float() / 255.0
        raw = model.raw(x)
        loss, parts = compute_loss(raw, targets, A, B, gx, gy, gs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        step += 1
        with torch.no_grad():  # EMA of the weights (what gets exported)
            d = min(0.999, (1 + step) / (10 + step))
            for e_, m_ in zip(ema.state_dict().values(), model.state_dict().values()):
                if e_.dtype.is_floating_point:
                    e_.mul_(d).add_(m_.detach(), alpha=1 - d)
                else:
                    e_.copy_(m_)
        for k, v in parts.items():
            agg[k] = agg.get(k, 0) + v
        agg["n"] = agg.get("n", 0) + 1
        if time.time() - tlog > 60:
            n = agg.pop("n")
            agg["pool"] = len(pool.jpg) * n
            print(f"step {step} p {p:.3f} lr {lr:.2e} " + " ".join(f"{k} {v / n:.4f}" for k, v in agg.items()) +
                  f" | {(time.time() - t0) / 60:.1f} min, {n / (time.time() - tlog):.2f} it/s", flush=True)
            agg = {}; tlog = time.time()
        done = p >= 1.0 or stop["flag"]
        if time.time() - tck > args.ckpt_min * 60 or done:
            save_ckpt(last, model, opt, step, args, {"ema": ema.state_dict(), "sched_p": p})
            print(f"checkpoint {last} step {step}", flush=True)
            tck = time.time()
        if done:
            break


if __name__ == "__main__":
    main()
