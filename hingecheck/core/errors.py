"""Errors that end an analysis with a clear one-line reason (never a traceback)."""

from __future__ import annotations


class HingecheckError(Exception):
    """Base class; ``status`` is the machine-readable status written to summary.json / batch.json."""

    status = "error"


class ModelError(HingecheckError):
    status = "model_error"


class VideoError(HingecheckError):
    status = "error"


class NotAVideoError(VideoError):
    status = "not_a_video"


class CorruptVideoError(VideoError):
    status = "corrupt"


class NoPersonError(HingecheckError):
    status = "no_person"
