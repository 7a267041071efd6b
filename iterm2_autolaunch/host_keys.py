"""Host keys judged as OpenSSH judges them, with OpenSSH itself reading the files.

The settings come from ``ssh -G`` (UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking,
HostKeyAlias, CheckHostIP, HashKnownHosts), and the lines about a name come from ``ssh-keygen -F name -f file``,
which knows hashed names, ``[host]:port``, wildcards, negation and the ``@revoked``/``@cert-authority`` markers.
What is left to us is the decision, and ``judge`` follows ``check_host_key()`` in OpenSSH's sshconnect.c
(V_9_2_P1) for a plain (non-certificate) key with BatchMode on, where "ask" cannot ask and so refuses:

- a key listed ``@revoked`` for the name is refused; a key matching a plain line is accepted; a different key
  on a plain line is a changed key and refused; ``@cert-authority`` lines do not vouch for a plain key.
- StrictHostKeyChecking=no lets ssh continue with a changed or revoked key, but "without MITM-able
  authentication or forwarding": for a tunnel that is a refusal too.
- an unknown key off port 22 is accepted if it matches the bare host name (sshconnect.c "checking without port
  identifier"); otherwise accept-new and no add it to the first user file, unless there is none (``none``).
- CheckHostIP (not through a proxy) also looks up ``ip`` / ``[ip]:port``, records it when new and refuses when
  the address has another key.

This module is the pure part: ``judge`` takes the looked-up lines. host_key_files.py runs ssh -G and
ssh-keygen and appends exactly the lines ssh would append; host_certs.py judges host certificates and
revoked_keys.py the RevokedHostKeys file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OK, NEW, CHANGED, REVOKED = "ok", "new", "changed", "revoked"
_INVALID_NAME_CHARS = set("@?*#[]|'\\\"")  # sshconnect.c: "Don't ever try to write an invalid name"


@dataclass(frozen=True)
class Settings:
    """What ``ssh -G`` says about host keys for one destination."""

    hostname: str  # lower-case, as ssh looks it up
    port: int
    user_files: tuple[Path, ...]  # empty: UserKnownHostsFile none
    global_files: tuple[Path, ...]
    strict: str  # yes, no, ask, accept-new
    alias: str | None = None
    check_host_ip: bool = False
    hash_known_hosts: bool = False
    proxied: bool = False  # ProxyJump/ProxyCommand: ssh has no address to check
    algorithms: tuple[str, ...] = ()  # HostKeyAlgorithms, in order
    ca_algorithms: tuple[str, ...] = ()  # CASignatureAlgorithms
    revoked_file: Path | None = None  # RevokedHostKeys
    trust_localhost: bool = False  # NoHostAuthenticationForLocalhost

    @property
    def name(self) -> str:
        """The name the key is filed under: HostKeyAlias, else ``host`` or ``[host]:port``."""
        return self.alias or put_host_port(self.hostname, self.port)

    @property
    def files(self) -> tuple[Path, ...]:
        return self.user_files + self.global_files


@dataclass(frozen=True)
class Entry:
    """One known_hosts line that ``ssh-keygen -F`` found for a name."""

    path: Path
    line: int
    marker: str  # "", "REVOKED" or "CA" (ssh-keygen -F's words)
    blob: bytes  # the public key


@dataclass(frozen=True)
class Verdict:
    accept: bool
    reason: str
    record: tuple[str, ...] = ()  # names to append to the first user file, one line each, in this order


def put_host_port(host: str, port: int) -> str:
    """misc.c put_host_port(): ``[host]:port`` off port 22."""
    return host if port in (0, 22) else f"[{host}]:{port}"


def status(entries: Sequence[Entry], blob: bytes) -> str:
    """hostfile.c check_hostkeys_by_key_or_type() for a plain key."""
    plain = [e for e in entries if not e.marker]
    result = NEW
    if any(e.blob == blob for e in plain):
        result = OK
    elif plain:
        result = CHANGED
    if any(e.marker == "REVOKED" and e.blob == blob for e in entries):
        result = REVOKED
    return result


def judge(settings: Settings, blob: bytes, found: Mapping[str, Sequence[Entry]], ip: str | None) -> Verdict:
    """Accept or refuse ``blob`` as ``ssh -o BatchMode=yes`` would; ``found`` maps each name of
    ``names_to_look_up`` to its lines. ``ip`` is the peer address (None when unknown)."""
    s = settings
    if s.trust_localhost and s.alias is None and ip and ipaddress.ip_address(ip).is_loopback:
        return Verdict(True, "NoHostAuthenticationForLocalhost")  # sshconnect.c: "Forcing accepting"
    host = s.name
    ip_name = put_host_port(ip, s.port) if ip else None
    # sshconnect.c turns CheckHostIP off for a loopback peer, through a proxy, and when the name is the address
    # (compared with the port attached: "10.0.0.1" is not "[10.0.0.1]:2222", so that one is checked twice)
    check_ip = bool(s.check_host_ip and ip and not s.proxied and ip_name != s.hostname
                    and not ipaddress.ip_address(ip).is_loopback)
    readonly = not s.user_files or bool(_INVALID_NAME_CHARS & set(s.hostname))
    host_status = status(found.get(host, ()), blob)
    ip_status = status(found.get(ip_name or "", ()), blob) if check_ip else host_status
    record: tuple[str, ...] = ()
    where = ", ".join(str(p) for p in s.files) or "(no known_hosts file)"
    if host_status == REVOKED:
        return Verdict(False, f"the host key of {host} is marked @revoked in {where}")
    if host_status == CHANGED:
        return Verdict(False, f"REMOTE HOST IDENTIFICATION HAS CHANGED for {host}: the key in {where} differs"
                              f" (StrictHostKeyChecking={s.strict}; ssh would disable forwarding at best)")
    if host_status == OK:
        if check_ip and ip_status == NEW and not readonly and ip_name:
            record = (ip_name,)
    else:  # NEW
        if s.alias is None and s.port not in (0, 22):
            bare = status(found.get(s.hostname, ()), blob)
            bare_ip = status(found.get(ip or "", ()), blob) if check_ip and ip != s.hostname else bare
            if bare == OK and not (bare_ip == CHANGED and s.strict != "no"):
                return Verdict(True, f"the key of {host} is known for {s.hostname} without the port")
            if ip == s.hostname:  # that second look turned CheckHostIP off for good (it sets options.check_host_ip)
                check_ip = False
        if readonly:
            return Verdict(False, f"the host key of {host} is not known and cannot be recorded ({where})")
        if s.strict in ("yes", "ask"):
            return Verdict(False, f"the host key of {host} is not known: it is not in {where} "
                                  f"(StrictHostKeyChecking={s.strict})")
        if check_ip and ip_status == NEW and ip_name:
            record = (host, ip_name) if s.hash_known_hosts else (f"{host},{ip_name}",)
        else:
            record = (host,)
    if check_ip and ip_status == CHANGED and s.strict != "no":
        return Verdict(False, f"the host key of {host} differs from the key for the address {ip_name} in "
                              f"{where} (StrictHostKeyChecking={s.strict})", record)
    return Verdict(True, "known" if host_status == OK else "new key accepted", record)


def names_to_look_up(settings: Settings, ip: str | None) -> list[str]:
    names = [settings.name]
    if settings.alias is None and settings.port not in (0, 22):
        names.append(settings.hostname)
    if settings.check_host_ip and ip and not settings.proxied:
        names += [put_host_port(ip, settings.port), ip]
    return list(dict.fromkeys(names))


def known_line(name: str, blob: bytes, hashed: bool, salt: bytes | None = None) -> str:
    """hostfile.c write_host_entry(): ``name type base64``, the name as ``|1|salt|hmac`` when hashed."""
    key_type = blob[4 : 4 + int.from_bytes(blob[:4], "big")].decode()
    if hashed:
        salt = salt if salt is not None else os.urandom(20)
        mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
        name = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
    return f"{name} {key_type} {base64.b64encode(blob).decode()}\n"


def parse_keygen_output(text: str, path: Path) -> list[Entry]:
    """The lines of ``ssh-keygen -F``: ``# Host NAME found: line N [REVOKED|CA]`` then the line itself."""
    entries: list[Entry] = []
    lines = text.splitlines()
    for header, line in zip(lines, lines[1:], strict=False):
        if not header.startswith("# Host ") or " found: line " not in header:
            continue
        words = header.rsplit(" found: line ", 1)[1].split()
        fields = line.split()
        if fields and fields[0].startswith("@"):
            fields = fields[1:]
        try:
            entries.append(Entry(path, int(words[0]), words[1] if len(words) > 1 else "",
                                 base64.b64decode(fields[2], validate=True)))
        except (IndexError, ValueError):
            continue
    return entries
