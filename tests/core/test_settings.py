"""The settings schema: one home for every default, defaults.toml generated from it, bad values fail in one line."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from hingecheck.core.filters import OneEuroParams
from hingecheck.core.settings import SECTIONS, ConfigError, Settings, defaults_toml, settings_from_dict
from hingecheck.io.config import load_settings

DEFAULTS_TOML = Path(__file__).resolve().parents[2] / "hingecheck" / "core" / "defaults.toml"


def test_defaults_toml_is_generated_from_the_schema() -> None:
    assert DEFAULTS_TOML.read_text() == defaults_toml(), "run: python -m hingecheck.core.settings > " + str(
        DEFAULTS_TOML
    )
    assert settings_from_dict(tomllib.loads(DEFAULTS_TOML.read_text())) == Settings(source="defaults")


def test_every_setting_documents_where_its_value_comes_from() -> None:
    for name, cls in SECTIONS.items():
        assert cls.__doc__ and cls.__doc__.startswith(f"[{name}]")
        for spec in dataclasses.fields(cls):
            assert len(spec.metadata.get("doc", "")) > 10, f"{name}.{spec.name} has no source"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reps": {"start_deg": "ten"}}, "setting 'reps.start_deg' must be a number, not 'ten'"),
        ({"reps": {"strat_deg": 5}}, "unknown setting 'reps.strat_deg'"),
        ({"repz": {}}, "unknown settings section '[repz]'"),
        ({"pose": {"num_poses": 1.5}}, "setting 'pose.num_poses' must be a whole number, not 1.5"),
        ({"pose": {"crowd_check": 1}}, "setting 'pose.crowd_check' must be true or false, not 1"),
        ({"rdl": {"knee_hip_ratio": True}}, "setting 'rdl.knee_hip_ratio' must be a number, not True"),
        ({"exercise": {"name": "squat"}}, "setting 'exercise.name' must be one of auto, rdl"),
        ({"faults": 3}, "settings section 'faults' must be a table"),
    ],
)
def test_bad_settings_fail_with_one_line_naming_the_key(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(overrides)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    cfg = tmp_path / "my.toml"
    cfg.write_text("[faults]\nlumbar_tolerance_deg = 20\n")
    settings = load_settings(cfg)
    assert settings.faults.lumbar_tolerance_deg == 20.0 and isinstance(settings.faults.lumbar_tolerance_deg, float)
    assert settings.reps == Settings().reps
    assert settings.source == str(cfg)
    assert settings.hash != Settings().hash


def test_an_unreadable_settings_file_fails_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[faults\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")


def test_live_smoothing_defaults_have_one_home() -> None:
    live = Settings().live
    assert OneEuroParams.from_live(live) == OneEuroParams(
        live.one_euro_min_cutoff_hz, live.one_euro_beta, live.one_euro_d_cutoff_hz
    )
