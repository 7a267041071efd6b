"""The effects behind host_keys.judge: ``ssh -G`` for the settings, ``ssh-keygen -F`` for the lines about a
name, and appending a newly accepted key exactly as hostfile.c add_host_to_hostfile() would."""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .host_keys import Entry, Settings, Verdict, known_line, names_to_look_up, parse_keygen_output
from .target import STRICT_HOST_KEY_CHECKING, SshTarget

log = logging.getLogger(__name__)

TOOL_TIMEOUT = 10.0


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT, check=False)


def settings_for(target: SshTarget) -> Settings:
    """The host-key settings of ``target`` from ``ssh -G`` (its own command-line options included): what the
    resolver already got from it, else asked now."""
    config: dict[str, str] = dict(target.ssh_g)
    exe = shutil.which("ssh")
    if not config and exe is not None:
        try:
            proc = _run([exe, "-G", "-T", *target.ssh_args, "--", target.destination])
            if proc.returncode == 0:
                for line in proc.stdout.splitlines():
                    key, _, value = line.partition(" ")
                    config.setdefault(key.lower(), value.strip())
            else:
                log.warning("ssh -G %s: %s; host keys judged from the resolved target", target.destination,
                            proc.stderr.strip()[-300:])
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("ssh -G %s failed (%s): host keys judged from the resolved target", target.destination, e)
    if not config:  # no ssh: what the resolver found (its paramiko fallback)
        files = tuple(Path(os.path.expanduser(f)) for f in target.known_hosts_files)
        return Settings(target.hostname.lower(), target.port, files, (), target.strict_host_key_checking,
                        proxied=bool(target.proxy_jump))

    def flag(key: str) -> bool:
        return config.get(key, "no").lower() in ("yes", "true")

    alias = config.get("hostkeyalias")
    proxied = any(config.get(k, "none").lower() != "none" for k in ("proxyjump", "proxycommand"))
    return Settings(
        hostname=config.get("hostname", target.hostname).lower(),
        port=int(config.get("port", target.port)),
        user_files=tuple(_paths(config.get("userknownhostsfile", "none"))),
        global_files=tuple(_paths(config.get("globalknownhostsfile", "none"))),
        strict=STRICT_HOST_KEY_CHECKING.get(config.get("stricthostkeychecking", "ask").lower(), "yes"),
        alias=None if alias is None or alias.lower() == "none" else alias,
        check_host_ip=flag("checkhostip"),
        hash_known_hosts=flag("hashknownhosts"),
        proxied=proxied or bool(target.proxy_jump),
        algorithms=tuple(a for a in config.get("hostkeyalgorithms", "").split(",") if a),
        ca_algorithms=tuple(a for a in config.get("casignaturealgorithms", "").split(",") if a),
        revoked_file=next(iter(_paths(config.get("revokedhostkeys", "none"))), None),
        trust_localhost=flag("nohostauthenticationforlocalhost"),
    )


def _paths(value: str) -> list[Path]:
    words = value.split()
    if [w.lower() for w in words] in ([], ["none"]):
        return []
    return [Path(os.path.expanduser(w)) for w in words]


def lookup(name: str, files: Sequence[Path]) -> list[Entry]:
    """Every line about ``name`` in ``files`` (in order), as ``ssh-keygen -F`` finds them."""
    return look_up_names([name], files)[name]


def look_up_all(settings: Settings, ip: str | None,
                known: Mapping[str, list[Entry]] | None = None) -> dict[str, list[Entry]]:
    """The lines for every name ``judge`` asks about; names already in ``known`` are not looked up again."""
    known = known or {}
    names = [n for n in names_to_look_up(settings, ip) if n not in known]
    return {**known, **look_up_names(names, settings.files)}


def look_up_names(names: Sequence[str], files: Sequence[Path]) -> dict[str, list[Entry]]:
    """``ssh-keygen -F`` for each name in each file, all started at once (each takes a few ms)."""
    exe = shutil.which("ssh-keygen")
    found: dict[str, list[Entry]] = {name: [] for name in names}
    # an empty file or /dev/null holds nothing; a missing one is skipped by ssh too
    files = [p for p in files if p.is_file() and p.stat().st_size > 0]
    if exe is None:  # no OpenSSH here: paramiko's reading (no wildcards or negation)
        from . import known_hosts

        markers = {"@revoked": "REVOKED", "@cert-authority": "CA"}
        for name in names:
            found[name] = [Entry(k.path, 0, markers.get(k.marker, ""), k.key.asbytes())
                           for k in known_hosts.keys_for(name.lower(), files)]
        return found
    running: list[tuple[str, Path, subprocess.Popen[str]]] = []
    try:
        for name in names:
            for path in files:
                proc = subprocess.Popen([exe, "-F", name.lower(), "-f", str(path)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                running.append((name, path, proc))
        for name, path, proc in running:
            try:
                out, err = proc.communicate(timeout=TOOL_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("ssh-keygen -F %s -f %s: no answer within %g s", name, path, TOOL_TIMEOUT)
                continue
            if proc.returncode == 0:
                found[name] += parse_keygen_output(out, path)
            elif proc.returncode != 1:
                log.warning("ssh-keygen -F %s -f %s: %s", name, path, err.strip())
    except OSError as e:
        log.warning("ssh-keygen -F failed: %s", e)
    finally:
        for _, _, proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return found


def record(settings: Settings, verdict: Verdict, blob: bytes) -> None:
    """Append the verdict's lines to the first user file, as hostfile.c add_host_to_hostfile() does."""
    if not verdict.record or not settings.user_files:
        return
    path = settings.user_files[0]
    ssh_dir = Path(os.path.expanduser("~/.ssh"))
    if path.parent == ssh_dir:  # hostfile_create_user_ssh_dir(): only ~/.ssh is created
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
    try:
        with open(path, "a") as f:
            for name in verdict.record:
                f.write(known_line(name, blob, settings.hash_known_hosts))
        log.warning("permanently added %s to %s", ", ".join(verdict.record), path)
    except OSError as e:
        log.warning("could not add the host key of %s to %s: %s", settings.name, path, e)


def peer_ip(address: object) -> str | None:
    """The address part of a socket's peer name, as ssh prints it (getnameinfo NI_NUMERICHOST)."""
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        try:
            return str(ipaddress.ip_address(address[0].split("%")[0]))
        except ValueError:
            return None
    return None
