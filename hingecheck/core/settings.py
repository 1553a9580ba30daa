"""Settings: defaults (hingecheck/core/defaults.toml, each threshold with its source) merged with a user TOML file.

Each stage reads its own section into its own small dataclass (e.g. ``movement.faults.FaultConfig``), so
this module stays generic: load, merge, hash.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from hingecheck.core.errors import HingecheckError

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")

T = TypeVar("T")


class ConfigError(HingecheckError):
    status = "config_error"


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in out:
            raise ConfigError(f"unknown setting '{where}{key}' (see hingecheck/core/defaults.toml for the known ones)")
        if isinstance(out[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"setting '{where}{key}' must be a table")
            out[key] = _merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any]
    source: str  # "defaults" or the user file merged over them

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.values.get(name, {}))

    def typed(self, name: str, cls: type[T]) -> T:
        """Fill dataclass ``cls`` from section ``name`` (unknown keys are ignored, missing keep defaults)."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in self.section(name).items() if k in known})

    @property
    def hash(self) -> str:
        blob = json.dumps(self.values, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_settings(path: str | Path | None = None) -> Settings:
    defaults = tomllib.loads(DEFAULTS_PATH.read_text())
    if path is None:
        return Settings(defaults, "defaults")
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        user = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    return Settings(_merge(defaults, user), str(p))
