"""MediaPipe PoseLandmarker at the edge: model lookup and integrity, VIDEO-mode inference, choice of the lifter."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import os
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hingecheck.core.errors import ModelError
from hingecheck.core.picture import PictureArea
from hingecheck.core.settings import Settings
from hingecheck.core.types import LEFT_HIP, LEFT_SHOULDER, N_LANDMARKS, RIGHT_HIP, RIGHT_SHOULDER, PoseFrame, VideoFrame

# MediaPipe's and TFLite's C++ log lines are noise for users: lower their levels before mediapipe is imported
# (they read these once, at load). What is written to fd 2 regardless is caught by quiet_native_stderr().
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The bundled model is package data (hingecheck/models/), so an installed wheel finds it too.
BUNDLED_MODELS_DIR = Path(str(importlib.resources.files("hingecheck") / "models"))
DEFAULT_MODEL_NAME = "pose_landmarker_full.task"
BUNDLE_ENTRIES = {"pose_detector.tflite", "pose_landmarks_detector.tflite"}


def configured_num_poses(settings: Settings | None = None) -> int:
    """How many people MediaPipe tracks in analyze's main pass (``[pose] num_poses``)."""
    return (settings or Settings()).pose.num_poses


def _known_checksums(models_dir: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    listing = models_dir / "SHA256SUMS"
    if listing.exists():
        for line in listing.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0]
    return sums


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelInfo:
    """The pose model in use: its path, name, SHA-256 and whether that matches a published checksum."""

    path: str
    name: str
    sha256: str
    verified: bool  # True when the checksum matched a published one in hingecheck/models/SHA256SUMS


