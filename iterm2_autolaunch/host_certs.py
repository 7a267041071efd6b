"""Host certificates and the host key algorithms to ask for, as OpenSSH handles them.

``order_algorithms`` is sshconnect2.c order_hostkeyalgs() (V_9_2_P1): the HostKeyAlgorithms list verbatim if a
plain key of its first type is on file, else certificate types first when a ``@cert-authority`` line names the
host, then types with a known key, then the rest. So paramiko is offered the same key ssh would be offered.

A host certificate is read by ``ssh-keygen -L`` (which refuses a certificate whose CA signature does not
verify), then judged as sshconnect.c check_host_key() judges one: its CA must be on a ``@cert-authority`` line
for the name, it must be a host certificate, valid now, list the host name (or HostKeyAlias) among its
principals if it lists any, and be signed with an allowed CASignatureAlgorithms algorithm. A revoked key or CA is
refused outright; any other failure falls back to the certificate's plain key, as ssh "Retry with plain key".
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .host_keys import Entry, Settings, Verdict

log = logging.getLogger(__name__)

CERT_SUFFIX = "-cert-v01@openssh.com"


def plain_type(alg: str) -> str:
    """The key type an algorithm uses: ``rsa-sha2-512-cert-v01@openssh.com`` -> ``ssh-rsa``."""
    alg = alg.removesuffix(CERT_SUFFIX)
    return "ssh-rsa" if alg.startswith("rsa-sha2-") else alg


def blob_type(blob: bytes) -> str:
    return blob[4 : 4 + int.from_bytes(blob[:4], "big")].decode(errors="replace")


def order_algorithms(algorithms: Sequence[str], entries: Sequence[Entry]) -> list[str]:
    known = {blob_type(e.blob) for e in entries if not e.marker}
    if algorithms and plain_type(algorithms[0]) in known:
        return list(algorithms)
    has_ca = any(e.marker == "CA" for e in entries)
    first = [a for a in algorithms if (a.endswith(CERT_SUFFIX) and has_ca) or plain_type(a) in known]
    return first + [a for a in algorithms if a not in first]


@dataclass(frozen=True)
class Certificate:
    """What ``ssh-keygen -L`` says about a certificate whose signature it verified."""

    host: bool  # a host certificate (not a user one)
    ca_fingerprint: str  # SHA256:...
    ca_algorithm: str  # the signature algorithm, "(using ...)"
    valid_after: float  # seconds since the epoch, UTC
    valid_before: float
    principals: tuple[str, ...]


def parse_listing(text: str) -> Certificate | None:
    """Parse ``ssh-keygen -L`` output taken with TZ=UTC (its times are local time)."""
    fields: dict[str, str] = {}
    principals: list[str] = []
    in_principals = False
    for line in text.splitlines():
        stripped = line.strip()
        key, sep, value = stripped.partition(":")
        if in_principals and not (sep and key in ("Critical Options", "Extensions")):
            if stripped and stripped != "(none)":
                principals.append(stripped)
            continue
        in_principals = sep != "" and key == "Principals"
        if sep:
            fields[key] = value.strip()
            if in_principals and value.strip() not in ("", "(none)"):
                principals.append(value.strip())
    ca = re.fullmatch(r"\S+ (SHA256:\S+) \(using (\S+)\)", fields.get("Signing CA", ""))
    if ca is None or "Type" not in fields:
        return None
    after, before = 0.0, float("inf")
    valid = fields.get("Valid", "")
    if valid != "forever":
        m = re.fullmatch(r"(?:from|after) (\S+)(?: to (\S+))?|before (\S+)", valid)
        if m is None:
            return None
        start, end = m.group(1), m.group(2) or m.group(3)
        after = _utc(start) if start else 0.0
        before = _utc(end) if end else float("inf")
    return Certificate(fields["Type"].endswith("host certificate"), ca[1], ca[2], after, before, tuple(principals))


def _utc(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")))


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def judge_certificate(settings: Settings, cert: Certificate | None, plain: bytes,
                      found: Mapping[str, Sequence[Entry]], now: float) -> Verdict | None:
    """The verdict on a host certificate; None means: judge its plain key instead. ``found`` maps names to
    their known_hosts lines (host_keys.look_up_all): the CA may be filed under the name without the port."""
    if cert is None:
        return None  # ssh-keygen refused it (bad signature): ssh would not get this far either
    names = [settings.name]
    if settings.alias is None and settings.port not in (0, 22):
        names.append(settings.hostname)  # sshconnect.c: "checking without port identifier"
    for name in names:
        entries = found.get(name, ())
        revoked = [e.blob for e in entries if e.marker == "REVOKED"]
        if name == settings.name and any(b == plain or fingerprint(b) == cert.ca_fingerprint for b in revoked):
            return Verdict(False, f"the host key or its certificate authority is marked @revoked for {name}")
        if any(e.marker == "CA" and fingerprint(e.blob) == cert.ca_fingerprint for e in entries):
            principal = settings.alias or settings.hostname
            if not cert.host or not (cert.valid_after <= now < cert.valid_before):
                return None
            if cert.principals and principal not in cert.principals:
                return None
            if settings.ca_algorithms and cert.ca_algorithm not in settings.ca_algorithms:
                return None
            return Verdict(True, f"certificate signed by a @cert-authority for {name}")
    return None


def read_certificate(cert_blob: bytes) -> Certificate | None:
    """Have ``ssh-keygen -L`` check the certificate's signature and list it."""
    exe = shutil.which("ssh-keygen")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ita-cert-") as directory:
        path = os.path.join(directory, "host-cert.pub")
        with open(path, "w") as f:
            f.write(f"{blob_type(cert_blob)} {base64.b64encode(cert_blob).decode()}\n")
        try:
            proc = subprocess.run([exe, "-L", "-f", path], stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=10, check=False, env={**os.environ, "TZ": "UTC"})
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("ssh-keygen -L failed: %s", e)
            return None
    if proc.returncode != 0:
        log.warning("host certificate refused by ssh-keygen -L: %s", proc.stderr.strip())
        return None
    return parse_listing(proc.stdout)

