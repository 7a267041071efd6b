"""Host keys: our verdict against OpenSSH's own, case by case, on a real sshd (tests/remote_host.py).

Each matrix case writes a known_hosts file, a global known_hosts file and an ssh_config, then connects twice
from the same starting files: once with the real ``ssh -o BatchMode=yes -o ExitOnForwardFailure=yes -L ...``
(exit 0 means the key was accepted and a forward would be allowed: ssh refuses a forward after a changed or
revoked key even with StrictHostKeyChecking=no, "Port forwarding is disabled to avoid man-in-the-middle
attacks"), once with our paramiko connection. Both must accept or refuse alike and leave the same files behind
(hashed names compared by the name they hash).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from iterm2_autolaunch import host_key_files
from iterm2_autolaunch.errors import HostKeyError
from iterm2_autolaunch.host_certs import Certificate, fingerprint, judge_certificate, order_algorithms, parse_listing
from iterm2_autolaunch.host_keys import Entry, Settings, judge, known_line, parse_keygen_output
from iterm2_autolaunch.resolve import resolve_target
from iterm2_autolaunch.sshcmd import parse_argv
from iterm2_autolaunch.tunnels.ssh_connect import _Connector, close_chain
from tests.remote_host import free_port

if TYPE_CHECKING:
    from tests.remote_host import RemoteHost

OTHER_PORT = 2222
CERT_PORT = 2223  # this sshd also offers a host certificate for the same key, signed by {C}

# Placeholders in a case's files: {A} the host's address, {R} its real host key, {O} another key,
# {C} the CA that signed the host certificate on CERT_PORT, {H:name} the hashed form of name.


@dataclass(frozen=True)
class Case:
    id: str
    known: str = ""
    strict: str = "yes"
    global_known: str = ""
    extra: str = ""  # more ssh_config lines
    port: int = 22
    via_jump: bool = False  # to the "inner" address through ProxyJump jump (no address for CheckHostIP)
    revoked_list: str = ""  # RevokedHostKeys as a flat list of keys
    krl: str = ""  # RevokedHostKeys as a binary KRL (ssh-keygen -k) of this key
    accept: bool = True  # what OpenSSH does (the test checks it against real ssh, too)


CASES = [
    Case("plain-known", "{A} {R}"),
    Case("plain-changed", "{A} {O}", accept=False),
    Case("changed-under-no", "{A} {O}", strict="no", accept=False),
    Case("changed-under-accept-new", "{A} {O}", strict="accept-new", accept=False),
    Case("changed-among-names", "other.example,{A} {O}\nthird.example {R}", accept=False),
    Case("hashed-known", "{H:A} {R}"),
    Case("hashed-changed", "{H:A} {O}", accept=False),
    Case("port-known", "[{A}]:2222 {R}", port=OTHER_PORT),
    Case("port-bare-name-matches", "{A} {R}", port=OTHER_PORT),
    Case("port-other-key", "[{A}]:2222 {O}", port=OTHER_PORT, accept=False),
    Case("port-unknown-accept-new", "", strict="accept-new", port=OTHER_PORT),
    Case("port-hashed-known", "{H:[A]:2222} {R}", port=OTHER_PORT),
    Case("wildcard", "10.231.* {R}"),
    Case("wildcard-question-mark", "10.231.?*.? {R}"),
    Case("wildcard-changed", "10.231.* {O}", accept=False),
    Case("negated-name-is-not-known", "10.231.*,!{A} {R}", accept=False),
    Case("negated-other-key-accept-new", "10.231.*,!{A} {O}", strict="accept-new"),
    Case("alias-known", "myalias {R}", extra="HostKeyAlias myalias"),
    Case("alias-not-under-address", "{A} {R}", extra="HostKeyAlias myalias", accept=False),
    Case("alias-accept-new", "{A} {O}", strict="accept-new", extra="HostKeyAlias myalias"),
    Case("alias-with-port", "myalias {R}", extra="HostKeyAlias myalias", port=OTHER_PORT),
    Case("global-file-known", "", global_known="{A} {R}"),
    Case("global-file-changed", "", global_known="{A} {O}", strict="accept-new", accept=False),
    Case("user-known-global-changed", "{A} {R}", global_known="{A} {O}"),
    Case("revoked", "{A} {R}\n@revoked * {R}", accept=False),
    Case("revoked-under-no", "@revoked {A} {R}", strict="no", accept=False),
    Case("revoked-other-key", "{A} {R}\n@revoked * {O}"),
    Case("cert-authority-is-no-plain-key", "@cert-authority * {R}", accept=False),
    Case("cert-authority-accept-new", "@cert-authority 10.231.* {O}", strict="accept-new"),
    Case("host-cert-ca-known", "@cert-authority * {C}", port=CERT_PORT),
    Case("host-cert-ca-under-port-name", "@cert-authority [{A}]:2223 {C}", port=CERT_PORT),
    Case("host-cert-ca-under-bare-name", "@cert-authority {A} {C}", port=CERT_PORT),
    Case("host-cert-other-ca", "@cert-authority * {O}", port=CERT_PORT, accept=False),
    Case("host-cert-other-ca-accept-new", "@cert-authority * {O}", strict="accept-new", port=CERT_PORT),
    Case("host-cert-ca-revoked", "@cert-authority * {C}\n@revoked * {C}", port=CERT_PORT, accept=False),
    Case("host-cert-key-revoked", "@cert-authority * {C}\n@revoked * {R}", port=CERT_PORT, accept=False),
    Case("host-cert-plain-key-known", "[{A}]:2223 {R}", port=CERT_PORT),
    Case("host-cert-principal-is-not-alias", "@cert-authority myalias {C}", extra="HostKeyAlias myalias",
         port=CERT_PORT, accept=False),
    Case("host-cert-principal-is-not-alias-accept-new", "@cert-authority myalias {C}", strict="accept-new",
         extra="HostKeyAlias myalias", port=CERT_PORT),
    Case("host-cert-ca-algorithm-not-allowed", "@cert-authority * {C}", extra="CASignatureAlgorithms rsa-sha2-512",
         port=CERT_PORT, accept=False),
    Case("jump-inner-known", "{I} {R}", via_jump=True),
    Case("jump-inner-changed", "{I} {O}", strict="accept-new", via_jump=True, accept=False),
    Case("jump-inner-accept-new", "", strict="accept-new", via_jump=True),
    Case("jump-inner-accept-new-check-host-ip", "", strict="accept-new", extra="CheckHostIP yes", via_jump=True),
    Case("jump-inner-unknown-ask", "", strict="ask", via_jump=True, accept=False),
    Case("revoked-host-keys-list", "{A} {R}", revoked_list="# revoked\n{O}\n{R}", accept=False),
    Case("revoked-host-keys-list-other-key", "{A} {R}", revoked_list="{O}"),
    Case("revoked-host-keys-krl", "{A} {R}", krl="{R}", accept=False),
    Case("revoked-host-keys-krl-other-key", "{A} {R}", krl="{O}"),
    Case("revoked-host-keys-missing-file", "{A} {R}", extra="RevokedHostKeys {D}/no-such-file", accept=False),
    Case("revoked-host-keys-certificate-key", "@cert-authority * {C}", revoked_list="{R}", port=CERT_PORT,
         accept=False),
    Case("unknown-yes", "", strict="yes", accept=False),
    Case("unknown-ask", "", strict="ask", accept=False),
    Case("unknown-accept-new", "", strict="accept-new"),
    Case("unknown-no", "", strict="no"),
    Case("unknown-accept-new-hashed", "# nothing here\n", strict="accept-new", extra="HashKnownHosts yes"),
    Case("unknown-accept-new-check-host-ip", "", strict="accept-new", extra="CheckHostIP yes"),
    Case("check-host-ip-port-known", "[{A}]:2222 {R}", extra="CheckHostIP yes", port=OTHER_PORT),
    Case("check-host-ip-port-accept-new", "", strict="accept-new", extra="CheckHostIP yes", port=OTHER_PORT),
    Case("check-host-ip-port-accept-new-hashed", "", strict="accept-new", port=OTHER_PORT,
         extra="CheckHostIP yes\nHashKnownHosts yes"),
    Case("known-hosts-none-unknown", "", strict="accept-new", extra="UserKnownHostsFile none", accept=False),
    Case("known-hosts-none-global", "", global_known="{A} {R}", extra="UserKnownHostsFile none"),
    Case("known-hosts-missing-dir", "", strict="accept-new", extra="UserKnownHostsFile {D}/no/such/dir/kh"),
    Case("second-user-file", "", strict="accept-new", extra="UserKnownHostsFile {D}/kh {D}/kh2"),
]


class Files:
    """One case's directory: the files both clients start from, and how to read them back comparably."""

    def __init__(self, directory: Path, host: RemoteHost, case: Case) -> None:
        self.dir = directory
        self.host = host
        self.case = case
        self.real = _pub(host.workdir / "remote_host_key.pub")
        self.other = _pub(host.workdir / "other_host_key.pub")
        self.ca = _pub(host.workdir / "ca_key.pub")
        self.names = [host.addr, f"[{host.addr}]:{OTHER_PORT}", f"[{host.addr}]:{CERT_PORT}", "myalias",
                      host.inner_addr]

    def fill(self, template: str) -> str:
        text = template.replace("{D}", str(self.dir))
        text = re.sub(r"\{H:([^}]*)\}", lambda m: known_line(self._name(m[1]), b"\0\0\0\x01x", True).split()[0],
                      text)
        text = text.replace("{A}", self.host.addr).replace("{R}", self.real).replace("{O}", self.other)
        text = text.replace("{C}", self.ca).replace("{I}", self.host.inner_addr)
        return text + "\n" if text else ""

    def _name(self, raw: str) -> str:
        return raw.replace("A", self.host.addr)

    def write(self) -> None:
        krl = (self.dir / "krl").read_bytes() if (self.dir / "krl").exists() else None
        for stale in self.dir.glob("*"):
            if stale.is_file():
                stale.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "kh").write_text(self.fill(self.case.known))
        (self.dir / "gkh").write_text(self.fill(self.case.global_known))
        extra = self.fill(self.case.extra)
        if self.case.revoked_list:
            (self.dir / "revoked").write_text(self.fill(self.case.revoked_list))
            extra = f"RevokedHostKeys {self.dir}/revoked"
        if self.case.krl:
            (self.dir / "krl-key.pub").write_text(self.fill(self.case.krl))
            if krl is not None:  # the same KRL for ssh and for us: ssh-keygen stamps each one it makes with the time
                (self.dir / "krl").write_bytes(krl)
            else:
                subprocess.run(["ssh-keygen", "-q", "-k", "-f", str(self.dir / "krl"), str(self.dir / "krl-key.pub")],
                               check=True, capture_output=True)
            extra = f"RevokedHostKeys {self.dir}/krl"
        lines = [
            "Host case",
            f"  HostName {self.host.inner_addr if self.case.via_jump else self.host.addr}",
            *(["  ProxyJump jump"] if self.case.via_jump else []),
            f"  Port {self.case.port}",
            "  User root",
            f"  IdentityFile {self.host.client_key}",
            "  IdentitiesOnly yes",
            *([f"  {extra.strip()}"] if extra else []),
            f"  UserKnownHostsFile {self.dir}/kh",
            f"  GlobalKnownHostsFile {self.dir}/gkh",
            f"  StrictHostKeyChecking {self.case.strict}",
            "  UpdateHostKeys no",  # ssh would add the server's other keys after login; we never do
            "  BatchMode yes",
            "  ConnectTimeout 10",
            "Host jump",
            f"  HostName {self.host.jump_addr}",
            "  User root",
            f"  IdentityFile {self.host.client_key}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {self.host.known_hosts}",
            "  GlobalKnownHostsFile /dev/null",
            "  StrictHostKeyChecking yes",
            "  UpdateHostKeys no",
            "  BatchMode yes",
        ]
        (self.dir / "config").write_text("\n".join(lines) + "\n")  # first value wins: extra comes first

    def snapshot(self) -> dict[str, list[str]]:
        """Every file in the case directory, hashed names replaced by the name they hash."""
        out: dict[str, list[str]] = {}
        for path in sorted(self.dir.rglob("*")):
            if path.is_file() and path.name != "config":
                text = path.read_text(errors="replace")  # a KRL is binary
                out[str(path.relative_to(self.dir))] = [self._unhash(ln) for ln in text.splitlines()]
        return out

    def _unhash(self, line: str) -> str:
        def name(match: re.Match[str]) -> str:
            salt, digest = base64.b64decode(match[1]), base64.b64decode(match[2])
            for candidate in self.names:
                if hmac.compare_digest(hmac.new(salt, candidate.encode(), hashlib.sha1).digest(), digest):
                    return f"HASHED({candidate})"
            return "HASHED(?)"

        return re.sub(r"\|1\|([^|\s]+)\|(\S+)", name, line)


