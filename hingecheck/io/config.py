"""Settings files: read a user's TOML and check it against the schema (``hingecheck.core.settings``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hingecheck.core.settings import ConfigError, Settings, settings_from_dict


def load_settings(path: str | Path | None = None) -> Settings:
    """The defaults, or the defaults with the TOML file at ``path`` applied (one-line ConfigError if unusable)."""
    if path is None:
        return Settings()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        user = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    return settings_from_dict(user, source=str(p))
