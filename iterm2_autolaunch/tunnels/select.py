"""Pick a tunnel backend by name, or automatically for a target."""

from __future__ import annotations

from typing import Literal

from iterm2_autolaunch.target import SshTarget

from ..errors import ConfigError
from .base import Backend
from .openssh_backend import OpenSshBackend, has_live_master
from .sshtunnel_backend import SshtunnelBackend

BACKEND_NAMES = ("sshtunnel", "openssh")
Preference = Literal["auto", "sshtunnel", "openssh"]


def make_backend(name: str) -> Backend:
    """The backend called ``name`` ("sshtunnel" or "openssh")."""
    if name == "sshtunnel":
        return SshtunnelBackend()
    if name == "openssh":
        return OpenSshBackend()
    raise ConfigError(f"unknown tunnel backend {name!r}: allowed are {', '.join(BACKEND_NAMES)} (or auto)")


def choose_backend(preference: Preference | str, target: SshTarget) -> Backend:
    """``auto``: openssh when a live ControlMaster exists for the target (``ssh -O check``), else sshtunnel."""
    if preference == "auto":
        return make_backend("openssh" if has_live_master(target) else "sshtunnel")
    return make_backend(preference)
