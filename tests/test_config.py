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
    assert config.action_for("jupyter") == "open" and config.action_for("streamlit") == "open"
    assert config.action_for("uvicorn") == "notify"  # generic dev servers only tell
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
    pytest.param('browser = "open -a Firefox"', "browser: 'open -a Firefox' is not allowed; use one of: system, "
                 'iterm2-split, iterm2-tab, or a command as a list of strings', id="browser-str"),
    pytest.param("browser = [1]", "browser: must be a list of non-empty strings", id="browser-list-of-int"),
    pytest.param('[browsers]\njupyter = "iterm2-window"', "line 2: browsers.jupyter: 'iterm2-window' is not allowed",
                 id="bad-browser-per-kind"),
    pytest.param('[[hosts]]\nmatch = "x"\nbrowser = ["open"]', "hosts[0].browser: ['open'] is not allowed; use one "
                 "of: system, iterm2-split, iterm2-tab", id="host-browser-is-a-place"),
    pytest.param('close_browser_pane = "yes"', "close_browser_pane: must be true or false", id="close-pane-bool"),
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
        "  line 2: colour: unknown key; allowed: actions, backend, browser, browsers, close_browser_pane, "
        "forward_public_hosts, hosts, kinds, limits, marker_identity, markers, port_range, reattach",
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


def test_browser_choice_per_kind_and_per_host(tmp_path: Path) -> None:
    """`browser` is a command (a list, as before) or where pages open; `[browsers]` and `[[hosts]]` refine it."""
    config = load_config(write(tmp_path, """
browser = "iterm2-split"
close_browser_pane = true
[browsers]
tensorboard = "system"
[[hosts]]
match = "*.hpc.edu"
browser = "iterm2-tab"
browsers = { marimo = "system" }
"""))
    assert config.browser == () and config.close_browser_pane
    assert config.browser_for("jupyter", "laptop") == "iterm2-split"
    assert config.browser_for("tensorboard", "laptop") == "system"
    assert config.browser_for("jupyter", "login1.hpc.edu") == "iterm2-tab"
    assert config.browser_for("tensorboard", "login1.hpc.edu") == "iterm2-tab"  # the host rule beats the kind
    assert config.browser_for("marimo", "login1.hpc.edu") == "system"
    assert Config().browser_for("jupyter") == "system"  # the default stays the system browser
    command = load_config(write(tmp_path, 'browser = ["open", "-a", "Firefox"]\n[browsers]\njupyter = "iterm2-tab"'))
    assert command.browser == ("open", "-a", "Firefox") and command.browser_for("jupyter") == "iterm2-tab"
    assert command.browser_for("dash") == "system"


def test_limits_are_read() -> None:
    config = parse_config({"limits": {"forwards_total": 4, "opens_per_minute": 2}}, "f")
    assert (config.limits.forwards_total, config.limits.opens_per_minute, config.limits.logins_per_host) == (4, 2, 2)


def test_effective_config_with_browser_choices_loads_back_the_same(tmp_path: Path) -> None:
    from iterm2_autolaunch.config_file import render_config

    path = write(tmp_path, 'browser = "iterm2-tab"\nclose_browser_pane = true\n[browsers]\ndash = "system"\n'
                           '[[hosts]]\nmatch = "a*"\nbrowser = "iterm2-split"\nbrowsers = { jupyter = "system" }\n')
    config = load_config(path)
    again = load_config(write(tmp_path, render_config(config, path, path)))
    assert (again.open_in, again.browsers, again.close_browser_pane, again.hosts) == (
        config.open_in, config.browsers, config.close_browser_pane, config.hosts)


@pytest.mark.parametrize(("kind", "default"), [
    ("vite", "notify"), ("webpack", "notify"),  # generic dev servers: they serve whatever app, so only tell
    ("ray", "open"), ("code_server", "open"),  # a dashboard and an IDE in the browser, like a notebook
])  # fmt: skip
def test_new_kinds_have_their_default_action_and_the_file_changes_it(tmp_path: Path, kind: str, default: str) -> None:
    assert Config().action_for(kind) == default
    other = "open" if default == "notify" else "notify"
    config = load_config(write(tmp_path, f'kinds = ["{kind}"]\n[actions]\n{kind} = "{other}"\n'
                                         f'[[hosts]]\nmatch = "gpu*"\nactions = {{ {kind} = "silent" }}\n'))
    assert config.action_for(kind) == other and config.action_for(kind, "gpu7") == "silent"
    assert config.action_for("jupyter") == "ignore"  # `kinds` names only this one
