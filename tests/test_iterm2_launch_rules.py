"""A model of how iTerm2 decides to launch a full-environment AutoLaunch script, run against what
`iterm2-autolaunch install` writes.

One function per rule, each citing the gnachman/iTerm2 file and function it follows and the tags it was
read at (v3.5.0/v3.5.15, v3.6.0/v3.6.11, v3.7.0beta1..beta11, HEAD = nightly b9c78a2de of 2026-08-22).
No iTerm2 runs here, so the model is the oracle: each interpreter it picks is then really started the way
iTerm2 starts it (it2_api_wrapper.sh) and must get as far as connecting to iTerm2.

What the source says where the issue guessed (see the report): the minimum environment version is 72 in
every tag (iTermOptionalComponentDownloadWindowController.m), including 3.7 and HEAD, not only up to
3.6.11/3.7.0beta8; the .venv + python-runtime.json runtime appears in v3.7.0beta9 (iTermScriptRuntime.swift
is absent in beta1-8) with the uv setting off by default there and on from beta10; beta9 and later delete
a uv-backed script's iterm2env on every launch (iTermUvMigration.reclaimOrphanedArtifacts).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iterm2_autolaunch.install import ENVIRONMENT_VERSION, NAME, SATISFIES, locations

REPO = Path(__file__).resolve().parent.parent

# iTermOptionalComponentDownloadWindowController.m:20 (v3.6.11, v3.7.0beta1..11, HEAD; :19 in v3.5.x):
# `const int iTermMinimumPythonEnvironmentVersion = 72;`
MINIMUM_ENVIRONMENT_VERSION = 72


@dataclass(frozen=True)
class Era:
    """iTerm2 versions that share the launch rules below."""

    label: str
    runtime_detection: bool  # iTermScriptRuntime.swift exists (v3.7.0beta9 and later)
    uv_gate: bool  # iTermAdvancedSettingsModel.m DEFINE_BOOL(pythonRuntimeUsesUV, ...) default


ERAS = (
    Era("3.5.x", runtime_detection=False, uv_gate=False),
    Era("3.6.x", runtime_detection=False, uv_gate=False),
    Era("3.7.0beta1-8", runtime_detection=False, uv_gate=False),
    Era("3.7.0beta9", runtime_detection=True, uv_gate=False),  # pythonRuntimeUsesUV, NO
    Era("3.7.0beta10+", runtime_detection=True, uv_gate=True),  # pythonRuntimeUsesUV, YES (beta10, beta11, HEAD)
)
LEGACY = [era for era in ERAS if not era.runtime_detection]
MODERN = [era for era in ERAS if era.runtime_detection]


# -- the rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupCfg:
    python_version: str | None
    dependencies: list[str]
    minimum_environment_version: int


def parse_setup_cfg(text: str) -> SetupCfg | None:
    """iTermSetupCfgParser.m initWithPath:/handleSection:/computePythonVersion:/computeDependencies: (same in
    v3.5.0..HEAD) over ThirdParty/inih (ini.h: INI_MAX_LINE 200, INI_ALLOW_MULTILINE, inline comments start at
    a ";" after whitespace, whole-line comments at ";" or "#"). None where iTerm2 gets nil (a parse error)."""
    section, name = "", ""
    values: dict[tuple[str, str], list[str]] = {}
    for line in text.splitlines():
        if len(line.encode()) >= 200:
            return None  # inih reads the rest of an over-long line as a line of its own
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if line[0] in " \t" and name:  # continuation of the previous value
            values[(section, name)].append(stripped)
            continue
        if stripped.startswith("["):
            section = stripped[1:stripped.index("]")]
            continue
        cut = next((i for i, char in enumerate(line) if char in "=:"), None)
        if cut is None:
            return None
        name, value = line[:cut].strip(), line[cut + 1:]
        for i in range(1, len(value)):
            if value[i] == ";" and value[i - 1].isspace():
                value = value[:i]
                break
        values.setdefault((section, name), []).append(value.strip())
    python_requires = (values.get(("options", "python_requires")) or [""])[-1]
    version = python_requires[1:] if python_requires.startswith("=") else None
    if version is not None and not all(part.isdigit() for part in version.split(".")):
        version = None
    requires = ";".join(part for part in values.get(("options", "install_requires"), []) if part)
    dependencies = sorted({part.strip() for part in requires.split(";") if part.strip()})
    environment = (values.get(("iterm2", "environment")) or [""])[-1]
    minimum = int(environment[2:]) if environment.startswith(">=") and environment[2:].isdigit() else 0
    return SetupCfg(version, dependencies, minimum)


def python_versions_at(versions: Path) -> list[str]:
    """iTermPythonRuntimeDownloader.m pythonVersionsAt: (v3.5.0..HEAD): entries, links included, whose
    dot-separated parts are all numeric."""
    if not versions.is_dir():
        return []
    return [entry.name for entry in versions.iterdir() if all(part.isdigit() for part in entry.name.split("."))]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pyenv_python(root: Path, python_version: str | None) -> Path | None:
    """iTermPythonRuntimeDownloader.m pyenvAt:pythonVersion: -> executableNamed:atPyenvRoot:pythonVersion:
    searchPath: and threePartVersionForTwoPartVersion:at: (v3.5.0..HEAD): the highest X.Y.Z under
    versions/ whose X.Y is setup.cfg's; with no python_requires the highest of all (bestPythonVersionAt:)."""
    candidates = python_versions_at(root / "versions")
    if python_version is not None:
        two_part = ".".join(python_version.split(".")[:2])
        candidates = [version for version in candidates if ".".join(version.split(".")[:2]) == two_part]
    if not candidates:
        return None
    best = max(candidates, key=version_key)
    if not (root / "versions" / best).exists():  # fileExistsAtPath: follows links
        return None
    return root / "versions" / best / "bin" / "python3"


