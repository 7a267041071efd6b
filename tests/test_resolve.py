"""Target resolution against the real ``ssh -G`` and the paramiko fallback, on config files we write.

ssh takes ``~`` from the passwd entry, not $HOME, so ssh -G cases use ``-F <file>``; the fallback's
reading of ``~/.ssh/config`` is tested with HOME pointed at a short temp dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.config import Config, HostRule
from iterm2_autolaunch.errors import ResolveError
from iterm2_autolaunch.resolve import resolve_context, resolve_main, resolve_target
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.sshcmd import parse_command_line
from iterm2_autolaunch.target import SshTarget, remote_forward_host, target_to_json
from tests.conftest import require

HOME = pwd.getpwuid(os.getuid()).pw_dir
LOCAL_USER = pwd.getpwuid(os.getuid()).pw_name
NO_SSH = "/nonexistent/ssh"  # makes resolve_target fall back to paramiko
BACKENDS = [pytest.param("ssh", id="ssh-G"), pytest.param(NO_SSH, id="paramiko")]
DEFAULT_KEYS = tuple(
    f"{HOME}/.ssh/{name}"
    for name in ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa")
)


def conn_hash(hostname: str, port: int, user: str) -> str:
    """OpenSSH 9.2's %C: sha1 of %l%h%p%r."""
    return hashlib.sha1(f"{socket.gethostname()}{hostname}{port}{user}".encode()).hexdigest()


@pytest.fixture
def tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="al", dir="/tmp"))  # short: ControlPath sockets need short paths
    yield path
    shutil.rmtree(path)


