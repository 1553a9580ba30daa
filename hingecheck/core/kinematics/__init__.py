"""Kinematics: from a PoseFrame (landmarks + silhouette) to sagittal angles relative to standing.

Pure numpy/scipy, no I/O. The pipeline uses exactly these names:

- ``SagittalMeasurer().measure(pose) -> FrameMeasurement``: streaming, one frame at a time (live uses it too).
- ``calibrate(measurements, window_s=None) -> Calibration``: find the standing baseline (or use the window).
- ``Calibration.angles(measurement) -> FrameAngles``: angles relative to standing for one frame.
- ``assess_view(measurements, poses) -> list[Warning_]``: clip-level view and capture checks.
"""

from hingecheck.core.kinematics.calibration import Calibration, calibrate
from hingecheck.core.kinematics.sagittal import FrameMeasurement, SagittalMeasurer
from hingecheck.core.kinematics.view import assess_view

__all__ = ["Calibration", "FrameMeasurement", "SagittalMeasurer", "assess_view", "calibrate"]
