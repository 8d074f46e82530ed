"""PlateStream plate detector: a small anchor-free, single-stage, YOLO-style network.

Output contract (the same in PyTorch and in the exported ONNX):
  input  [1, 3, S, S] float32, BGR, pixel / 255, letterboxed (top-left aligned, pad value 114).
  output [1, N, 13] float32, N = sum over strides (8, 16, 32) of (S / stride)^2, rows ordered
         stride 8 first, row-major (y, then x) inside a level.
         columns: cx, cy, w, h, score, x1, y1, x2, y2, x3, y3, x4, y4
         - box centre / size and the 4 plate corners (top-left, top-right, bottom-right, bottom-left
           as read on the plate) in input pixels;
         - score already passed through the sigmoid (0..1).
  NMS is NOT in the graph (done by the caller, e.g. cv::dnn::NMSBoxes).

Every output column is  sigmoid(raw) * A + B  with constant per-cell A, B (see `decode_consts`), so the
graph is only Conv/ReLU/MaxPool/Resize/Add/Concat/Reshape/Sigmoid/Mul/Transpose: no Split, no Exp, all of
which OpenCV 4.6 dnn loads at opset 12.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)
NUM_OUT = 13
# Per-level output ranges, in units of the level's stride:
CENTER_RANGE = 4.0   # box centre may move +-4 strides from its cell centre
SIZE_RANGE = 24.0    # box w, h in 0 .. 24 strides
KPT_RANGE = 16.0     # corners within +-16 strides of the cell centre


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k=3, s=1, groups=1, act=True):
        super().__init__(
            nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True) if act else nn.Identity(),
        )


class Res(nn.Module):
    """Residual block: 1x1 reduce -> 3x3 -> add (cheap on a CPU, no depthwise)."""

    def __init__(self, c, e=0.5):
        super().__init__()
        h = max(8, int(c * e))
        self.a = ConvBN(c, h, 1)
        self.b = ConvBN(h, c, 3, act=False)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class PlateDetector(nn.Module):
    def __init__(self, width=(16, 32, 48, 80, 128), depth=(1, 2, 2, 1), neck=48):
        super().__init__()
        c0, c1, c2, c3, c4 = width
        self.cfg = dict(width=list(width), depth=list(depth), neck=neck)
        self.stem = ConvBN(3, c0, 3, 2)                                   # /2
        self.s1 = nn.Sequential(ConvBN(c0, c1, 3, 2), *[Res(c1) for _ in range(depth[0])])  # /4
        self.s2 = nn.Sequential(ConvBN(c1, c2, 3, 2), *[Res(c2) for _ in range(depth[1])])  # /8
        self.s3 = nn.Sequential(ConvBN(c2, c3, 3, 2), *[Res(c3) for _ in range(depth[2])])  # /16
        self.s4 = nn.Sequential(ConvBN(c3, c4, 3, 2), *[Res(c4) for _ in range(depth[3])])  # /32
        n = neck
        self.l5 = ConvBN(c4, n, 1)
        self.l4 = ConvBN(c3, n, 1)
        self.l3 = ConvBN(c2, n, 1)
        self.f4 = ConvBN(n, n, 3)
        self.f3 = ConvBN(n, n, 3)
        self.d3 = ConvBN(n, n, 3, 2)   # bottom-up path (PAN)
        self.g4 = ConvBN(n, n, 3)
        self.d4 = ConvBN(n, n, 3, 2)
        self.g5 = ConvBN(n, n, 3)
        self.heads = nn.ModuleList(
            nn.Sequential(ConvBN(n, n, 3), nn.Conv2d(n, NUM_OUT, 1)) for _ in STRIDES)
        self._init_bias()

    def _init_bias(self):
        for h in self.heads:
            conv = h[-1]
            nn.init.normal_(conv.weight, std=0.01)
            b = torch.zeros(NUM_OUT)
            b[4] = -5.0  # low prior score
            b[2:4] = -2.0  # small boxes at first
            conv.bias.data.copy_(b)

    def features(self, x):
        x = self.stem(x)
        x = self.s1(x)
        p3 = self.s2(x)
        p4 = self.s3(p3)
        p5 = self.s4(p4)
        t5 = self.l5(p5)
        t4 = self.f4(self.l4(p4) + F.interpolate(t5, scale_factor=2.0, mode="nearest"))
        t3 = self.f3(self.l3(p3) + F.interpolate(t4, scale_factor=2.0, mode="nearest"))
        o4 = self.g4(t4 + self.d3(t3))
        o5 = self.g5(t5 + self.d4(o4))
        return [t3, o4, o5]

    def raw(self, x):
        """Raw logits, [B, 13, N]."""
        outs = []
        for f, h in zip(self.features(x), self.heads):
            o = h(f)
            outs.append(o.reshape(o.shape[0], NUM_OUT, -1))
        return torch.cat(outs, 2)

    def forward(self, x, A=None, B=None):
        """Decoded output [B, N, 13] (see module docstring). A, B: [1, 13, N] constants."""
        r = self.raw(x)
        if A is None:
            A, B = decode_consts(x.shape[2], x.shape[3], x.device)
        return (torch.sigmoid(r) * A + B).permute(0, 2, 1)


def grid_info(h, w, device="cpu"):
    """Cell centres gx, gy and stride for every output row, each [N]."""
    gxs, gys, ss = [], [], []
    for s in STRIDES:
        ny, nx = (h + s - 1) // s, (w + s - 1) // s
        ys, xs = torch.meshgrid(torch.arange(ny, device=device), torch.arange(nx, device=device), indexing="ij")
        gxs.append(((xs.reshape(-1).float()) + 0.5) * s)
        gys.append(((ys.reshape(-1).float()) + 0.5) * s)
        ss.append(torch.full((ny * nx,), float(s), device=device))
    return torch.cat(gxs), torch.cat(gys), torch.cat(ss)


def decode_consts(h, w, device="cpu"):
    gx, gy, s = grid_info(h, w, device)
    n = gx.numel()
    A = torch.zeros(NUM_OUT, n, device=device)
    B = torch.zeros(NUM_OUT, n, device=device)
    # centre: g + s*C*(2 sig - 1)
    A[0] = 2 * s * CENTER_RANGE; B[0] = gx - s * CENTER_RANGE
    A[1] = 2 * s * CENTER_RANGE; B[1] = gy - s * CENTER_RANGE
    A[2] = s * SIZE_RANGE
    A[3] = s * SIZE_RANGE
    A[4] = 1.0
    for k in range(4):
        A[5 + 2 * k] = 2 * s * KPT_RANGE; B[5 + 2 * k] = gx - s * KPT_RANGE
        A[6 + 2 * k] = 2 * s * KPT_RANGE; B[6 + 2 * k] = gy - s * KPT_RANGE
    return A[None], B[None]


class ExportWrapper(nn.Module):
    """Fixed-size model for ONNX: decode constants baked in as initializers."""

    def __init__(self, model: PlateDetector, size: int, height: int | None = None):
        super().__init__()
        self.model = model
        A, B = decode_consts(height or size, size)
        self.register_buffer("A", A)
        self.register_buffer("B", B)

    def forward(self, x):
        return self.model(x, self.A, self.B)


def fuse_bn(model: nn.Module) -> nn.Module:
    """Fold BatchNorm into the preceding conv (in place) for export."""
    for m in model.modules():
        if isinstance(m, ConvBN):
            conv, bn = m[0], m[1]
            w = conv.weight
            std = torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                              conv.padding, groups=conv.groups, bias=True)
            fused.weight.data = w * (bn.weight / std).reshape(-1, 1, 1, 1)
            fused.bias.data = bn.bias - bn.weight * bn.running_mean / std
            m[0] = fused
            m[1] = nn.Identity()
    return model


def count_params(m):
    return sum(p.numel() for p in m.parameters())
