"""Where the config file is, and the one function that loads it (used by every entry point, once).

``load_config`` reads the file, parses it (``config.parse_config_text``, pure) and checks the backend names
against the registry; no file means the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from iterm2_autolaunch.config import Config, parse_config_text
from iterm2_autolaunch.errors import ConfigError
from iterm2_autolaunch.tunnels.registry import check_backends


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "iterm2-autolaunch" / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """The config at ``path`` (default: ``config_path()``); defaults when that file does not exist."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start}): save it as UTF-8") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    config = parse_config_text(text, str(path))
    check_backends(config)
    return config
