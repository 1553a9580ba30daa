"""Small media files made on the fly for tests (synthetic pictures, sound and damaged containers)."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hingecheck.io.video import VideoWriter


def gradient_frame(i: int, width: int = 160, height: int = 96, noisy: bool = False) -> np.ndarray:
    """A frame whose left half is bright and whose brightness drifts with i (no person in it).

    ``noisy`` adds per-frame texture so every frame costs bytes (for tests that cut files part-way).
    """
    img = np.zeros((height, width, 3), np.uint8)
    if noisy:
        img[:] = np.random.default_rng(i).integers(0, 60, (height, width, 3), dtype=np.uint8)
    img[:, : width // 2] = 200
    img[:, width // 2 :, 1] = (i * 7) % 255
    return img


def write_clip(
    path: Path, times_s: list[float], width: int = 160, height: int = 96, fps: float = 30.0, noisy: bool = False
) -> Path:
    with VideoWriter(path, width, height, fps) as writer:
        for i, t in enumerate(times_s):
            writer.write(gradient_frame(i, width, height, noisy), t)
    return path


def set_mp4_rotation(src: Path, dst: Path, clockwise_deg: int) -> Path:
    """Copy an MP4, writing a display matrix in the track header the way phones store portrait clips."""
    data = bytearray(src.read_bytes())
    i = data.find(b"tkhd")
    version = data[i + 4]
    offset = i + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    one, minus = 0x10000, -0x10000
    matrices = {
        90: [0, one, 0, minus, 0, 0, 0, 0, 0x40000000],
        180: [minus, 0, 0, 0, minus, 0, 0, 0, 0x40000000],
        270: [0, minus, 0, one, 0, 0, 0, 0, 0x40000000],
    }
    data[offset : offset + 36] = b"".join(struct.pack(">i", v) for v in matrices[clockwise_deg])
    dst.write_bytes(bytes(data))
    return dst


def write_audio_only(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = tone[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncate_copy(src: Path, dst: Path, keep_fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep_fraction)])
    return dst
