"""Where the config file is, the one function that loads it (used by every entry point, once), and
``iterm2-autolaunch config --check|--show``.

``load_config`` reads the file, parses it (``config.parse_config_text``, pure) and checks the backend names
against the registry; no file means the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iterm2_autolaunch.config import KIND_NAMES, Config
from iterm2_autolaunch.config_parse import parse_config_text
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


def config_main(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch config --check|--show [--path FILE]``."""
    parser = argparse.ArgumentParser(prog="iterm2-autolaunch config", description="Check or show the config file.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--check", action="store_true", help="say whether the config file is valid")
    what.add_argument("--show", action="store_true", help="print the effective config (file plus defaults)")
    parser.add_argument("--path", type=Path, help="the config file (default: %(default)s)", default=config_path())
    args = parser.parse_args(list(argv))
    try:
        config = load_config(args.path)
    except ConfigError as error:
        print(f"iterm2-autolaunch config: {error}", file=sys.stderr)
        return 1
    exists = args.path.exists()
    if args.check:
        print(f"ok: {args.path}" if exists else f"ok: no config file at {args.path}; defaults in use")
    else:
        print(render_config(config, args.path if exists else None, args.path))
    return 0


def render_config(config: Config, source: Path | None, path: Path) -> str:
    """The effective config as TOML (it loads back to the same Config)."""
    header = f"# effective config: {source} with defaults filled in" if source else \
        f"# no config file at {path}; these are the defaults"
    lines = [
        header,
        f"backend = {_toml(config.backend)}",
        f"browser = {_toml(config.open_in if config.open_in != 'system' else list(config.browser))}",
        f"close_browser_pane = {_toml(config.close_browser_pane)}",
        f"port_range = {_toml(list(config.port_range))}",
        f"kinds = {_toml([name for name in KIND_NAMES if name in config.kinds])}",
        f"markers = {_toml(list(config.markers))}",
        f"reattach = {_toml(config.reattach)}",
        f"forward_public_hosts = {_toml(config.forward_public_hosts)}",
        "",
        "[actions]",
        *(f"{name} = {_toml(config.actions[name])}" for name in KIND_NAMES if name in config.actions),
    ]
    if config.browsers:
        lines += ["", "[browsers]", *(f"{name} = {_toml(place)}" for name, place in config.browsers.items())]
    for rule in config.hosts:
        lines += ["", "[[hosts]]", f"match = {_toml(rule.match)}"]
        if rule.backend:
            lines.append(f"backend = {_toml(rule.backend)}")
        if rule.actions:
            lines.append(f"actions = {_toml(dict(rule.actions))}")
        if rule.browser:
            lines.append(f"browser = {_toml(rule.browser)}")
        if rule.browsers:
            lines.append(f"browsers = {_toml(dict(rule.browsers))}")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
