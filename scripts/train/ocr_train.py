"""Train the plate reader (CTC) on synthetic plates rendered on the fly in DataLoader workers.

Resumable: re-running the same command continues from <out>/last.pt (model, EMA, optimizer, step, RNG).

    nohup nice -n 19 .venv-train/bin/python scripts/train/ocr_train.py --out .train/ocr/run1 \
        > .train/ocr/run1.log 2>&1 &

On a GPU machine (`--device auto` picks CUDA) the rendering is the limit: give it the cores (`--workers 14`) and
bring the fonts along (scripts/train/pack-gpu; PLATESTREAM_FONT_DIRS points plates.py at them).

Options that may change between resumes: --lr, --decay-start, --decay-steps, --minutes, --batch, --ro-pseudo,
--runtime-crops, --runtime-frac, --runtime-val.

--runtime-crops DIR mixes in crops cut the way the Swift runtime cuts them (scripts/train/runtime_crops.py gen / ro
--split train: shards DIR/*.npz, re-listed while a generator still writes them) as --runtime-frac of the samples.
"""
from __future__ import annotations

import os as _os

# Under CPU contention (other niced jobs, compilers) OpenMP spin-waiting wastes most of the CPU time:
# measured here 31 samples per CPU-second with 2 spinning threads vs 108 with passive waiting.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocr_data as D  # noqa: E402
import ocr_model as OM  # noqa: E402


class SynthStream(IterableDataset):
    def __init__(self, seed, pseudo_path=None, pseudo_frac=0.0, reuse=0.5, start_step=0, batch=48, easy_steps=0,
                 easy_min=0.0, runtime_dirs=(), runtime_frac=0.0):
        self.seed = seed
        self.runtime_dirs, self.runtime_frac = list(runtime_dirs), runtime_frac
        self.start_step, self.batch, self.easy_steps, self.easy_min = start_step, batch, easy_steps, easy_min
        self.reuse = reuse
        self.pseudo_path = pseudo_path
        self.pseudo_frac = pseudo_frac

    def __iter__(self):
        wi = torch.utils.data.get_worker_info()
        wid = wi.id if wi else 0
        rng = random.Random(self.seed * 1000 + wid)
        np.random.seed((self.seed * 1000 + wid) % (2 ** 31))
        pseudo = load_pseudo(self.pseudo_path) if (self.pseudo_path and self.pseudo_frac > 0) else []
        # Rendering costs about as much CPU as a training step on this machine: keep a pool of rendered
        # samples and show each one about twice (with a random 1-2 px shift the second time).
        pool, pool_max = [], 6000
        n_out = 0
        runtime = RuntimeCrops(self.runtime_dirs) if self.runtime_dirs and self.runtime_frac > 0 else None
        while True:
            n_out += 1
            if runtime is not None and rng.random() < self.runtime_frac:
                s = runtime.sample(rng)
                if s is not None:
                    yield s
                    continue
            if pseudo and rng.random() < self.pseudo_frac:
                yield pseudo_sample(rng, pseudo)
                continue
            if len(pool) >= 500 and rng.random() < self.reuse:
                g, text = pool[rng.randrange(len(pool))]
                g = np.roll(g, (rng.randint(-1, 1), rng.randint(-2, 2)), (0, 1))
                yield g, text
                continue
            easy_p = max(self.easy_min, 1.0 - (self.start_step + n_out / self.batch) / self.easy_steps) if self.easy_steps else 0.0
            try:
                g, text, _ = D.make_sample(rng, easy=rng.random() < easy_p)
            except Exception as e:  # a renderer corner case must not kill training
                print("render error:", repr(e), file=sys.stderr)
                continue
            if not text or not D.sample_text_ok(text):
                continue
            if len(pool) < pool_max:
                pool.append((g, text))
            else:
                pool[rng.randrange(pool_max)] = (g, text)
            yield g, text