def resolve_model(model_path: str | os.PathLike[str] | None = None) -> ModelInfo:
    """Find and check the pose model: ``--model PATH``, else $HINGECHECK_MODEL, else the bundled full model.

    Raises ModelError with one clear line when it is missing, corrupt or not a pose landmarker bundle.
    """
    chosen = model_path or os.environ.get("HINGECHECK_MODEL")
    path = Path(chosen) if chosen else BUNDLED_MODELS_DIR / DEFAULT_MODEL_NAME
    if not path.is_file():
        hint = "" if chosen else " (the bundled model is missing: reinstall hingecheck)"
        raise ModelError(f"pose model not found: {path}{hint}")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"pose model {path} is corrupt: not a MediaPipe .task bundle")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"pose model {path} is corrupt: {exc}") from None
    if not names >= BUNDLE_ENTRIES:
        raise ModelError(f"{path} is not a pose landmarker .task (it lacks {sorted(BUNDLE_ENTRIES - names)})")
    digest = sha256_of(path)
    expected = _known_checksums(path.parent).get(path.name) or _known_checksums(BUNDLED_MODELS_DIR).get(path.name)
    if expected and expected != digest:
        raise ModelError(
            f"pose model {path} is corrupt: sha256 {digest[:12]}… does not match the published {expected[:12]}…"
        )
    return ModelInfo(path=str(path), name=path.name, sha256=digest, verified=expected == digest)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe/TFLite C++ log lines (written straight to fd 2, not through Python).

    Wrapped around everything that runs the native graph: its creation (start-up lines), inference (warnings when
    a person enters) and its close (``DestroyAccelerator`` lines at teardown).
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _bbox_of(px: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = px.min(axis=0)
    x1, y1 = px.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


class LifterTracker:
    """Choose the lifter among several detected people and keep the same one across frames.

    The lifter is the largest person; once chosen, a candidate near the previous position is preferred,
    so a passer-by who is briefly larger does not steal the track.
    """

    def __init__(self) -> None:
        self._prev_centre: np.ndarray | None = None
        self._prev_size: float | None = None

    def choose(self, candidates: list[np.ndarray]) -> int:
        """Index of the candidate who is the lifter: the biggest person, kept from frame to frame."""
        scores = []
        for px in candidates:
            x0, y0, x1, y1 = _bbox_of(px)
            size = max(np.hypot(x1 - x0, y1 - y0), 1.0)
            centre = 0.5 * (px[[LEFT_HIP, RIGHT_HIP, LEFT_SHOULDER, RIGHT_SHOULDER]].mean(axis=0) + px.mean(axis=0))
            score = size
            if self._prev_centre is not None and self._prev_size is not None:
                jump = np.linalg.norm(centre - self._prev_centre) / self._prev_size
                score = size / (1.0 + 4.0 * jump)
            scores.append((score, centre, size))
        best = int(np.argmax([s[0] for s in scores]))
        self._prev_centre, self._prev_size = scores[best][1], scores[best][2]
        return best


class PoseEstimator:
    """PoseLandmarker in VIDEO mode with segmentation masks; one PoseFrame per VideoFrame."""

    def __init__(
        self, model: ModelInfo | None = None, num_poses: int = 2, min_confidence: float = 0.5, output_masks: bool = True
    ) -> None:
        # Imported here so that the core (and tools that never run inference) load without mediapipe.
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.model = model or resolve_model()
        self.num_poses = num_poses
        self.output_masks = output_masks
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=self.model.path),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
            output_segmentation_masks=output_masks,
        )
        try:
            with quiet_native_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except Exception as exc:  # the C++ side raises RuntimeError/ValueError with long texts
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ModelError(f"pose model {self.model.path} cannot be loaded: {reason}") from None
        self._tracker = LifterTracker()
        self._last_ms = -1

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the graph (its C++ teardown lines are kept off the terminal)."""
        if self._landmarker is not None:
            with quiet_native_stderr():
                self._landmarker.close()
            self._landmarker = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def process(self, frame: VideoFrame) -> PoseFrame:
        """Pose of the lifter in one frame (landmarks in pixels and normalised, mask, visibility)."""
        h, w = frame.rgb.shape[:2]
        ms = int(round(frame.time_s * 1000.0))
        if ms <= self._last_ms:  # the graph needs strictly increasing timestamps
            ms = self._last_ms + 1
        self._last_ms = ms
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.rgb))
        # The graph logs C++ warnings (e.g. when a new person enters) straight to fd 2; two dup2 calls are cheap.
        with quiet_native_stderr():
            result = self._landmarker.detect_for_video(image, ms)
        people = result.pose_landmarks or []
        if not people:
            return PoseFrame(frame.index, frame.time_s, w, h, detected=False, n_people=0)
        norms = [np.array([[p.x, p.y, p.z] for p in person], dtype=np.float64) for person in people]
        pixels = [n[:, :2] * np.array([w, h]) for n in norms]
        chosen = self._tracker.choose(pixels) if len(people) > 1 else 0
        person = people[chosen]
        vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in person])
        pres = np.array([p.presence if p.presence is not None else 0.0 for p in person])
        world = None
        if result.pose_world_landmarks and len(result.pose_world_landmarks) > chosen:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[chosen]])
        mask = None
        if self.output_masks and result.segmentation_masks and len(result.segmentation_masks) > chosen:
            mask = np.array(result.segmentation_masks[chosen].numpy_view(), dtype=np.float32).reshape(h, w)
        if len(people) == 1:
            self._tracker.choose(pixels)  # keep the track warm for when a second person appears
        assert norms[chosen].shape == (N_LANDMARKS, 3)
        return PoseFrame(
            index=frame.index,
            time_s=frame.time_s,
            width=w,
            height=h,
            detected=True,
            landmarks_px=pixels[chosen],
            landmarks_norm=norms[chosen],
            visibility=vis,
            presence=pres,
            world=world,
            mask=mask,
            n_people=len(people),
        )


def crop_frame(frame: VideoFrame, area: PictureArea) -> VideoFrame:
    """The part of the frame in ``area`` (the picture inside black bars, or a crop around a small person): what
    MediaPipe is given."""
    if not area.cropped:
        return frame
    rgb = np.ascontiguousarray(frame.rgb[area.y0 : area.y1, area.x0 : area.x1])
    return VideoFrame(index=frame.index, time_s=frame.time_s, rgb=rgb)


def uncrop_pose(pose: PoseFrame, area: PictureArea) -> PoseFrame:
    """A pose found on the cropped picture, back in full-frame pixels (landmarks, normalised landmarks, mask)."""
    if not area.cropped:
        return pose
    offset = np.array([area.x0, area.y0], float)
    size = np.array([area.width, area.height], float)
    px = norm = mask = None
    if pose.landmarks_px is not None:
        px = pose.landmarks_px + offset
    if pose.landmarks_norm is not None and px is not None:
        norm = pose.landmarks_norm.copy()
        norm[:, :2] = px / size
    if pose.mask is not None:
        mask = np.zeros((area.height, area.width), np.float32)
        mask[area.y0 : area.y1, area.x0 : area.x1] = pose.mask
    return PoseFrame(
        pose.index,
        pose.time_s,
        area.width,
        area.height,
        pose.detected,
        px,
        norm,
        pose.visibility,
        pose.presence,
        pose.world,
        mask,
        pose.n_people,
    )
