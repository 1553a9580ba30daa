"""Portal settings: command-line flags over an optional ``DIR/serve.toml`` ``[serve]`` section over defaults."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from hingecheck.core.errors import HingecheckError

SETTINGS_FILE = "serve.toml"


class ServeConfigError(HingecheckError):
    """A bad ``[serve]`` setting."""

    status = "config_error"


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``hingecheck serve`` runs with."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    scheduler: str | None = None  # tcp://HOST:PORT of a Dask scheduler; None: local worker processes
    max_upload_mb: float = 2048.0
    blur_faces: bool = True  # stored annotated videos have faces blurred unless turned off
    write_video: bool = True
    keep_originals: bool = True  # False: an upload's original file is deleted once it is analysed
    config_path: str | None = None  # analysis thresholds (TOML), as ``hingecheck analyze --config``
    timeout_s: float = 1800.0  # per analysis
    public_url: str | None = None  # base of the upload links (e.g. https://clinic.example); default from host:port
    secure_cookies: bool = False  # set behind HTTPS (the cookie then never travels in clear)
    start_workers: bool = True  # tests of the web layer alone turn the dispatcher off

    @property
    def max_upload_bytes(self) -> int:
        """The upload cap in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def base_url(self) -> str:
        """The start of the upload links: ``public_url``, else http://HOST:PORT."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def load_config(data_dir: str | Path, **overrides: Any) -> ServeConfig:
    """Defaults, then ``DIR/serve.toml`` [serve], then the given overrides (``None`` values are ignored)."""
    data = Path(data_dir).resolve()
    values: dict[str, Any] = {}
    path = data / SETTINGS_FILE
    if path.is_file():
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("serve", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ServeConfigError(f"{path}: {exc}") from None
        known = {f.name for f in fields(ServeConfig)} - {"data_dir", "start_workers"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ServeConfigError(f"{path}: unknown [serve] setting(s) {', '.join(unknown)}")
        values.update(section)
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = replace(ServeConfig(data_dir=data), **values)
    if config.max_upload_mb <= 0 or config.workers < 1:
        raise ServeConfigError("max_upload_mb must be positive and workers at least 1")
    return config
