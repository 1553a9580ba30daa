"""hingecheck: hip-hinge form checking from one side-view camera.

The public API is ``hingecheck.analyze(path)``, which returns an ``AnalysisResult``:

>>> import hingecheck
>>> result = hingecheck.analyze("no/such/file.mp4")  # never raises for bad input: the status says why
>>> isinstance(result, hingecheck.AnalysisResult), result.status, result.reps
(True, 'error', [])

(``hingecheck.api`` has an example on a real clip.)

The names are loaded on first use, so ``import hingecheck.core`` (or the live window, which must load OpenCV's GUI
before PyAV) does not pull in the whole analysis stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from hingecheck.api import analyze
    from hingecheck.core.errors import HingecheckError
    from hingecheck.core.types import AngleSeries, Fault, FrameAngles, Rep, Warning_
    from hingecheck.result import AnalysisResult

_EXPORTS = {
    "analyze": "hingecheck.api",
    "AnalysisResult": "hingecheck.result",
    "AngleSeries": "hingecheck.core.types",
    "Fault": "hingecheck.core.types",
    "FrameAngles": "hingecheck.core.types",
    "Rep": "hingecheck.core.types",
    "Warning_": "hingecheck.core.types",
    "HingecheckError": "hingecheck.core.errors",
}

__all__ = [
    "AnalysisResult",
    "AngleSeries",
    "Fault",
    "FrameAngles",
    "HingecheckError",
    "Rep",
    "Warning_",
    "__version__",
    "analyze",
]


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules when first asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hingecheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
