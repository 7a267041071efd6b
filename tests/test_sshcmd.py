"""The ssh command-line parser, one line per case (like kitty's ssh tests)."""

from __future__ import annotations

import pytest

from iterm2_autolaunch.sshcmd import SshCommand, option_pairs, parse_argv, parse_command_line


def S(
    dest: str,
    *options: str,
    cmd: tuple[str, ...] = (),
    user: str | None = None,
    port: int | None = None,
    program: str = "ssh",
    host: str | None = None,
    jump_child: bool = False,
) -> SshCommand:
    """The expected parse; ``host`` defaults to what follows the last "@"."""
    return SshCommand(program, dest, host or dest.rpartition("@")[2], options, cmd, user, port, jump_child)


# fmt: off
CASES = [
    # plain destinations
    pytest.param("ssh wheeler", S("wheeler"), id="host"),
    pytest.param("ssh alice@wheeler", S("alice@wheeler", user="alice"), id="user-at-host"),
    pytest.param("/usr/bin/ssh wheeler", S("wheeler"), id="absolute-path"),
    pytest.param("ssh x@y@wheeler", S("x@y@wheeler", user="x@y"), id="last-at-splits"),
    pytest.param("ssh 10.0.0.7", S("10.0.0.7"), id="ipv4"),
    pytest.param("ssh ssh://bob@wheeler:2222", S("ssh://bob@wheeler:2222", host="wheeler", user="bob", port=2222),
                 id="uri"),
    pytest.param("ssh ssh://wheeler/", S("ssh://wheeler/", host="wheeler"), id="uri-trailing-slash"),
    pytest.param("ssh ssh://[::1]:2200", S("ssh://[::1]:2200", host="::1", port=2200), id="uri-ipv6"),
    # options with an argument: separate, attached, reused or dropped
    pytest.param("ssh -p 2222 wheeler", S("wheeler", "-p", "2222", port=2222), id="p-separate"),
    pytest.param("ssh -p2222 wheeler", S("wheeler", "-p", "2222", port=2222), id="p-attached"),
    pytest.param("ssh -l bob wheeler", S("wheeler", "-l", "bob", user="bob"), id="l"),
    pytest.param("ssh -l bob alice@wheeler", S("alice@wheeler", "-l", "bob", user="bob"), id="l-first-wins"),
    pytest.param("ssh alice@wheeler -l bob", S("alice@wheeler", "-l", "bob", user="alice"), id="user-at-first-wins"),
    pytest.param("ssh -F /etc/alt wheeler", S("wheeler", "-F", "/etc/alt"), id="F"),
    pytest.param("ssh -i /k/id -J jump wheeler", S("wheeler", "-i", "/k/id", "-J", "jump"), id="i-J"),
    pytest.param("ssh -Jbastion:2200 wheeler", S("wheeler", "-J", "bastion:2200"), id="J-attached"),
    pytest.param("ssh -M -S /tmp/cm wheeler", S("wheeler", "-S", "/tmp/cm"), id="S-kept-M-dropped"),
    pytest.param("ssh -c aes128-ctr -m hmac-sha2-256 -b 10.0.0.1 -B en0 wheeler",
                 S("wheeler", "-c", "aes128-ctr", "-m", "hmac-sha2-256", "-b", "10.0.0.1", "-B", "en0"),
                 id="c-m-b-B"),
    pytest.param("ssh -I /lib/p11.so -P work wheeler", S("wheeler", "-I", "/lib/p11.so", "-P", "work"), id="I-P"),
    pytest.param("ssh -L 8888:localhost:8888 wheeler", S("wheeler"), id="L-dropped"),
    pytest.param("ssh -L8888:localhost:8888 -N -f wheeler", S("wheeler"), id="L-attached-N-f-dropped"),
    pytest.param("ssh -R 9000:localhost:9000 -D 1080 wheeler", S("wheeler"), id="R-D-dropped"),
    # The child ssh that ProxyJump runs (ssh.c: "ssh ... -W '[%h]:%p' jump"): on node7 through bastion.
    pytest.param("ssh -W node7:22 bastion", S("node7", "-J", "bastion", "-p", "22", port=22, jump_child=True),
                 id="W-through-jump"),
    pytest.param("ssh -E /tmp/log -e none -w 0:0 wheeler", S("wheeler"), id="E-e-w-dropped"),
    # -o in all its spellings
    pytest.param("ssh -oPort=2200 wheeler", S("wheeler", "-o", "Port=2200", port=2200), id="o-attached"),
    pytest.param("ssh -o User=carol wheeler", S("wheeler", "-o", "User=carol", user="carol"), id="o-separate"),
    pytest.param('ssh -o "Port 2201" wheeler', S("wheeler", "-o", "Port 2201", port=2201), id="o-space"),
    pytest.param('ssh -o "port = 2202" wheeler', S("wheeler", "-o", "port = 2202", port=2202), id="o-spaced-eq"),
    pytest.param("ssh -o Port=2222 -p 2200 wheeler", S("wheeler", "-o", "Port=2222", "-p", "2200", port=2222),
                 id="o-port-first-wins"),
    pytest.param("ssh -oProxyCommand='nc %h %p' wheeler", S("wheeler", "-o", "ProxyCommand=nc %h %p"),
                 id="o-proxycommand-kept"),
    pytest.param("ssh -o LocalForward=8888:localhost:8888 -o ServerAliveInterval=30 wheeler",
                 S("wheeler", "-o", "ServerAliveInterval=30"), id="o-forward-dropped"),
    pytest.param("ssh -o RemoteCommand=htop -o ControlMaster=auto wheeler", S("wheeler"), id="o-session-dropped"),
    pytest.param("ssh -o p=1 -o l=x wheeler", S("wheeler", "-o", "p=1", "-o", "l=x"), id="o-letters-are-not-keywords"),
    # flags: bundled, repeated, kept or dropped
    pytest.param("ssh -4A wheeler", S("wheeler", "-4", "-A"), id="bundled-kept"),
    pytest.param("ssh -6 -C -K wheeler", S("wheeler", "-6", "-C", "-K"), id="6-C-K"),
    pytest.param("ssh -tt wheeler", S("wheeler"), id="tt"),
    pytest.param("ssh -vvv -q -T wheeler", S("wheeler"), id="vvv-q-T"),
    pytest.param("ssh -X -Y -x -g -n -s wheeler sftp", S("wheeler", cmd=("sftp",)), id="x11-g-n-s"),
    pytest.param("ssh -Ap2222 wheeler", S("wheeler", "-A", "-p", "2222", port=2222), id="flag-then-arg"),
    pytest.param("ssh -vp 2222 wheeler", S("wheeler", "-p", "2222", port=2222), id="flag-then-arg-separate"),
    # remote command, options after the destination, --
    pytest.param("ssh wheeler jupyter lab --no-browser", S("wheeler", cmd=("jupyter", "lab", "--no-browser")),
                 id="remote-command"),
    pytest.param("ssh wheeler 'jupyter lab --ip=0.0.0.0'", S("wheeler", cmd=("jupyter lab --ip=0.0.0.0",)),
                 id="remote-command-quoted"),
    pytest.param("ssh wheeler -p 2222 jupyter lab", S("wheeler", "-p", "2222", cmd=("jupyter", "lab"), port=2222),
                 id="options-after-host"),
    pytest.param("ssh wheeler jupyter lab -p 1", S("wheeler", cmd=("jupyter", "lab", "-p", "1")),
                 id="options-of-remote-command"),
    pytest.param("ssh wheeler -- ls -p 3", S("wheeler", cmd=("ls", "-p", "3")), id="dashdash-after-host"),
    pytest.param("ssh -- wheeler -p 2222", S("wheeler", cmd=("-p", "2222")), id="dashdash-before-host"),
    # autossh
    pytest.param("autossh -M 0 -f -N wheeler", S("wheeler", program="autossh"), id="autossh"),
    pytest.param("autossh -M20000 -p 2222 alice@wheeler",
                 S("alice@wheeler", "-p", "2222", user="alice", port=2222, program="autossh"),
                 id="autossh-M-attached"),
    # mosh: the ssh part
    pytest.param("mosh wheeler", S("wheeler", program="mosh"), id="mosh"),
    pytest.param('mosh --ssh="ssh -p 2222" alice@wheeler',
                 S("alice@wheeler", "-p", "2222", user="alice", port=2222, program="mosh"), id="mosh-ssh-eq"),
    pytest.param("mosh --ssh 'ssh -i /k' -p 60001 wheeler -- tmux attach",
                 S("wheeler", "-i", "/k", cmd=("tmux", "attach"), program="mosh"), id="mosh-udp-port-command"),
    pytest.param("mosh --port=60001 --predict=always -- wheeler", S("wheeler", program="mosh"), id="mosh-dashdash"),
    # wrappers
    pytest.param("sshpass -p hunter2 ssh -p 2222 wheeler", S("wheeler", "-p", "2222", port=2222), id="sshpass-p"),
    pytest.param("sshpass -f /pw ssh alice@wheeler", S("alice@wheeler", user="alice"), id="sshpass-f"),
    pytest.param("et alice@wheeler:8080", S("alice@wheeler", user="alice", program="et"), id="et-port-is-et"),
    pytest.param("et -u bob --ssh-option Port=2222 wheeler -c 'jupyter lab'",
                 S("wheeler", "-l", "bob", "-o", "Port=2222", cmd=("jupyter lab",), user="bob", port=2222,
                   program="et"), id="et-options"),
    # not an ssh session
    pytest.param("vim notes.txt", None, id="vim"),
    pytest.param("bash", None, id="bash"),
    pytest.param("-zsh", None, id="login-shell"),
    pytest.param("python -m http.server 8000", None, id="python"),
    pytest.param("", None, id="empty"),
    pytest.param("sshd -D", None, id="sshd"),
    pytest.param("ssh", None, id="no-destination"),
    pytest.param("ssh -p 2222", None, id="only-options"),
    pytest.param("ssh -V", None, id="V"),
    pytest.param("ssh -G wheeler", None, id="G"),
    pytest.param("ssh -O check wheeler", None, id="O"),
    pytest.param("ssh -Q cipher", None, id="Q"),
    pytest.param("autossh -V", None, id="autossh-V"),
    pytest.param("mosh --version", None, id="mosh-version"),
    pytest.param("sshpass -p x vim", None, id="sshpass-not-ssh"),
    # malformed or hostile: ssh would refuse them too
    pytest.param("ssh -p", None, id="missing-argument"),
    pytest.param("ssh -p abc wheeler", None, id="bad-port"),
    pytest.param("ssh -p 0 wheeler", None, id="port-0"),
    pytest.param("ssh -p 65536 wheeler", None, id="port-65536"),
    pytest.param("ssh -o Port wheeler", None, id="o-without-value"),
    pytest.param("ssh -Z wheeler", None, id="unknown-option"),
    pytest.param('ssh "wheeler', None, id="unbalanced-quote"),
    pytest.param('ssh "$(rm -rf ~)"', None, id="command-substitution"),
    pytest.param("ssh '`id`@wheeler'", None, id="backticks-in-user"),
    pytest.param("ssh 'a;b@wheeler'", None, id="semicolon-in-user"),
    pytest.param("ssh 'wheeler host'", None, id="space-in-host"),
    pytest.param("ssh -- -oProxyCommand=x", None, id="host-starting-with-dash"),
    pytest.param("ssh -l '$(id)' wheeler", None, id="dollar-in-l"),
    pytest.param("ssh @wheeler", None, id="empty-user"),
    pytest.param("ssh alice@", None, id="empty-host"),
    pytest.param("ssh ssh://wheeler:99999", None, id="uri-bad-port"),
]
# fmt: on


@pytest.mark.parametrize(("command_line", "expected"), CASES)
def test_parse_command_line(command_line: str, expected: SshCommand | None) -> None:
    assert parse_command_line(command_line) == expected


def test_password_is_not_kept() -> None:
    parsed = parse_command_line("sshpass -p hunter2 ssh wheeler")
    assert parsed is not None and "hunter2" not in repr(parsed)


def test_argv_form_matches_command_line_form() -> None:
    assert parse_argv(["ssh", "-p", "2222", "alice@wheeler"]) == parse_command_line("ssh -p 2222 alice@wheeler")


@pytest.mark.parametrize(
    ("options", "pairs"),
    [
        pytest.param((), [], id="none"),
        pytest.param(("-p", "2222", "-A"), [("-p", "2222"), ("-A", None)], id="value-and-flag"),
        pytest.param(("-4", "-i", "-o"), [("-4", None), ("-i", "-o")], id="value-looks-like-option"),
    ],
)
def test_option_pairs(options: tuple[str, ...], pairs: list[tuple[str, str | None]]) -> None:
    assert option_pairs(options) == pairs
