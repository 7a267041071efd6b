"""The config file's text -> ``Config``. Pure. Every mistake is reported at once, each with its line and key.

A message reads ``<file>: line 3: hosts[0].backend: 42 is not ...``; several read ``<file>: 2 problems``
followed by one such line each. Backend names are checked where the backends are known
(``tunnels.registry.check_backends``, called by ``config_file.load_config``), so adding one touches no list here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from iterm2_autolaunch.config import (
    ACTIONS,
    BROWSER_PLACES,
    DEFAULT_ACTIONS,
    KIND_NAMES,
    MARKER_IDENTITY,
    REATTACH,
    Config,
    HostRule,
    Limits,
)
from iterm2_autolaunch.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

TOP_KEYS = {
    "backend", "browser", "browsers", "close_browser_pane", "actions", "port_range", "kinds", "markers", "reattach",
    "hosts", "marker_identity", "limits",
    "forward_public_hosts",
}  # fmt: skip
HOST_KEYS = {"match", "backend", "actions", "browser", "browsers", "trust_variables"}
LIMIT_KEYS = {field.name for field in fields(Limits)}
_INVALID = object()  # what a check returns for a bad value: the default is used, the error is kept


def parse_config_text(text: str, source: str) -> Config:
    """The config in ``text`` (TOML); ``source`` names the file in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: {error}") from error
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply (arrays or tables inside each other)") from None
    return parse_config(data, source, text)


def parse_config(data: Mapping[str, Any], source: str, text: str = "") -> Config:
    """Check every key of ``data``; one ConfigError listing every problem, or the Config."""
    reader = _Reader(source, text)
    reader.no_unknown(data, "", TOP_KEYS)
    actions = dict(DEFAULT_ACTIONS)
    actions.update(reader.actions(data.get("actions", {}), "actions"))
    hosts = []
    for number, rule in enumerate(reader.typed(data.get("hosts", []), "hosts", list, "an array of tables", [])):
        key = f"hosts[{number}]"
        rule = reader.typed(rule, key, dict, "a table ([[hosts]])", {})
        reader.no_unknown(rule, key + ".", HOST_KEYS)
        hosts.append(
            HostRule(
                match=reader.text(rule.get("match"), key + ".match", "a glob string such as '*.hpc.edu'", "\0"),
                backend=reader.name(rule.get("backend"), key + ".backend", optional=True),
                actions=reader.actions(rule.get("actions", {}), key + ".actions"),
                browser=reader.choice(rule.get("browser"), key + ".browser", BROWSER_PLACES, optional=True),
                browsers=reader.browsers(rule.get("browsers", {}), key + ".browsers"),
                trust_variables=reader.typed(
                    rule.get("trust_variables", False), key + ".trust_variables", bool, "true or false", False
                ),
            )
        )
    browser, open_in = reader.browser(data.get("browser", []))
    config = Config(
        backend=reader.name(data.get("backend", "auto"), "backend") or "auto",
        browser=browser,
        open_in=open_in,
        browsers=reader.browsers(data.get("browsers", {}), "browsers"),
        close_browser_pane=reader.typed(
            data.get("close_browser_pane", False), "close_browser_pane", bool, "true or false", False
        ),
        actions=actions,
        port_range=reader.port_range(data.get("port_range", [49152, 65535])),
        kinds=frozenset(reader.names(data.get("kinds", list(KIND_NAMES)), "kinds", KIND_NAMES)),
        markers=reader.markers(data.get("markers", [])),
        reattach=reader.choice(data.get("reattach", "notify"), "reattach", REATTACH) or "notify",
        hosts=tuple(hosts),
        limits=reader.limits(data.get("limits", {})),
        forward_public_hosts=reader.typed(
            data.get("forward_public_hosts", False), "forward_public_hosts", bool, "true or false", False
        ),
        marker_identity=reader.marker_identity(data.get("marker_identity")),
        source=source,
    )
    reader.raise_if_any()
    return config


