"""The clinician portal (``hingecheck serve``): clients upload from their phone, clinicians review.

Needs the ``serve`` extra (``pip install "hingecheck[serve]"``): Starlette, uvicorn, argon2-cffi,
python-multipart and segno. ``require_serve_extra`` says so in one line when they are missing.
"""

from __future__ import annotations

import importlib.util

from hingecheck.core.errors import HingecheckError

SERVE_MODULES = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "argon2": "argon2-cffi",
    "python_multipart": "python-multipart",
    "segno": "segno",
}


class ServeExtraMissing(HingecheckError):
    """The serve extra is not installed."""

    status = "error"


def require_serve_extra() -> None:
    """Raise one clear line when the portal's dependencies are not installed."""
    missing = [pkg for mod, pkg in SERVE_MODULES.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise ServeExtraMissing(
            f'the portal needs the serve extra (missing: {", ".join(missing)}): pip install "hingecheck[serve]"'
        )
