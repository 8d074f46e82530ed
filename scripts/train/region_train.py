"""A plate-look classifier for hint-free reading (issue 16 item 6): which family a plate crop's look says it is.

Without `regions` the template prior spreads over every region, and a plate's look, which a person uses first,
counts for nothing: dev br without hints reads a leading O as 0 and drops a last character (47 % exact against 95 %
hinted). This trains a small CNN on colour crops of synthetic plates (plates.py, every style, cut the way the runtime
cuts detections: margin, rotation, scale and shift jitter, blur, noise, JPEG, colour casts) plus the MIT `ro` frames'
plates (all Romanian: family eu), and measures it on held-out synthetic crops and, for confirmation only, on the
labelled boxes of the AGPL dev sets (us, eu, br: measured, never trained on).

    .venv-train/bin/python scripts/train/region_train.py --out .train/region --samples 40000 --epochs 6
    .venv-train/bin/python scripts/train/region_train.py --out .train/region --eval-only     # the figures again

Families (output order): us, eu, br, kr, cn. Input: the runtime's 160x48 BGR crop shrunk to 100x30 (INTER_AREA), value / 255, NCHW float32.
"""
from __future__ import annotations

import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402
import runtime_crops as RC  # noqa: E402

cv2.setNumThreads(1)
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATASETS = os.path.join(REPO, "..", "shared", "datasets")
FAMILIES = ["us", "eu", "br", "kr", "cn"]
W, H = 100, 30          # the look model's input (the runtime's 160x48 crop, shrunk with INTER_AREA)


def family(style: str) -> int:
    return FAMILIES.index(style.split("_")[0])


def cut(img, quad, rng, jitter=True):
    """The runtime's colour crop of a plate quad (TL, TR, BR, BL; runtime_crops.cut, the port of
    ONNXPlateReader.crop) with margin, rotation, scale and shift jitter, shrunk to W x H as the runtime does."""
    q = np.asarray(quad, np.float64)
    mx = rng.uniform(-0.02, 0.16) if jitter else 0.06
    my = rng.uniform(-0.02, 0.2) if jitter else 0.06
    shake = (rng.gauss(0, 2), rng.gauss(1, 0.04), rng.gauss(0, 0.02), rng.gauss(0, 0.05)) if jitter else None
    box = (q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max())
    crop = RC.cut(img, box, q, mx, my, shake, grey=False)
    return cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA)


def degrade(crop, rng):
    """A crop as a camera sees it: small (down and up again), blurred, noisy, colour-cast, JPEG."""
    out = crop.astype(np.float32)
    if rng.random() < 0.8:   # colour cast, brightness, contrast, saturation
        out = out * np.array([rng.uniform(0.75, 1.25) for _ in range(3)], np.float32) * rng.uniform(0.5, 1.3)
        grey = out.mean(2, keepdims=True)
        out = grey + (out - grey) * rng.uniform(0.3, 1.3)
        out = (out - 128) * rng.uniform(0.6, 1.2) + 128 + rng.uniform(-30, 30)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:   # a plate 40-90 px wide in the picture
        w = rng.randint(30, 90)
        small = cv2.resize(out, (w, max(8, int(w * H / W))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.2))
    if rng.random() < 0.5:
        out = np.clip(out.astype(np.float32) + np.random.normal(0, rng.uniform(2, 10), out.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 90)])
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return out


def synthetic(rng, n):
    """n crops of rendered plates on random backgrounds; families balanced."""
    xs, ys = [], []
    per_family = {f: [s for s in plates.STYLES if s.split("_")[0] == f] for f in FAMILIES}
    while len(xs) < n:
        fam = rng.choice(FAMILIES)
        style = rng.choice(per_family[fam])
        try:
            img, _, st, corners = plates.render_plate(rng, style)
        except Exception:
            continue
        ph, pw = img.shape[:2]
        pad = int(pw * 0.4)
        bg = np.random.randint(0, 255, (ph + 2 * pad, pw + 2 * pad, 3)).astype(np.uint8)
        bg = cv2.GaussianBlur(cv2.resize(cv2.resize(bg, (8, 8)), (bg.shape[1], bg.shape[0])), (0, 0), 5)
        bg[pad:pad + ph, pad:pad + pw] = img
        xs.append(degrade(cut(bg, np.asarray(corners) + pad, rng), rng))
        ys.append(family(st))
    return np.stack(xs), np.array(ys)


