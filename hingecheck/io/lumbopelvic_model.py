"""The learned lumbopelvic model at the edge: the shipped weights (package data) read into the core's arrays.

The weights are ``hingecheck/models/lumbopelvic.npz``, written by ``tools/train_lumbopelvic.py --export`` (one
command: ``make retrain``); its provenance (corpus shards, bodies, commit, scores) travels inside the file and
``hingecheck models`` prints it. (Unlike the pose model it has no published checksum: it is built here, and its
provenance says from what.)
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from hingecheck.core.errors import ModelError
from hingecheck.core.kinematics.crop import CropNet
from hingecheck.core.kinematics.lumbopelvic import (
    CHANGE_TARGETS,
    QUANTILES,
    TARGETS,
    LumbopelvicModel,
    feature_names,
)
from hingecheck.core.kinematics.trees import TreeEnsemble

log = logging.getLogger(__name__)

CNN_PREFIX = "cnn."  # the CropNet's arrays in the .npz
SHIPPED = Path(str(importlib.resources.files("hingecheck") / "models" / "lumbopelvic.npz"))


def save_model(model: LumbopelvicModel, path: Path) -> None:
    """Write a model as one compressed .npz (its arrays plus a JSON header with features and provenance)."""
    arrays: dict[str, np.ndarray] = {}
    for target, parts in model.ensembles.items():
        for q, ensemble in parts.items():
            arrays.update(ensemble.arrays(f"{target}.{q}."))
    for target, ensemble in model.changes.items():
        arrays.update(ensemble.arrays(f"{target}.mid."))
    if model.cnn is not None:
        arrays.update(model.cnn.arrays(CNN_PREFIX))
    header = {
        "targets": list(model.ensembles),
        "change_targets": list(model.changes),
        "change_window_s": model.change_window_s,
        "lags_s": list(model.lags_s),
        "interval_scale": model.interval_scale,
        "residual_of": model.residual_of,
        "feature_names": model.names(),
        "cnn": model.cnn is not None,
        "provenance": model.provenance,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        arrays["header_json"] = np.array(json.dumps(header))
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool


def load_model(path: str | None = None) -> LumbopelvicModel:
    """The model at ``path``, else $HINGECHECK_LUMBOPELVIC_MODEL, else the shipped one (checked against this
    version's features; read once per path)."""
    return _load(path or os.environ.get("HINGECHECK_LUMBOPELVIC_MODEL") or None)


@functools.cache
def _load(path: str | None) -> LumbopelvicModel:
    file = Path(path) if path else SHIPPED
    if not file.is_file():
        hint = "" if path else " (the shipped model is missing: reinstall hingecheck)"
        raise ModelError(f"lumbopelvic model not found: {file}{hint}")
    try:
        with np.load(file, allow_pickle=False) as z:
            header = json.loads(str(z["header_json"]))
            arrays = {k: z[k] for k in z.files if k != "header_json"}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"lumbopelvic model {file} is corrupt: {exc}") from None
    has_cnn = bool(header.get("cnn", False))
    lags_s = tuple(float(v) for v in header.get("lags_s", ()))
    names = feature_names(cnn=has_cnn, lags_s=lags_s)
    if header.get("feature_names") != names:
        raise ModelError(
            f"lumbopelvic model {file} was trained on other features than this hingecheck computes: retrain it "
            "(make retrain)"
        )
    if set(header.get("targets", ())) != set(TARGETS):
        raise ModelError(f"lumbopelvic model {file} does not estimate {', '.join(TARGETS)}")
    change_targets = header.get("change_targets", [])
    if change_targets and set(change_targets) != set(CHANGE_TARGETS):
        raise ModelError(f"lumbopelvic model {file} reads changes {change_targets}, not {', '.join(CHANGE_TARGETS)}")
    try:
        ensembles = {t: {q: TreeEnsemble.from_arrays(arrays, f"{t}.{q}.") for q in QUANTILES} for t in TARGETS}
        changes = {t: TreeEnsemble.from_arrays(arrays, f"{t}.mid.") for t in change_targets}
        cnn = CropNet.from_arrays(arrays, CNN_PREFIX) if has_cnn else None
    except KeyError as exc:
        raise ModelError(f"lumbopelvic model {file} is incomplete: no {exc}") from None
    log.debug("lumbopelvic model %s (%s)", file, header.get("provenance", {}).get("trained", "?"))
    residual_of = header.get("residual_of", {})
    if any(col not in names for col in residual_of.values()):
        raise ModelError(f"lumbopelvic model {file} corrects a reading this hingecheck does not compute")
    scale = {k: float(v) for k, v in header["interval_scale"].items()}
    window_s = float(header.get("change_window_s", 0.0))
    return LumbopelvicModel(ensembles, scale, header["provenance"], residual_of, cnn, lags_s, changes, window_s)
