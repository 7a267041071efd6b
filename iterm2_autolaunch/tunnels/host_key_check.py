"""The host key of a paramiko connection, judged as OpenSSH would judge it (iterm2_autolaunch.host_keys).

Before the handshake: which host key algorithms to offer (ssh's order). After it: RevokedHostKeys, then a host
certificate against ``@cert-authority`` lines, else the plain key against known_hosts; a new key is recorded
only where ssh would record it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Iterable

import paramiko

from .. import host_certs, host_key_files, host_keys, revoked_keys
from ..errors import HostKeyError
from ..target import SshTarget

log = logging.getLogger(__name__)


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def key_types(settings: host_keys.Settings, entries: list[host_keys.Entry], supported: Iterable[str],
              default: Iterable[str]) -> list[str]:
    """The host key algorithms to offer, in the order ssh would offer them (host_certs.order_algorithms),
    limited to what paramiko can do; paramiko's own list with known types first if ssh -G gave none."""
    supported = set(supported)
    ordered = host_certs.order_algorithms([a for a in settings.algorithms if a in supported], entries)
    return ordered or host_certs.order_algorithms(list(default), [e for e in entries if e.marker != "CA"])


def check_host_key(target: SshTarget, settings: host_keys.Settings, transport: paramiko.Transport,
                   peer: object, entries: list[host_keys.Entry]) -> None:
    """Accept or refuse the server's host key (or host certificate) as OpenSSH would; record it if ssh would.
    ``entries``: the lines for the target's name, looked up before the handshake. Raises HostKeyError naming
    host, key and files."""
    server_key = transport.get_remote_server_key()
    ip = host_key_files.peer_ip(peer)
    blob = server_key.asbytes()
    found = host_key_files.look_up_all(settings, ip, {settings.name: entries})
    verdict = None
    is_cert = bool(transport.host_key_type and transport.host_key_type.endswith(host_certs.CERT_SUFFIX))
    cert_blob = server_key.public_blob.key_blob if is_cert and server_key.public_blob is not None else None
    cert = host_certs.read_certificate(cert_blob) if cert_blob is not None else None
    ca_blobs = tuple(e.blob for entries in found.values() for e in entries
                     if cert is not None and host_certs.fingerprint(e.blob) == cert.ca_fingerprint)
    revoked = revoked_keys.refusal(settings.revoked_file, cert_blob or blob, (blob, *ca_blobs))
    if revoked is not None:  # sshconnect.c verify_host_key(): before known_hosts is read
        verdict = host_keys.Verdict(False, revoked)
    elif cert_blob is not None:
        verdict = host_certs.judge_certificate(settings, cert, blob, found, time.time())
    if verdict is None:  # not a certificate, or not one ssh would take: its plain key is judged
        verdict = host_keys.judge(settings, blob, found, ip)
        host_key_files.record(settings, verdict, blob)
    if not verdict.accept:
        offered = f"{server_key.get_name()} {fingerprint(server_key)}"
        raise HostKeyError(f"{target.destination}: refused the host key {offered}: {verdict.reason}. If the key "
                           f"is right, connect once with ssh {target.destination} in a terminal.")
    if verdict.record:
        log.warning("accepted new host key for %s (%s %s), StrictHostKeyChecking=%s", settings.name,
                    server_key.get_name(), fingerprint(server_key), settings.strict)
