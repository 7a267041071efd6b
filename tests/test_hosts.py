"""Where a forward may go: the printed host first when it looks local to the remote, loopback last."""

from __future__ import annotations

import pytest

from iterm2_autolaunch.hosts import forward_allowed, forward_order, site_domain


@pytest.mark.parametrize("host", [
    "node042", "gpu-a100-7", "10.1.2.3", "192.168.0.10", "172.16.5.4", "100.64.0.9", "fd12:3456::1",
    "login1.cluster", "n12.hpc.local", "3f2a1b4c5d6e",  # a container id as Docker sets the hostname
])  # fmt: skip
def test_hosts_local_to_the_remote_are_allowed(host: str) -> None:
    assert forward_allowed(host)


@pytest.mark.parametrize("host", [
    "169.254.169.254", "metadata.google.internal", "metadata", "fd00:ec2::254", "100.100.100.200",
    "fe80::1", "169.254.10.1",
])  # fmt: skip
def test_link_local_and_metadata_never_even_when_the_config_allows_any(host: str) -> None:
    assert not forward_allowed(host) and not forward_allowed(host, allow_any=True)


@pytest.mark.parametrize("host", ["github.com", "example.org", "8.8.8.8", "2130706433"])
def test_public_hosts_only_when_the_config_allows_them(host: str) -> None:
    assert not forward_allowed(host)
    assert forward_allowed(host, allow_any=True) == (host != "2130706433")


def test_order_is_printed_hosts_first_then_loopback() -> None:
    assert forward_order(["node042", "127.0.0.1"]) == ("node042", "127.0.0.1")
    assert forward_order(["127.0.0.1", "node042"]) == ("node042", "127.0.0.1")
    assert forward_order(["0.0.0.0"]) == ("127.0.0.1",)
    assert forward_order(["localhost"]) == ("localhost", "::1")  # a Node server may listen on ::1 only
    assert forward_order(["169.254.169.254", "127.0.0.1"]) == ("127.0.0.1",)
    assert forward_order(["github.com", "127.0.0.1"]) == ("127.0.0.1",)
    assert forward_order(["github.com"], allow_any=True) == ("github.com", "127.0.0.1")


def test_a_public_name_alone_is_no_reason_to_try_loopback() -> None:
    """TensorBoard under --bind_all prints socket.getfqdn() alone (capture tensorboard_bind_all_fqdn.raw): a
    name outside the ssh host's domain, with no loopback twin, gives no target at all; on the login node's
    loopback another user's server may answer."""
    assert forward_order(["github.com"]) == ()
    assert forward_order(["node042.hpc.example.edu"]) == ()
    assert forward_order(["node042.hpc.example.edu"], domain="hpc.example.edu") == ("node042.hpc.example.edu",
                                                                                     "127.0.0.1")
    assert forward_order(["169.254.169.254"], allow_any=True) == ()
    assert forward_order(["node042"]) == ("node042", "127.0.0.1")  # a short name is local to the remote


@pytest.mark.parametrize(("names", "domain"), [
    (("login1.hpc.example.edu", "hpc"), "hpc.example.edu"),  # HostName from ssh -G, then the name typed
    (("10.0.0.7", "login1.hpc.example.edu"), "hpc.example.edu"),  # HostName an address: the name typed
    (("10.0.0.7", "wheeler"), ""),  # an alias and an address: no domain
    (("example.edu", "example.edu"), ""),  # two labels: its parent would be a whole top-level domain
    (("fd00::2", "2130706433"), ""),
])  # fmt: skip
def test_the_ssh_hosts_domain(names: tuple[str, str], domain: str) -> None:
    assert site_domain(*names) == domain


def test_a_name_in_the_ssh_hosts_domain_is_tried_first_without_the_config() -> None:
    """A compute node's full name (Jupyter under --ip=$(hostname -f)) is as local as its short name."""
    printed = ["node042.hpc.example.edu", "127.0.0.1"]
    assert forward_order(printed, domain="hpc.example.edu") == ("node042.hpc.example.edu", "127.0.0.1")
    assert forward_order(printed) == ("127.0.0.1",)
    for other in ("node042.example.edu", "hpc.example.edu", "node042.hpc.example.edu.evil.org", "xhpc.example.edu"):
        assert forward_order([other, "127.0.0.1"], domain="hpc.example.edu") == ("127.0.0.1",)
