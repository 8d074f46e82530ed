"""Export the plate reader checkpoint (EMA weights) to ONNX (opset 12, TorchScript exporter, weights inside),
write the JSON sidecar, verify onnxruntime == PyTorch, and save a small resumable checkpoint copy.

    .venv-train/bin/python scripts/train/ocr_export.py --ckpt .train/ocr/run1/last.pt --out Models/ocr
Then verify with the Debian OpenCV 4.6 binding:
    /usr/bin/python3 scripts/train/ocr_verify_cv.py Models/ocr/plate-reader.onnx .train/ocr/export_ref_ocr.npz
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocr_data as D  # noqa: E402
import ocr_model as OM  # noqa: E402


def load_model(ckpt_path, use_ema=True):
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    width = tuple(int(v) for v in ck["args"].get("width", "16,32,64,96,128").split(","))
    m = OM.PlateReader(D.NUM_CLASSES, width)
    sd = ck["ema"] if use_ema and "ema" in ck else ck["model"]
    m.load_state_dict({k: v.float() if v.dtype == torch.float16 else v for k, v in sd.items()})
    m.eval()
    return m, ck


def fold_bn(model):
    """Fold BatchNorm into the preceding Conv so the graph has Conv+Relu only."""
    import torch.nn as nn
    for seq in [model.cnn]:
        for blk in seq:
            if isinstance(blk, nn.Sequential) and len(blk) == 3 and isinstance(blk[1], nn.BatchNorm2d):
                conv, bn = blk[0], blk[1]
                w = conv.weight
                std = torch.sqrt(bn.running_var + bn.eps)
                scale = bn.weight / std
                new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
                new.weight.data = w * scale.reshape(-1, 1, 1, 1)
                new.bias.data = bn.bias - bn.running_mean * scale
                blk[0] = new
                blk[1] = nn.Identity()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=".train/ocr/run1/last.pt")
    ap.add_argument("--out", default="Models/ocr")
    ap.add_argument("--small-ckpt", default="Models/ocr/checkpoint.pt")
    ap.add_argument("--raw", action="store_true", help="export the raw weights instead of the EMA")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    m, ck = load_model(a.ckpt, use_ema=not a.raw)
    x = torch.rand(4, 1, D.IN_H, D.IN_W)
    with torch.no_grad():
        ref = m(x).numpy()
    fold_bn(m)
    with torch.no_grad():
        ref2 = m(x).numpy()
    print("bn fold max diff", float(np.abs(ref - ref2).max()))
    path = os.path.join(a.out, "plate-reader.onnx")
    torch.onnx.export(m, torch.zeros(1, 1, D.IN_H, D.IN_W), path, opset_version=12, dynamo=False,
                      input_names=["image"], output_names=["probs"], do_constant_folding=True)
    import onnx
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    ops = sorted({n.op_type for n in mo.graph.node})
    print("ops", ops, "size MB %.2f" % (os.path.getsize(path) / 1e6))
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    diffs = []
    for i in range(4):
        o = sess.run(None, {"image": x[i:i + 1].numpy()})[0]
        diffs.append(float(np.abs(o - ref2[i:i + 1]).max()))
    print("onnxruntime vs torch max abs diff", max(diffs))
    # reference inputs/outputs for the OpenCV 4.6 check (ocr_verify_cv.py, system python)
    rng = np.random.default_rng(0)
    xr = [torch.rand(1, 1, D.IN_H, D.IN_W)]
    import random as _r
    rr = _r.Random(7)
    for _ in range(7):
        g, _t, _s = D.make_sample(rr)
        xr.append(torch.from_numpy(g).float().div(255.0)[None, None])
    xr = torch.cat(xr)
    with torch.no_grad():
        yr = m(xr).numpy()
    ref_path = os.path.join(D.REPO, ".train", "ocr", "export_ref_%s.npz" % os.path.basename(os.path.abspath(a.out)))
    np.savez(ref_path, x=xr.numpy(), y=yr)
    print("reference inputs/outputs for ocr_verify_cv.py:", ref_path)
    del rng
    T = ref.shape[1]
    side = {
        "model": "plate-reader.onnx",
        "task": "licence plate OCR (rectified plate crop -> text), CTC",
        "input": {"name": "image", "shape": [1, 1, D.IN_H, D.IN_W], "layout": "NCHW", "channels": "grey",
                  "color_conversion": "BGR->GRAY with OpenCV weights (0.299 R + 0.587 G + 0.114 B)",
                  "resize": "stretch the whole crop to %dx%d (W x H), bilinear (INTER_AREA when the crop is taller than %d px)" % (D.IN_W, D.IN_H, 2 * D.IN_H),
                  "normalization": "float32 = pixel / 255 (range 0..1), no mean/std"},
        "output": {"name": "probs", "shape": [1, T, D.NUM_CLASSES], "layout": "N x T x C softmax probabilities",
                   "timesteps": T, "rows": 2, "steps_per_row": T // 2,
                   "row_order": "steps 0..%d = top half of the crop, %d..%d = bottom half, left to right in each" % (T // 2 - 1, T // 2, T - 1),
                   "decoding": "CTC greedy: argmax per step, merge repeats, drop blank; per-char confidence = max prob of the step that emitted it (or product over merged steps); two-line plates come out top line first"},
        "blank_index": 0,
        "alphabet": D.ALPHABET,
        "class_of_char": "index = 1 + position in alphabet",
        "num_classes": D.NUM_CLASSES,
        "opset": 12,
        "train_step": int(ck["step"]),
    }
    with open(os.path.join(a.out, "plate-reader.json"), "w") as fh:
        json.dump(side, fh, ensure_ascii=False, indent=1)
    # small resumable checkpoint: fp16 weights + EMA (+ optimizer when small)
    small = {"model": {k: (v.half() if v.dtype.is_floating_point else v) for k, v in ck["model"].items()},
             "ema": {k: (v.half() if v.dtype.is_floating_point else v) for k, v in ck["ema"].items()},
             "step": ck["step"], "args": ck["args"], "alphabet": ck["alphabet"]}
    if "opt" in ck:
        small["opt"] = ck["opt"]
    if a.small_ckpt:
        torch.save(small, a.small_ckpt)
        if os.path.getsize(a.small_ckpt) > 25e6 and "opt" in small:
            del small["opt"]
            torch.save(small, a.small_ckpt)
        print("small checkpoint", a.small_ckpt, "%.1f MB" % (os.path.getsize(a.small_ckpt) / 1e6))
    print("wrote", path)


if __name__ == "__main__":
    main()
