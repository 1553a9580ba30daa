#!/usr/bin/env python3
"""tests/data/cropnet_reference.npz: a small random CropNet (torch), its weights as the package stores them, two
inputs and torch's outputs (tests/core/test_crop.py checks the numpy forward pass against them).

    PYTHONPATH=. /work/renderenv/bin/python tools/make_cropnet_reference.py   # needs torch
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from train_crop_cnn import CropNet as TorchNet  # noqa: E402
from train_lumbopelvic import numpy_net  # noqa: E402

torch.manual_seed(0)
net = TorchNet(10, (4, 6, 8, 8), 12).eval()
rng = np.random.default_rng(0)
img = rng.uniform(0, 1, (2, 2, 64, 64)).astype(np.float32)
sc = rng.normal(0, 1, (2, 10)).astype(np.float32)
with torch.inference_mode():
    out = net(torch.from_numpy(img), torch.from_numpy(sc)).numpy()
mean, std = np.array([1.0, -2.0, 3.0]), np.array([5.0, 6.0, 7.0])
arrays = numpy_net(net, {"mean": mean, "std": std}).arrays("cnn.")
np.savez_compressed(
    HERE.parent / "tests" / "data" / "cropnet_reference.npz",
    images=img,
    scalars=sc,
    degrees=out * std + mean,
    **arrays,
)