def backend(container: Path) -> str:
    """iTermScriptRuntime.swift backend(forScriptContainer:) (v3.7.0beta9..HEAD): "uv" when .venv/bin/python
    and python-runtime.json both exist, whatever built them; "legacy" when iterm2env is a folder."""
    if (container / ".venv" / "bin" / "python").exists() and (container / "python-runtime.json").exists():
        return "uv"
    return "legacy" if (container / "iterm2env").is_dir() else "none"


def environment_for_script(container: Path, era: Era) -> Path | None:
    """iTermAPIScriptLauncher.m environmentForScript:checkForMain:YES checkForSaved:YES (v3.6.11 :639,
    HEAD :1070): needs <Name>/<Name>/<Name>.py; beta9+ first take a uv backend's .venv/bin/python; then
    iterm2env (then saved-iterm2env) through pyenvAt: with setup.cfg's python_requires."""
    name = container.name
    if not (container / name / f"{name}.py").exists():
        return None
    if era.runtime_detection and backend(container) == "uv":
        return container / ".venv" / "bin" / "python"
    setup = (container / "setup.cfg").read_text() if (container / "setup.cfg").is_file() else None
    parsed = parse_setup_cfg(setup) if setup is not None else None
    python_version = parsed.python_version if parsed else None
    for folder in ("iterm2env", "saved-iterm2env"):
        python = pyenv_python(container / folder, python_version)
        if python is not None and python.exists():
            return python
    return None


