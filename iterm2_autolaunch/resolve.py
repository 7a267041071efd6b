"""Where a session's server is: run ``ssh -G`` (the effect); the parsing is pure, in ``target.py``.

``resolve_target`` asks ``ssh -G`` (argv list, no shell). ``ssh -G`` reads the config and prints the
result without connecting, so a ``ProxyCommand`` is not run (tested); a ``Match exec`` in the user's
own config *is* run, as by every ssh the user starts. Where no ssh binary exists, paramiko's
``SSHConfig`` reads the same files (no ``Include`` support there; paramiko's own %-expansion differs:
no ``%%``/``%i``, ``%C`` over the alias, so we expand those paths as ssh does).

A session with no ssh job may still name its host (``target.command_for_session``). The destination
never comes from printed text.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import pwd
import shlex
import socket
import subprocess
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import paramiko

from iterm2_autolaunch.errors import ResolveError
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.sshcmd import SshCommand, option_pairs, parse_argv
from iterm2_autolaunch.target import (
    LOCAL_TARGET,
    LocalMachine,
    SshTarget,
    command_for_session,
    parse_ssh_g,
    target_from_config,
    target_to_json,
)

log = logging.getLogger(__name__)

SSH_G_TIMEOUT = 10.0  # seconds; ssh -G only reads files, unless Match exec or canonicalisation is slow

# What OpenSSH uses when nothing is configured (ssh -G of 9.2), for the paramiko fallback.
_DEFAULT_IDENTITY_FILES = [
    f"~/.ssh/{name}"
    for name in ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa")
]
_DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
_SYSTEM_CONFIG = "/etc/ssh/ssh_config"



def local_machine(home: str | None = None) -> LocalMachine:
    """This machine and user as ssh sees them (``home``: the passwd home unless given)."""
    entry = pwd.getpwuid(os.getuid())
    return LocalMachine(home=home or entry.pw_dir, user=entry.pw_name, uid=os.getuid(), hostname=socket.gethostname())


def resolve_context(
    context: SessionContext,
    *,
    local_hostnames: Collection[str] | None = None,
    ssh: str = "ssh",
    trusted: Callable[[str], bool] = lambda host: False,
) -> SshTarget:
    """The target of one session (see ``target.command_for_session``); ``LOCAL_TARGET`` when it is local.
    ``trusted``: may a host named only by session variables be used (``Config.trusts_variables``)?"""
    if local_hostnames is None:
        local_hostnames = {socket.gethostname(), socket.getfqdn(), "localhost"}
    cmd = command_for_session(context, local_hostnames, trusted)
    if cmd is not None and cmd.jump_child:
        parent = _parent_ssh(context.job_pid) if context.job_pid else None
        log.info("the job is ssh's ProxyJump child (pid %s): %s", context.job_pid or "unknown",
                 f"resolving its parent, ssh to {parent.destination}" if parent else f"resolving {cmd.destination}")
        cmd = parent or cmd
    return LOCAL_TARGET if cmd is None else resolve_target(cmd, ssh=ssh)


def _parent_ssh(pid: int) -> SshCommand | None:
    """The ssh command the user ran, when the job iTerm2 shows is its ProxyJump child (iTerm2 up to 3.6.11
    reports the deepest foreground process): the child's parent, read from this machine's process table."""
    parent = parent_argv(pid)
    cmd = parse_argv(parent) if parent else None
    return cmd if cmd is not None and not cmd.jump_child else None


def parent_argv(pid: int) -> list[str] | None:
    """The argv of ``pid``'s parent process: exact from /proc where there is one (Linux), else what
    ``ps -o args=`` prints (macOS; arguments joined by spaces, split again as a shell would)."""
    proc = f"/proc/{pid}/stat"
    try:
        if os.path.exists(proc):
            with open(proc, "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{ppid}/cmdline", "rb") as handle:
                return [arg.decode(errors="replace") for arg in handle.read().split(b"\0")[:-1]] or None
        ps = ["ps", "-o", "ppid=", "-p", str(pid)]
        ppid = int(subprocess.run(ps, capture_output=True, text=True, timeout=5, check=True).stdout.strip())
        args = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(ppid)], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        return shlex.split(args) or None
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None  # gone, or not ours to read: the child's own command line stands


def ssh_version(ssh: str = "ssh", timeout: float = SSH_G_TIMEOUT) -> str:
    """What ``ssh -V`` says about itself (for `doctor`); ResolveError when it does not run."""
    try:
        proc = subprocess.run([ssh, "-V"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ResolveError(f"{ssh} -V failed: {error}") from error
    said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return said[0] if said else "version unknown"


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
    return target_from_config(cmd, parse_ssh_g(proc.stdout), local_machine(), expanded_by_ssh=True)


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
    return target_from_config(
        cmd, config, local_machine(home=os.path.expanduser("~")), expanded_by_ssh=False
    )


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