@pytest.fixture(params=BACKENDS)
def ssh(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "ssh":
        require(shutil.which("ssh") is not None, "needs the OpenSSH client (ssh -G)")
    monkeypatch.setenv("HOME", HOME)  # the fallback expands ~ from $HOME, ssh from passwd: make them agree
    return str(request.param)


def resolve(tmp: Path, config: str, args: str, ssh: str) -> SshTarget:
    """Write ``config`` to a file and resolve ``ssh -F <file> <args>``."""
    (tmp / "cfg").write_text(config.replace("; ", "\n"))
    cmd = parse_command_line(f"ssh -F {tmp}/cfg " + args.format(tmp=tmp))
    assert cmd is not None
    return resolve_target(cmd, ssh=ssh)


WHEELER = "Host wheeler; HostName wheeler.example.org; User alice; Port 2222"
# fmt: off
DEFAULTS: dict[str, Any] = dict(
    port=22, user=LOCAL_USER, identity_files=DEFAULT_KEYS, identities_only=False,
    known_hosts_files=(f"{HOME}/.ssh/known_hosts", f"{HOME}/.ssh/known_hosts2"), strict_host_key_checking="ask",
    proxy_jump=None, control_path=None, connect_timeout=None, server_alive_interval=0, local=False,
)
# fmt: on

# (config with "; " for newlines, arguments after "ssh -F <file>", expected SshTarget fields)
# fmt: off
CASES = [
    pytest.param("", "w", dict(DEFAULTS, hostname="w", destination="w"), id="defaults"),
    pytest.param(WHEELER, "wheeler", dict(hostname="wheeler.example.org", user="alice", port=2222), id="alias"),
    pytest.param(WHEELER, "-p 2200 -l bob wheeler", dict(user="bob", port=2200), id="command-line-wins"),
    pytest.param(WHEELER, "bob@wheeler", dict(user="bob", destination="bob@wheeler"), id="user-at-wins"),
    pytest.param(WHEELER, "-o Port=2400 wheeler", dict(port=2400), id="o-port"),
    pytest.param(WHEELER, "ssh://carol@wheeler:2300", dict(hostname="wheeler.example.org", user="carol", port=2300),
                 id="uri"),
    pytest.param("Host *.cluster; User ops; ProxyJump login.cluster", "node7.cluster",
                 dict(hostname="node7.cluster", user="ops", proxy_jump="login.cluster"), id="pattern"),
    pytest.param("Host w; IdentityFile ~/.ssh/id_w; IdentitiesOnly yes", "w",
                 dict(identity_files=(f"{HOME}/.ssh/id_w",), identities_only=True), id="identity"),
    pytest.param("Host w; HostName real; User u; IdentityFile ~/.ssh/%r@%h-%p", "w",
                 dict(identity_files=(f"{HOME}/.ssh/u@real-22",)), id="identity-tokens"),
    pytest.param("Host w; IdentityFile %d/keys/100%%", "w", dict(identity_files=(f"{HOME}/keys/100%",)),
                 id="identity-d-percent"),
    pytest.param("", "-i {tmp}/cfg w", dict(identity_files=("{tmp}/cfg",)), id="i-existing"),
    pytest.param("", "-i {tmp}/missing w", dict(identity_files=DEFAULT_KEYS), id="i-missing-ignored"),
    pytest.param("Host w; UserKnownHostsFile ~/kh1 /etc/kh2", "w",
                 dict(known_hosts_files=(f"{HOME}/kh1", "/etc/kh2")), id="known-hosts"),
    pytest.param("Host w; UserKnownHostsFile none", "w", dict(known_hosts_files=()), id="known-hosts-none"),
    pytest.param("Host w; StrictHostKeyChecking yes", "w", dict(strict_host_key_checking="yes"), id="strict-yes"),
    pytest.param("Host w; StrictHostKeyChecking no", "w", dict(strict_host_key_checking="no"), id="strict-no"),
    pytest.param("Host w; StrictHostKeyChecking off", "w", dict(strict_host_key_checking="no"), id="strict-off"),
    pytest.param("Host w; StrictHostKeyChecking accept-new", "w", dict(strict_host_key_checking="accept-new"),
                 id="strict-accept-new"),
    pytest.param("", "-o StrictHostKeyChecking=yes w", dict(strict_host_key_checking="yes"), id="strict-o"),
    pytest.param("Host w; ProxyJump none", "w", dict(proxy_jump=None), id="jump-none"),
    pytest.param("", "-J j1,u@j2:2200 w", dict(proxy_jump="j1,u@j2:2200"), id="jump-J"),
    pytest.param("Host w; HostName real; User u; Port 2; ControlPath ~/.ssh/cm-%r@%h:%p", "w",
                 dict(control_path=f"{HOME}/.ssh/cm-u@real:2"), id="controlpath"),
    pytest.param("Host w; HostName real; User u; ControlPath /tmp/%C", "w",
                 dict(control_path="/tmp/" + conn_hash("real", 22, "u")), id="controlpath-C"),
    pytest.param("Host w; ControlPath /tmp/%L-%l-%n-%i-%u-%%", "w",
                 dict(control_path=f"/tmp/{socket.gethostname().split('.')[0]}-{socket.gethostname()}-w-"
                                   f"{os.getuid()}-{LOCAL_USER}-%"), id="controlpath-tokens"),
    pytest.param("Host w; ControlPath none", "w", dict(control_path=None), id="controlpath-none"),
    pytest.param("", "-S /tmp/cm-%h w", dict(control_path="/tmp/cm-w"), id="controlpath-S"),
    pytest.param("Host w; ConnectTimeout 7; ServerAliveInterval 30", "w",
                 dict(connect_timeout=7.0, server_alive_interval=30.0), id="timeouts"),
    pytest.param("", "-4 -A -o ServerAliveInterval=5 w", dict(ssh_args=("-F", "{tmp}/cfg", "-4", "-A", "-o",
                 "ServerAliveInterval=5"), server_alive_interval=5.0), id="ssh-args"),
]
# fmt: on


@pytest.mark.parametrize(("config", "args", "expected"), CASES)
def test_resolve_target(tmp: Path, ssh: str, config: str, args: str, expected: dict[str, Any]) -> None:
    target = resolve(tmp, config, args, ssh)
    fmt = {k: tuple(x.format(tmp=tmp) for x in v) if isinstance(v, tuple) else v for k, v in expected.items()}
    assert {key: getattr(target, key) for key in fmt} == fmt


def test_proxycommand_is_not_run(tmp: Path, ssh: str) -> None:
    """Resolving only reads config: neither a configured nor a command-line ProxyCommand runs."""
    config = f"Host w; ProxyCommand touch {tmp}/from-config"
    target = resolve(tmp, config, "-o 'ProxyCommand=touch {tmp}/from-command-line' w", ssh)
    assert target.hostname == "w"
    assert sorted(p.name for p in tmp.iterdir()) == ["cfg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param("-F {tmp}/missing w", "Can't open user config file", id="missing-F"),
        pytest.param("-F {tmp}/cfg -o StrictHostKeyChecking=perhaps w", "perhaps", id="bad-strict"),
    ],
)
def test_resolve_errors(tmp: Path, ssh: str, args: str, message: str) -> None:
    with pytest.raises(ResolveError, match=message):
        resolve(tmp, "", args, ssh)