def environment_version(container: Path) -> int:
    """iTermAPIScriptLauncher.m environmentVersionAt: -> iTermPythonRuntimeDownloader versionInMetadataAtURL:
    (v3.5.0..HEAD): iterm2env/iterm2env-metadata.json's "version", 0 when missing or unreadable."""
    try:
        return int(json.loads((container / "iterm2env" / "iterm2env-metadata.json").read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def reclaim_orphaned_artifacts(container: Path) -> None:
    """iTermUvMigration.swift reclaimOrphanedArtifacts (v3.7.0beta9..HEAD), run by
    upgradeIfNeededFullEnvironmentScriptAt: for every uv-backed launch: removeItem of saved-iterm2env,
    iterm2env and .venv.building (FileManager removes a link, not what it points to; so does rmtree)."""
    for name in ("saved-iterm2env", "iterm2env", ".venv.building"):
        path = container / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def launch_decision(container: Path, era: Era) -> tuple[str, Path | None]:
    """iTermScriptsMenuController.m launchScriptWithAbsolutePath: then iTermAPIScriptLauncher.m
    upgradeIfNeededFullEnvironmentScriptAt: (v3.6.11 :172, minimum check :196; HEAD :202, check :322).
    Returns what iTerm2 does: "launch" (with the interpreter), "upgrade-prompt" (environment below the
    minimum: "needs a newer version of the runtime environment for security reasons"), "migrate-to-uv"
    (beta10+ rebuild from setup.cfg's install_requires), or "malformed" (not a full-environment script)."""
    interpreter = environment_for_script(container, era)
    if interpreter is None:
        return "malformed", None
    if era.runtime_detection and backend(container) == "uv":
        reclaim_orphaned_artifacts(container)
        return "launch", interpreter
    if era.uv_gate and (container / "setup.cfg").is_file():
        return "migrate-to-uv", None
    if environment_version(container) < MINIMUM_ENVIRONMENT_VERSION:
        return "upgrade-prompt", None
    return "launch", interpreter


def autolaunch_candidates(scripts: Path) -> list[Path]:
    """iTermScriptsMenuController.m runModernAutoLaunchScripts (v3.5.0 :1127, HEAD :1614): every entry of
    NSFileManager autolaunchScriptPath (<Scripts>/AutoLaunch) not starting with a dot."""
    autolaunch = scripts / "AutoLaunch"
    if not autolaunch.is_dir():
        return []
    return sorted(entry for entry in autolaunch.iterdir() if not entry.name.startswith("."))


def custom_scripts_folder(use: str | None, folder: str | None, home: Path) -> Path | None:
    """NSFileManager+iTerm.m customScriptsFolder/customScriptsFolderIsValid: (v3.5.0, v3.6.11, HEAD), keys
    iTermPreferences.m "UseCustomScriptsFolder" (bool) and "CustomScriptsFolder" (string)."""
    if use != "1" or folder is None:
        return None
    expanded = Path(os.path.expanduser(folder.replace("~", str(home), 1) if folder.startswith("~") else folder))
    return expanded if " " not in str(expanded) and expanded.is_dir() else None


def import_destination(scripts: Path, name: str, trusted: bool, offer_autolaunch: bool, wants: bool) -> Path:
    """iTermScriptArchive.m installFullEnvironmentTrusted: with shouldOfferAutoLaunchWhenTrusted: (HEAD; same
    in v3.5/v3.6): AutoLaunch only when offered (offerAutoLaunch) or trusted (a verified signed .its) and
    metadata.json asks; and then only if the user accepts. Scripts > Manage > Import calls
    iTermScriptsMenuController importFromURL:, which passes offerAutoLaunch:NO; iTermScriptImporter
    verifyAndUnwrapArchive: reports trusted NO for anything but a signed .its. So an unsigned .zip lands in
    <Scripts>/<name>, never asking."""
    autolaunch = offer_autolaunch or (trusted and wants)
    return (scripts / "AutoLaunch" if autolaunch else scripts) / name


def archive_script_name(extracted: Path) -> str | None:
    """iTermScriptArchive.m archiveFromContainer:deprecated: (HEAD): one non-dot top folder holding setup.cfg,
    optionally metadata.json, and exactly one folder (the script's name); anything else is rejected."""
    top = [entry for entry in extracted.iterdir() if not entry.name.startswith(".")]
    if len(top) != 1 or not top[0].is_dir():
        return None
    inner = [entry for entry in top[0].iterdir() if not entry.name.startswith(".")]
    folders = [entry for entry in inner if entry.is_dir()]
    files = {entry.name for entry in inner if not entry.is_dir()}
    if len(folders) != 1 or "setup.cfg" not in files or files - {"setup.cfg", "metadata.json"}:
        return None
    return folders[0].name


def run_as_iterm2(interpreter: Path, entry: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """iTermAPIScriptLauncher.m tryLaunchScript:/environmentFromEnvironment: + it2_api_wrapper.sh (v3.5.0..
    HEAD): `$SHELL -c "it2_api_wrapper.sh <interpreter> <entry>"`, the wrapper unsets PYTHONPATH and sets
    PYTHONUNBUFFERED=1; ITERM2_COOKIE, ITERM2_KEY, HOME and PYTHONIOENCODING=utf-8 are set."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(HOME=str(home), ITERM2_COOKIE="not-a-cookie", ITERM2_KEY="not-a-key",
                       PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
    return subprocess.run([str(interpreter), str(entry)], capture_output=True, text=True, env=environment,
                          cwd="/", timeout=120, check=False)


# -- the tree install writes ----------------------------------------------------------------------------------


def run_install(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iterm2_autolaunch", "install", *args],
        capture_output=True, text=True, env={**os.environ, "HOME": str(home)}, cwd=home, timeout=900, check=False,
    )


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """HOME with the script installed (a short path: the iterm2 library's socket path must fit)."""
    home = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        result = run_install(home, "--source", str(REPO))
        assert result.returncode == 0, result.stdout + result.stderr
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def container_of(home: Path) -> Path:
    return locations(home, read=lambda key: None).container


def copy_of(container: Path, into: Path) -> Path:
    """A copy in its own Scripts/AutoLaunch, for rules that change the tree."""
    target = into / "Scripts" / "AutoLaunch" / container.name
    shutil.copytree(container, target, symlinks=True)
    return target


def assert_daemon_starts(result: subprocess.CompletedProcess[str]) -> None:
    assert "iterm2-autolaunch starting" in result.stderr, result.stderr
    assert "cannot connect to iTerm2" in result.stderr
    assert "Traceback" not in result.stderr


# -- the tests -----------------------------------------------------------------------------------------------


def test_autolaunch_lists_the_installed_script(installed: Path) -> None:
    scripts = locations(installed, read=lambda key: None).scripts
    assert autolaunch_candidates(scripts) == [container_of(installed)]


@pytest.mark.parametrize("era", ERAS, ids=[era.label for era in ERAS])
def test_each_iterm2_launches_the_installed_script(installed: Path, era: Era, tmp_path: Path) -> None:
    container = copy_of(container_of(installed), tmp_path) if era.runtime_detection else container_of(installed)
    decision, interpreter = launch_decision(container, era)
    assert decision == "launch"
    assert interpreter is not None
    if era.runtime_detection:
        assert interpreter == container / ".venv" / "bin" / "python"
    else:
        python_version = parse_setup_cfg((container / "setup.cfg").read_text()).python_version  # type: ignore[union-attr]
        assert interpreter.parent.parent.parent == container / "iterm2env" / "versions"
        assert interpreter.parent.parent.name.startswith(f"{python_version}.")
    assert_daemon_starts(run_as_iterm2(interpreter, container / NAME / f"{NAME}.py", installed))


def test_setup_cfg_reads_as_iterm2_reads_it(installed: Path) -> None:
    parsed = parse_setup_cfg((container_of(installed) / "setup.cfg").read_text())
    assert parsed is not None
    assert parsed.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert parsed.minimum_environment_version == MINIMUM_ENVIRONMENT_VERSION
    names = {dependency.split("==")[0] for dependency in parsed.dependencies}
    assert {"iterm2", "paramiko", "sshtunnel"} <= names
    assert all("==" in dependency for dependency in parsed.dependencies)  # pinned, as tested here


def test_environment_version_is_what_legacy_iterm2_requires(installed: Path, tmp_path: Path) -> None:
    """The bug this fixes: 70 in iterm2env-metadata.json made 3.5, 3.6 and 3.7.0beta1-8 refuse the script."""
    assert ENVIRONMENT_VERSION == MINIMUM_ENVIRONMENT_VERSION
    assert environment_version(container_of(installed)) == MINIMUM_ENVIRONMENT_VERSION
    old = copy_of(container_of(installed), tmp_path)
    (old / "iterm2env" / "iterm2env-metadata.json").write_text(json.dumps({"version": 70}))
    assert [launch_decision(old, era)[0] for era in LEGACY] == ["upgrade-prompt"] * len(LEGACY)
    assert [launch_decision(old, era)[0] for era in MODERN] == ["launch"] * len(MODERN)  # no check for uv


@pytest.mark.parametrize(
    ("python_requires", "expected"),
    [("=3.11", "3.11.7"), ("=3.10", "3.10.4"), ("=3.12", None), (">=3.10", "3.11.7"), (None, "3.11.7")],
    ids=["picks-highest-3.11", "picks-3.10", "no-3.12-folder", "range-is-ignored", "absent"],
)
def test_python_requires_picks_the_interpreter_folder(tmp_path: Path, python_requires: str | None,
                                                      expected: str | None) -> None:
    container = tmp_path / NAME
    (container / NAME).mkdir(parents=True)
    (container / NAME / f"{NAME}.py").write_text("")
    for version in ("3.10.4", "3.11.2", "3.11.7"):
        (container / "iterm2env" / "versions" / version / "bin").mkdir(parents=True)
        (container / "iterm2env" / "versions" / version / "bin" / "python3").write_text("")
    requires = f"python_requires = {python_requires}\n" if python_requires else ""
    (container / "setup.cfg").write_text(f"[options]\ninstall_requires=paramiko\n{requires}")
    found = environment_for_script(container, ERAS[1])
    assert found == (container / "iterm2env" / "versions" / expected / "bin" / "python3" if expected else None)


def test_installed_link_matches_python_requires(installed: Path) -> None:
    container = container_of(installed)
    version = parse_setup_cfg((container / "setup.cfg").read_text()).python_version  # type: ignore[union-attr]
    links = python_versions_at(container / "iterm2env" / "versions")
    assert [".".join(link.split(".")[:2]) for link in links] == [version]


def test_iterm2_3_7_deletes_iterm2env_and_the_venv_survives(installed: Path, tmp_path: Path) -> None:
    """beta9+ delete iterm2env beside a uv environment; the .venv it links to must stay and run. 3.6 then
    no longer sees a script (the README says: run install again after going back)."""
    container = copy_of(container_of(installed), tmp_path)
    assert launch_decision(container, MODERN[-1])[0] == "launch"
    assert not (container / "iterm2env").exists()
    decision, interpreter = launch_decision(container, MODERN[0])
    assert decision == "launch" and interpreter is not None
    assert_daemon_starts(run_as_iterm2(interpreter, container / NAME / f"{NAME}.py", installed))
    assert [launch_decision(container, era)[0] for era in LEGACY] == ["malformed"] * len(LEGACY)


def test_without_the_marker_3_7_migrates_instead(installed: Path, tmp_path: Path) -> None:
    """Why install writes python-runtime.json: a legacy-only script is rebuilt by beta10+ (uv setting on)."""
    container = copy_of(container_of(installed), tmp_path)
    (container / "python-runtime.json").unlink()
    assert launch_decision(container, MODERN[-1])[0] == "migrate-to-uv"
    assert launch_decision(container, MODERN[0])[0] == "launch"  # beta9: setting off, legacy rules


@pytest.mark.slow
def test_rebuilt_environment_with_only_install_requires_runs_the_daemon(installed: Path, tmp_path: Path) -> None:
    """iTerm2 rebuilding the environment installs setup.cfg's install_requires plus iterm2 (and certifi,
    pyobjc on macOS: iTermUvProvisioner.provisionFullEnvironment, `uv pip install --only-binary :all:`;
    iTermPythonRuntimeDownloader installDependencies: one `pip3 install` each). A fresh venv with exactly
    those, beside the files install wrote, must run the daemon from the package copy."""
    container = copy_of(container_of(installed), tmp_path)
    for name in (".venv", "iterm2env", "python-runtime.json", ".iterm2-autolaunch-install.json"):
        path = container / name
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    parsed = parse_setup_cfg((container / "setup.cfg").read_text())
    assert parsed is not None
    subprocess.run([sys.executable, "-m", "venv", str(container / ".venv")], check=True, timeout=300)
    packages = [*parsed.dependencies, "iterm2", "certifi"]
    pip = [str(container / ".venv" / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--only-binary", ":all:", *packages]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (container / "python-runtime.json").write_text(json.dumps({"backend": "uv", "python": parsed.python_version,
                                                               "schema": 1, "uv_version": "0.9.0"}))
    listed = subprocess.run([str(container / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                            capture_output=True, text=True, timeout=120, check=True)
    assert "iterm2-autolaunch" not in {package["name"] for package in json.loads(listed.stdout)}
    decision, interpreter = launch_decision(container, MODERN[-1])
    assert decision == "launch" and interpreter is not None
    assert_daemon_starts(run_as_iterm2(interpreter, container / NAME / f"{NAME}.py", installed))


def test_unsigned_zip_import_lands_in_scripts_and_runs_once_moved(installed: Path, tmp_path: Path) -> None:
    archive = locations(installed, read=lambda key: None).archive
    extracted = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(extracted)
    name = archive_script_name(extracted)
    assert name == NAME
    scripts = tmp_path / "Scripts"
    wants = json.loads((extracted / NAME / "metadata.json").read_text())["AutoLaunch"] is True
    landed = import_destination(scripts, NAME, trusted=False, offer_autolaunch=False, wants=wants)
    assert landed == scripts / NAME  # not AutoLaunch: the README says so and how to move it
    assert import_destination(scripts, NAME, trusted=True, offer_autolaunch=False, wants=wants).parent.name == (
        "AutoLaunch")  # only a signed .its would be offered AutoLaunch
    landed.parent.mkdir(parents=True)
    shutil.copytree(extracted / NAME, landed)
    (scripts / "AutoLaunch").mkdir()
    landed.rename(scripts / "AutoLaunch" / NAME)  # the README's move
    assert autolaunch_candidates(scripts) == [scripts / "AutoLaunch" / NAME]
    assert (scripts / "AutoLaunch" / NAME / NAME / NAME / "daemon.py").is_file()  # package rides along


@pytest.mark.parametrize(
    ("use", "folder"),
    [("1", "~/Scripts2"), ("0", "~/Scripts2"), ("1", "~/With Space"), ("1", "~/Missing"), (None, None)],
    ids=["custom", "switched-off", "space", "missing", "unset"],
)
def test_install_follows_the_custom_scripts_folder(tmp_path: Path, use: str | None, folder: str | None) -> None:
    (tmp_path / "Scripts2").mkdir()
    (tmp_path / "With Space").mkdir()
    preferences = {"UseCustomScriptsFolder": use, "CustomScriptsFolder": folder}
    where = locations(tmp_path, read=preferences.get)
    expected = custom_scripts_folder(use, folder, tmp_path)
    default = tmp_path / "Library" / "Application Support" / "iTerm2" / "Scripts"
    assert where.scripts == (expected or default)
    assert where.container.parent == where.scripts / "AutoLaunch"


def test_dry_run_names_the_versions_the_model_launches(installed: Path) -> None:
    result = run_install(installed, "--dry-run", "--source", str(REPO))
    assert result.returncode == 0, result.stderr
    for versions, through in SATISFIES:
        assert f"  {versions}: {through}" in result.stdout
    legacy_row, modern_row, rebuild_row = SATISFIES
    assert all(label in legacy_row[0] for label in ("3.5", "3.6", "3.7.0beta1-beta8"))
    assert "3.7.0beta9" in modern_row[0] and ".venv/bin/python" in modern_row[1]
    assert "iterm2env/versions" in legacy_row[1] and f"{NAME}/{NAME}/" in rebuild_row[1]
    assert "Layout in " in result.stdout and "python_requires = =" in result.stdout
