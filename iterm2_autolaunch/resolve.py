"""Where a session's server is: an SshTarget, as OpenSSH's own config rules resolve it.

``resolve_target`` asks ``ssh -G`` (argv list, no shell). ``ssh -G`` reads the config and prints the
result without connecting, so a ``ProxyCommand`` is not run (tested); a ``Match exec`` in the user's
own config *is* run, as by every ssh the user starts. Where no ssh binary exists, paramiko's
``SSHConfig`` reads the same files (no ``Include`` support there).

What OpenSSH 9.2 prints, checked against the real binary: ``ControlPath`` and ``UserKnownHostsFile``
already expanded (``~`` and %-tokens; ``%C`` is the SHA-1 of ``%l%h%p%r``; 9.5+ appends ``%j``), but
``IdentityFile`` raw, so we expand that one ourselves, with ssh's token set and the passwd home ssh
uses for ``~``. In the paramiko fallback we expand all three the same way (paramiko's own expansion
differs: no ``%%``/``%i``, ``%C`` over the alias).

A session with no ssh job may still name its host: the user variables ``user.sshHost`` (and optionally
``user.sshUser``, ``user.sshPort``), set e.g. by ``iterm2_set_user_var sshHost wheeler``; else shell
integration's ``hostname`` when it is not this machine. The destination never comes from printed text.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import ipaddress
import json
import os
import pwd
import re
import socket
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import paramiko

from iterm2_autolaunch.detect import redact
from iterm2_autolaunch.errors import ResolveError
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.sshcmd import PROGRAMS, SshCommand, option_pairs, parse_argv, parse_command_line
from iterm2_autolaunch.tunnels.base import SshTarget

SSH_G_TIMEOUT = 10.0  # seconds; ssh -G only reads files, unless Match exec or canonicalisation is slow

# What OpenSSH uses when nothing is configured (ssh -G of 9.2), for the paramiko fallback.
_DEFAULT_IDENTITY_FILES = [
    f"~/.ssh/{name}"
    for name in ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa")
]
_DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
_SYSTEM_CONFIG = "/etc/ssh/ssh_config"

# ssh -G prints yes/no as true/false; config files may also say off.
_STRICT_HOST_KEY_CHECKING = {
    "yes": "yes", "true": "yes", "no": "no", "false": "no", "off": "no",
    "ask": "ask", "accept-new": "accept-new",
}  # fmt: skip

_TOKEN = re.compile(r"%(.?)")
_DNS_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def resolve_target(cmd: SshCommand, *, ssh: str = "ssh", timeout: float = SSH_G_TIMEOUT) -> SshTarget:
    """Run ``ssh -G`` for ``cmd`` and fill an SshTarget; fall back to paramiko if ``ssh`` does not exist."""
    # -T only silences "Pseudo-terminal will not be allocated"; "--" keeps the destination a destination.
    argv = [ssh, "-G", "-T", *cmd.options, "--", cmd.destination]
    try:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        return _resolve_with_paramiko(cmd)
    except subprocess.TimeoutExpired:
        raise ResolveError(f"ssh -G {cmd.destination}: no answer within {timeout:g}s") from None
    except OSError as exc:
        raise ResolveError(f"cannot run {ssh}: {exc.strerror}") from exc
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {proc.returncode}"
        raise ResolveError(f"ssh -G {cmd.destination}: {reason}")
    config: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        config.setdefault(key.lower(), []).append(value.strip())
    return _build_target(cmd, config, home=pwd.getpwuid(os.getuid()).pw_dir, expanded_by_ssh=True)


class _RawPathsSSHConfig(paramiko.SSHConfig):
    """paramiko's SSHConfig minus its own %-expansion of the paths we expand as OpenSSH does."""

    TOKENS_BY_CONFIG_KEY = {
        key: tokens
        for key, tokens in paramiko.SSHConfig.TOKENS_BY_CONFIG_KEY.items()
        if key not in ("identityfile", "controlpath")
    }


