"""`iterm2-autolaunch install`: the AutoLaunch script, its environment, the .zip, idempotence, uninstall.

Runs the real command in a subprocess with HOME set to a short temp folder: a real venv and a real pip
install of this checkout (about 10 s with a warm pip cache), built once for the module. The tests that use
it read only, except the last, which installs again and then uninstalls.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from iterm2_autolaunch.install import (
    ENVIRONMENT_VERSION,
    PINS,
    Locations,
    custom_scripts_folder,
    locations,
    runtime_marker_text,
    write_autolaunch_tree,
)
from tests.daemon_harness import daemon_on_fake
from tests.fake_jupyter import local_jupyter

REPO = Path(__file__).resolve().parent.parent
PYTHON_XY = f"{sys.version_info.major}.{sys.version_info.minor}"
PYTHON_XYZ = f"{PYTHON_XY}.{sys.version_info.micro}"
IMPORTS = "import iterm2, paramiko, sshtunnel, iterm2_autolaunch; print(iterm2_autolaunch.__file__)"


def where(home: Path) -> Locations:
    """Off macOS there is no iTerm2 preference to read: the default Scripts folder."""
    return locations(home, read=lambda key: None)


def container_dir(home: Path) -> Path:
    return where(home).container


def entry_script_path(home: Path) -> Path:
    return where(home).entry_script


def environment_python(home: Path) -> Path:
    return where(home).venv_python


def archive_path(home: Path) -> Path:
    return where(home).archive


def run_install(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "iterm2_autolaunch", "install", *args],
        capture_output=True, text=True, env=env, cwd=home, timeout=900, check=False,
    )


def short_home() -> Path:
    # The iterm2 library's socket path is HOME + 50 bytes and must fit in 108 (ITERM2_API.md §1).
    return Path(tempfile.mkdtemp(dir="/tmp"))


@pytest.fixture(scope="module")
def installed() -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    home = short_home()
    try:
        yield home, run_install(home, "--source", str(REPO))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_install_succeeds_and_says_what_next(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, result = installed
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Installed iterm2-autolaunch" in result.stdout
    assert "Settings > General > Magic > Enable Python API" in result.stdout
    assert "Scripts > AutoLaunch > iterm2_autolaunch" in result.stdout
    assert str(archive_path(home)) in result.stdout  # the Scripts > Manage > Import alternative


def test_setup_cfg_reads_as_iterm2_reads_it(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    container = container_dir(installed[0])
    cfg = configparser.ConfigParser()
    cfg.read(container / "setup.cfg", encoding="utf-8")
    assert cfg["metadata"]["name"] == "iterm2_autolaunch"
    assert cfg["options"]["scripts"] == "iterm2_autolaunch/iterm2_autolaunch.py"
    dependencies = [part.strip() for part in cfg["options"]["install_requires"].split(";")]
    expected = list(PINS) + (["tomli==2.5.0"] if sys.version_info < (3, 11) else [])
    assert dependencies == expected
    assert all(re.fullmatch(r"[a-z0-9]+==[0-9.]+", dependency) for dependency in dependencies)  # pinned
    assert re.fullmatch(r"=\d+\.\d+", cfg["options"]["python_requires"])
    assert cfg["options"]["python_requires"] == f"={PYTHON_XY}"
    assert cfg["iterm2"]["environment"] == f">={ENVIRONMENT_VERSION}"
    assert json.loads((container / "metadata.json").read_text()) == {"AutoLaunch": True}


def test_environment_is_where_iterm2_looks(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home = installed[0]
    container = container_dir(home)
    entry = entry_script_path(home)
    assert entry.is_file()
    assert entry.as_posix().endswith("AutoLaunch/iterm2_autolaunch/iterm2_autolaunch/iterm2_autolaunch.py")
    # 3.7: .venv/bin/python + python-runtime.json; 3.5/3.6: iterm2env/versions/X.Y.Z/bin/python3 + metadata.
    marker = json.loads((container / "python-runtime.json").read_text())
    assert marker == {"backend": "uv", "python": PYTHON_XY, "schema": 1, "uv_version": "unknown"}
    metadata = json.loads((container / "iterm2env" / "iterm2env-metadata.json").read_text())
    assert metadata == {"version": ENVIRONMENT_VERSION}
    assert [p.name for p in (container / "iterm2env" / "versions").iterdir()] == [PYTHON_XYZ]
    legacy_python = container / "iterm2env" / "versions" / PYTHON_XYZ / "bin" / "python3"
    # The entry script's folder comes first on sys.path, so the package copy beside it is what imports.
    inner = entry_script_path(home).parent
    probe = f"import sys; sys.path.insert(0, {str(inner)!r}); {IMPORTS}"
    for python in (environment_python(home), legacy_python):
        result = subprocess.run([str(python), "-I", "-c", probe], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert Path(result.stdout.strip()) == inner / "iterm2_autolaunch" / "__init__.py"  # the copy, not REPO


def test_entry_script_starts_the_daemon(installed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """As iTerm2 runs it (its wrapper unsets PYTHONPATH); with no iTerm2 here it fails to connect, after import."""
    home = installed[0]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HOME=str(home), ITERM2_COOKIE="not-a-cookie", PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [str(environment_python(home)), str(entry_script_path(home))],
        capture_output=True, text=True, env=env, cwd="/", timeout=60,
    )
    assert "iterm2-autolaunch starting" in result.stderr, result.stderr
    assert "cannot connect to iTerm2" in result.stderr
    assert "Traceback" not in result.stderr


def test_installed_entry_script_connects_to_iterm2_and_opens_a_local_server(
    installed: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The installed script, started as iTerm2 starts it, watches a session of the fake iTerm2: a Jupyter
    start line for a server on this machine (no ssh) makes it open the browser at that URL."""
    home = installed[0]
    argv = [str(environment_python(home)), str(entry_script_path(home))]
    log = "[I 2026-11-28 03:39:05.553 ServerApp]"
    with local_jupyter() as port:
        with daemon_on_fake(home, argv, sys.executable) as run:
            run.session.write(f"{log} Jupyter Server 2.21.1 is running at:\r\n")
            run.session.write(f"{log} http://127.0.0.1:{port}/lab?token=abc123\r\n")
            assert run.wait_opened() == f"http://localhost:{port}/lab?token=abc123"
        assert "abc123" not in run.output[0], "the token was logged"


