"""Command line: ``hingecheck analyze | live | batch | history | models``.

Each subcommand's options live beside its code (``add_arguments``/``run``) so the modules stay separable.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

# OpenCV must load its window libraries before PyAV loads its own copies under the same names, or
# cv2.namedWindow hangs (live mode); importing it first here makes every entry point safe.
import cv2  # noqa: F401, I001

from hingecheck import __version__
from hingecheck.cli import analyze, batch, calibrate, history, live
from hingecheck.cli import clients as clients_cli
from hingecheck.cli import serve as serve_cli
from hingecheck.cli import users as users_cli
from hingecheck.core.errors import HingecheckError


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def log_to_stderr() -> None:
    """Library warnings (``logging`` under ``hingecheck``) reach the terminal as ``hingecheck: message`` lines."""
    logger = logging.getLogger("hingecheck")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("hingecheck: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def build_parser() -> argparse.ArgumentParser:
    """The ``hingecheck`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="hingecheck", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hingecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    analyze.add_subcommand(sub)
    calibrate.add_subcommand(sub)
    live.add_subcommand(sub)
    batch.add_subcommand(sub)
    history.add_subcommand(sub)
    analyze.add_models_subcommand(sub)
    serve_cli.add_subcommand(sub)
    users_cli.add_subcommand(sub)
    clients_cli.add_subcommand(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``hingecheck`` command: run a subcommand; a HingecheckError becomes one line on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    log_to_stderr()
    try:
        return int(args.func(args) or 0)
    except HingecheckError as exc:
        print(f"hingecheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hingecheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