def _resolve_with_paramiko(cmd: SshCommand) -> SshTarget:
    # The command line comes first (first value obtained wins): a leading "Host *" block holds it.
    lines = ["Host *"]
    if cmd.user:
        lines.append(f"User {cmd.user}")
    if cmd.port:
        lines.append(f"Port {cmd.port}")
    keywords = {"-p": "Port", "-l": "User", "-i": "IdentityFile", "-J": "ProxyJump", "-S": "ControlPath"}
    config_file: str | None = None
    for flag, value in option_pairs(cmd.options):
        if value is None:
            continue
        if "\n" in value:  # would smuggle a line into the config text below
            raise ResolveError(f"option {flag} of {cmd.destination}: line break in value")
        if flag == "-i" and not os.path.exists(os.path.expanduser(value)):
            continue  # as ssh: "Warning: Identity file ... not accessible", then ignored
        if flag == "-o":
            lines.append(value)
        elif flag in keywords:
            lines.append(f"{keywords[flag]} {value}")
        elif flag == "-F":
            config_file = value  # as ssh: the last -F wins, and replaces both user and system config
    if config_file is None:
        files = [os.path.expanduser("~/.ssh/config"), _SYSTEM_CONFIG]
    else:
        files = [] if config_file == "none" else [config_file]
        if files and not os.path.isfile(config_file):
            raise ResolveError(f"Can't open user config file {config_file}")
    parser = _RawPathsSSHConfig()
    try:
        parser.parse(io.StringIO("\n".join(lines) + "\n"))
        for path in files:
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    parser.parse(handle)
        found: Mapping[str, Any] = parser.lookup(cmd.host)
    except (paramiko.SSHException, ImportError, OSError, UnicodeDecodeError) as exc:
        # ImportError: a "Match exec" needs the optional "invoke" package in paramiko.
        raise ResolveError(f"reading ssh config for {cmd.destination}: {exc}") from exc
    config = {key: (value if isinstance(value, list) else [value]) for key, value in found.items()}
    config = {key: [str(v) for v in values if v is not None] for key, values in config.items()}
    config.setdefault("identityfile", list(_DEFAULT_IDENTITY_FILES))
    config.setdefault("userknownhostsfile", [_DEFAULT_KNOWN_HOSTS])
    return _build_target(cmd, config, home=os.path.expanduser("~"), expanded_by_ssh=False)


def _build_target(cmd: SshCommand, config: Mapping[str, list[str]], *, home: str, expanded_by_ssh: bool) -> SshTarget:
    def one(key: str, default: str) -> str:
        values = config.get(key)
        return values[0] if values and values[0] else default

    def optional(key: str) -> str | None:
        value = one(key, "none")
        return None if value.lower() == "none" else value

    local_user = pwd.getpwuid(os.getuid()).pw_name
    hostname = one("hostname", cmd.host)
    user = one("user", local_user)
    proxy_jump = optional("proxyjump")
    port = _number(one("port", "22"), "Port", cmd, int)
    this_host = socket.gethostname()
    tokens = {
        "%": "%",
        "C": hashlib.sha1(f"{this_host}{hostname}{port}{user}".encode(), usedforsecurity=False).hexdigest(),
        "d": home,
        "h": hostname,
        "i": str(os.getuid()),
        "j": proxy_jump or "",
        "k": one("hostkeyalias", cmd.host),
        "L": this_host.split(".")[0],
        "l": this_host,
        "n": cmd.host,
        "p": str(port),
        "r": user,
        "u": local_user,
    }

    def path(value: str) -> str:
        return _expand_path(value, tokens, home)

    known_hosts = [p for value in config.get("userknownhostsfile", []) for p in value.split()]
    if [p.lower() for p in known_hosts] == ["none"]:
        known_hosts = []
    control_path = optional("controlpath")
    if not expanded_by_ssh:
        known_hosts = [path(p) for p in known_hosts]
        control_path = control_path and path(control_path)
    strict = one("stricthostkeychecking", "ask")
    if strict.lower() not in _STRICT_HOST_KEY_CHECKING:
        allowed = "yes/no/ask/accept-new"
        raise ResolveError(f"{cmd.destination}: StrictHostKeyChecking {strict!r} is not {allowed}")
    timeout = optional("connecttimeout")
    return SshTarget(
        destination=cmd.destination,
        hostname=hostname,
        port=port,
        user=user,
        identity_files=tuple(path(p) for p in config.get("identityfile", []) if p.lower() != "none"),
        identities_only=one("identitiesonly", "no").lower() in ("yes", "true"),
        known_hosts_files=tuple(known_hosts),
        strict_host_key_checking=_STRICT_HOST_KEY_CHECKING[strict.lower()],
        proxy_jump=proxy_jump,
        control_path=control_path,
        connect_timeout=None if timeout is None else _number(timeout, "ConnectTimeout", cmd, float),
        server_alive_interval=_number(one("serveraliveinterval", "0"), "ServerAliveInterval", cmd, float),
        ssh_args=cmd.options,
    )


