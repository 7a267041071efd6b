"""``iterm2-autolaunch doctor``: say what is set up and what would happen.

``doctor`` prints one line per check, ``OK``, ``WARN`` or ``FAIL``, and exits 1 only when something fails.
With ``--command-line "ssh ..."`` it resolves that session's target exactly as the daemon would and checks
its host key and ControlMaster; with ``--url URL`` it walks a printed server URL through the daemon's steps
(parse, forward host, local port, probe, browser URL, action) without opening anything. Tokens are hidden.
It runs no program itself: ``ssh -V``, ``ssh -G`` and ``ssh -O check`` are asked through the effects.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from iterm2_autolaunch import host_key_files
from iterm2_autolaunch.config import KIND_NAMES, Config
from iterm2_autolaunch.config_file import config_path, load_config
from iterm2_autolaunch.control import control_socket_path
from iterm2_autolaunch.control_client import request
from iterm2_autolaunch.detect import KINDS, Detector, Event, is_loopback
from iterm2_autolaunch.errors import ConfigError, ControlError, ResolveError, TunnelError
from iterm2_autolaunch.hosts import forward_order, site_domain
from iterm2_autolaunch.interfaces import probe_url
from iterm2_autolaunch.ports import choose_local_port
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.resolve import resolve_context, ssh_version
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import SshTarget, remote_forward_host
from iterm2_autolaunch.tunnels.openssh_backend import master_status
from iterm2_autolaunch.tunnels.registry import backend_name

SSH_TIMEOUT = 5.0  # seconds for `ssh -V` and `ssh -O check`; both are local and answer at once

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass(frozen=True)
class Check:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail}"


# -- doctor ---------------------------------------------------------------------------------------------


def doctor_main(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch doctor [--command-line "ssh ..."] [--url URL [--kind KIND]]``."""
    parser = argparse.ArgumentParser(
        prog="iterm2-autolaunch doctor",
        description="Check the setup; optionally explain what would happen for a session and a printed URL.",
    )
    parser.add_argument("--command-line", help='a session\'s foreground job, e.g. "ssh -p 2222 alice@wheeler"')
    parser.add_argument("--url", help="a server URL as printed, e.g. http://127.0.0.1:8888/lab?token=...")
    parser.add_argument("--kind", default="jupyter", choices=KIND_NAMES, help="the server kind that printed --url")
    parser.add_argument("--ssh", default="ssh", help="the ssh binary (default: ssh on PATH)")
    args = parser.parse_args(list(argv))
    failed = False
    for check in run_checks(args.command_line, args.url, args.kind, args.ssh):
        print(check.line(), flush=True)  # one by one: a slow ssh check should not hide the earlier lines
        failed = failed or check.status == FAIL
    return 1 if failed else 0


def run_checks(command_line: str | None, url: str | None, kind: str = "jupyter", ssh: str = "ssh") -> Iterator[Check]:
    config_check, config = check_config(config_path())
    yield config_check
    yield check_iterm2_socket()
    yield check_ssh(ssh)
    yield check_daemon()
    target: SshTarget | None = None
    if command_line is not None:
        target_checks, target = check_target(command_line, ssh)
        yield from target_checks
        if target is not None and not target.local:
            yield check_known_hosts(target)
            yield check_control_master(target, config, ssh)
    if url is not None:
        if command_line is not None and target is None:
            yield Check(WARN, "url", "the session's target did not resolve; explaining the URL without it")
        yield from explain_url(url, kind, config, target)


def check_config(path: Path) -> tuple[Check, Config]:
    """The config file: there and valid, absent (defaults), or the ConfigError message (then defaults)."""
    if not path.exists():
        return Check(OK, "config", f"no config file at {path}; defaults in use"), Config()
    try:
        return Check(OK, "config", f"{path} parses"), load_config(path)
    except ConfigError as error:
        return Check(FAIL, "config", f"{error} (the daemon runs with the defaults)"), Config()