def test_archive_is_importable_by_iterm2(
    installed: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    home = installed[0]
    with zipfile.ZipFile(archive_path(home)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert {name.split("/")[0] for name in names} == {"iterm2_autolaunch"}
    assert {name.split("/")[1] for name in names} == {"setup.cfg", "metadata.json", "iterm2_autolaunch"}
    top = tmp_path / "iterm2_autolaunch"
    for name in ("setup.cfg", "metadata.json", "iterm2_autolaunch/iterm2_autolaunch.py"):
        assert (top / name).read_bytes() == (container_dir(home) / name).read_bytes()
    # iTerm2 installs only setup.cfg's dependencies, so the package travels beside the entry script and,
    # being a package folder, is what `import iterm2_autolaunch` finds from there.
    inner = top / "iterm2_autolaunch"
    assert (inner / "iterm2_autolaunch" / "daemon.py").is_file()
    assert not list(inner.rglob("__pycache__"))
    probe = f"import sys; sys.path.insert(0, {str(inner)!r}); {IMPORTS}"
    result = subprocess.run([str(environment_python(home)), "-I", "-c", probe], capture_output=True, text=True)
    assert Path(result.stdout.strip()) == inner / "iterm2_autolaunch" / "__init__.py", result.stderr


def snapshot(home: Path) -> dict[str, bytes | str]:
    """Every file install wrote outside the venv: content, or link target; and each file's mtime."""
    shot: dict[str, bytes | str] = {}
    venv = container_dir(home) / ".venv"
    for path in [*container_dir(home).rglob("*"), archive_path(home)]:
        if path == venv or venv in path.parents or "__pycache__" in path.parts:
            continue  # the environment, and what Python wrote when the daemon ran
        relative = str(path.relative_to(home))
        if path.is_symlink():
            shot[relative] = os.readlink(path)
        elif path.is_file():
            shot[relative] = path.read_bytes()
            shot[relative + " mtime"] = str(path.stat().st_mtime_ns)
    return shot


def test_again_changes_nothing_then_uninstall_removes_it(
    installed: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """Last in this file (pytest keeps file order): it installs again, then uninstalls."""
    home = installed[0]
    before = snapshot(home)
    venv_python = environment_python(home).resolve()
    again = run_install(home, "--source", str(REPO))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already installed" in again.stdout
    assert "reuse" in again.stdout
    assert snapshot(home) == before
    assert environment_python(home).resolve() == venv_python

    removed = run_install(home, "--uninstall")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not container_dir(home).exists()
    assert not archive_path(home).exists() and not archive_path(home).parent.exists()
    assert list(container_dir(home).parent.iterdir()) == []  # iTerm2's own AutoLaunch folder stays

    twice = run_install(home, "--uninstall")
    assert twice.returncode == 0 and "nothing to remove" in twice.stdout


def test_a_folder_not_made_by_install_is_left_alone() -> None:
    home = short_home()
    try:
        foreign = container_dir(home)
        (foreign / "iterm2_autolaunch").mkdir(parents=True)
        (foreign / "iterm2_autolaunch" / "iterm2_autolaunch.py").write_text("print('mine')\n")
        (foreign / "setup.cfg").write_text("[metadata]\nname=iterm2_autolaunch\n")

        refused = run_install(home, "--uninstall")
        assert refused.returncode == 1
        assert "refusing to delete" in refused.stderr
        clobber = run_install(home, "--source", str(REPO))
        assert clobber.returncode == 1
        assert "not made by `iterm2-autolaunch install`" in clobber.stderr
        assert sorted(p.name for p in foreign.rglob("*")) == ["iterm2_autolaunch", "iterm2_autolaunch.py", "setup.cfg"]
        assert not archive_path(home).exists()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_dry_run_changes_nothing() -> None:
    home = short_home()
    try:
        result = run_install(home, "--dry-run", "--source", str(REPO))
        assert result.returncode == 0, result.stderr
        assert "would create" in result.stdout and "would write" in result.stdout
        assert "python_requires = =" in result.stdout and f"environment = >={ENVIRONMENT_VERSION}" in result.stdout
        assert "Satisfies iTerm2:" in result.stdout and "3.7.0beta9 and later" in result.stdout
        assert list(home.iterdir()) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize(
    ("python", "requires", "dependencies"),
    [("3.10", "=3.10", "; ".join([*PINS, "tomli==2.5.0"])), ("3.12.1", "=3.12", "; ".join(PINS))],
    ids=["3.10-needs-tomli", "3.12.1-two-part"],
)
def test_tree_without_environment(tmp_path: Path, python: str, requires: str, dependencies: str) -> None:
    written = write_autolaunch_tree(tmp_path, python)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "iterm2_autolaunch/iterm2_autolaunch.py", "metadata.json", "setup.cfg",
    ]
    cfg = configparser.ConfigParser()
    cfg.read(tmp_path / "setup.cfg", encoding="utf-8")
    assert cfg["options"]["python_requires"] == requires
    assert cfg["options"]["install_requires"] == dependencies


def test_runtime_marker_is_in_apples_json_encoder_form() -> None:
    assert runtime_marker_text("3.11.7") == (
        '{\n  "backend" : "uv",\n  "python" : "3.11",\n  "schema" : 1,\n  "uv_version" : "unknown"\n}'
    )


def test_checked_in_autolaunch_folder_is_what_install_writes(tmp_path: Path) -> None:
    found = sorted((REPO / "AutoLaunch").glob("**/setup.cfg"))
    if not found:
        pytest.skip("no AutoLaunch/**/setup.cfg checked in yet")
    checked_in = found[0].parent
    cfg = configparser.ConfigParser()
    cfg.read(found[0], encoding="utf-8")
    write_autolaunch_tree(tmp_path, cfg["options"]["python_requires"].lstrip("="))
    for name in ("setup.cfg", "metadata.json", "iterm2_autolaunch/iterm2_autolaunch.py"):
        assert (checked_in / name).read_text() == (tmp_path / name).read_text(), name


@pytest.mark.parametrize(
    ("use", "folder", "valid"),
    [("1", "~/MyScripts", True), ("0", "~/MyScripts", False), (None, "~/MyScripts", False),
     ("1", "~/My Scripts", False), ("1", "~/Missing", False), ("1", None, False)],
    ids=["on", "off", "unset", "space-in-path", "missing-folder", "no-path"],
)
def test_custom_scripts_folder_as_iterm2_decides(tmp_path: Path, use: str | None, folder: str | None,
                                                 valid: bool) -> None:
    """NSFileManager+iTerm.m customScriptsFolder: on, tilde-expanded, no space, an existing folder."""
    (tmp_path / "MyScripts").mkdir()
    (tmp_path / "My Scripts").mkdir()
    preferences = {"UseCustomScriptsFolder": use, "CustomScriptsFolder": folder}
    found = locations(tmp_path, read=preferences.get)
    assert custom_scripts_folder(use, folder, tmp_path) == (tmp_path / "MyScripts" if valid else None)
    default = tmp_path / "Library" / "Application Support" / "iTerm2" / "Scripts"
    assert found.scripts == (tmp_path / "MyScripts" if valid else default)
    assert found.container == found.scripts / "AutoLaunch" / "iterm2_autolaunch"
