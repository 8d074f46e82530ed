"""Verify the exported plate reader with the Debian OpenCV 4.6 dnn binding (the Swift runtime's engine).

Run with the SYSTEM python (cv2 4.6.0, numpy; no torch):
    /usr/bin/python3 scripts/train/ocr_verify_cv.py [Models/ocr/plate-reader.onnx] [.train/ocr/export_ref_ocr.npz]
The reference file holds inputs and PyTorch outputs written by ocr_export.py. Exit status 1 on mismatch.
"""
import sys
import time

import cv2
import numpy as np

model = sys.argv[1] if len(sys.argv) > 1 else "Models/ocr/plate-reader.onnx"
ref = sys.argv[2] if len(sys.argv) > 2 else ".train/ocr/export_ref_ocr.npz"
print("cv2", cv2.__version__)
cv2.setNumThreads(1)
net = cv2.dnn.readNetFromONNX(model)
z = np.load(ref)
xs, ys = z["x"], z["y"]
worst = 0.0
agree = 0
for i in range(len(xs)):
    net.setInput(xs[i:i + 1])
    out = net.forward()
    worst = max(worst, float(np.abs(out - ys[i:i + 1]).max()))
    agree += int((out.argmax(-1) == ys[i:i + 1].argmax(-1)).all())
n = 200
t0 = time.perf_counter()
c0 = time.process_time()
for _ in range(n):
    net.setInput(xs[:1])
    net.forward()
ms = (time.perf_counter() - t0) / n * 1000
cms = (time.process_time() - c0) / n * 1000
print("opencv dnn vs torch: max abs diff %.2e, identical argmax paths %d/%d" % (worst, agree, len(xs)))
print("speed (1 thread): %.2f ms wall, %.2f ms CPU per crop (wall includes waiting for a core on a busy machine)" % (ms, cms))
sys.exit(0 if worst < 1e-3 and agree == len(xs) else 1)
