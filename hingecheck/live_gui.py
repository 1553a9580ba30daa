"""Load OpenCV's GUI before PyAV, so a live window can open.

OpenCV's Qt window and PyAV both bundle xcb libraries under the same hashed file names; when PyAV's are loaded
first, ``cv2.namedWindow`` hangs. ``hingecheck.live`` imports this module before anything that pulls in PyAV
(cli.py imports ``hingecheck.live`` first), and refuses a window (headless, with a note) if PyAV won the race.
"""

import sys

AV_LOADED_BEFORE_CV2 = "av" in sys.modules and "cv2" not in sys.modules

import cv2  # noqa: E402  (must follow the check above)

__all__ = ["AV_LOADED_BEFORE_CV2", "cv2"]
