"""The ssh wrappers whose argv ends in an ssh connection: mosh, et (Eternal Terminal) and sshpass. Pure.

``mosh`` (``--ssh="ssh -p 2222"``; its ``-p``/``--port`` is the UDP port and is ignored), ``et``
(``[user@]host[:etport]``, ``--ssh-option``, ``-F``, ``--jumphost``) and ``sshpass`` (looked through; the
password is never kept). Each turns its own options into ssh's and hands over to ``sshcmd``'s parser.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from iterm2_autolaunch.sshcmd import SshCommand, parse_argv, parse_ssh_args


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


def parse_mosh(args: list[str]) -> SshCommand | None:
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
    parsed = parse_ssh_args("mosh", [*ssh_words[1:], "--", destination])
    if parsed is None or parsed.remote_command:
        return None
    return parsed._replace(remote_command=tuple(command))


_ET_VALUE_OPTIONS = frozenset(
    {"-u", "--username", "--host", "-p", "--port", "-c", "--command", "--terminal-path", "-t", "--tunnel",
     "-r", "--reversetunnel", "--jumphost", "--jport", "--jserverfifo", "-v", "--verbose", "-k",
     "--keepalive", "-l", "--logdir", "--ssh-socket", "-F", "--ssh-config", "--telemetry", "--serverfifo",
     "--ssh-option", "-o"}
)  # fmt: skip


def parse_et(args: list[str]) -> SshCommand | None:
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
    parsed = parse_ssh_args("et", [*ssh_args, "--", host_arg])
    return None if parsed is None else parsed._replace(remote_command=command)


def parse_sshpass(args: list[str]) -> SshCommand | None:
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


WRAPPERS: dict[str, Callable[[list[str]], SshCommand | None]] = {
    "mosh": parse_mosh,
    "et": parse_et,
    "sshpass": parse_sshpass,
}
