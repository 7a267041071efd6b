"""``iterm2-autolaunch install [--uninstall] [--dry-run]``: the steps, in the order that keeps iTerm2 safe."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from iterm2_autolaunch import __version__
from iterm2_autolaunch.install import environment as env
from iterm2_autolaunch.install.layout import (
    ENVIRONMENT_VERSION,
    MIN_PYTHON,
    SATISFIES,
    InstallError,
    build_archive,
    requirements,
    vendor_package,
    write_autolaunch_tree,
    write_if_changed,
)
from iterm2_autolaunch.install.paths import DISTRIBUTION, NAME, Locations, locations

MARKER = ".iterm2-autolaunch-install.json"
# What install creates, relative to the container; the marker records them for --uninstall.
FILES = ("setup.cfg", "metadata.json", f"{NAME}/{NAME}.py", "python-runtime.json")
TREES = (*env.TREES, f"{NAME}/{NAME}")
FOLDERS = (NAME,)
CHECK_IMPORTS = (
    "import sys; sys.path.insert(0, sys.argv[1]); from importlib.metadata import version;"
    " import iterm2, paramiko, sshtunnel, iterm2_autolaunch.daemon as d; print(d.__file__); print(version('iterm2'))"
)


class Steps:
    """Prints each change; carries it out unless this is a dry run."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run

    def __call__(self, what: str, action: Callable[[], object]) -> None:
        print(f"  {'would ' if self.dry_run else ''}{what}")
        if not self.dry_run:
            action()


