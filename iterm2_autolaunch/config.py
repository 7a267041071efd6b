"""The one config object (frozen), its defaults and its questions. Parsing is ``config_parse.py``, reading the
file ``config_file.py``. Everything below the entry points receives a ``Config`` and never reads files or the
environment itself.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from iterm2_autolaunch.kinds import KINDS

ACTIONS = ("open", "notify", "silent", "ignore")
# Where a page opens: the system browser, or iTerm2's built-in browser in a pane split beside the session
# that printed the banner, or in a new tab of its window (frontends/iterm2_pane.py).
BROWSER_PLACES = ("system", "iterm2-split", "iterm2-tab")
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
    browser: str | None = None  # one of BROWSER_PLACES for every kind on these hosts
    browsers: Mapping[str, str] = field(default_factory=dict)  # kind -> one of BROWSER_PLACES
    # May a session variable (user.sshHost, shell integration's hostname) name this host? Printed text can set
    # those variables, so a host is never taken from them unless a rule like this lists it.
    trust_variables: bool = False

    def applies_to(self, *names: str) -> bool:
        return any(name and fnmatch.fnmatchcase(name, self.match) for name in names)


@dataclass(frozen=True)
class Limits:
    """Bounds on what printed text can make the daemon do (a hostile program can print 300 banners a second).
    What goes past a bound is logged once and not acted on."""

    logins_per_host: int = 2  # SSH logins in flight to one host at a time
    forwards_per_session: int = 8
    forwards_total: int = 32
    opens_per_minute: int = 6  # browser tabs
    notifications_per_minute: int = 10


@dataclass(frozen=True)
class Config:
    backend: str = "auto"
    browser: tuple[str, ...] = ()  # argv; the URL is appended. Empty: macOS `open`, else `webbrowser`.
    # `browser = "iterm2-split"` in the file: where pages open (BROWSER_PLACES); per kind in `browsers`.
    open_in: str = "system"
    browsers: Mapping[str, str] = field(default_factory=dict)
    close_browser_pane: bool = False  # when its server goes: close the iTerm2 browser pane (else: say so in it)
    actions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    port_range: tuple[int, int] = (49152, 65535)
    kinds: frozenset[str] = frozenset(KIND_NAMES)
    markers: tuple[str, ...] = ()
    reattach: str = "notify"
    # A printed host that does not look local to the remote (a public name) is a forward target only when
    # this is true; link-local and cloud-metadata hosts never are (hosts.forward_allowed).
    forward_public_hosts: bool = False
    hosts: tuple[HostRule, ...] = ()
    limits: Limits = field(default_factory=Limits)
    # Secret identity of the invisible marker (OSC 1337 ; Custom=id=<identity>:<url> ST); None: markers off.
    marker_identity: str | None = field(default=None, repr=False)
    source: str = "<defaults>"

    def backend_for(self, *names: str) -> str:
        for rule in self.hosts:
            if rule.backend and rule.applies_to(*names):
                return rule.backend
        return self.backend

    def trusts_variables(self, host: str) -> bool:
        """May ``host``, named only by session variables, be connected to?"""
        return any(rule.trust_variables and rule.applies_to(host) for rule in self.hosts)

    def browser_for(self, kind: str, *names: str) -> str:
        """Where ``kind``'s page opens for these host names: a host rule's per-kind choice, then its choice
        for every kind, then the top-level per-kind choice, then the top-level one."""
        for rule in self.hosts:
            if rule.applies_to(*names):
                if kind in rule.browsers:
                    return rule.browsers[kind]
                if rule.browser:
                    return rule.browser
        return self.browsers.get(kind, self.open_in)

    def action_for(self, kind: str, *names: str) -> str:
        if kind not in self.kinds:
            return "ignore"
        for rule in self.hosts:
            if kind in rule.actions and rule.applies_to(*names):
                return rule.actions[kind]
        return self.actions.get(kind, "notify")
