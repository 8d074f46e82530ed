"""Background renderer: writes shards of pre-rendered training scenes for det_train.py.

  nice -n 19 nohup .venv-train/bin/python scripts/train/det_cache.py --out .train/detector/cache --size 352 &

Each shard is an .npz with `jpg` (object array of JPEG bytes, quality 95), `tgt` (object array of [K, 13]
float32 targets, see det_data.make_sample) and `renderer` ('plates' or 'simple'). Shards are written
atomically (tmp + rename). Stops when --max-shards exist (oldest are deleted beyond --keep).
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import det_data  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".train/detector/cache")
    ap.add_argument("--size", type=int, default=352)
    ap.add_argument("--shard", type=int, default=256)
    ap.add_argument("--keep", type=int, default=400, help="keep at most this many shards (delete oldest)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--reuse", type=float, default=3.0, help="target uses of each sample by the trainer (0: no throttle)")
    ap.add_argument("--ahead", type=int, default=2048)
    ap.add_argument("--recess", type=float, default=0.0,
                    help="share of pasted plates drawn in a mounting recess / surround with lamps beside (det_data.draw_recess)")
    args = ap.parse_args()
    det_data.RECESS_P = args.recess
    os.makedirs(args.out, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 2**31
    rng = random.Random(seed)
    ro = det_data.load_ro("all")
    t_end = time.time() + args.hours * 3600
    k = 0
    produced = 0
    while time.time() < t_end:
        # throttle: the trainer writes how many samples it consumed; stay at most --ahead samples ahead of
        # consumed / --reuse, so that rendering does not take the CPU the trainer needs
        cpath = os.path.join(args.out, "consumed.txt")
        while args.reuse > 0 and os.path.exists(cpath) and time.time() < t_end:
            try:
                consumed = int(open(cpath).read().split()[0])
            except (OSError, ValueError, IndexError):
                break
            if produced < args.ahead or produced < consumed / args.reuse + args.ahead:
                break
            time.sleep(15)
        # pick up plates.py as soon as it appears
        if det_data._RENDER is None or det_data._RENDER[0] == "simple":
            det_data._RENDER = None
            det_data.get_renderer()
        t0 = time.time()
        jpgs, tgts = [], []
        for _ in range(args.shard):
            try:
                img, t = det_data.make_sample(rng, args.size, ro)
            except Exception as e:  # noqa: BLE001 - a broken plates.py must not stop the cache
                print(f"sample failed ({type(e).__name__}: {e}); simple renderer for this one", flush=True)
                saved = det_data._RENDER
                det_data._RENDER = ("simple", det_data.simple_render_plate)
                img, t = det_data.make_sample(rng, args.size, ro)
                det_data._RENDER = saved
            jpgs.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
            tgts.append(t)
        name = os.path.join(args.out, f"shard_{int(time.time() * 1000)}_{seed % 10000:04d}_{k:05d}.npz")
        ja, ta = np.empty(len(jpgs), object), np.empty(len(tgts), object)
        ja[:], ta[:] = jpgs, tgts
        with open(name + ".tmp", "wb") as f:
            np.savez(f, jpg=ja, tgt=ta, renderer=det_data._RENDER[0], size=args.size)
        os.replace(name + ".tmp", name)
        k += 1
        produced += args.shard
        print(f"{name} {args.shard / (time.time() - t0):.1f} samples/s renderer={det_data._RENDER[0]}", flush=True)
        shards = sorted(glob.glob(os.path.join(args.out, "shard_*.npz")), key=os.path.getmtime)
        for old in shards[:-args.keep]:
            os.remove(old)


if __name__ == "__main__":
    main()
