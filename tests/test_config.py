"""The config file: defaults without one, clear messages for every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.config_file import config_path, load_config
from iterm2_autolaunch.config_parse import parse_config
from iterm2_autolaunch.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml")
    assert config == Config()
    assert config.action_for("jupyter") == "open" and config.action_for("streamlit") == "notify"
    assert config.backend_for("anyhost") == "auto"


def test_xdg_config_home_is_honoured() -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == Path("/x/iterm2-autolaunch/config.toml")
    assert config_path({"HOME": "/h"}) == Path("/h/.config/iterm2-autolaunch/config.toml")


def test_full_file(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
backend = "sshtunnel"
browser = ["open", "-a", "Firefox"]
port_range = [50000, 50100]
kinds = ["jupyter", "tensorboard"]
markers = ["SOMEMARKER"]
reattach = "open"
[actions]
tensorboard = "silent"
[[hosts]]
match = "*.hpc.edu"
backend = "openssh"
actions = { jupyter = "notify" }
""",
        )
    )
    assert config.browser == ("open", "-a", "Firefox") and config.port_range == (50000, 50100)
    assert config.backend_for("login1.hpc.edu") == "openssh" and config.backend_for("laptop") == "sshtunnel"
    assert config.action_for("jupyter", "login1.hpc.edu") == "notify"
    assert config.action_for("jupyter", "other") == "open"
    assert config.action_for("tensorboard") == "silent"
    assert config.action_for("streamlit") == "ignore"  # not in `kinds`
    assert config.markers == ("SOMEMARKER",) and config.reattach == "open"


BAD = [
    pytest.param('colour = "red"', "colour: unknown key; allowed:", id="unknown-key"),
    pytest.param('backend = "putty"', "backend: 'putty' is not allowed; use one of: auto, sshtunnel, openssh",
                 id="bad-backend"),
    pytest.param('browser = "open -a Firefox"', "browser: must be a list of non-empty strings", id="browser-str"),
    pytest.param("port_range = [80, 90]", "port_range: must be two port numbers", id="low-ports"),
    pytest.param("port_range = [60000, 50000]", "port_range: must be two port numbers", id="reversed-range"),
    pytest.param('kinds = ["jupyter", "rstudio"]', "kinds: 'rstudio' is not allowed", id="unknown-kind"),
    pytest.param('[actions]\njupyter = "launch"', "actions.jupyter: 'launch' is not allowed", id="bad-action"),
    pytest.param('markers = ["a b"]', "markers: must be a list of marker words", id="marker-with-space"),
    pytest.param('[[hosts]]\nbackend = "openssh"', "hosts[0].match: must be a glob string", id="host-without-match"),
    pytest.param('[[hosts]]\nmatch = "x"\nport = 22', "hosts[0].port: unknown key", id="host-unknown-key"),
    pytest.param('kinds = ["jupyter"]\nbackend = = 2', "line 2", id="toml-syntax-error-names-line"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_config_names_file_key_and_what_is_allowed(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once_with_its_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'backend = "auto"\n'
        'colour = "red"\n'
        "port_range = [80, 90]\n"
        "\n"
        "[actions]\n"
        'jupyter = "launch"\n'
        "\n"
        "[[hosts]]\n"
        'match = "a"\n'
        "\n"
        "[[hosts]]\n"
        'match = "b"\n'
        "trust_variables = 1\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}: 4 problems:",
        "  line 2: colour: unknown key; allowed: actions, backend, browser, hosts, kinds, limits, marker_identity, "
        "markers, port_range, reattach",
        "  line 3: port_range: must be two port numbers [low, high] with 1024 <= low <= high <= 65535, not [80, 90]",
        "  line 6: actions.jupyter: 'launch' is not allowed; use one of: open, notify, silent, ignore",
        "  line 13: hosts[1].trust_variables: must be true or false, not 1",
    ]


HOSTILE = [
    pytest.param(b'browser = ["open", "-a\\u0000x"]\n', "browser: must be a list of non-empty strings without NUL",
                 id="nul-in-argv"),
    pytest.param(b'browser = ["open", ""]\n', "browser: must be a list of non-empty strings", id="empty-argv-item"),
    pytest.param(b'[[hosts]]\nmatch = "a\\u0000"\n', "hosts[0].match: must be a glob string", id="nul-in-glob"),
    pytest.param(b'backend = "\xff\xfe"\n', "not UTF-8 text", id="not-utf8"),
    pytest.param(b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply", id="deep-nesting"),
    pytest.param(b"[limits]\nforwards_total = 0\n", "limits.forwards_total: must be a whole number from 1",
                 id="limit-0"),
    pytest.param(b"[limits]\nopens_per_minute = true\n", "limits.opens_per_minute: must be a whole number",
                 id="limit-bool"),
    pytest.param(b"[limits]\nlogins = 3\n", "limits.logins: unknown key", id="limit-unknown"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_config_gives_a_message_not_a_crash(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_limits_are_read() -> None:
    config = parse_config({"limits": {"forwards_total": 4, "opens_per_minute": 2}}, "f")
    assert (config.limits.forwards_total, config.limits.opens_per_minute, config.limits.logins_per_host) == (4, 2, 2)