class _Reader:
    """Checks values one key at a time. A bad value is noted (with its line and key) and replaced by its
    default, so that every problem of the file is found in one pass."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.problems: list[tuple[int, str]] = []

    def fail(self, key: str, message: str) -> None:
        line = _line_of(self.lines, key)
        self.problems.append((line, f"{'line ' + str(line) + ': ' if line else ''}{key}: {message}"))

    def raise_if_any(self) -> None:
        if len(self.problems) == 1:
            raise ConfigError(f"{self.source}: {self.problems[0][1]}")
        if self.problems:
            listed = "\n".join(f"  {message}" for _, message in sorted(self.problems, key=lambda p: p[0]))
            raise ConfigError(f"{self.source}: {len(self.problems)} problems:\n{listed}")

    def no_unknown(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                self.fail(prefix + key, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def typed(self, value: Any, key: str, kind: type, what: str, default: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"must be {what}, not {_shown(value)}")
            return default
        return value

    def text(self, value: Any, key: str, what: str, default: str) -> str:
        """A string without control characters (they would reach a glob, a log or an argv)."""
        if not isinstance(value, str) or not value or _CONTROL.search(value):
            self.fail(key, f"must be {what} (no control characters), not {_shown(value)}")
            return default
        return value

    def choice(self, value: Any, key: str, allowed: tuple[str, ...], optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if value not in allowed:
            self.fail(key, f"{_shown(value)} is not allowed; use one of: {', '.join(allowed)}")
            return None
        return str(value)

    def name(self, value: Any, key: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,40}", value):
            self.fail(key, f"{_shown(value)} is not allowed; use one of the backend names, such as \"auto\"")
            return None
        return value

    def names(self, value: Any, key: str, allowed: tuple[str, ...]) -> list[str]:
        if not isinstance(value, list):
            self.fail(key, f"must be a list of: {', '.join(allowed)}")
            return list(allowed)
        return [item for item in value if self.choice(item, key, allowed) is not None]

    def actions(self, value: Any, key: str) -> dict[str, str]:
        value = self.typed(value, key, dict, "a table of kind = action", {})
        good = {}
        for kind, action in value.items():
            if self.choice(kind, f"{key}.{kind}", KIND_NAMES) and self.choice(action, f"{key}.{kind}", ACTIONS):
                good[kind] = action
        return good

    def browsers(self, value: Any, key: str) -> dict[str, str]:
        value = self.typed(value, key, dict, "a table of kind = browser", {})
        good = {}
        for kind, place in value.items():
            if self.choice(kind, f"{key}.{kind}", KIND_NAMES) and self.choice(place, f"{key}.{kind}", BROWSER_PLACES):
                good[kind] = place
        return good

    def browser(self, value: Any) -> tuple[tuple[str, ...], str]:
        """``browser``: a list is the system browser's command; a string says where pages open."""
        if isinstance(value, str):
            if value not in BROWSER_PLACES:
                self.fail("browser", f"{_shown(value)} is not allowed; use one of: {', '.join(BROWSER_PLACES)}, "
                          'or a command as a list of strings, e.g. ["open", "-a", "Firefox"]')
                return (), "system"
            return (), value
        return self.argv(value, "browser"), "system"

    def argv(self, value: Any, key: str) -> tuple[str, ...]:
        what = 'a list of non-empty strings without NUL (argv, no shell), e.g. ["open", "-a", "Firefox"]'
        # NUL is the one character no argv can carry (exec takes C strings); newlines are fine (python -c).
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item and "\0" not in item for item in value
        ):
            self.fail(key, f"must be {what}")
            return ()
        return tuple(value)

    def port_range(self, value: Any) -> tuple[int, int]:
        what = "two port numbers [low, high] with 1024 <= low <= high <= 65535"
        if not (isinstance(value, list) and len(value) == 2 and all(type(item) is int for item in value)
                and 1024 <= value[0] <= value[1] <= 65535):
            self.fail("port_range", f"must be {what}, not {_shown(value)}")
            return (49152, 65535)
        return (value[0], value[1])

    def markers(self, value: Any) -> tuple[str, ...]:
        what = "a list of marker words (letters, digits, _ or -), as in `echo MARKER %s`"
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item and all(c.isascii() and (c.isalnum() or c in "_-") for c in item)
            for item in value
        ):
            self.fail("markers", f"must be {what}")
            return ()
        return tuple(value)

    def limits(self, value: Any) -> Limits:
        value = self.typed(value, "limits", dict, "a table of limits", {})
        self.no_unknown(value, "limits.", LIMIT_KEYS)
        chosen = {}
        for name in LIMIT_KEYS & set(value):
            number = self.typed(value[name], f"limits.{name}", int, "a whole number from 1 to 1000", None)
            if number is not None and not 1 <= number <= 1000:
                self.fail(f"limits.{name}", f"must be a whole number from 1 to 1000, not {number}")
            elif number is not None:
                chosen[name] = number
        return Limits(**chosen)

    def marker_identity(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not MARKER_IDENTITY.fullmatch(value):
            # The value is a secret: the message does not repeat it.
            self.fail(
                "marker_identity",
                "must be a secret string of 16 to 128 letters, digits, _ or - "
                "(`iterm2-autolaunch remote-config` suggests one)",
            )
            return None
        return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SHOWN = 60  # characters of a bad value repeated in a message


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _line_of(lines: list[str], key: str) -> int:
    """The 1-based line where ``key`` (``backend``, ``actions.jupyter``, ``hosts[1].match``) is set; 0 if unknown.

    tomllib keeps no positions, so this reads the text again: the table header, then the key inside it."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", key)
    table: list[str] = []
    seen: dict[str, int] = {}
    want_index = {}
    for i, part in enumerate(parts):
        if part.startswith("["):
            want_index[".".join(p for p in parts[:i] if not p.startswith("["))] = int(part[1:-1])
    names = [part for part in parts if not part.startswith("[")]
    best = 0
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if header:
            table = [name.strip().strip('"') for name in header.group(1).split(".")]
            joined = ".".join(table)
            seen[joined] = seen.get(joined, -1) + (1 if line.startswith("[[") else 0)
            if table == names[: len(table)] and seen.get(joined, 0) in (want_index.get(joined, 0), -1):
                best = best or number
            continue
        assignment = re.match(r'"?([A-Za-z0-9_-]+)"?\s*=', line)
        if not assignment:
            continue
        path = [*table, assignment.group(1)]
        joined = ".".join(table)
        index_ok = joined not in want_index or seen.get(joined, 0) == want_index[joined]
        if index_ok and names[: len(path)] == path:
            return number  # the key itself, or the inline table that holds it
    return best
