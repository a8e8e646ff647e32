"""Where the CLI keeps the API URL and token: $XDG_CONFIG_HOME/dataperf/config.json (else
~/.config/dataperf/config.json), readable by its owner only. DATAPERF_URL and DATAPERF_TOKEN override it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from dataperf_cli.errors import EXIT_AUTH, CliError


@dataclass(frozen=True)
class Config:
    url: str
    token: str


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dataperf" / "config.json"


def read_stored() -> Config | None:
    path = config_path()
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Config(url=str(data["url"]), token=str(data["token"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{path} is damaged ({exc}); run `dataperf login` again.") from exc


def store(config: Config) -> Path:
    """Write the config with mode 0600 in a 0700 folder. The file is created with those permissions (never
    world-readable, not even for an instant) and replaced atomically."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"url": config.url, "token": config.token}, handle)
    os.replace(temporary, path)
    os.chmod(path, 0o600)
    return path


def forget() -> bool:
    """Remove the stored config; False if there was none."""
    path = config_path()
    if not path.exists():
        return False
    path.unlink()
    return True


def current() -> Config:
    """The config in force: the environment's DATAPERF_URL / DATAPERF_TOKEN over the stored file."""
    stored = read_stored()
    url = os.environ.get("DATAPERF_URL") or (stored.url if stored else "")
    token = os.environ.get("DATAPERF_TOKEN") or (stored.token if stored else "")
    if not url or not token:
        raise CliError("not logged in: run `dataperf login` (or set DATAPERF_URL and DATAPERF_TOKEN).", EXIT_AUTH)
    return Config(url=url, token=token)