def check_iterm2_socket(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> Check:
    """The unix socket the iterm2 library connects to (it honours IT2_SUITE as the app support folder)."""
    if platform != "darwin":
        return Check(WARN, "iTerm2", f"this is not macOS ({platform}): no iTerm2 here; "
                                     "`iterm2-autolaunch run -- ssh HOST` works in any terminal")
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    path = home / "Library" / "Application Support" / environ.get("IT2_SUITE", "iTerm2") / "private" / "socket"
    if path.is_socket():
        return Check(OK, "iTerm2", f"API socket at {path}")
    return Check(WARN, "iTerm2", f"no API socket at {path}: is iTerm2 running with Settings > General > Magic > "
                                 "Enable Python API on? (old iTerm2 versions listen on TCP port 1912 instead)")


def check_ssh(ssh: str = "ssh") -> Check:
    exe = shutil.which(ssh)
    if exe is None:
        return Check(WARN, "ssh", f"no {ssh} binary: ssh config is read with paramiko (no Include), "
                                  "and only the sshtunnel backend works")
    try:
        return Check(OK, "ssh", f"{exe} ({ssh_version(exe, SSH_TIMEOUT)})")
    except ResolveError as error:
        return Check(FAIL, "ssh", str(error))


def check_daemon(path: Path | None = None) -> Check:
    try:
        answer = request({"cmd": "ping"}, path, timeout=1.0)
    except ControlError as error:
        return Check(WARN, "daemon", str(error))
    return Check(OK, "daemon", f"running (pid {answer.get('pid')}) at {path or control_socket_path()}")


def check_target(command_line: str, ssh: str = "ssh") -> tuple[list[Check], SshTarget | None]:
    """Resolve the session the way the daemon does: a SessionContext whose job is the command's program."""
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = command_line.split()
    context = SessionContext(
        session_id="doctor", job_name=os.path.basename(words[0]) if words else "", command_line=command_line
    )
    try:
        target = resolve_context(context, ssh=ssh)
    except ResolveError as error:
        return [Check(FAIL, "target", str(error))], None
    if target.local:
        return [Check(OK, "target", "not an ssh session: local servers open without a forward")], target
    jump = f" via {target.proxy_jump}" if target.proxy_jump else ""
    present = [f for f in target.identity_files if os.path.exists(os.path.expanduser(f))]
    keys = ", ".join(present) if present else "no configured key file exists; only the agent's keys are offered"
    only = " (IdentitiesOnly)" if target.identities_only else ""
    return [
        Check(OK, "target", f"{target.destination} -> {target.user}@{target.hostname} port {target.port}{jump}"),
        Check(OK, "identities", keys + only),
    ], target


# -- host keys ------------------------------------------------------------------------------------------


def check_known_hosts(target: SshTarget) -> Check:
    """Is the target's host key known? Asked as the forward asks: ``ssh -G`` for the files and the name (with
    HostKeyAlias and [host]:port), ``ssh-keygen -F`` for the lines (hashed, wildcards, negation, markers)."""
    settings = host_key_files.settings_for(target)
    if not settings.files:
        return Check(WARN, "host key", "UserKnownHostsFile none: no host key can be checked")
    name = settings.name
    found = host_key_files.lookup(name, settings.files)
    keys = [f"{_key_type(entry.blob)} in {entry.path}" for entry in found if not entry.marker]
    revoked = [f"{_key_type(entry.blob)} in {entry.path}" for entry in found if entry.marker == "REVOKED"]
    listed = ", ".join(f"{path}{'' if path.exists() else ' (missing)'}" for path in settings.files)
    if keys:
        note = f"; @revoked: {', '.join(revoked)}" if revoked else ""
        return Check(WARN if revoked else OK, "host key", f"{name} known: {', '.join(keys)}{note}")
    if any(entry.marker == "CA" for entry in found):
        return Check(WARN, "host key", f"{name} is known only through a @cert-authority line ({listed}): "
                                       "both backends accept a host certificate it signed, not a plain key")
    hint = f"connect once with plain ssh ({target.destination}) and accept the key"
    if settings.strict in ("no", "accept-new"):
        return Check(WARN, "host key", f"no key for {name} in {listed}; StrictHostKeyChecking "
                                       f"{settings.strict}, but the forward may still refuse: {hint}")
    return Check(FAIL, "host key", f"no key for {name} in {listed}: a forward would be refused; {hint}")


def _key_type(blob: bytes) -> str:
    """The key's type, the first string of its SSH wire form (RFC 4253 6.6)."""
    size = int.from_bytes(blob[:4], "big")
    return blob[4 : 4 + size].decode("ascii", "replace") or "key"


# -- ControlMaster --------------------------------------------------------------------------------------


def check_control_master(target: SshTarget, config: Config, ssh: str = "ssh") -> Check:
    """Is an OpenSSH master live for the target (``ssh -O check``)? Says which backend the daemon picks."""
    preference = config.backend_for(target.destination)
    if not target.control_path or target.control_path.lower() == "none":
        chosen = backend_name(preference, master_alive=False)
        return Check(OK, "ControlMaster", f"no ControlPath for {target.destination}: backend {chosen} "
                                          "(behind 2FA set ControlMaster auto and ControlPath in ~/.ssh/config)")
    exe = shutil.which(ssh)
    if exe is None:
        return Check(WARN, "ControlMaster", f"cannot run {ssh} -O check: no {ssh} binary")
    try:
        alive, said_line = master_status(target, exe, SSH_TIMEOUT)
    except TunnelError as error:
        return Check(WARN, "ControlMaster", str(error))
    chosen = backend_name(preference, master_alive=alive)
    if alive:
        return Check(OK, "ControlMaster", f"live at {target.control_path} ({said_line}): backend {chosen}")
    # ssh's own words only when they add something to "no socket there"
    why = "" if target.control_path in said_line else f" ({said_line})"
    return Check(OK, "ControlMaster", f"none live at {target.control_path}{why}: backend {chosen}")


# -- what would happen for a URL ------------------------------------------------------------------------

_LOG = "[I 2026-01-01 00:00:00.000 ServerApp]"
# Each kind's start lines as the real server prints them, with {url} where its URL goes; fed to the real
# Detector so `doctor --url` accepts exactly what the daemon accepts.
_ACTIONS = {
    "open": "opens the browser at it",
    "notify": "shows a notification with it (token hidden); nothing opens",
    "silent": "keeps the forward and only logs it",
}


def parse_url(url: str, kind: str = "jupyter") -> Event | None:
    """The event the daemon would see if a ``kind`` server printed ``url`` in its start lines, else None."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return None  # a line break would make a second line; a real server prints one URL per line
    spec = next(k for k in KINDS if k.name == kind)
    detector = Detector(kinds=[spec])
    events = detector.feed([line.replace("{url}", url) for line in spec.example]) + detector.finish()
    return next((event for event in events if event.event == "announce"), None)


def explain_url(url: str, kind: str, config: Config, target: SshTarget | None,
                choose_port: Callable[[int, tuple[int, int]], int] = choose_local_port) -> list[Check]:
    """The daemon's steps for ``url`` in a session connected to ``target`` (None: not given)."""
    event = parse_url(url, kind)
    if event is None:
        return [Check(FAIL, "url", f"{redact(url)} is not a {kind} URL the daemon accepts: it needs http(s), "
                                   "a host, an explicit port and plain URL characters")]
    token = "a token (hidden)" if event.token else "no token"
    checks = [Check(OK, "url", f"{kind} at {event.host} port {event.port}, path {event.path}, {token}")]

    names = (target.destination, target.hostname) if target is not None else ()
    action = config.action_for(kind, *names)
    unsure = "" if target is not None or not config.hosts else " (host rules not applied: give --command-line)"
    if action == "ignore":
        checks.append(Check(WARN, "action", f"{kind} is ignored by the config{unsure}: no forward, nothing opens"))
        return checks
    checks.append(Check(OK, "action", f"{action}{unsure}"))

    if target is not None and target.local:
        if not is_loopback(event.host) and event.host not in ("0.0.0.0", "::"):
            checks.append(Check(FAIL, "forward", f"the session is local and {event.host} is not loopback: "
                                                 "nothing is opened"))
            return checks
        origin = f"{event.scheme}://localhost:{event.port}"
        checks.append(Check(OK, "forward", "none needed: the session is local"))
    else:
        # The engine's choice of host (engine._reach): the printed one first when it is a target here.
        domain = site_domain(target.hostname, target.destination) if target is not None else ""
        hosts = forward_order(event.printed_hosts, allow_any=config.forward_public_hosts, domain=domain)
        if not hosts:
            outside = f"outside *.{domain}, the ssh host's domain" if domain else "and the ssh host has no domain"
            checks.append(Check(FAIL, "forward", f"{event.host} is a public name {outside}: no forward "
                                                 "(forward_public_hosts = true allows one)"))
            return checks
        try:
            remote = remote_forward_host(hosts[0])
            local_port = choose_port(event.port, config.port_range)
        except (ResolveError, TunnelError) as error:
            checks.append(Check(FAIL, "forward", str(error)))
            return checks
        where = target.destination if target is not None else "the session's ssh host"
        low, high = config.port_range
        why = "free here" if local_port == event.port else f"{event.port} is taken here; picked from {low}-{high}"
        then = f", then {', '.join(hosts[1:])}" if hosts[1:] else ""
        checks.append(Check(OK, "forward", f"127.0.0.1:{local_port} ({why}) -> {remote}:{event.port} "
                                           f"as seen from {where}{then}"))
        origin = f"{event.scheme}://localhost:{local_port}"

    kind_spec = next(k for k in KINDS if k.name == kind)
    expect = f", body must contain {kind_spec.probe_expect}" if kind_spec.probe_expect else ""
    also = " (no HTTP answer, or a redirect to https there: https is asked too)" if origin.startswith("http://") else ""
    checks.append(Check(OK, "probe", f"GET {probe_url(origin, event.base_path, kind_spec)} must answer{expect}{also}"))
    browser_url = origin + event.path + (f"?{event.query}" if event.query else "")
    checks.append(Check(OK, "browser", f"{redact(browser_url)}: the daemon {_ACTIONS[action]}"))
    return checks