def _number(text: str, name: str, cmd: SshCommand, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ResolveError(f"{cmd.destination}: {name} {text!r} is not a number") from None


def _expand_path(value: str, tokens: Mapping[str, str], home: str) -> str:
    """``~`` then %-tokens, as ssh does for IdentityFile, ControlPath and UserKnownHostsFile."""
    if value == "~" or value.startswith("~/"):
        value = home + value[1:]
    elif value.startswith("~"):
        value = os.path.expanduser(value)  # ~otheruser/...

    def token(match: re.Match[str]) -> str:
        if match.group(1) not in tokens:
            raise ResolveError(f"unknown %-token {match.group(0)!r} in {value!r}")
        return tokens[match.group(1)]

    return _TOKEN.sub(token, value)


def _is_local_name(hostname: str, local_hostnames: Collection[str] | None) -> bool:
    if local_hostnames is None:
        local_hostnames = {socket.gethostname(), socket.getfqdn(), "localhost"}
    names = {name.lower().rstrip(".") for name in local_hostnames if name}
    names |= {name.split(".")[0] for name in names}  # "mymac.local" and "mymac" are the same machine
    wanted = hostname.lower().rstrip(".")
    return wanted in names or wanted.split(".")[0] in names


def resolve_context(
    context: SessionContext, *, local_hostnames: Collection[str] | None = None, ssh: str = "ssh"
) -> SshTarget:
    """The target of one session: its ssh job, else ``user.sshHost``, else a remote shell-integration
    ``hostname``, else this machine (``local=True``: no tunnel needed)."""
    cmd = parse_command_line(context.command_line)
    if cmd is not None:
        return resolve_target(cmd, ssh=ssh)
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
        return resolve_target(cmd, ssh=ssh)
    words = context.command_line.split()
    if os.path.basename(context.job_name) in PROGRAMS or (words and os.path.basename(words[0]) in PROGRAMS):
        # An ssh job we cannot read: better no forward than one to the wrong machine.
        # redact: the remote command may carry a token (`ssh host jupyter lab --IdentityProvider.token=...`)
        raise ResolveError(f"cannot tell where {redact(context.command_line or context.job_name)!r} connects to")
    hostname = context.hostname.strip()
    if hostname and not _is_local_name(hostname, local_hostnames):
        destination = f"{context.username}@{hostname}" if context.username else hostname
        cmd = parse_argv(["ssh", "--", destination])
        if cmd is None:
            raise ResolveError(f"shell integration host {destination!r} is not a valid destination")
        return resolve_target(cmd, ssh=ssh)
    return SshTarget(destination="", hostname="localhost", local=True)


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


def resolve_main(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch resolve [--json] --command-line "ssh ..."`` (argv after ``resolve``)."""
    parser = argparse.ArgumentParser(
        prog="iterm2-autolaunch resolve",
        description="Show where a session with this foreground command line connects, as ssh -G sees it.",
    )
    parser.add_argument("--command-line", required=True, help='the job, e.g. "ssh -p 2222 alice@wheeler"')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ssh", default="ssh", help="the ssh binary to ask (default: ssh on PATH)")
    args = parser.parse_args(list(argv))
    try:
        context = SessionContext(session_id="cli", command_line=args.command_line)
        target = resolve_context(context, ssh=args.ssh)
    except ResolveError as exc:
        print(f"iterm2-autolaunch resolve: {exc}", file=sys.stderr)
        return 1
    data = target_to_json(target)
    if args.json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
    return 0
