"""Where iTerm2 looks for scripts, and so where ``install`` puts ours.

iTerm2's Scripts folder is ``~/Library/Application Support/iTerm2/Scripts`` unless the "custom scripts
folder" preference moves it (gnachman/iTerm2 NSFileManager+iTerm.m ``customScriptsFolder`` /
``scriptsPathWithoutSpaces``, identical in v3.5.0, v3.6.11, v3.7.0beta11 and HEAD): it is used only when
the boolean ``UseCustomScriptsFolder`` is on and the string ``CustomScriptsFolder`` (iTermPreferences.m
``kPreferenceKeyUseCustomScriptsFolder`` / ``kPreferenceKeyCustomScriptsFolder``), tilde-expanded, contains
no space and is an existing folder (``customScriptsFolderIsValid:``). Otherwise iTerm2 silently falls back
to the default folder, and so do we. AutoLaunch scripts live in ``<Scripts>/AutoLaunch``
(``autolaunchScriptPath``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NAME = "iterm2_autolaunch"  # container, inner folder and entry script share it (environmentForScript)
DISTRIBUTION = "iterm2-autolaunch"
PREFERENCES_DOMAIN = "com.googlecode.iterm2"
USE_CUSTOM_KEY = "UseCustomScriptsFolder"
CUSTOM_FOLDER_KEY = "CustomScriptsFolder"

# Reads one key of iTerm2's preferences; None when it is unset or cannot be read.
PreferenceReader = Callable[[str], "str | None"]


def home_dir() -> Path:
    return Path(os.environ.get("HOME") or os.path.expanduser("~"))


def read_iterm2_preference(key: str) -> str | None:
    """``defaults read com.googlecode.iterm2 KEY`` on macOS; None elsewhere or when the key is unset."""
    defaults = shutil.which("defaults")
    if sys.platform != "darwin" or defaults is None:
        return None
    try:
        result = subprocess.run(
            [defaults, "read", PREFERENCES_DOMAIN, key], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def custom_scripts_folder(use_custom: str | None, folder: str | None, home: Path) -> Path | None:
    """iTerm2's ``customScriptsFolder``: the custom folder when it is switched on and valid, else None.

    ``defaults read`` prints a boolean as 1 or 0. ``stringByExpandingTildeInPath`` expands ``~`` (we expand
    it against ``home``, the HOME this command runs with).
    """
    if (use_custom or "").strip().lower() not in ("1", "true", "yes"):
        return None
    if not folder:
        return None
    expanded = str(home) + folder[1:] if folder == "~" or folder.startswith("~/") else folder
    if " " in expanded or not os.path.isdir(expanded):
        return None
    return Path(expanded)


def scripts_dir(home: Path, read: PreferenceReader = read_iterm2_preference) -> Path:
    custom = custom_scripts_folder(read(USE_CUSTOM_KEY), read(CUSTOM_FOLDER_KEY), home)
    return custom or home / "Library" / "Application Support" / "iTerm2" / "Scripts"


@dataclass(frozen=True)
class Locations:
    """Every path install touches, from HOME and iTerm2's Scripts folder."""

    home: Path
    scripts: Path

    @property
    def autolaunch(self) -> Path:
        return self.scripts / "AutoLaunch"

    @property
    def container(self) -> Path:
        return self.autolaunch / NAME

    @property
    def entry_script(self) -> Path:
        return self.container / NAME / f"{NAME}.py"

    @property
    def vendored_package(self) -> Path:
        """The package copy beside the entry script: what survives iTerm2 rebuilding the environment."""
        return self.container / NAME / NAME

    @property
    def venv_python(self) -> Path:
        """The interpreter iTerm2 3.7.0beta9+ starts (iTermScriptRuntime ``venvInterpreterPath``)."""
        return self.container / ".venv" / "bin" / "python"

    @property
    def archive(self) -> Path:
        return self.home / "Library" / "Application Support" / DISTRIBUTION / f"{NAME}.zip"


def locations(home: Path | None = None, read: PreferenceReader = read_iterm2_preference) -> Locations:
    home = home if home is not None else home_dir()
    return Locations(home=home, scripts=scripts_dir(home, read))
