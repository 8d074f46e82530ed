"""Plate reader network: CNN -> two feature rows (top / bottom half) -> one 2T-step sequence -> per-step classes (CTC).

Input  : 1 x 1 x 48 x 160 float32, grey, pixel / 255 (see ocr_data.preprocess).
Output : 1 x 80 x C float32 softmax probabilities (C = 1 + len(alphabet), class 0 = CTC blank).
         Steps 0..39 are the top feature row, 40..79 the bottom row, both left to right, so a greedy CTC
         decode over the 80 steps reads one-line plates (emitted in either row) and two-line plates
         (top line first).
Only ONNX ops that OpenCV 4.6 dnn handles at opset 12 (Conv, BatchNorm folded, Relu, MaxPool, Reshape,
Transpose, LSTM, MatMul/Gemm, Softmax).
"""
from __future__ import annotations

import torch
import torch.nn as nn


def cbr(cin, cout, k=3, s=1, p=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlateReader(nn.Module):
    def __init__(self, num_classes: int, width=(16, 32, 64, 96, 128), rnn: bool = False, hidden: int = 96):
        super().__init__()
        c1, c2, c3, c4, c5 = width
        self.cnn = nn.Sequential(
            cbr(1, c1), nn.MaxPool2d(2, 2),                            # 24 x 80
            cbr(c1, c2), nn.MaxPool2d(2, 2),                           # 12 x 40
            cbr(c2, c3), cbr(c3, c3), nn.MaxPool2d((2, 1), (2, 1)),    # 6 x 40
            cbr(c3, c4), cbr(c4, c4), nn.MaxPool2d((3, 1), (3, 1)),    # 2 x 40
            cbr(c4, c5, k=3, p=1),                                     # rows see each other
            cbr(c5, c5, k=(3, 5), p=(1, 2)),
        )
        self.use_rnn = rnn
        if rnn:
            self.rnn = nn.LSTM(c5, hidden, num_layers=1, bidirectional=True)
            self.fc = nn.Linear(2 * hidden, num_classes)
        else:
            self.head = nn.Conv2d(c5, num_classes, 1)

    def forward(self, x, logits: bool = False):
        f = self.cnn(x)                           # B x C x 2 x 40
        if self.use_rnn:
            b, c, h, w = f.shape
            f = f.reshape(b, c, h * w).permute(2, 0, 1)   # T x B x C, top row then bottom row
            y = self.fc(self.rnn(f)[0])                   # T x B x K
            y = y.permute(1, 0, 2)                        # B x T x K
        else:
            y = self.head(f)                          # B x K x 2 x 40
            b, k, h, w = y.shape
            y = y.reshape(-1, k, h * w).permute(0, 2, 1)  # B x T x K (top row then bottom row); -1: any batch in the export
        if logits:
            return y
        return torch.softmax(y, dim=2)


def count_params(m):
    return sum(p.numel() for p in m.parameters())