def test_ssh_g_error_is_first_stderr_line(tmp: Path) -> None:
    require(shutil.which("ssh") is not None, "needs the OpenSSH client (ssh -G)")
    with pytest.raises(ResolveError, match=r"^ssh -G w: .*Bad configuration option: nosuchoption$"):
        resolve(tmp, "", "-o NoSuchOption=1 w", "ssh")


def test_ssh_g_timeout(tmp: Path) -> None:
    slow = tmp / "slow-ssh"
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(0o755)
    cmd = parse_command_line("ssh w")
    assert cmd is not None
    with pytest.raises(ResolveError, match="no answer within 0.2s"):
        resolve_target(cmd, ssh=str(slow), timeout=0.2)


def test_ssh_not_executable(tmp: Path) -> None:
    (tmp / "ssh").write_text("not a program")
    cmd = parse_command_line("ssh w")
    assert cmd is not None
    with pytest.raises(ResolveError, match="cannot run"):
        resolve_target(cmd, ssh=str(tmp / "ssh"))


def test_fallback_reads_home_config(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp))
    (tmp / ".ssh").mkdir()
    (tmp / ".ssh" / "config").write_text("Host wheeler\n  HostName wheeler.example.org\n  IdentityFile ~/k\n")
    cmd = parse_command_line("ssh -p 2222 alice@wheeler")
    assert cmd is not None
    target = resolve_target(cmd, ssh=NO_SSH)
    assert (target.hostname, target.port, target.user) == ("wheeler.example.org", 2222, "alice")
    assert target.identity_files == (f"{tmp}/k",)
    assert target.known_hosts_files == (f"{tmp}/.ssh/known_hosts", f"{tmp}/.ssh/known_hosts2")


def test_fallback_F_none_ignores_home_config(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp))
    (tmp / ".ssh").mkdir()
    (tmp / ".ssh" / "config").write_text("Host wheeler\n  HostName elsewhere\n")
    cmd = parse_command_line("ssh -F none wheeler")
    assert cmd is not None
    assert resolve_target(cmd, ssh=NO_SSH).hostname == "wheeler"


# --- resolve_context: where a session's server is -------------------------------------------------

LOCAL_NAMES = {"mymac.local", "localhost"}


def ctx(**fields: Any) -> SessionContext:
    return SessionContext(session_id="s1", **fields)


LOCAL = SshTarget(destination="", hostname="localhost", local=True)
# The hosts the user listed as nameable by session variables (config [[hosts]] trust_variables = true).
TRUSTED = Config(
    hosts=(HostRule(match="*.invalid", trust_variables=True), HostRule(match="node7.cluster", trust_variables=True))
).trusts_variables

