"""Turn a terminal job's command line into the ssh connection it makes. Pure: no I/O.

The grammar is OpenSSH's own (``ssh.c``, 9.2): getopt over ``-46AaCfGgKkMNnqsTtVvXxYy`` flags and
``-BbcDEeFIiJLlmOoPpQRSWw`` options with an argument, attached (``-p2222``) or separate, flags bundled
(``-4A``, ``-vvv``, ``-Ap2222``). Options may also follow the destination (``ssh host -p 2222 cmd``): ssh
restarts getopt after the host unless ``--`` came first; the first word that is not an option after the
destination starts the remote command. ``user`` and ``port`` follow ssh's "first value obtained wins".

Wrappers understood: ``autossh`` (its ``-M port`` and ``-f``) here; ``mosh``, ``et`` and ``sshpass`` in
``ssh_wrappers.py``. ``parse_hop`` reads one ProxyJump hop, for every caller that follows a jump chain.
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
    # Read from a ProxyJump child (``ssh -W host:port jump``): ``host`` is the HostName the user's own ssh
    # resolved, so the alias (and the User, IdentityFile of its Host block) is lost; the parent ssh has it.
    jump_child: bool = False


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
        return parse_ssh_args(program, args)
    if program == "autossh":
        # autossh takes -M port (its monitor port; ssh's own -M is unavailable through it) and -f itself.
        return parse_ssh_args(program, args, arg_options=_ARG_OPTIONS | {"M"})
    # The wrappers' own grammars, in their module; imported here because they call back into this parser.
    from iterm2_autolaunch import ssh_wrappers

    wrapper = ssh_wrappers.WRAPPERS.get(program)
    return wrapper(args) if wrapper is not None else None


def parse_ssh_args(program: str, args: list[str], arg_options: frozenset[str] = _ARG_OPTIONS) -> SshCommand | None:
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
    return SshCommand(program, host, host, tuple(options), (), None, port, jump_child=True)


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


def parse_hop(hop: str) -> tuple[str, str | None, int | None]:
    """One ProxyJump hop, ``[ssh://][user@]host[:port]`` -> (host, user, port). ValueError if malformed."""
    hop = hop.strip().removeprefix("ssh://")
    user = None
    if "@" in hop:
        user, hop = hop.rsplit("@", 1)
    port = None
    if hop.startswith("["):  # [v6addr]:port
        host, _, rest = hop[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif hop.count(":") == 1:
        host, port_text = hop.split(":")
        port = int(port_text)
    else:
        host = hop
    return host, user, port
