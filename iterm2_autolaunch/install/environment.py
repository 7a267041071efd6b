"""The script's Python environment: one venv, seen by iTerm2 in both of its layouts.

- 3.7.0beta9 and later: ``.venv/bin/python`` plus ``python-runtime.json`` (iTermScriptRuntime.swift
  ``backend(forScriptContainer:)``) is launched as it is, whatever built it.
- 3.5, 3.6 and 3.7.0beta1-8 (and 3.7 without the marker): ``iterm2env/versions/<X.Y.Z>/bin/python3``
  (iTermPythonRuntimeDownloader ``pyenvAt:pythonVersion:``, X.Y.Z the highest one matching setup.cfg's
  X.Y) and ``iterm2env/iterm2env-metadata.json`` of version 72 or more. ``versions/<X.Y.Z>`` is a link to
  ``.venv``: Python finds pyvenv.cfg through it, so both paths run the same environment.

The venv holds exactly what iTerm2 would install when it rebuilds it: the pinned ``install_requires``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from iterm2_autolaunch.install.layout import ENVIRONMENT_VERSION, InstallError, runtime_marker_text, write_if_changed

SUBPROCESS_TIMEOUT = 1800.0  # seconds; pip may download and build, but must not hang forever
TREES = (".venv", "iterm2env")

PROBE = (
    "import json, os, sys; print(json.dumps({'version': list(sys.version_info[:3]),"
    " 'base_prefix': os.path.realpath(sys.base_prefix)}))"
)


@dataclass(frozen=True)
class PythonInfo:
    version: tuple[int, int, int]
    base_prefix: str  # the real installation a venv's python belongs to: a venv "matches" when this does

    @property
    def three_part(self) -> str:
        return ".".join(map(str, self.version))


def probe_python(python: str) -> PythonInfo | None:
    """Ask ``python`` what it is; None when it does not run."""
    try:
        result = subprocess.run([python, "-I", "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)
        data = json.loads(result.stdout)
        major, minor, micro = (int(part) for part in data["version"])
        return PythonInfo(version=(major, minor, micro), base_prefix=str(data["base_prefix"]))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return None


def run_checked(argv: Sequence[str], what: str, cwd: Path | None = None) -> str:
    """Run ``argv`` (never through a shell); its output, or InstallError with the end of it."""
    try:
        result = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False, cwd=cwd
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise InstallError(f"{what} failed: {error}") from error
    if result.returncode != 0:
        # This machine's pip.conf may add harmless "Location ... is ignored" warnings; keep the real error.
        lines = [line for line in (result.stdout + result.stderr).splitlines() if "is ignored: it is" not in line]
        tail = "\n".join(lines[-30:])
        raise InstallError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def pip_install_argv(python: Path, requirements: Sequence[str]) -> list[str]:
    # --only-binary as iTerm2's uv provisioning does (iTermUvCommand pipInstallArgs): what installs here
    # installs there.
    return [str(python), "-I", "-m", "pip", "install", "--disable-pip-version-check", "--only-binary", ":all:",
            *requirements]


def create_venv(python: str, venv: Path) -> None:
    run_checked([python, "-m", "venv", str(venv)], "python -m venv")


def remove_environment(container: Path) -> None:
    """Markers first, then the trees, so iTerm2 never sees a half-removed environment as a complete one."""
    (container / "python-runtime.json").unlink(missing_ok=True)
    for tree in reversed(TREES):
        remove_tree(container / tree)


def write_environment_markers(container: Path, info: PythonInfo) -> None:
    """iterm2env/ (link + metadata) and python-runtime.json, written after the venv is complete."""
    legacy = container / "iterm2env"
    versions = legacy / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    target = os.path.join("..", "..", ".venv")
    for entry in versions.iterdir():
        if entry.name != info.three_part or not entry.is_symlink() or os.readlink(entry) != target:
            remove_tree(entry)
    if not (versions / info.three_part).is_symlink():
        (versions / info.three_part).symlink_to(target)
    write_if_changed(legacy / "iterm2env-metadata.json", json.dumps({"version": ENVIRONMENT_VERSION}) + "\n")
    write_if_changed(container / "python-runtime.json", runtime_marker_text(info.three_part))


def remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)  # does not follow the symlinks inside (iterm2env's link to .venv)