def labelled_boxes(name, fam, limit=None):
    """Crops of a labelled set's plate boxes (its labels.jsonl) at the runtime's 0.06 margin, all of family `fam`."""
    folder = os.path.join(DATASETS, name)
    xs = []
    with open(os.path.join(folder, "labels.jsonl")) as f:
        for line in f:
            item = json.loads(line)
            img = cv2.imread(os.path.join(folder, item["image"]))
            if img is None:
                continue
            for p in item["plates"]:
                x0, y0, x1, y1 = p["box"]
                quad = p.get("polygon") or [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
                xs.append(cut(img, quad, random.Random(0), jitter=False))
            if limit and len(xs) >= limit:
                break
    return np.stack(xs), np.full(len(xs), FAMILIES.index(fam))


class Net(nn.Module):
    def __init__(self):
        super().__init__()

        def block(i, o):
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*block(3, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2),
                                      *block(32, 64), nn.MaxPool2d(2), *block(64, 64))
        self.head = nn.Linear(64, len(FAMILIES))

    def forward(self, x):
        f = self.features(x)
        return torch.softmax(self.head(f.mean(dim=(2, 3))), dim=1)

    def logits(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def tensor(x):
    return torch.from_numpy(x.astype(np.float32).transpose(0, 3, 1, 2) / 255.0)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        p = torch.cat([model(tensor(x[i:i + 256])) for i in range(0, len(x), 256)]).numpy()
    pred = p.argmax(1)
    return float((pred == y).mean() * 100), float(p[np.arange(len(y)), y].mean()), np.bincount(pred, minlength=len(FAMILIES))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, ".train", "region"))
    ap.add_argument("--samples", type=int, default=40000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", default="", help="write plate-look.onnx + .json (and checks OpenCV against PyTorch) here")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    model = Net()
    ckpt = os.path.join(a.out, "region.pt")
    if not a.eval_only:
        t0 = time.time()
        cache = os.path.join(a.out, "train_%d_%d.npz" % (a.samples, a.seed))
        if os.path.exists(cache):
            d = np.load(cache)
            x, y = d["x"], d["y"]
        else:
            x, y = synthetic(rng, a.samples)
            np.savez_compressed(cache, x=x, y=y)
        ro_x, ro_y = labelled_boxes("ro", "eu")   # MIT: may be trained on
        ro_x = np.stack([degrade(c, rng) if rng.random() < 0.5 else c for c in ro_x])
        x = np.concatenate([x] + [ro_x] * 4)
        y = np.concatenate([y] + [ro_y] * 4)
        print("data: %d crops (%d ro) in %.0f s" % (len(x), len(ro_x) * 4, time.time() - t0), flush=True)
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
        steps = a.epochs * (len(x) // 64)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
        lossf = nn.CrossEntropyLoss(label_smoothing=0.05)
        step = 0
        for epoch in range(a.epochs):
            model.train()
            order = np.random.permutation(len(x))
            total = 0.0
            for i in range(0, len(order) - 63, 64):
                idx = order[i:i + 64]
                batch = x[idx]
                if rng.random() < 0.5:
                    batch = batch[:, :, ::-1]   # mirrored: the look, not the characters, decides
                loss = lossf(model.logits(tensor(np.ascontiguousarray(batch))), torch.from_numpy(y[idx]).long())
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                total += loss.item()
            print("epoch %d: loss %.3f (%.0f s)" % (epoch + 1, total / (len(order) // 64), time.time() - t0), flush=True)
        torch.save({"model": model.state_dict(), "families": FAMILIES, "args": vars(a)}, ckpt)
    else:
        model.load_state_dict(torch.load(ckpt)["model"])
    vx, vy = synthetic(random.Random(990001), 2000)
    figures = {"synthetic val": accuracy(model, vx, vy)}
    for name, fam in (("us", "us"), ("eu", "eu"), ("br", "br"), ("br_crops", "br")):
        bx, by = labelled_boxes(name, fam, limit=400)
        figures[name] = accuracy(model, bx, by)
    for k, (acc, p, counts) in figures.items():
        print("%-14s right %5.1f %%  mean p(true) %.3f  predicted %s" % (k, acc, p, dict(zip(FAMILIES, counts.tolist()))))
    if a.export:
        export(model, a.export, vx[:16], figures)


def export(model, folder, sample, figures):
    """ONNX at opset 12 (TorchScript exporter, weights inside), its sidecar, and OpenCV 4.6 checked against PyTorch."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "plate-look.onnx")
    model.eval()
    x = tensor(sample)
    torch.onnx.export(model, x[:1], path, opset_version=12, input_names=["image"], output_names=["families"],
                      dynamic_axes={"image": {0: "n"}, "families": {0: "n"}}, dynamo=False)
    with torch.no_grad():
        ref = model(x).numpy()
    net = cv2.dnn.readNetFromONNX(path)
    net.setInput(x.numpy())
    got = net.forward()
    diff = float(np.abs(got - ref).max())
    assert diff < 1e-4, "OpenCV differs from PyTorch by %g" % diff
    with open(os.path.join(folder, "plate-look.json"), "w") as f:
        json.dump({"families": FAMILIES, "input_width": W, "input_height": H, "scale": 1 / 255.0,
                   "figures": {k: {"right_percent": round(v[0], 1), "mean_p_true": round(v[1], 3)} for k, v in figures.items()},
                   "rebuild": "scripts/train/region_train.py (Models/region/README.md)"}, f, indent=2)
    print("exported %s (OpenCV vs PyTorch max diff %.2g, batch of %d)" % (path, diff, len(sample)))


if __name__ == "__main__":
    main()