def _pub(path: Path) -> str:
    return " ".join(path.read_text().split()[:2])


def real_ssh_accepts(files: Files) -> tuple[bool, str]:
    forward = f"127.0.0.1:{free_port()}:127.0.0.1:22"
    proc = subprocess.run(
        ["ssh", "-F", str(files.dir / "config"), "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
         "-L", forward, "case", "true"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False,
    )
    return proc.returncode == 0, proc.stderr


def our_verdict(files: Files) -> tuple[bool, str]:
    cmd = parse_argv(["ssh", "-F", str(files.dir / "config"), "--", "case"])
    assert cmd is not None
    try:
        chain = _Connector(resolve_target(cmd)).connect()
    except HostKeyError as e:
        return False, str(e)
    close_chain(chain)
    return True, ""


@pytest.fixture(scope="module")
def host(remote_host: RemoteHost) -> RemoteHost:
    remote_host.start_sshd_on_port(OTHER_PORT)
    cert = remote_host.sign_host_key(remote_host.workdir / "ca_key", remote_host.addr)
    remote_host.start_sshd_on_port(CERT_PORT, f"HostCertificate {cert}")
    remote_host.write_known_hosts("known_hosts_wrong", wrong_key=True)  # makes other_host_key
    return remote_host


@pytest.mark.root
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verdict_matches_openssh(host: RemoteHost, case: Case, tmp_path: Path) -> None:
    files = Files(tmp_path / "case", host, case)
    files.write()
    before = files.snapshot()
    ssh_accepts, ssh_said = real_ssh_accepts(files)
    ssh_files = files.snapshot()
    files.write()
    we_accept, we_said = our_verdict(files)
    our_files = files.snapshot()
    assert ssh_accepts == case.accept, f"OpenSSH itself: {ssh_said}"
    assert we_accept == ssh_accepts, f"ssh said: {ssh_said!r}; we said: {we_said!r}"
    assert our_files == ssh_files, f"started from {before}; ssh left {ssh_files}; we left {our_files}"


# --- the pure part -------------------------------------------------------------------------------------
KEY = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes(32)
OTHER = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes([1] * 32)


def settings(**kw: object) -> Settings:
    base: dict[str, object] = {"hostname": "h", "port": 22, "user_files": (Path("/k"),), "global_files": (),
                               "strict": "yes"}
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def entry(blob: bytes, marker: str = "") -> Entry:
    return Entry(Path("/k"), 1, marker, blob)


def test_check_host_ip_records_a_new_address_and_refuses_a_changed_one() -> None:
    s = settings(check_host_ip=True, strict="accept-new")
    assert judge(s, KEY, {"h": [entry(KEY)]}, "10.0.0.1").record == ("10.0.0.1",)
    assert judge(s, KEY, {}, "10.0.0.1").record == ("h,10.0.0.1",)
    assert judge(settings(check_host_ip=True, strict="accept-new", hash_known_hosts=True), KEY, {},
                 "10.0.0.1").record == ("h", "10.0.0.1")
    assert not judge(s, KEY, {"h": [entry(KEY)], "10.0.0.1": [entry(OTHER)]}, "10.0.0.1").accept
    assert judge(settings(check_host_ip=True, proxied=True), KEY, {"h": [entry(KEY)]}, "10.0.0.1").record == ()
    assert judge(settings(check_host_ip=True), KEY, {"h": [entry(KEY)]}, "127.0.0.1").record == ()


def test_keygen_output_is_parsed_with_markers() -> None:
    blob = base64.b64encode(KEY).decode()
    text = (f"# Host h found: line 3 REVOKED\n@revoked * ssh-ed25519 {blob}\n"
            f"# Host h found: line 4 \n|1|abc=|def= ssh-ed25519 {blob} comment\n")
    assert parse_keygen_output(text, Path("/k")) == [Entry(Path("/k"), 3, "REVOKED", KEY),
                                                     Entry(Path("/k"), 4, "", KEY)]


def test_written_line_is_found_by_ssh_keygen(tmp_path: Path) -> None:
    path = tmp_path / "kh"
    path.write_text(known_line("[h.example]:2222", KEY, True))
    assert host_key_files.lookup("[h.example]:2222", [path]) == [Entry(path, 1, "", KEY)]
    assert host_key_files.lookup("h.example", [path]) == []


def test_algorithms_are_offered_in_openssh_order() -> None:
    algorithms = ["ssh-ed25519-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "ssh-ed25519",
                  "rsa-sha2-512", "rsa-sha2-256"]
    rsa = b"\0\0\0\x07ssh-rsa" + bytes(8)
    assert order_algorithms(algorithms, [entry(KEY)]) == algorithms  # best type known: verbatim
    # known types first, their certificate types with them, the rest in the configured order
    assert order_algorithms(algorithms, [entry(rsa)]) == ["rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-512",
                                                          "rsa-sha2-256", "ssh-ed25519-cert-v01@openssh.com",
                                                          "ssh-ed25519"]
    assert order_algorithms(algorithms, [entry(rsa), entry(OTHER, "CA")])[:4] == [
        "ssh-ed25519-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-256"]


LISTING = """host-cert.pub:
        Type: ssh-ed25519-cert-v01@openssh.com host certificate
        Public key: ED25519-CERT SHA256:mCML9n+QkoxiJRGI8tcTaZUFlXV7PnELlzfo0OV2efg
        Signing CA: ED25519 SHA256:1NwmyYWkLm6/TiERnAnRxg3riOadgbQitsIFncHR5s4 (using ssh-ed25519)
        Key ID: "ita-test-host"
        Serial: 0
        Valid: from 2026-12-04T12:31:57 to 2026-12-05T12:36:57
        Principals:\x20
                10.0.0.1
                h
        Critical Options: (none)
        Extensions: (none)
"""


def test_certificate_listing_is_parsed_and_judged() -> None:
    cert = parse_listing(LISTING)
    assert cert is not None and cert.host and cert.principals == ("10.0.0.1", "h")
    assert cert.ca_fingerprint == "SHA256:1NwmyYWkLm6/TiERnAnRxg3riOadgbQitsIFncHR5s4"
    assert cert.valid_before - cert.valid_after == 86400 + 300
    ca = Certificate(True, fingerprint(OTHER), "ssh-ed25519", 0, float("inf"), ("h",))
    found = {"h": [entry(OTHER, "CA")]}
    verdict = judge_certificate(settings(), ca, KEY, found, 1.0)
    assert verdict is not None and verdict.accept
    assert judge_certificate(settings(alias="x"), ca, KEY, {"x": [entry(OTHER, "CA")]}, 1.0) is None  # principal
    expired = Certificate(True, fingerprint(OTHER), "ssh-ed25519", 0, 1.0, ())
    assert judge_certificate(settings(), expired, KEY, found, 1.0) is None
    revoked = judge_certificate(settings(), ca, KEY, {"h": [entry(OTHER, "CA"), entry(KEY, "REVOKED")]}, 1.0)
    assert revoked is not None and not revoked.accept


def test_no_host_authentication_for_localhost_accepts_loopback_only() -> None:
    changed = {"h": [entry(OTHER)]}
    assert judge(settings(trust_localhost=True), KEY, changed, "127.0.0.2").accept
    assert not judge(settings(trust_localhost=True), KEY, changed, "10.0.0.1").accept
    assert not judge(settings(trust_localhost=True, alias="h"), KEY, changed, "127.0.0.1").accept
    assert not judge(settings(), KEY, changed, "::1").accept


def test_without_openssh_the_files_are_read_by_paramiko(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes(range(32))
    path = tmp_path / "kh"
    name = "[h.example]:2222"
    path.write_text(known_line(name, key, True) + "@revoked " + known_line(name, key, False))
    monkeypatch.setattr(host_key_files.shutil, "which", lambda name: None)
    found = host_key_files.lookup("[h.example]:2222", [path])
    assert sorted(e.marker for e in found) == ["", "REVOKED"] and {e.blob for e in found} == {key}