class RuntimeCrops:
    """Crops cut like the runtime (runtime_crops.py shards: x N x 48 x 160 uint8, t texts) from one or more
    folders; the shard list is read again every 3000 samples, so shards a running generator adds are used."""

    def __init__(self, dirs):
        self.dirs, self.seen, self.x, self.t, self.n = dirs, set(), [], [], 0

    def _refresh(self):
        import glob
        for d in self.dirs:
            for p in sorted(glob.glob(os.path.join(d, "*.npz"))):
                if p in self.seen or p.endswith(".tmp.npz"):
                    continue
                try:
                    z = np.load(p)
                    x, t = z["x"], [str(v) for v in z["t"]]
                except Exception:  # a shard being written
                    continue
                self.seen.add(p)
                keep = [i for i, v in enumerate(t) if v and D.sample_text_ok(v)]
                self.x.extend(x[i] for i in keep)
                self.t.extend(t[i] for i in keep)

    def sample(self, rng):
        if self.n % 3000 == 0:
            self._refresh()
        self.n += 1
        if not self.x:
            return None
        i = rng.randrange(len(self.x))
        g = self.x[i]
        if rng.random() < 0.5:  # a pixel of shift: the crops are shown several times
            g = np.roll(g, (rng.randint(-1, 1), rng.randint(-1, 1)), (0, 1))
        return g, self.t[i]


def load_pseudo(path):
    """Pseudo-labelled crops of the MIT `ro` set (ocr_pseudo.py): list of (BGR crop, text)."""
    import cv2
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            im = cv2.imread(os.path.join(D.RO_DIR, r["image"]))
            if im is None:
                continue
            x0, y0, x1, y1 = r["box"]
            out.append((im, (x0, y0, x1, y1), r["text"]))
    return out


def pseudo_sample(rng, pseudo):
    """A ro plate crop with crop jitter and camera degradations."""
    im, (x0, y0, x1, y1), text = pseudo[rng.randrange(len(pseudo))]
    w, h = x1 - x0, y1 - y0
    X0 = int(max(0, x0 - w * rng.uniform(-0.03, 0.12)))
    X1 = int(min(im.shape[1], x1 + w * rng.uniform(-0.03, 0.12)))
    Y0 = int(max(0, y0 - h * rng.uniform(-0.05, 0.3)))
    Y1 = int(min(im.shape[0], y1 + h * rng.uniform(-0.05, 0.3)))
    crop = im[Y0:Y1, X0:X1]
    if rng.random() < 0.5:
        import cv2
        s = rng.uniform(0.5, 1.0)
        crop = cv2.resize(crop, (max(8, int(crop.shape[1] * s)), max(6, int(crop.shape[0] * s))), interpolation=cv2.INTER_AREA)
    g = D.camera(rng, crop) if rng.random() < 0.7 else D.preprocess(crop)
    return D.preprocess(g), text


def collate(batch):
    imgs = torch.from_numpy(np.stack([b[0] for b in batch])).float().div_(255.0).unsqueeze(1)
    labels = [D.encode(b[1]) for b in batch]
    lens = torch.tensor([len(l) for l in labels], dtype=torch.long)
    flat = torch.tensor([c for l in labels for c in l], dtype=torch.long)
    texts = [b[1] for b in batch]
    return imgs, flat, lens, texts


def greedy_decode(probs):
    """probs: B x T x K -> list of (text, per-char confidences)."""
    out = []
    p, idx = probs.max(2)
    for b in range(probs.shape[0]):
        s, conf, prev = [], [], 0
        for t in range(probs.shape[1]):
            k = int(idx[b, t])
            if k != 0 and k != prev:
                s.append(D.ALPHABET[k - 1])
                conf.append(float(p[b, t]))
            prev = k
        out.append(("".join(s), conf))
    return out


def make_val(n=600, seed=12345):
    rng = random.Random(seed)
    np.random.seed(seed)
    xs, ts = [], []
    while len(xs) < n:
        g, t, _ = D.make_sample(rng)
        if D.sample_text_ok(t):
            xs.append(g)
            ts.append(t)
    return np.stack(xs), ts


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if step < a.decay_start:
        return a.lr
    t = min(1.0, (step - a.decay_start) / max(1, a.decay_steps))
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def save_ckpt(path, model, ema, opt, step, args, extra=None):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                "args": vars(args), "py_rng": random.getstate(), "np_rng": np.random.get_state(),
                "torch_rng": torch.get_rng_state(), "alphabet": D.ALPHABET, "extra": extra or {}}, tmp)
    os.replace(tmp, path)


