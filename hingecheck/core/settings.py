"""The settings schema: every default of hingecheck, typed, in one place.

Each section of a settings file is one frozen dataclass below; a field's default is the default, its
``doc`` says where the value comes from. ``defaults.toml`` beside this module is generated from the schema
(``python -m hingecheck.core.settings > hingecheck/core/defaults.toml``; a test keeps it in step) and is the
reference for ``--config`` files. ``settings_from_dict`` checks a user's overrides: an unknown section or
key, or a value of the wrong type, fails with one line naming the key. Reading files is the edges' job
(``hingecheck.io.config.load_settings``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from hingecheck.core.profiles import (
    EXERCISES,
    DeadliftProfile,
    ExerciseConfig,
    ExerciseProfile,
    GoodMorningProfile,
    HingeProfile,
    KbDeadliftProfile,
    RdlProfile,
)
from hingecheck.core.sections import (
    BatchConfig,
    ConfigError,
    FaultConfig,
    LiveConfig,
    PoseConfig,
    QualityConfig,
    ReadingConfig,
    RepConfig,
    setting,
)

__all__ = [
    "EXERCISES",
    "SECTIONS",
    "BatchConfig",
    "ConfigError",
    "DeadliftProfile",
    "ExerciseConfig",
    "ExerciseProfile",
    "FaultConfig",
    "GoodMorningProfile",
    "HingeProfile",
    "KbDeadliftProfile",
    "LiveConfig",
    "PoseConfig",
    "QualityConfig",
    "RdlProfile",
    "ReadingConfig",
    "RepConfig",
    "Settings",
    "defaults_toml",
    "setting",
    "settings_from_dict",
]


SECTIONS: dict[str, type] = {
    "pose": PoseConfig,
    "reps": RepConfig,
    "faults": FaultConfig,
    "live": LiveConfig,
    "batch": BatchConfig,
    "quality": QualityConfig,
    "reading": ReadingConfig,
    "exercise": ExerciseConfig,
    "rdl": RdlProfile,
    "deadlift": DeadliftProfile,
    "kb_deadlift": KbDeadliftProfile,
    "good_morning": GoodMorningProfile,
    "hinge": HingeProfile,
}


@dataclass(frozen=True)
class Settings:
    """All sections, typed; ``source`` says where the overrides came from ("defaults" or a file)."""

    pose: PoseConfig = field(default_factory=PoseConfig)
    reps: RepConfig = field(default_factory=RepConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    exercise: ExerciseConfig = field(default_factory=ExerciseConfig)
    rdl: RdlProfile = field(default_factory=RdlProfile)
    deadlift: DeadliftProfile = field(default_factory=DeadliftProfile)
    kb_deadlift: KbDeadliftProfile = field(default_factory=KbDeadliftProfile)
    good_morning: GoodMorningProfile = field(default_factory=GoodMorningProfile)
    hinge: HingeProfile = field(default_factory=HingeProfile)
    quality: QualityConfig = field(default_factory=QualityConfig)
    reading: ReadingConfig = field(default_factory=ReadingConfig)
    source: str = "defaults"

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        """Every setting as plain data, section by section (what summary.json records)."""
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def profile(self, exercise: str) -> ExerciseProfile:
        """The profile of one exercise (rdl, deadlift, kb_deadlift, good_morning, hinge)."""
        if exercise not in EXERCISES:
            raise ConfigError(f"unknown exercise {exercise!r} (known: {', '.join(EXERCISES)})")
        profile: ExerciseProfile = getattr(self, exercise)
        return profile

    @property
    def hash(self) -> str:
        """A short digest of every value: two analyses with the same hash used the same settings."""
        blob = json.dumps(self.values, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _checked(section: str, spec: dataclasses.Field[Any], value: Any) -> Any:
    """The value if it fits the field's type (an int is a fine float), else ConfigError naming the key."""
    where = f"{section}.{spec.name}"
    kind = type(spec.default)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind in (bool, str) and isinstance(value, kind):
        choices = spec.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"setting '{where}' must be one of {', '.join(choices)}, not {value!r}")
        return value
    expected = {float: "a number", int: "a whole number", bool: "true or false", str: "text"}[kind]
    raise ConfigError(f"setting '{where}' must be {expected}, not {value!r}")


def settings_from_dict(overrides: Mapping[str, Any], source: str = "defaults") -> Settings:
    """The defaults with ``overrides`` (``{section: {key: value}}``, as parsed from TOML) applied and checked."""
    sections: dict[str, Any] = {}
    for name, values in overrides.items():
        if name not in SECTIONS:
            raise ConfigError(f"unknown settings section '[{name}]' (known: {', '.join(SECTIONS)})")
        if not isinstance(values, Mapping):
            raise ConfigError(f"settings section '{name}' must be a table of key = value lines")
        specs = {f.name: f for f in fields(SECTIONS[name])}
        for key in values:
            if key not in specs:
                known = "see hingecheck/core/defaults.toml for the known ones"
                raise ConfigError(f"unknown setting '{name}.{key}' ({known})")
        sections[name] = SECTIONS[name](**{k: _checked(name, specs[k], v) for k, v in values.items()})
    return Settings(**sections, source=source)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def defaults_toml() -> str:
    """defaults.toml as generated from the schema: every section and key with its default and its source."""
    lines = [
        "# hingecheck default settings, generated from hingecheck/core/settings.py (do not edit by hand:",
        "# python -m hingecheck.core.settings > hingecheck/core/defaults.toml). Override any of them with",
        "# `--config my.toml` using the same sections and keys; each value says where it comes from.",
    ]
    for name, cls in SECTIONS.items():
        lines += ["", f"[{name}]"]
        doc = (cls.__doc__ or "").split("]", 1)[-1].strip()
        lines += ["# " + x for x in textwrap.wrap(" ".join(doc.split()), 110)]
        for spec in fields(cls):
            text = spec.metadata.get("doc", "")
            if spec.metadata.get("choices"):
                text += f" One of: {', '.join(spec.metadata['choices'])}."
            lines += ["#   " + x for x in textwrap.wrap(text, 108)] if text else []
            lines.append(f"{spec.name} = {_toml_value(spec.default)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(defaults_toml())
