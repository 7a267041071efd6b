"""Which printed hosts a forward may go to, and in what order. Pure: no I/O, no name lookups.

A server on a cluster prints the compute node it runs on (``http://node042:8888/...``) and often a
loopback twin. The forward goes to the host it printed first and falls back to loopback, not the other way
round: on a login node another user's server may answer on loopback at the same port. But a printed host
is screen text, so only hosts that look local to the remote are tried (its own names, private, CGNAT and
ULA addresses, single-label names, site-internal suffixes, names in the ssh host's own domain); never
link-local or a cloud metadata name, and anything else only when the config allows it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "localhost.localdomain"})
WILDCARDS = frozenset({"0.0.0.0", "::"})
LOOPBACK = "127.0.0.1"
# Names that are 127.0.0.1 and ::1 at once. A server told to listen on one binds only the first address the
# remote's resolver gives, and that is ::1 under Debian's /etc/hosts (glibc sorts by RFC 6724): Vite 8 on
# Node 20 printed "http://localhost:PORT/" and listened on [::1] alone. So after the name (which the forward
# maps to 127.0.0.1, target.remote_forward_host), ::1 is tried too.
_DUAL_STACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

# Name suffixes that only exist inside a site (RFC 6762, RFC 8375, common cluster conventions).
_PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".localdomain", ".home.arpa", ".cluster", ".corp")
# Cloud instance metadata services: a forward there would hand credentials to whoever printed the line.
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                             "instance-data.ec2.internal"})  # fmt: skip
_METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                                 ipaddress.ip_address("100.100.100.200")})  # fmt: skip
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")


@functools.lru_cache(maxsize=1024)  # pure, and called for every URL a scan meets
def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=1024)  # pure, and called for every URL a scan meets
def is_local_looking(host: str) -> bool:
    """Could a server plausibly print this as its own address? Loopback, unspecified, a private, CGNAT or
    ULA address, a single-label name (``node042``) or a site-internal suffix; never link-local or metadata."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower().rstrip(".")
        if name in _METADATA_NAMES:
            return False
        if "." not in name:  # a single label such as "node042", but not a number in disguise ("2130706433")
            return any(c.isalpha() for c in name) and not name.startswith("0x")
        return name.endswith(_PRIVATE_SUFFIXES)
    if address in _METADATA_ADDRESSES or address.is_link_local:
        return False
    return address.is_private or (address.version == 4 and address in _CGNAT)


@functools.lru_cache(maxsize=1024)  # pure, and called for every URL a scan meets
def forward_allowed(host: str, *, allow_any: bool = False) -> bool:
    """May a forward go to this printed host? ``allow_any`` (config) admits public names too, but
    link-local and metadata hosts stay out whatever the config says."""
    if is_local_looking(host):
        return True
    if not allow_any:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower().rstrip(".")
        # "2852039166", "0xa9.0xfe.0xa9.0xfe": inet_aton() reads these as addresses (169.254.169.254).
        return name not in _METADATA_NAMES and not _NUMERIC.fullmatch(name)
    return not (address.is_link_local or address in _METADATA_ADDRESSES)


def site_domain(*names: str) -> str:
    """The domain of the first of ``names`` (the ssh host's HostName, then the name typed) that is a name of
    three labels or more: login1.hpc.example.edu -> hpc.example.edu ("" when none is)."""
    for name in names:
        name = name.lower().rstrip(".")
        if name.count(".") >= 2 and not _NUMERIC.fullmatch(name) and ":" not in name:
            return name.split(".", 1)[1]
    return ""


def in_domain(host: str, domain: str) -> bool:
    """A name under ``domain`` (site_domain of the ssh host): a compute node's full name, node042.hpc.example.edu,
    is as local to the remote as its short one, node042."""
    name = host.lower().rstrip(".")
    return bool(domain) and name.endswith(f".{domain}") and name not in _METADATA_NAMES


def forward_order(printed: Sequence[str], *, allow_any: bool = False, domain: str = "") -> tuple[str, ...]:
    """The hosts to try, in order: every allowed non-loopback host the banner printed (allowed: local-looking,
    under ``domain``, or anything but link-local and metadata with ``allow_any``), in the order it printed
    them, then loopback (a wildcard address means loopback; "localhost" means 127.0.0.1, then ::1).
    Duplicates are dropped. Empty when the banner printed neither an allowed host nor loopback: a public name
    alone (TensorBoard's --bind_all prints socket.getfqdn()) is no reason to try the ssh host's loopback,
    where another user's server may answer."""
    order: list[str] = []
    loopback = None
    for host in printed:
        if is_loopback(host) or host in WILDCARDS:
            loopback = loopback or (host if is_loopback(host) else LOOPBACK)
        elif (forward_allowed(host, allow_any=allow_any) or in_domain(host, domain)) and host not in order:
            order.append(host)
    if loopback is None and not order:
        return ()
    if loopback is not None and loopback.lower() in _DUAL_STACK_NAMES:
        return (*order, loopback, "::1")
    return (*order, loopback or LOOPBACK)
