"""Average two reader checkpoints' weights (a "model soup"; WiSE-FT when one is a fine-tune of the other).

Wortsman et al. (2022, "Robust fine-tuning of zero-shot models") found that interpolating the weights of a model and
of its fine-tune keeps the fine-tune's gains and loses less of the original's robustness to other data than either
alone. Here: the shipped reader (step 13999, synthetic plates) and its fine-tune on the runtime's own crops (step
16100, `checkpoint-runtime-crops.pt`), which read better on synthetic runtime crops and worse on dev br.

    .venv-train/bin/python scripts/train/ocr_soup.py A.pt B.pt --alpha 0.5 --out .train/ocr/soup.pt
    .venv-train/bin/python scripts/train/ocr_export.py --ckpt .train/ocr/soup.pt --out DIR --small-ckpt DIR/checkpoint.pt

Each floating-point tensor of the EMA weights (BatchNorm statistics included) becomes (1 - alpha) * A + alpha * B;
the result keeps B's args and alphabet, has no optimizer state (continue it with `ocr_train.py --init`), and its step
is B's (the export's `train_step`).
"""
from __future__ import annotations

import argparse

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of B")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    a = torch.load(args.a, map_location="cpu", weights_only=False)
    b = torch.load(args.b, map_location="cpu", weights_only=False)
    if a["alphabet"] != b["alphabet"] or a["args"].get("width") != b["args"].get("width"):
        raise SystemExit("the checkpoints are of different readers (alphabet or width)")
    if a["ema"].keys() != b["ema"].keys():
        raise SystemExit("the checkpoints' tensors differ")
    soup = {}
    for k, va in a["ema"].items():
        vb = b["ema"][k]
        soup[k] = ((1 - args.alpha) * va.float() + args.alpha * vb.float()) if va.dtype.is_floating_point else vb
    torch.save({"model": soup, "ema": soup, "step": b["step"], "args": b["args"], "alphabet": b["alphabet"],
                "soup": {"a": args.a, "a_step": a["step"], "b": args.b, "b_step": b["step"], "alpha": args.alpha}}, args.out)
    print("soup of step %d and step %d at alpha %.2f -> %s" % (a["step"], b["step"], args.alpha, args.out))


if __name__ == "__main__":
    main()
