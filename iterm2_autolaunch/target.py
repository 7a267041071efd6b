"""Where a session's server is, as values: the SSH target and the forward to make. Pure: no I/O.

``target_from_config`` turns what OpenSSH resolved (the lines of ``ssh -G``, or the same keys from paramiko's
SSHConfig) into an ``SshTarget``; ``command_for_session`` decides which ssh command a session's context
stands for; ``remote_forward_host`` maps the host a server printed to where the forward points. Running
``ssh -G`` and reading this machine's identity are the effect in ``resolve.py``.

What OpenSSH 9.2 prints, checked against the real binary: ``ControlPath`` and ``UserKnownHostsFile`` already
expanded (``~`` and %-tokens; ``%C`` is the SHA-1 of ``%l%h%p%r``; 9.5+ appends ``%j``), but ``IdentityFile``
raw, so we expand that one ourselves, with ssh's token set and the passwd home ssh uses for ``~``. For the
paramiko fallback we expand all three the same way.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from iterm2_autolaunch.errors import ResolveError
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.sshcmd import PROGRAMS, SshCommand, parse_argv, parse_command_line


@dataclass(frozen=True)
class SshTarget:
    """Where to ssh to, as OpenSSH resolved it (``ssh -G``) for one session's command line.

    ``ssh_args`` are the connection-shaping options from the user's own command line (``-F file``,
    ``-o Key=Value``, ``-i``, ``-J``, ``-p``, ``-l``), to be reused verbatim by the OpenSSH backend so
    that ssh applies exactly the same config.
    """

    destination: str
    hostname: str
    port: int = 22
    user: str = ""
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    known_hosts_files: tuple[str, ...] = ()
    strict_host_key_checking: str = "ask"
    proxy_jump: str | None = None
    control_path: str | None = None
    connect_timeout: float | None = None
    server_alive_interval: float = 0
    ssh_args: tuple[str, ...] = ()
    local: bool = False
    # The first value of every key ``ssh -G`` printed (empty when paramiko resolved it): the host-key check
    # reads its settings here instead of asking ssh -G a second time.
    ssh_g: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class ForwardSpec:
    """One forward: 127.0.0.1:local_port on this machine -> remote_host:remote_port seen from the ssh host."""

    target: SshTarget
    remote_host: str
    remote_port: int
    local_port: int


@dataclass(frozen=True)
class LocalMachine:
    """What ssh's %-tokens and ``~`` read about this machine and user."""

    home: str  # the passwd home (ssh's ~), not $HOME
    user: str
    uid: int
    hostname: str


LOCAL_TARGET = SshTarget(destination="", hostname="localhost", local=True)

# ssh -G prints yes/no as true/false; config files may also say off.
STRICT_HOST_KEY_CHECKING = {
    "yes": "yes", "true": "yes", "no": "no", "false": "no", "off": "no",
    "ask": "ask", "accept-new": "accept-new",
}  # fmt: skip

_TOKEN = re.compile(r"%(.?)")
_DNS_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def parse_ssh_g(output: str) -> dict[str, list[str]]:
    """``ssh -G`` output as lower-case key -> values (multi-valued keys such as IdentityFile repeat)."""
    config: dict[str, list[str]] = {}
    for line in output.splitlines():
        key, _, value = line.partition(" ")
        config.setdefault(key.lower(), []).append(value.strip())
    return config


def target_from_config(
    cmd: SshCommand, config: Mapping[str, list[str]], local: LocalMachine, *, expanded_by_ssh: bool
) -> SshTarget:
    """The SshTarget for ``cmd`` from its resolved config; ``expanded_by_ssh``: ssh -G already expanded
    ControlPath and UserKnownHostsFile (paramiko did not)."""

    def one(key: str, default: str) -> str:
        values = config.get(key)
        return values[0] if values and values[0] else default

    def optional(key: str) -> str | None:
        value = one(key, "none")
        return None if value.lower() == "none" else value

    hostname = one("hostname", cmd.host)
    user = one("user", local.user)
    proxy_jump = optional("proxyjump")
    port = _number(one("port", "22"), "Port", cmd, int)
    tokens = {
        "%": "%",
        "C": hashlib.sha1(f"{local.hostname}{hostname}{port}{user}".encode(), usedforsecurity=False).hexdigest(),
        "d": local.home,
        "h": hostname,
        "i": str(local.uid),
        "j": proxy_jump or "",
        "k": one("hostkeyalias", cmd.host),
        "L": local.hostname.split(".")[0],
        "l": local.hostname,
        "n": cmd.host,
        "p": str(port),
        "r": user,
        "u": local.user,
    }

    def path(value: str) -> str:
        return expand_path(value, tokens, local.home)

    known_hosts = [p for value in config.get("userknownhostsfile", []) for p in value.split()]
    if [p.lower() for p in known_hosts] == ["none"]:
        known_hosts = []
    control_path = optional("controlpath")
    if not expanded_by_ssh:
        known_hosts = [path(p) for p in known_hosts]
        control_path = control_path and path(control_path)
    strict = one("stricthostkeychecking", "ask")
    if strict.lower() not in STRICT_HOST_KEY_CHECKING:
        raise ResolveError(f"{cmd.destination}: StrictHostKeyChecking {strict!r} is not yes/no/ask/accept-new")
    timeout = optional("connecttimeout")
    return SshTarget(
        destination=cmd.destination,
        hostname=hostname,
        port=port,
        user=user,
        identity_files=tuple(path(p) for p in config.get("identityfile", []) if p.lower() != "none"),
        identities_only=one("identitiesonly", "no").lower() in ("yes", "true"),
        known_hosts_files=tuple(known_hosts),
        strict_host_key_checking=STRICT_HOST_KEY_CHECKING[strict.lower()],
        proxy_jump=proxy_jump,
        control_path=control_path,
        connect_timeout=None if timeout is None else _number(timeout, "ConnectTimeout", cmd, float),
        server_alive_interval=_number(one("serveraliveinterval", "0"), "ServerAliveInterval", cmd, float),
        ssh_args=cmd.options,
        ssh_g=tuple((key, values[0]) for key, values in config.items() if values) if expanded_by_ssh else (),
    )


