"""Turn a terminal job's command line into the ssh connection it makes. Pure: no I/O.

The grammar is OpenSSH's own (``ssh.c``, 9.2): getopt over ``-46AaCfGgKkMNnqsTtVvXxYy`` flags and
``-BbcDEeFIiJLlmOoPpQRSWw`` options with an argument, attached (``-p2222``) or separate, flags bundled
(``-4A``, ``-vvv``, ``-Ap2222``). Options may also follow the destination (``ssh host -p 2222 cmd``): ssh
restarts getopt after the host unless ``--`` came first; the first word that is not an option after the
destination starts the remote command. ``user`` and ``port`` follow ssh's "first value obtained wins".

Wrappers understood: ``autossh`` (its ``-M port`` and ``-f``), ``mosh`` (``--ssh="ssh -p 2222"``; its
``-p``/``--port`` is the UDP port and is ignored), ``et`` (Eternal Terminal: ``[user@]host[:etport]``,
``--ssh-option``, ``-F``, ``--jumphost``) and ``sshpass`` (looked through; the password is never kept).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from typing import NamedTuple

PROGRAMS = frozenset({"ssh", "autossh", "mosh", "et", "sshpass"})
"""Job names whose sessions are connected somewhere else."""

_ARG_OPTIONS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_FLAG_OPTIONS = frozenset("1246AaCfGgKkMNnqsTtVvXxYy")
# Kept for re-running ssh to the same place with the same config. Left out on purpose: forwards
# (-L -R -D -W), session shape (-N -n -f -s -t -T -M -O), logging (-v -q -E -y), X11 (-X -x -Y), -g
# (we bind 127.0.0.1 only), -e, -w.
_REUSED = frozenset("BbcFIiJlmoPpS46AaCKk")
# Modes where ssh prints or controls something and exits: there is no session to follow.
_MODES = frozenset("GOQV")
# -o keys that would make a tunnel-only ssh do more than connect (open other forwards, run commands,
# become or need a mux master). Lower-case; everything else given with -o is reused.
_DROPPED_O_KEYS = frozenset(
    {
        "localforward",
        "remoteforward",
        "dynamicforward",
        "clearallforwardings",
        "remotecommand",
        "localcommand",
        "permitlocalcommand",
        "requesttty",
        "sessiontype",
        "stdinnull",
        "forkafterauthentication",
        "controlmaster",
        "controlpersist",
        "exitonforwardfailure",
        "loglevel",
        "escapechar",
    }
)

# OpenSSH 9.6 rejects these in a host or user given on the command line (valid_hostname/valid_ruser,
# CVE-2023-51385); we refuse them on every version so nothing shell-shaped reaches ssh -G or config.
_BAD_CHARS = re.compile(r"['`\"$\\;&<>|(){}\s\x00-\x1f\x7f]")
_OPTION_KEY_VALUE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(\S.*)", re.DOTALL)
_SSH_URI = re.compile(
    r"ssh://"
    r"(?:(?P<user>[^@/]+)@)?"  # optional user
    r"(?P<host>\[[^\]/]+\]|[^:/@\[\]]+)"  # [v6 address] or name
    r"(?::(?P<port>[0-9]+))?/?",  # optional port, optional trailing slash
    re.IGNORECASE,
)


class SshCommand(NamedTuple):
    """The ssh connection a command line makes.

    ``destination`` is as typed (``alice@wheeler``, ``ssh://bob@h:2222``); ``host`` is its host part,
    what ssh matches ``Host`` patterns against. ``options`` are the connection-shaping arguments, one
    flag or flag-and-value after another (``("-p", "2222", "-A")``), ready to put in an ssh argv.
    ``user``/``port`` are set only when the command line itself gives them.
    """

    program: str
    destination: str
    host: str
    options: tuple[str, ...] = ()
    remote_command: tuple[str, ...] = ()
    user: str | None = None
    port: int | None = None


def parse_command_line(command_line: str) -> SshCommand | None:
    """Parse a job's command line as iTerm2 reports it (shell-quoted); None if it is not an ssh session."""
    try:
        argv = shlex.split(command_line)
    except ValueError:  # unbalanced quotes: not something a process was started with
        return None
    return parse_argv(argv)


def parse_argv(argv: Sequence[str]) -> SshCommand | None:
    """Parse an argv (program first). None when not ssh-like, no destination, a mode like ``-G``, or bad."""
    if not argv:
        return None
    program = os.path.basename(argv[0])
    args = list(argv[1:])
    if program == "ssh":
        return _parse_ssh(program, args)
    if program == "autossh":
        # autossh takes -M port (its monitor port; ssh's own -M is unavailable through it) and -f itself.
        return _parse_ssh(program, args, arg_options=_ARG_OPTIONS | {"M"})
    if program == "mosh":
        return _parse_mosh(args)
    if program == "et":
        return _parse_et(args)
    if program == "sshpass":
        return _parse_sshpass(args)
    return None


def _parse_ssh(program: str, args: list[str], arg_options: frozenset[str] = _ARG_OPTIONS) -> SshCommand | None:
    options: list[str] = []
    user: str | None = None  # first value obtained wins, in argv order, as in ssh
    port: int | None = None
    destination: str | None = None
    host = ""
    terminated = False  # "--" seen: no more options
    stdio_forward: str | None = None  # -W host:port
    jump_options: list[str] = []  # what shapes the connection to the destination when -W is given
    i = 0
    while i < len(args):
        arg = args[i]
        if not terminated and arg == "--":
            terminated = True
            i += 1
            continue
        if terminated or not arg.startswith("-") or arg == "-":
            if destination is not None:
                break  # first word after the destination that is not an option: the remote command
            split = _split_destination(arg)
            if split is None:
                return None
            destination = arg
            dest_user, host, dest_port = split
            user, port = user or dest_user, port or dest_port
            i += 1
            continue
        # One getopt word: bundled flags, possibly ending in an option that takes the rest of the word
        # or the next word as its value.
        for j in range(1, len(arg)):
            letter = arg[j]
            if letter in _MODES:
                return None
            if letter in _FLAG_OPTIONS and letter not in arg_options:
                if letter in _REUSED:
                    options.append(f"-{letter}")
                continue
            if letter not in arg_options:
                return None  # ssh: illegal option
            value = arg[j + 1 :]
            if not value:
                i += 1
                if i >= len(args):
                    return None  # ssh: option requires an argument
                value = args[i]
            # The config keyword this sets: -p is Port, -l is User, -o names its own.
            keyword, val = {"p": "port", "l": "user"}.get(letter, ""), value
            if letter == "W":
                stdio_forward = value
            elif letter in "FJ":
                jump_options += [f"-{letter}", value]
            if letter == "o":
                kv = _OPTION_KEY_VALUE.fullmatch(value)
                if kv is None:
                    return None  # ssh: missing argument after the keyword
                keyword, val = kv.group(1).lower(), kv.group(2).strip()
            if keyword == "port":
                if _port(val) is None:
                    return None
                port = port or _port(val)
            elif keyword == "user":
                if not _valid_user(val):
                    return None
                user = user or val
            if letter in _REUSED and keyword not in _DROPPED_O_KEYS:
                options += [f"-{letter}", value]
            break
        i += 1
    if destination is None:
        return None
    if stdio_forward is not None:
        jump = _hop(host, user, port)
        return _through_jump(program, stdio_forward, jump, jump_options)
    return SshCommand(program, destination, host, tuple(options), tuple(args[i:]), user, port)


def _hop(host: str, user: str | None, port: int | None) -> str:
    """A ProxyJump hop, ``[user@]host[:port]`` (``[v6]:port`` for an IPv6 address)."""
    name = f"[{host}]" if ":" in host and port else host
    return f"{user + '@' if user else ''}{name}{':' + str(port) if port else ''}"


_STDIO_FORWARD = re.compile(r"\[(?P<v6>[^\]]+)\]:(?P<port1>[^:]+)|(?P<host>[^:\[\]]+):(?P<port2>[^:]+)")


def _through_jump(program: str, forward: str, jump: str, jump_options: list[str]) -> SshCommand | None:
    """``ssh -W host:port jump``: the process ProxyJump starts (OpenSSH ssh.c builds it as
    ``ssh [-l user] [-p port] [-J more] [-F file] -W '[%h]:%p' jump`` and runs it under the ssh
    the user typed). iTerm2 up to 3.6.11 reports this child as the session's job (the deepest
    foreground process, iTermProcessInfo.swift deepestForegroundJob), so the session is on ``host``,
    reached through ``jump``: the same connection as ``ssh -J jump -p port host``."""
    match = _STDIO_FORWARD.fullmatch(forward)
    if match is None:
        return None
    host = match["v6"] or match["host"]
    port = _port(match["port1"] or match["port2"])
    if port is None or _split_destination(host) is None:
        return None
    pairs = option_pairs(jump_options)
    earlier_hops = [value for flag, value in pairs if flag == "-J" and value]
    options = ["-J", ",".join([*earlier_hops, jump])]
    for flag, value in pairs:
        if flag == "-F" and value:
            options += [flag, value]
    options += ["-p", str(port)]
    return SshCommand(program, host, host, tuple(options), (), None, port)


def option_pairs(options: Sequence[str]) -> list[tuple[str, str | None]]:
    """``("-p", "2222", "-A")`` -> ``[("-p", "2222"), ("-A", None)]``: SshCommand.options, one per option."""
    pairs: list[tuple[str, str | None]] = []
    words = iter(options)
    for flag in words:
        pairs.append((flag, next(words, None) if flag[1:] in _ARG_OPTIONS else None))
    return pairs


def _split_destination(destination: str) -> tuple[str | None, str, int | None] | None:
    """``[user@]host`` or ``ssh://[user@]host[:port]`` -> (user, host, port), None if invalid."""
    user: str | None
    port: int | None = None
    uri = _SSH_URI.fullmatch(destination)
    if uri:
        user, host = uri["user"], uri["host"].strip("[]")
        if uri["port"] is not None:
            port = _port(uri["port"])
            if port is None:
                return None
    elif destination.lower().startswith("ssh://"):
        return None
    else:
        at = destination.rfind("@")  # as ssh: the last "@" separates, the user may contain one
        user, host = (destination[:at], destination[at + 1 :]) if at >= 0 else (None, destination)
    if user is not None and not _valid_user(user):
        return None
    if not host or host.startswith("-") or _BAD_CHARS.search(host):
        return None
    return user, host, port


def _valid_user(user: str) -> bool:
    return bool(user) and not user.startswith("-") and not _BAD_CHARS.search(user)


def _port(text: str) -> int | None:
    if not text.isdigit():  # ssh's a2port: decimal digits only
        return None
    value = int(text)
    return value if 0 < value < 65536 else None


def _scan_getopt_long(
    args: list[str], takes_value: frozenset[str], stop_at_positional: bool
) -> tuple[list[tuple[str, str]], list[str]] | None:
    """Split ``--name=value``, ``--name value``, ``-x value``, ``-xvalue`` and flags from positionals.

    Returns (options as (name, value-or-""), positionals), or None when an option lacks its value.
    With ``stop_at_positional`` everything from the first positional on is positional.
    """
    options: list[tuple[str, str]] = []
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals += args[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            if stop_at_positional:
                positionals += args[i:]
                break
            positionals.append(arg)
            i += 1
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
        else:
            name, eq, value = arg[:2], "", arg[2:]
            eq = "=" if value else ""
        if name in takes_value and not eq:
            i += 1
            if i >= len(args):
                return None
            value = args[i]
        options.append((name, value))
        i += 1
    return options, positionals


_MOSH_VALUE_OPTIONS = frozenset(
    {"--client", "--server", "--ssh", "--predict", "--family", "-p", "--port", "--bind-server",
     "--experimental-remote-ip"}
)  # fmt: skip


def _parse_mosh(args: list[str]) -> SshCommand | None:
    scanned = _scan_getopt_long(args, _MOSH_VALUE_OPTIONS, stop_at_positional=True)
    if scanned is None:
        return None
    options, positionals = scanned
    if any(name in ("--help", "--version") for name, _ in options) or not positionals:
        return None
    ssh_words = ["ssh"]
    for name, value in options:
        if name == "--ssh":
            try:
                ssh_words = shlex.split(value)  # mosh hands this string to a shell-like split too
            except ValueError:
                return None
    destination, command = positionals[0], positionals[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    parsed = _parse_ssh("mosh", [*ssh_words[1:], "--", destination])
    if parsed is None or parsed.remote_command:
        return None
    return parsed._replace(remote_command=tuple(command))


_ET_VALUE_OPTIONS = frozenset(
    {"-u", "--username", "--host", "-p", "--port", "-c", "--command", "--terminal-path", "-t", "--tunnel",
     "-r", "--reversetunnel", "--jumphost", "--jport", "--jserverfifo", "-v", "--verbose", "-k",
     "--keepalive", "-l", "--logdir", "--ssh-socket", "-F", "--ssh-config", "--telemetry", "--serverfifo",
     "--ssh-option", "-o"}
)  # fmt: skip


def _parse_et(args: list[str]) -> SshCommand | None:
    scanned = _scan_getopt_long(args, _ET_VALUE_OPTIONS, stop_at_positional=False)
    if scanned is None:
        return None
    options, positionals = scanned
    host_arg = next((value for name, value in options if name == "--host"), None)
    if host_arg is None and positionals:
        host_arg = positionals[0]
    if host_arg is None or any(name in ("-h", "--help", "--version", "-V", "-G") for name, _ in options):
        return None
    # et's host:port names the etserver port, not sshd's: drop it (single colon only, as et does).
    if host_arg.count(":") == 1:
        host_arg = host_arg.rpartition(":")[0]
    ssh_args: list[str] = []
    command: tuple[str, ...] = ()
    for name, value in options:
        if name in ("-u", "--username"):
            ssh_args += ["-l", value]
        elif name in ("--ssh-option", "-o"):
            ssh_args += ["-o", value]
        elif name in ("-F", "--ssh-config"):
            ssh_args += ["-F", value]
        elif name == "--jumphost":
            ssh_args += ["-J", value]
        elif name in ("-c", "--command"):
            command = (value,)
    parsed = _parse_ssh("et", [*ssh_args, "--", host_arg])
    return None if parsed is None else parsed._replace(remote_command=command)


def _parse_sshpass(args: list[str]) -> SshCommand | None:
    # sshpass's getopt stops at the wrapped command ("+f:d:p:P:heVv"); the password itself is dropped.
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg[1:2] in ("h", "V"):
            return None
        if arg[1:2] in ("f", "d", "p", "P") and len(arg) == 2:
            i += 1  # the value is the next word
        i += 1
    return parse_argv(args[i:])
