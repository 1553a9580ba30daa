"""Errors that end an analysis with a clear one-line reason (never a traceback)."""

from __future__ import annotations


class HingecheckError(Exception):
    """Base class; ``status`` is the machine-readable status written to summary.json / batch.json."""

    status = "error"


class ModelError(HingecheckError):
    """The pose model is missing, corrupt or fails to load."""

    status = "model_error"


class VideoError(HingecheckError):
    """The input video cannot be analysed."""

    status = "error"


class NotAVideoError(VideoError):
    """The file is not a video (or has no video stream)."""

    status = "not_a_video"


class CorruptVideoError(VideoError):
    """The video is too damaged to decode."""

    status = "corrupt"


class NoPersonError(HingecheckError):
    """No person (or too little of one) was found in the video."""

    status = "no_person"


class OutputError(HingecheckError):
    """The output folder cannot be created or written."""

    status = "output_error"
