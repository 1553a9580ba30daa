"""The shipped lumbopelvic model at the edge: found, checked, refused with one line when it cannot be used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hingecheck.core.errors import ModelError
from hingecheck.io.lumbopelvic_model import SHIPPED, load_model, save_model


def test_the_shipped_model_round_trips_through_save(tmp_path):
    model = load_model()
    copy = tmp_path / "copy.npz"
    save_model(model, copy)
    again = load_model(str(copy))
    x = np.random.default_rng(0).normal(size=(5, len(model.names())))
    assert again.lags_s == model.lags_s and again.change_window_s == model.change_window_s
    assert set(again.changes) == set(model.changes)
    a, b = model.read(x), again.read(x)
    if model.cnn is not None:
        assert again.cnn is not None
        images = np.random.default_rng(1).uniform(0, 1, (2, 2, 64, 64)).astype(np.float32)
        scalars = np.zeros((2, 10), np.float32)
        assert np.array_equal(model.cnn(images, scalars), again.cnn(images, scalars))
    assert set(a.estimate) == set(b.estimate) and set(a.uncertainty) == set(b.uncertainty)
    for k in a.estimate:
        assert np.array_equal(a.estimate[k], b.estimate[k])
    for k in a.uncertainty:
        assert np.array_equal(a.uncertainty[k], b.uncertainty[k])


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "not found"),
        (b"not a zip at all", "is corrupt"),
    ],
)
def test_missing_or_corrupt_files_give_one_line(tmp_path, content, says):
    path = tmp_path / "m.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=says) as err:
        load_model(str(path))
    assert "\n" not in str(err.value)


def test_a_model_of_other_features_is_refused(tmp_path):
    with np.load(SHIPPED, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header_json"]))
    header["feature_names"] = header["feature_names"][:-1]
    arrays["header_json"] = np.array(json.dumps(header))
    path = tmp_path / "old.npz"
    np.savez_compressed(path, **arrays)
    with pytest.raises(ModelError, match="other features"):
        load_model(str(path))


def test_the_environment_variable_chooses_another_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HINGECHECK_LUMBOPELVIC_MODEL", str(tmp_path / "nowhere.npz"))
    with pytest.raises(ModelError, match="nowhere.npz"):
        load_model()


def test_a_model_reading_only_some_of_the_changes_is_refused(tmp_path):
    with np.load(SHIPPED, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header_json"]))
    assert header["change_targets"] == ["lumbar_change_deg", "hip_change_deg"]
    header["change_targets"] = ["lumbar_change_deg"]
    arrays["header_json"] = np.array(json.dumps(header))
    path = tmp_path / "half.npz"
    np.savez_compressed(path, **arrays)
    with pytest.raises(ModelError, match="reads changes"):
        load_model(str(path))
