"""The layers of DESIGN.md, enforced on the import statements (ast, no import of the code itself).

    frontends ──► core ◄── engine          core: pure values and parsing, no I/O
         │          ▲                      engine: decisions; reaches the world only through interfaces
         ▼          │                      effects: the I/O (ssh, sockets, browser, files)
        (app: cli, daemon, doctor, config_file: wire everything; run no program and open no socket themselves)
                    │
                 effects

Every module of the package must be in exactly one layer; a new module fails here until it is placed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "iterm2_autolaunch"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# Module (dotted, without the package prefix) -> layer. Folders count as a whole unless listed.
CORE = {
    "errors", "session", "target", "config", "config_parse", "sshcmd", "ssh_wrappers", "detect", "kinds", "lines",
    "kinds_dev", "kind_layouts", "marker", "redact", "budget", "interfaces", "host_keys", "events", "hosts",
    "listings", "streams", "candidates", "kinds_services", "kinds_jupyter", "running", "runners",
    "tunnels.base", "__init__",
}  # fmt: skip
ENGINE = {"engine", "server", "opener", "locate"}
EFFECTS = {
    "resolve", "ports", "probe", "browser", "notify", "known_hosts", "host_key_files", "host_certs", "revoked_keys",
    "control", "control_client", "install", "tunnels",
}  # fmt: skip
FRONTENDS = {"frontends"}
APP = {"cli", "daemon", "doctor", "config_file", "__main__"}

# Which layers each layer may import from (its own included).
ALLOWED = {
    "core": {"core"},
    "engine": {"core", "engine"},
    "frontends": {"core", "frontends"},
    "effects": {"core", "effects"},
    "app": {"core", "engine", "effects", "frontends", "app"},
}
# Programs and sockets are run and opened by the effects only; the app wires, the frontends read terminals.
PROCESS_AND_SOCKET = {"subprocess", "socket", "asyncio.subprocess"}
# Libraries that talk to the world: never in the core or the engine.
IO_LIBRARIES = {*PROCESS_AND_SOCKET, "urllib.request", "paramiko", "sshtunnel", "iterm2", "pty", "webbrowser"}


def layer_of(module: str) -> str:
    """``module`` is dotted and relative to the package (``tunnels.registry``)."""
    for name in (module, *_parents(module)):
        for layer, members in (("core", CORE), ("engine", ENGINE), ("effects", EFFECTS),
                               ("frontends", FRONTENDS), ("app", APP)):
            if name in members:
                return layer
    raise LookupError(f"{PACKAGE}.{module} is in no layer: add it to one in tests/test_layers.py")


def _parents(module: str) -> Iterator[str]:
    parts = module.split(".")
    for end in range(len(parts) - 1, 0, -1):
        yield ".".join(parts[:end])


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" and len(relative.parts) > 1 else relative.parts
        yield ".".join(parts), path


def imports(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """Every imported module name (absolute, dotted) with its line; relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = [PACKAGE, *module.split(".")]
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            yield base, node.lineno
            for alias in node.names:  # `from . import x` / `from pkg import submodule`
                yield f"{base}.{alias.name}", node.lineno


def violations(root: Path) -> list[str]:
    found = []
    known = {name for name, _ in modules(root)}
    for module, path in modules(root):
        layer = layer_of(module)
        for name, line in imports(path, module):
            where = f"{PACKAGE}/{path.relative_to(root)}:{line}"
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                target = name[len(PACKAGE) + 1:]
                if target not in known:
                    continue  # `from pkg.mod import Name`: the module itself is checked as its own entry
                if layer_of(target) not in ALLOWED[layer]:
                    found.append(f"{where}: {layer} module {module} imports {layer_of(target)} module {target}")
            elif layer != "effects" and _is_in(name, PROCESS_AND_SOCKET):
                found.append(f"{where}: {layer} module {module} imports {name} (programs and sockets: effects only)")
            elif layer in ("core", "engine") and _is_in(name, IO_LIBRARIES):
                found.append(f"{where}: {layer} module {module} imports {name} (I/O belongs to the effects)")
    return found


def _is_in(name: str, modules: set[str]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


def test_every_module_is_in_one_layer() -> None:
    for module, _ in modules(ROOT):
        layer_of(module)


def test_imports_follow_the_layers() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        pytest.param("detect.py", "import subprocess\n", "core module detect imports subprocess", id="core-io"),
        pytest.param("detect.py", "from iterm2_autolaunch.probe import probe\n", "core module detect imports effects",
                     id="core-effect"),
        pytest.param("engine.py", "from iterm2_autolaunch.tunnels.openssh_backend import OpenSshBackend\n",
                     "engine module engine imports effects", id="engine-concrete-backend"),
        pytest.param("engine.py", "from iterm2_autolaunch.frontends import pty_frontend\n",
                     "engine module engine imports frontends", id="engine-frontend"),
        pytest.param("engine.py", "import socket\n", "imports socket", id="engine-socket"),
        pytest.param("daemon.py", "import subprocess\n", "app module daemon imports subprocess", id="app-subprocess"),
        pytest.param("engine.py", "import paramiko\n", "engine module engine imports paramiko", id="engine-paramiko"),
        pytest.param("frontends/pty_frontend.py", "from iterm2_autolaunch.engine import Engine\n",
                     "frontends module frontends.pty_frontend imports engine", id="frontend-engine"),
        pytest.param("tunnels/registry.py", "from ..daemon import main\n",
                     "effects module tunnels.registry imports app", id="relative-effect-app"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, module: str, source: str, expected: str) -> None:
    """The checker fails when a forbidden import is added (to a copy of the package, with the import on top)."""
    copy = tmp_path / PACKAGE
    for _, path in modules(ROOT):
        destination = copy / path.relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    victim = copy / module
    victim.write_text(source + victim.read_text(encoding="utf-8"), encoding="utf-8")
    found = violations(copy)
    assert any(expected in line for line in found), found