def _ignore_term(_):
    # `pkill -f ocr_train.py` reaches the data workers too: they must leave SIGTERM to the main process, which
    # checkpoints and exits (a killed worker would crash the loop before the checkpoint).
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".train/ocr/run1")
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.03)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--decay-start", type=int, default=10 ** 9)
    ap.add_argument("--decay-steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=1e9, help="stop after this many minutes (this run)")
    ap.add_argument("--max-steps", type=int, default=10 ** 9)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-every-min", type=float, default=8.0)
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--width", default="16,32,64,96,128")
    ap.add_argument("--ro-pseudo", default="", help="jsonl of pseudo-labelled ro crops to mix in")
    ap.add_argument("--pseudo-frac", type=float, default=0.1)
    ap.add_argument("--reuse", type=float, default=0.5, help="fraction of samples drawn again from the render pool")
    ap.add_argument("--easy-steps", type=int, default=1500, help="curriculum: share of easy samples falls 1 -> easy-min over these steps")
    ap.add_argument("--easy-min", type=float, default=0.1)
    ap.add_argument("--ema", type=float, default=0.995, help="EMA decay of the exported weights")
    ap.add_argument("--init", default="", help="initialise weights from this checkpoint (fresh optimizer)")
    ap.add_argument("--init-full", action="store_true", help="with --init: also restore optimizer and step")
    ap.add_argument("--runtime-crops", default="", help="comma-separated folders of runtime_crops.py shards to mix in")
    ap.add_argument("--runtime-frac", type=float, default=0.5, help="share of samples from --runtime-crops")
    ap.add_argument("--runtime-val", default="", help="runtime_crops.py val npz: exact %% per margin at each validation")
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when there is one)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else ("cpu" if a.device == "auto" else a.device))
    print("device", dev, flush=True)
    os.makedirs(a.out, exist_ok=True)
    width = tuple(int(v) for v in a.width.split(","))
    model = OM.PlateReader(D.NUM_CLASSES, width)
    ema = OM.PlateReader(D.NUM_CLASSES, width)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step = 0
    last = os.path.join(a.out, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        random.setstate(ck["py_rng"])
        np.random.set_state(ck["np_rng"])
        torch.set_rng_state(ck["torch_rng"])
        print("resumed from", last, "step", step, flush=True)
    else:
        if a.init:
            ck = torch.load(a.init, map_location="cpu", weights_only=False)
            fl = lambda sd: {k: (v.float() if v.dtype == torch.float16 else v) for k, v in sd.items()}
            if a.init_full and "opt" in ck:
                # continue the run of a small checkpoint (Models/ocr/checkpoint.pt): weights, EMA, optimizer, step
                model.load_state_dict(fl(ck["model"]))
                opt.load_state_dict(ck["opt"])
                step = ck["step"]
                print("continuing from", a.init, "step", step, flush=True)
            else:
                model.load_state_dict(fl(ck.get("ema", ck.get("model"))))
                print("initialised from", a.init, flush=True)
            ema.load_state_dict(fl(ck["ema"]) if "ema" in ck else model.state_dict())
        else:
            ema.load_state_dict(model.state_dict())
    model.to(dev)
    ema.to(dev)
    if step:
        # The optimizer state was loaded before the model moved: move its tensors along.
        for st in opt.state.values():
            for k, v in st.items():
                if torch.is_tensor(v) and k != "step":
                    st[k] = v.to(dev)
    for p in ema.parameters():
        p.requires_grad_(False)
    print("params", OM.count_params(model), "classes", D.NUM_CLASSES, flush=True)

    val_path = os.path.join(a.out, "..", "val_synth.npz")
    if os.path.exists(val_path):
        z = np.load(val_path, allow_pickle=True)
        vx, vt = z["x"], list(z["t"])
    else:
        vx, vt = make_val()
        np.savez(val_path, x=vx, t=np.array(vt, dtype=object))
    vxt = torch.from_numpy(vx).float().div(255.0).unsqueeze(1).to(dev)

    ds = SynthStream(seed=1 + step, pseudo_path=a.ro_pseudo or None, pseudo_frac=a.pseudo_frac, reuse=a.reuse,
                     start_step=step, batch=a.batch, easy_steps=a.easy_steps, easy_min=a.easy_min,
                     runtime_dirs=[d for d in a.runtime_crops.split(",") if d], runtime_frac=a.runtime_frac)
    rv = None
    if a.runtime_val and os.path.exists(a.runtime_val):
        z = np.load(a.runtime_val)
        rv = (torch.from_numpy(z["x"].reshape(-1, *z["x"].shape[2:])).float().div(255.0).unsqueeze(1).to(dev), list(z["t"]), z["x"].shape[1])
    dl = DataLoader(ds, batch_size=a.batch, num_workers=a.workers, collate_fn=collate, prefetch_factor=4 if a.workers else None,
                    persistent_workers=bool(a.workers), worker_init_fn=_ignore_term, pin_memory=dev.type == "cuda")
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    t0 = time.time()
    last_ck = time.time()
    run_loss, n_seen = 0.0, 0
    t_last = 0.0
    ema_decay = a.ema
    model.train()
    stop = {"flag": False}

    def _on_term(signum, frame):  # kill <pid>: checkpoint at the next step, then exit
        stop["flag"] = True

    import signal
    signal.signal(signal.SIGTERM, _on_term)
    for imgs, flat, lens, texts in dl:
        lr = lr_at(step, a)
        for g in opt.param_groups:
            g["lr"] = lr
        imgs, flat, lens = imgs.to(dev, non_blocking=True), flat.to(dev), lens.to(dev)
        logits = model(imgs, logits=True)                     # B x T x K
        lp = logits.log_softmax(2).permute(1, 0, 2)          # T x B x K
        T = lp.shape[0]
        loss = ctc(lp, flat, torch.full((imgs.shape[0],), T, dtype=torch.long, device=dev), lens)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        with torch.no_grad():
            d = min(ema_decay, (1 + step) / (10 + step))
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
                else:
                    pe.copy_(pm)
        run_loss += float(loss.detach())
        n_seen += 1
        if step % 50 == 0:
            el = time.time() - t0
            print("step %d loss %.4f lr %.2e  %.1f samples/s  %.1f min" % (
                step, run_loss / n_seen, lr, a.batch * n_seen / max(1e-6, el - t_last), el / 60), flush=True)
            t_last = el
            run_loss, n_seen = 0.0, 0
        if step % a.val_every == 0:
            ema.eval()
            with torch.no_grad():
                pr = torch.cat([ema(vxt[i:i + 200]) for i in range(0, len(vxt), 200)]).cpu()
            dec = greedy_decode(pr)
            acc = np.mean([d_[0] == t for d_, t in zip(dec, vt)])
            print("VAL step %d synth exact %.3f" % (step, acc), flush=True)
            if rv is not None:
                with torch.no_grad():
                    pr = torch.cat([ema(rv[0][i:i + 200]) for i in range(0, len(rv[0]), 200)]).cpu()
                dec = [d_[0] for d_ in greedy_decode(pr)]
                m = rv[2]
                ex = [100.0 * np.mean([dec[i * m + j] == t for i, t in enumerate(rv[1])]) for j in range(m)]
                print("VAL step %d runtime crops exact per margin %s  mean %.1f  max-min %.1f" % (
                    step, " ".join("%.1f" % v for v in ex), np.mean(ex), max(ex) - min(ex)), flush=True)
        done = (time.time() - t0) / 60 > a.minutes or step >= a.max_steps or stop["flag"]
        if time.time() - last_ck > a.ckpt_every_min * 60 or done:
            save_ckpt(last, model, ema, opt, step, a)
            last_ck = time.time()
            print("checkpoint step", step, flush=True)
        if done:
            break
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