def read_marker(container: Path) -> dict[str, object] | None:
    """Our install record in ``container``, or None when the folder is not ours."""
    if container.is_symlink() or not container.is_dir():
        return None  # iTerm2's own import leaves a symlink here; a plain file is not ours either
    try:
        record = json.loads((container / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("installed_by") == DISTRIBUTION else None


def marker_text(where: Locations) -> str:
    record = {
        "installed_by": DISTRIBUTION,
        "version": __version__,
        "files": list(FILES),
        "trees": list(TREES),
        "folders": list(FOLDERS),
        "archive": str(where.archive),
    }
    return json.dumps(record, indent=2) + "\n"


def print_layout(where: Locations, python_version: str) -> None:
    """What iTerm2 will find, and which iTerm2 versions launch it through which part."""
    print(f"Layout in {where.container}:")
    print("  setup.cfg          install_requires=" + "; ".join(requirements(python_version)))
    print(f"                     python_requires = ={'.'.join(python_version.split('.')[:2])}, "
          f"environment = >={ENVIRONMENT_VERSION}")
    print("  metadata.json      {\"AutoLaunch\": true}")
    print(f"  {NAME}/{NAME}.py   the entry script; {NAME}/{NAME}/ the package beside it")
    print(f"  .venv/             Python {python_version} with the pinned install_requires")
    print("  python-runtime.json, iterm2env/versions/" + python_version + " -> .venv, iterm2env-metadata.json")
    print("Satisfies iTerm2:")
    for versions, through in SATISFIES:
        print(f"  {versions}: {through}")


def install(where: Locations, python: str, package_dir: Path, dry_run: bool) -> int:
    container = where.container
    previous = read_marker(container)
    if previous is None and (container.exists() or container.is_symlink()):
        raise InstallError(
            f"{container} exists but was not made by `iterm2-autolaunch install` (no {MARKER} in it): "
            "leaving it alone. Remove it yourself (or delete the script in iTerm2) and run install again."
        )
    info = env.probe_python(python)
    if info is None:
        raise InstallError(f"cannot run {python} to build the environment; pass --python PYTHON")
    if info.version[:2] < MIN_PYTHON:
        raise InstallError(f"{python} is Python {info.three_part}; iterm2-autolaunch needs 3.10 or newer (--python)")
    if dry_run:
        print_layout(where, info.three_part)

    step = Steps(dry_run)
    venv = container / ".venv"
    print(f"{'Updating' if previous else 'Installing'} the iTerm2 AutoLaunch script in {container}")
    # The record comes first, so that an install stopped halfway can still be uninstalled or finished.
    step(f"write {MARKER}", lambda: write_if_changed(container / MARKER, marker_text(where)))
    step("write setup.cfg, metadata.json and the entry script",
         lambda: write_autolaunch_tree(container, info.three_part))
    step(f"copy the package {package_dir} to {where.vendored_package}",
         lambda: vendor_package(package_dir, where.vendored_package))

    existing = env.probe_python(str(where.venv_python)) if where.venv_python.exists() else None
    if existing == info:
        print(f"  reuse {venv} (Python {info.three_part})")
    else:
        if venv.exists() or venv.is_symlink():
            # iTerm2 must not see a half-built environment: its markers go first and come back last.
            was = f"Python {existing.three_part} from {existing.base_prefix}" if existing else "does not run"
            step(f"remove the old environment ({was})", lambda: env.remove_environment(container))
        step(f"create {venv} with Python {info.three_part} ({python} -m venv)", lambda: env.create_venv(python, venv))
    pins = requirements(info.three_part)
    step(f"pip install {' '.join(pins)} (into .venv, as iTerm2 installs setup.cfg's install_requires)",
         lambda: env.run_checked(env.pip_install_argv(where.venv_python, pins), "pip install", cwd=container))
    found: list[str] = []
    step(
        "check that the environment imports iterm2, paramiko, sshtunnel and the package copy",
        lambda: found.extend(env.run_checked(
            [str(where.venv_python), "-I", "-c", CHECK_IMPORTS, str(where.vendored_package.parent)], "import check"
        ).splitlines()),
    )
    step("write python-runtime.json and iterm2env/ (the environment as iTerm2 3.7 and 3.5/3.6 find it)",
         lambda: env.write_environment_markers(container, info))
    step(f"write {where.archive} (for Scripts > Manage > Import)",
         lambda: build_archive(where.archive, info.three_part, package_dir))
    if dry_run:
        return 0
    iterm2_version = found[-1] if found else "?"
    versions = f"iterm2-autolaunch {__version__}, iterm2 {iterm2_version}, Python {info.three_part}"
    print(f"iterm2-autolaunch was already installed; updated it ({versions})." if previous
          else f"Installed {versions}.")
    print_next_steps(where)
    return 0


def print_next_steps(where: Locations) -> None:
    print(
        "\nNext:\n"
        "  1. In iTerm2: Settings > General > Magic > Enable Python API (AutoLaunch scripts run only then).\n"
        "  2. The script starts with iTerm2; to start it now: Scripts > AutoLaunch > iterm2_autolaunch.\n"
        "     Its log is in Scripts > Script Console.\n"
        "\nAfter iTerm2 3.7.0beta9 or later has run it, iTerm2 deletes iterm2env/: going back to 3.6 or older,\n"
        "run this install again. Without it, Scripts > Manage > Import\n"
        f"  {where.archive}\n"
        f"puts the script in {where.scripts} (not AutoLaunch); move its folder into {where.autolaunch}."
    )


def uninstall(where: Locations, dry_run: bool) -> int:
    container = where.container
    record = read_marker(container)
    if record is None and (container.exists() or container.is_symlink()):
        raise InstallError(
            f"refusing to delete {container}: it was not made by `iterm2-autolaunch install` (no {MARKER})"
        )
    if record is None and not where.archive.is_file():
        print(f"iterm2-autolaunch is not installed in {container.parent}: nothing to remove")
        return 0
    step = Steps(dry_run)
    print(f"Uninstalling iterm2-autolaunch from {container.parent}")
    if record is not None:
        for relative in _recorded(record, "files"):
            path = container / relative
            if path.is_file() or path.is_symlink():
                step(f"remove {relative}", path.unlink)
        for relative in _recorded(record, "trees"):
            path = container / relative
            if path.exists() or path.is_symlink():
                step(f"remove {relative}/", functools.partial(env.remove_tree, path))
        step(f"remove {MARKER}", (container / MARKER).unlink)
        for folder in [*(container / relative for relative in _recorded(record, "folders")), container]:
            step(f"remove {folder} if empty", functools.partial(_remove_if_empty, folder))
    if where.archive.is_file():
        step(f"remove {where.archive}", where.archive.unlink)
        step(f"remove {where.archive.parent} if empty", functools.partial(_remove_if_empty, where.archive.parent))
    print("Done. A copy still running stops when iTerm2 quits (or from Scripts > AutoLaunch).")
    return 0


def _remove_if_empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    left = sorted(entry.name for entry in folder.iterdir())
    if left:
        print(f"  left {folder} in place: it holds what install did not create ({', '.join(left)})")
    else:
        folder.rmdir()


def _recorded(record: dict[str, object], key: str) -> list[str]:
    """The record's relative paths under ``key``, keeping only plain ones inside the container."""
    values = record.get(key)
    if not isinstance(values, list):
        return []
    return [
        value
        for value in values
        if isinstance(value, str) and value and not os.path.isabs(value) and ".." not in Path(value).parts
    ]


def package_dir_for(source: Path | None) -> Path:
    """The package folder to copy: ``<source>/iterm2_autolaunch``, else the one running now."""
    if source is None:
        return Path(__file__).resolve().parent.parent
    candidate = source / NAME
    if not (candidate / "__init__.py").is_file():
        raise InstallError(f"--source {source}: not a source folder of iterm2-autolaunch (no {NAME}/__init__.py)")
    return candidate.resolve()


def install_main(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch install [--uninstall] [--dry-run] [--python PYTHON] [--source DIR]``."""
    parser = argparse.ArgumentParser(
        prog="iterm2-autolaunch install",
        description="Install (or remove) the iTerm2 AutoLaunch script that runs the iterm2-autolaunch daemon.",
    )
    parser.add_argument("--uninstall", action="store_true", help="remove exactly what install created")
    parser.add_argument("--dry-run", action="store_true", help="print the layout and the steps, change nothing")
    parser.add_argument(
        "--python", default=sys.executable, help="Python 3.10+ to build the environment with (default: this one)"
    )
    parser.add_argument(
        "--source", type=Path, help="iterm2-autolaunch source folder to install (default: the running package)"
    )
    args = parser.parse_args(list(argv))
    try:
        where = locations()
        if args.uninstall:
            return uninstall(where, args.dry_run)
        return install(where, args.python, package_dir_for(args.source), args.dry_run)
    except (InstallError, OSError) as error:
        print(f"iterm2-autolaunch install: {error}", file=sys.stderr)
        return 1
