"""Build ``pose_landmarker_full.task`` from the .tflite files in the mediapipe 0.10.21 wheel.

mediapipe >= 1.0 ships no model files and nothing can be downloaded at run time, so the bundle is
built once, offline, and committed. Run this in a throwaway environment (the 0.10.21 metadata writers
do not import under mediapipe 1.x)::

    python3.11 -m venv /tmp/mpbuild && /tmp/mpbuild/bin/pip install mediapipe==0.10.21
    /tmp/mpbuild/bin/python models/build_pose_model.py hingecheck/models/pose_landmarker_full.task

It writes the bundle and prints its sha256 (record it in hingecheck/models/SHA256SUMS).
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import mediapipe
from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, model_asset_bundle_utils


def with_image_metadata(tflite: bytes, name: str, mean: float, std: float, n_outputs: int) -> bytes:
    """The Tasks API refuses float models without input-normalisation metadata; add it."""
    writer = metadata_writer.MetadataWriter.create(bytearray(tflite))
    writer.add_general_info(name, f"{name} from mediapipe {mediapipe.__version__}")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in range(n_outputs):
        writer.add_feature_output()
    model, _ = writer.populate()
    return bytes(model)


def output_count(tflite: bytes) -> int:
    from mediapipe.tasks.python.metadata.metadata_writers import writer_utils

    return len(writer_utils.get_output_tensor_types(bytearray(tflite)))


def main(out_path: str) -> None:
    modules = Path(mediapipe.__file__).parent / "modules"
    detector = (modules / "pose_detection" / "pose_detection.tflite").read_bytes()
    landmarks = (modules / "pose_landmark" / "pose_landmark_full.tflite").read_bytes()
    # Detector: inputs in [-1, 1]; landmark model: inputs in [0, 1].
    detector_md = with_image_metadata(detector, "pose_detector", 127.5, 127.5, output_count(detector))
    landmarks_md = with_image_metadata(landmarks, "pose_landmarks_detector", 0.0, 255.0, output_count(landmarks))
    # Same as model_asset_bundle_utils.create_model_asset_bundle, but with fixed entry dates so that a
    # rebuild from the same wheel gives the same bytes (and the same sha256).
    entries = {"pose_detector.tflite": detector_md, "pose_landmarks_detector.tflite": landmarks_md}
    with model_asset_bundle_utils.AlignZipFile(out_path, mode="w", alignment=4) as bundle:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            bundle.writestr(info, data)
    digest = hashlib.sha256(Path(out_path).read_bytes()).hexdigest()
    print(f"{digest}  {Path(out_path).name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "pose_landmarker_full.task")