# fmt: off
CONTEXT_CASES = [
    pytest.param(ctx(), LOCAL, id="nothing-known"),
    pytest.param(ctx(job_name="vim", command_line="vim x", hostname="mymac.local"), LOCAL, id="local-job"),
    pytest.param(ctx(job_name="python3", command_line="python3 -m jupyter lab", hostname="MyMac"), LOCAL,
                 id="short-local-name"),
    pytest.param(ctx(hostname="localhost", username="me"), LOCAL, id="localhost"),
    pytest.param(ctx(hostname="node7.cluster", username="alice"),
                 dict(destination="alice@node7.cluster", hostname="node7.cluster", user="alice"),
                 id="shell-integration-remote"),
    pytest.param(ctx(hostname="node7.cluster"), dict(destination="node7.cluster", user=LOCAL_USER),
                 id="shell-integration-no-user"),
    pytest.param(ctx(command_line="vim", user_vars={"sshHost": "wheeler.invalid"}),
                 dict(destination="wheeler.invalid", hostname="wheeler.invalid", port=22), id="user-var-host"),
    pytest.param(ctx(hostname="mymac.local", user_vars={"sshHost": "w.invalid", "sshUser": "al", "sshPort": "2"}),
                 dict(destination="w.invalid", user="al", port=2), id="user-vars-all"),
    pytest.param(ctx(hostname="node7.cluster", user_vars={"sshHost": "w.invalid"}), dict(hostname="w.invalid"),
                 id="user-var-beats-hostname"),
    pytest.param(ctx(job_name="ssh", command_line="ssh -p 2222 alice@wheeler.invalid", hostname="mymac.local"),
                 dict(destination="alice@wheeler.invalid", port=2222, user="alice", ssh_args=("-p", "2222")),
                 id="ssh-job"),
    pytest.param(ctx(command_line="ssh -V"), "cannot tell where", id="ssh-mode-job"),
    pytest.param(ctx(job_name="ssh"), "cannot tell where", id="ssh-job-without-command-line"),
    pytest.param(ctx(user_vars={"sshHost": "a;b"}), "not a destination", id="bad-user-var"),
    pytest.param(ctx(user_vars={"sshHost": "w", "sshPort": "x"}), "not a destination", id="bad-user-var-port"),
    pytest.param(ctx(hostname="$(id)"), "not a valid destination", id="bad-shell-integration-host"),
]
# fmt: on


@pytest.mark.parametrize(("context", "expected"), CONTEXT_CASES)
def test_resolve_context(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, context: SessionContext, expected: SshTarget | dict[str, Any] | str
) -> None:
    # The paramiko fallback with an empty temp HOME: no user's ~/.ssh/config changes the answer.
    monkeypatch.setenv("HOME", str(tmp))
    if isinstance(expected, str):
        with pytest.raises(ResolveError, match=expected):
            resolve_context(context, local_hostnames=LOCAL_NAMES, ssh=NO_SSH, trusted=TRUSTED)
        return
    target = resolve_context(context, local_hostnames=LOCAL_NAMES, ssh=NO_SSH, trusted=TRUSTED)
    if isinstance(expected, SshTarget):
        assert target == expected
    else:
        assert {key: getattr(target, key) for key in expected} == expected


# A local tab that `cat`s a hostile file: OSC 1337 SetUserVar / RemoteHost set these variables (iTerm2's
# VT100Terminal.m executeXtermSetKvp:), so a host they name alone is never connected to.
UNTRUSTED_CASES = [
    pytest.param(ctx(job_name="zsh", command_line="-zsh", user_vars={"sshHost": "evil.example.com"}),
                 id="printed-user-var"),
    pytest.param(ctx(job_name="zsh", hostname="evil.example.com", username="root"), id="printed-remote-host"),
    pytest.param(ctx(user_vars={"sshHost": "169.254.169.254", "sshPort": "80"}), id="printed-metadata-address"),
    pytest.param(ctx(user_vars={"sshHost": "wheeler.invalid.evil.com"}), id="glob-does-not-extend"),
]


@pytest.mark.parametrize("context", UNTRUSTED_CASES)
def test_a_host_named_only_by_printable_variables_is_refused(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, context: SessionContext
) -> None:
    monkeypatch.setenv("HOME", str(tmp))
    for trusted in (Config().trusts_variables, TRUSTED):
        with pytest.raises(ResolveError, match="printed text can set that variable"):
            resolve_context(context, local_hostnames=LOCAL_NAMES, ssh=NO_SSH, trusted=trusted)


def test_printed_variables_only_pick_among_listed_hosts(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp))
    listed = Config(hosts=(HostRule(match="wheeler", trust_variables=True),)).trusts_variables
    context = ctx(user_vars={"sshHost": "wheeler"})
    assert resolve_context(context, local_hostnames=LOCAL_NAMES, ssh=NO_SSH, trusted=listed).hostname == "wheeler"
    for host in ("wheeler2", "evil"):
        with pytest.raises(ResolveError, match="trust_variables"):
            resolve_context(ctx(user_vars={"sshHost": host}), local_hostnames=LOCAL_NAMES, ssh=NO_SSH, trusted=listed)