def _number(text: str, name: str, cmd: SshCommand, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ResolveError(f"{cmd.destination}: {name} {text!r} is not a number") from None


def expand_path(value: str, tokens: Mapping[str, str], home: str) -> str:
    """``~`` then %-tokens, as ssh does for IdentityFile, ControlPath and UserKnownHostsFile."""
    if value == "~" or value.startswith("~/"):
        value = home + value[1:]
    elif value.startswith("~"):
        value = os.path.expanduser(value)  # ~otheruser/...: the passwd entry of that user, as ssh reads it

    def token(match: re.Match[str]) -> str:
        if match.group(1) not in tokens:
            raise ResolveError(f"unknown %-token {match.group(0)!r} in {value!r}")
        return tokens[match.group(1)]

    return _TOKEN.sub(token, value)


def is_local_name(hostname: str, local_hostnames: Collection[str]) -> bool:
    """Is ``hostname`` one of this machine's names (``mymac.local`` and ``mymac`` are the same machine)?"""
    names = {name.lower().rstrip(".") for name in local_hostnames if name}
    names |= {name.split(".")[0] for name in names}
    wanted = hostname.lower().rstrip(".")
    return wanted in names or wanted.split(".")[0] in names


def command_for_session(
    context: SessionContext, local_hostnames: Collection[str], trusted: Callable[[str], bool] = lambda host: False
) -> SshCommand | None:
    """The ssh command a session stands for: its ssh job, else ``user.sshHost`` (with ``user.sshUser``,
    ``user.sshPort``), else a remote shell-integration ``hostname``; None when the session is local.

    The job's command line is what the user ran (iTerm2 reads it from the process table). The variables are
    not: any text the session prints can set them (OSC 1337 SetUserVar / RemoteHost), so a host named only
    by them is used only when ``trusted(host)`` says the user listed it (``[[hosts]] trust_variables``).
    """
    cmd = parse_command_line(context.command_line)
    if cmd is not None:
        return cmd
    host = context.user_vars.get("sshHost", "").strip()
    if host:
        argv = ["ssh"]
        if context.user_vars.get("sshUser"):
            argv += ["-l", context.user_vars["sshUser"]]
        if context.user_vars.get("sshPort"):
            argv += ["-p", context.user_vars["sshPort"]]
        cmd = parse_argv([*argv, "--", host])
        if cmd is None:
            raise ResolveError(f"user.sshHost {host!r} (with user.sshUser/sshPort) is not a destination")
        return _trusted_only(cmd, "user.sshHost", trusted)
    words = context.command_line.split()
    if os.path.basename(context.job_name) in PROGRAMS or (words and os.path.basename(words[0]) in PROGRAMS):
        # An ssh job we cannot read: better no forward than one to the wrong machine.
        # redact: the remote command may carry a token (`ssh host jupyter lab --IdentityProvider.token=...`)
        raise ResolveError(f"cannot tell where {redact(context.command_line or context.job_name)!r} connects to")
    hostname = context.hostname.strip()
    if hostname and not is_local_name(hostname, local_hostnames):
        destination = f"{context.username}@{hostname}" if context.username else hostname
        cmd = parse_argv(["ssh", "--", destination])
        if cmd is None:
            raise ResolveError(f"shell integration host {destination!r} is not a valid destination")
        return _trusted_only(cmd, "shell integration's hostname", trusted)
    return None


def _trusted_only(cmd: SshCommand, source: str, trusted: Callable[[str], bool]) -> SshCommand:
    if not trusted(cmd.host):
        raise ResolveError(
            f"{source} names {cmd.host!r}, but printed text can set that variable, so it is used only for hosts "
            f"listed in the config: add [[hosts]] match = {cmd.host!r} with trust_variables = true"
        )
    return cmd


def remote_forward_host(printed_host: str) -> str:
    """Where the forward points, seen from the ssh host, for the host a server printed in its URL.

    Loopback and wildcard addresses become the loopback address the server listens on; any other name
    or address (a compute node behind the login host) stays as it is, once it is checked to be one.
    """
    host = printed_host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() in _LOOPBACK_NAMES:
        return "127.0.0.1"
    if host.lower() in ("ip6-localhost", "ip6-loopback"):
        return "::1"  # Debian's names for ::1 (/etc/hosts): a server bound to them is not on 127.0.0.1
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # An all-digit last label is a mistyped address (256.1.1.1), never a name (RFC 3696).
        if len(host) <= 253 and _DNS_NAME.fullmatch(host) and not host.rstrip(".").rpartition(".")[2].isdigit():
            return host
        raise ResolveError(f"not a host name or address: {printed_host!r}") from None
    if address.is_unspecified:
        return "127.0.0.1"  # bound to every interface, so reachable on loopback
    # Other loopback addresses stay themselves: 127.0.1.1 (Debian's hostname entry) is not 127.0.0.1.
    return str(address)


def target_to_json(target: SshTarget) -> dict[str, Any]:
    """The stable JSON shape of ``iterm2-autolaunch resolve --json``."""
    return {
        "destination": target.destination,
        "hostname": target.hostname,
        "port": target.port,
        "user": target.user,
        "proxy_jump": target.proxy_jump,
        "identity_files": list(target.identity_files),
        "local": target.local,
    }
