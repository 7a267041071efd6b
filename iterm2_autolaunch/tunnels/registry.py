"""The one table of tunnel backends, and the ``auto`` rule (as uvicorn picks its loop and protocol).

Adding a backend: one module in ``tunnels/`` with a class that satisfies ``tunnels.base.Backend`` (or
``AsyncBackend``), and one line in ``BACKENDS``. The config accepts exactly these names plus ``auto``.
"""

from __future__ import annotations

from collections.abc import Callable

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.errors import ConfigError
from iterm2_autolaunch.target import SshTarget
from iterm2_autolaunch.tunnels.base import AnyBackend
from iterm2_autolaunch.tunnels.openssh_backend import OpenSshBackend, has_live_master
from iterm2_autolaunch.tunnels.sshtunnel_backend import SshtunnelBackend

BACKENDS: dict[str, Callable[[], AnyBackend]] = {
    "sshtunnel": SshtunnelBackend,  # paramiko in-process; the default
    "openssh": OpenSshBackend,  # the user's own ssh: ControlMaster (2FA) or ssh -N -L
}
AUTO = "auto"
NAMES = (AUTO, *BACKENDS)


def backend_name(preference: str, *, master_alive: bool) -> str:
    """The backend a preference means. ``auto``: openssh when a live ControlMaster exists for the target
    (``ssh -O check``): reusing it needs no new login, so it works behind 2FA and takes milliseconds;
    else sshtunnel."""
    if preference != AUTO:
        return preference
    return "openssh" if master_alive else "sshtunnel"


def make_backend(name: str) -> AnyBackend:
    """The backend called ``name``."""
    factory = BACKENDS.get(name)
    if factory is None:
        raise ConfigError(f"unknown tunnel backend {name!r}: allowed are {', '.join(NAMES)}")
    return factory()


def choose_backend(preference: str, target: SshTarget) -> AnyBackend:
    """The backend for ``target`` given the config's preference for it (a name, or ``auto``)."""
    return make_backend(backend_name(preference, master_alive=preference == AUTO and has_live_master(target)))


def check_backends(config: Config) -> None:
    """Refuse a config naming a backend that does not exist, naming the file and key."""
    named = [("backend", config.backend)] + [
        (f"hosts[{number}].backend", rule.backend) for number, rule in enumerate(config.hosts) if rule.backend
    ]
    for key, name in named:
        if name not in NAMES:
            raise ConfigError(f"{config.source}: {key}: {name!r} is not allowed; use one of: {', '.join(NAMES)}")