def test_resolve_context_with_real_ssh() -> None:
    require(shutil.which("ssh") is not None, "needs the OpenSSH client (ssh -G)")
    context = ctx(job_name="ssh", command_line="ssh -F none -p 2222 alice@wheeler.invalid jupyter lab")
    target = resolve_context(context, local_hostnames=LOCAL_NAMES)
    assert (target.hostname, target.port, target.user) == ("wheeler.invalid", 2222, "alice")


def test_this_machine_is_local_by_default() -> None:
    assert resolve_context(ctx(hostname=socket.gethostname())).local


# --- where the forward points on the remote side ---------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        pytest.param("localhost", "127.0.0.1", id="localhost"),
        pytest.param("LOCALHOST", "127.0.0.1", id="localhost-upper"),
        pytest.param("127.0.0.1", "127.0.0.1", id="v4-loopback"),
        pytest.param("127.0.1.1", "127.0.1.1", id="other-v4-loopback-kept"),
        pytest.param("0.0.0.0", "127.0.0.1", id="v4-any"),
        pytest.param("::", "127.0.0.1", id="v6-any"),
        pytest.param("[::]", "127.0.0.1", id="v6-any-brackets"),
        pytest.param("::1", "::1", id="v6-loopback"),
        pytest.param("[::1]", "::1", id="v6-loopback-brackets"),
        pytest.param("ip6-localhost", "::1", id="ip6-localhost"),
        pytest.param("node7", "node7", id="short-name"),
        pytest.param("node7.cluster.example.org", "node7.cluster.example.org", id="fqdn"),
        pytest.param("gpu-01.hpc", "gpu-01.hpc", id="hyphen"),
        pytest.param("10.1.2.3", "10.1.2.3", id="v4"),
        pytest.param("[fd00::7]", "fd00::7", id="v6"),
    ],
)
def test_remote_forward_host(printed: str, expected: str) -> None:
    assert remote_forward_host(printed) == expected


@pytest.mark.parametrize(
    "printed",
    [
        pytest.param("", id="empty"),
        pytest.param("evil.com/x", id="slash"),
        pytest.param("a b", id="space"),
        pytest.param("$(id)", id="shell"),
        pytest.param("-oProxyCommand=x", id="leading-dash"),
        pytest.param("node_7", id="underscore"),
        pytest.param("x" * 64 + ".org", id="label-too-long"),
        pytest.param("256.1.1.1.", id="not-an-address"),
    ],
)
def test_remote_forward_host_rejects(printed: str) -> None:
    with pytest.raises(ResolveError, match="not a host name or address"):
        remote_forward_host(printed)


# --- the JSON interface of `iterm2-autolaunch resolve --json` ---------------------------------------


def test_target_to_json_shape() -> None:
    target = SshTarget(destination="w", hostname="h", port=2, user="u", identity_files=("/k",), proxy_jump="j")
    data = target_to_json(target)
    assert data == dict(
        destination="w", hostname="h", port=2, user="u", proxy_jump="j", identity_files=["/k"], local=False
    )
    assert json.loads(json.dumps(data)) == data
    assert target_to_json(LOCAL)["proxy_jump"] is None and target_to_json(LOCAL)["local"] is True


def test_resolve_main_json(tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require(shutil.which("ssh") is not None, "needs the OpenSSH client (ssh -G)")
    (tmp / "cfg").write_text(WHEELER.replace("; ", "\n"))
    assert resolve_main(["--json", "--command-line", f"ssh -F {tmp}/cfg wheeler jupyter lab"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["destination"], data["hostname"], data["port"], data["user"]) == (
        "wheeler",
        "wheeler.example.org",
        2222,
        "alice",
    )
    assert set(data) == {"destination", "hostname", "port", "user", "proxy_jump", "identity_files", "local"}


def test_resolve_main_local_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert resolve_main(["--command-line", "python -m http.server"]) == 0
    assert "local: True" in capsys.readouterr().out


def test_resolve_main_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert resolve_main(["--json", "--command-line", "ssh -F /nonexistent/cfg w", "--ssh", NO_SSH]) == 1
    assert "iterm2-autolaunch resolve: Can't open user config file" in capsys.readouterr().err
