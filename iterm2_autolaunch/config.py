"""The one config object, built at the edge from ``~/.config/iterm2-autolaunch/config.toml``.

Everything below the entry points receives a ``Config`` and never reads files or the environment itself.
A bad file gives a ``ConfigError`` naming the file, the key and what is allowed; no file means defaults.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iterm2_autolaunch.detect import KINDS
from iterm2_autolaunch.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

BACKENDS = ("auto", "sshtunnel", "openssh")
ACTIONS = ("open", "notify", "silent", "ignore")
REATTACH = ("notify", "open", "ignore")
# The marker identity is a shared secret between this config and the remote Jupyter config: long enough not
# to be guessed, and made only of characters that need no quoting in a printf format or an OSC string.
MARKER_IDENTITY = re.compile(r"[A-Za-z0-9_-]{16,128}")
KIND_NAMES = tuple(kind.name for kind in KINDS)
# Each kind's own default (kinds.py): "open" for notebooks and dashboards, "notify" for generic dev servers.
DEFAULT_ACTIONS: Mapping[str, str] = {kind.name: kind.default_action for kind in KINDS}


@dataclass(frozen=True)
class HostRule:
    """Overrides for the SSH destinations whose name (as typed, or resolved) matches ``match`` (glob)."""

    match: str
    backend: str | None = None
    actions: Mapping[str, str] = field(default_factory=dict)

    def applies_to(self, *names: str) -> bool:
        return any(name and fnmatch.fnmatchcase(name, self.match) for name in names)


@dataclass(frozen=True)
class Config:
    backend: str = "auto"
    browser: tuple[str, ...] = ()  # argv; the URL is appended. Empty: macOS `open`, else `webbrowser`.
    actions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    port_range: tuple[int, int] = (49152, 65535)
    kinds: frozenset[str] = frozenset(KIND_NAMES)
    markers: tuple[str, ...] = ()
    reattach: str = "notify"
    # A printed host that does not look local to the remote (a public name) is a forward target only when
    # this is true; link-local and cloud-metadata hosts never are (hosts.forward_allowed).
    forward_public_hosts: bool = False
    hosts: tuple[HostRule, ...] = ()
    # Secret identity of the invisible marker (OSC 1337 ; Custom=id=<identity>:<url> ST); None: markers off.
    marker_identity: str | None = field(default=None, repr=False)
    source: str = "<defaults>"

    def backend_for(self, *names: str) -> str:
        for rule in self.hosts:
            if rule.backend and rule.applies_to(*names):
                return rule.backend
        return self.backend

    def action_for(self, kind: str, *names: str) -> str:
        if kind not in self.kinds:
            return "ignore"
        for rule in self.hosts:
            if kind in rule.actions and rule.applies_to(*names):
                return rule.actions[kind]
        return self.actions.get(kind, "notify")


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
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    return parse_config(data, str(path))


def parse_config(data: Mapping[str, Any], source: str) -> Config:
    reader = _Reader(source)
    reader.no_unknown(
        data,
        "",
        {"backend", "browser", "actions", "port_range", "kinds", "markers", "reattach", "hosts", "marker_identity",
         "forward_public_hosts"},
    )
    actions = dict(DEFAULT_ACTIONS)
    actions.update(reader.actions(data.get("actions", {}), "actions"))
    hosts = []
    for number, rule in enumerate(reader.typed(data.get("hosts", []), "hosts", list, "an array of tables")):
        key = f"hosts[{number}]"
        rule = reader.typed(rule, key, dict, "a table ([[hosts]])")
        reader.no_unknown(rule, key + ".", {"match", "backend", "actions"})
        hosts.append(
            HostRule(
                match=reader.typed(
                    rule.get("match"), key + ".match", str, "a glob string such as '*.hpc.edu'"
                ),
                backend=reader.choice(rule.get("backend"), key + ".backend", BACKENDS, optional=True),
                actions=reader.actions(rule.get("actions", {}), key + ".actions"),
            )
        )
    return Config(
        backend=reader.choice(data.get("backend", "auto"), "backend", BACKENDS) or "auto",
        browser=reader.argv(data.get("browser", []), "browser"),
        actions=actions,
        port_range=reader.port_range(data.get("port_range", [49152, 65535])),
        kinds=frozenset(reader.names(data.get("kinds", list(KIND_NAMES)), "kinds", KIND_NAMES)),
        markers=reader.markers(data.get("markers", [])),
        reattach=reader.choice(data.get("reattach", "notify"), "reattach", REATTACH) or "notify",
        forward_public_hosts=reader.typed(
            data.get("forward_public_hosts", False), "forward_public_hosts", bool, "true or false"
        ),
        hosts=tuple(hosts),
        marker_identity=reader.marker_identity(data.get("marker_identity")),
        source=source,
    )


class _Reader:
    """Checks values one key at a time; every message names the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}")

    def no_unknown(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(prefix + key, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def typed(self, value: Any, key: str, kind: type, what: str) -> Any:
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {what}, not {value!r}")
        return value

    def choice(self, value: Any, key: str, allowed: tuple[str, ...], optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not allowed; use one of: {', '.join(allowed)}")
        return str(value)

    def names(self, value: Any, key: str, allowed: tuple[str, ...]) -> list[str]:
        self.typed(value, key, list, f"a list of: {', '.join(allowed)}")
        for item in value:
            self.choice(item, key, allowed)
        return list(value)

    def actions(self, value: Any, key: str) -> dict[str, str]:
        self.typed(value, key, dict, "a table of kind = action")
        for kind, action in value.items():
            self.choice(kind, f"{key}.{kind}", KIND_NAMES)
            self.choice(action, f"{key}.{kind}", ACTIONS)
        return dict(value)

    def argv(self, value: Any, key: str) -> tuple[str, ...]:
        what = 'a list of strings (argv, no shell), e.g. ["open", "-a", "Firefox"]'
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.fail(key, f"must be {what}")
        return tuple(value)

    def port_range(self, value: Any) -> tuple[int, int]:
        what = "two port numbers [low, high] with 1024 <= low <= high <= 65535"
        if not (isinstance(value, list) and len(value) == 2 and all(type(item) is int for item in value)):
            raise self.fail("port_range", f"must be {what}")
        low, high = value
        if not 1024 <= low <= high <= 65535:
            raise self.fail("port_range", f"must be {what}, not {value!r}")
        return (low, high)

    def markers(self, value: Any) -> tuple[str, ...]:
        what = "a list of marker words (letters, digits, _ or -), as in `echo MARKER %s`"
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item and all(c.isascii() and (c.isalnum() or c in "_-") for c in item)
            for item in value
        ):
            raise self.fail("markers", f"must be {what}")
        return tuple(value)

    def marker_identity(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not MARKER_IDENTITY.fullmatch(value):
            # The value is a secret: the message does not repeat it.
            raise self.fail(
                "marker_identity",
                "must be a secret string of 16 to 128 letters, digits, _ or - "
                "(`iterm2-autolaunch remote-config` suggests one)",
            )
        return value
