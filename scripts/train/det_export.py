"""Export a detector checkpoint to ONNX (opset 12, TorchScript exporter) for OpenCV 4.6 dnn.

  .venv-train/bin/python scripts/train/det_export.py --ckpt .train/detector/run1/last.pt --size 448 \
      --out Models/detector/plate-detector.onnx [--copy-ckpt Models/detector/checkpoint.pt]

Writes the .onnx, the JSON sidecar next to it, and .train/detector/verify_<size>.npz (a test input and the
PyTorch output); then checks onnxruntime here and OpenCV 4.6 (/usr/bin/python3, eval_detector.py --verify).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from det_model import (CENTER_RANGE, KPT_RANGE, NUM_OUT, SIZE_RANGE, STRIDES, ExportWrapper,  # noqa: E402
                       PlateDetector, count_params, fuse_bn)

REPO = os.path.dirname(os.path.dirname(HERE))


def load_model(ckpt_path, use_ema=True):
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    cfg = ck["cfg"]
    m = PlateDetector(width=cfg["width"], depth=cfg["depth"], neck=cfg["neck"])
    sd = ck["ema"] if (use_ema and "ema" in ck) else ck["model"]
    m.load_state_dict({k: v.float() for k, v in sd.items()})
    return m.eval(), ck


def inline_identities(path):
    """The exporter deduplicates equal initializers behind Identity nodes, which OpenCV 4.6 cannot load:
    give each consumer its own copy of the initializer instead."""
    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    ids = [n for n in m.graph.node if n.op_type == "Identity" and n.input[0] in inits]
    for n in ids:
        t = numpy_helper.to_array(inits[n.input[0]])
        m.graph.initializer.append(numpy_helper.from_array(t.copy(), n.output[0]))
        m.graph.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return len(ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=".train/detector/run1/last.pt")
    ap.add_argument("--size", default="448", help="S (square) or WxH, each a multiple of 32, e.g. 512x288 for 16:9 frames")
    ap.add_argument("--out", default="Models/detector/plate-detector.onnx")
    ap.add_argument("--no-ema", action="store_true")
    ap.add_argument("--copy-ckpt", default=None, help="also write a small resumable fp16 checkpoint here")
    ap.add_argument("--score-threshold", type=float, default=0.4)
    ap.add_argument("--nms-threshold", type=float, default=0.45)
    ap.add_argument("--min-aspect", type=float, default=1.2, help="recommended: drop boxes narrower than this w/h")
    args = ap.parse_args()
    W, H = (int(v) for v in args.size.split("x")) if "x" in args.size else (int(args.size),) * 2
    assert W % 32 == 0 and H % 32 == 0, "sizes must be multiples of 32"
    model, ck = load_model(args.ckpt, not args.no_ema)
    nparams = count_params(model)
    fuse_bn(model)
    w = ExportWrapper(model, W, H).eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    x = torch.rand(1, 3, H, W)
    with torch.no_grad():
        ref = w(x).numpy()
    torch.onnx.export(w, x, args.out, opset_version=12, dynamo=False, input_names=["images"], output_names=["output"],
                      do_constant_folding=True)
    n_id = inline_identities(args.out)
    import onnxruntime as ort
    sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": x.numpy()})[0]
    err = np.abs(got - ref).max()
    print(f"onnxruntime vs torch: max abs diff {err:.2e} (identities inlined: {n_id})")
    assert err < 1e-2, err
    vpath = os.path.join(REPO, ".train/detector", f"verify_{W}x{H}.npz")
    os.makedirs(os.path.dirname(vpath), exist_ok=True)
    np.savez(vpath, x=x.numpy(), y=ref)
    r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "eval_detector.py"), "--model", args.out,
                        "--verify", vpath], capture_output=True, text=True)
    print(r.stdout.strip(), r.stderr.strip()[-2000:])
    if r.returncode != 0:
        sys.exit("OpenCV 4.6 verification failed")
    N = sum((W // s) * (H // s) for s in STRIDES)
    sidecar = {
        "model": os.path.basename(args.out),
        "task": "licence-plate detection (single class) with 4 plate corners",
        "input": {"name": "images", "shape": [1, 3, H, W], "dtype": "float32",
                  "channel_order": "BGR", "scale": "pixel / 255 (0..1), no mean subtraction",
                  "letterbox": {"size": [W, H], "keep_aspect": True, "align": "center",
                                "pad_value": 114, "resize": "INTER_AREA when shrinking, INTER_LINEAR when enlarging",
                                "scale_r": "min(W / width, H / height)",
                                "offset": "pad_x = (W - round(width * r)) / 2, pad_y = (H - round(height * r)) / 2 (integer division)"}},
        "output": {"name": "output", "shape": [1, N, NUM_OUT], "dtype": "float32",
                   "rows": f"{N} candidates: stride 8 cells, then 16, then 32; row-major (y, x) inside a level",
                   "columns": ["cx", "cy", "w", "h", "score", "x_tl", "y_tl", "x_tr", "y_tr", "x_br", "y_br", "x_bl", "y_bl"],
                   "units": "input (letterboxed) pixels; image pixel = (v - pad) / r",
                   "score": "probability, sigmoid already applied",
                   "corners": "plate corners top-left, top-right, bottom-right, bottom-left as read on the plate"},
        "postprocess": {"nms_in_graph": False, "nms": "cv::dnn::NMSBoxes on (cx - w/2, cy - h/2, w, h)",
                        "score_threshold": args.score_threshold, "nms_threshold": args.nms_threshold,
                        "min_aspect": args.min_aspect,
                        "filter": "before NMS keep rows with score >= score_threshold and w >= min_aspect * h"},
        "opset": 12, "params": nparams, "train_step": ck.get("step"),
        "decode_note": f"every column = sigmoid(logit) * A + B with per-cell constants (centre +-{CENTER_RANGE} strides, "
                       f"size 0..{SIZE_RANGE} strides, corners +-{KPT_RANGE} strides) baked into the graph",
        "training_data": "synthetic scenes (scripts/train/det_data.py, plates.py) + MIT ro frames; no AGPL data",
    }
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB) and its .json sidecar")
    if args.copy_ckpt:
        small = {k: v for k, v in ck.items() if k not in ("model", "ema")}
        small["model"] = {k: v.half() if v.is_floating_point() else v for k, v in ck["model"].items()}
        if "ema" in ck:
            small["ema"] = {k: v.half() if v.is_floating_point() else v for k, v in ck["ema"].items()}
        torch.save(small, args.copy_ckpt)
        print(f"wrote {args.copy_ckpt} ({os.path.getsize(args.copy_ckpt) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
