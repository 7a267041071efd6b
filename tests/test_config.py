"""The config file: defaults without one, clear messages for every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from iterm2_autolaunch.config import Config, config_path, load_config
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
    pytest.param('browser = "open -a Firefox"', "browser: must be a list of strings (argv", id="browser-str"),
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
