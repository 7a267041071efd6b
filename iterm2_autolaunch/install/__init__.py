"""``iterm2-autolaunch install``: make the daemon an iTerm2 AutoLaunch full-environment script.

It writes ``<iTerm2 Scripts folder>/AutoLaunch/iterm2_autolaunch/`` (the folder honours iTerm2's custom
scripts folder preference; ``paths``)::

    setup.cfg, metadata.json                  in the form iTerm2 writes and reads (``layout``)
    iterm2_autolaunch/iterm2_autolaunch.py    the entry script: runs iterm2_autolaunch.daemon.main
    iterm2_autolaunch/iterm2_autolaunch/      a copy of this package, found before anything installed
    .venv/ + python-runtime.json              the environment as iTerm2 3.7.0beta9+ finds it (``environment``)
    iterm2env/                                the same environment as 3.5, 3.6 and 3.7.0beta1-8 find it
    .iterm2-autolaunch-install.json           what this command created, so --uninstall removes exactly that

and ``~/Library/Application Support/iterm2-autolaunch/iterm2_autolaunch.zip`` for Scripts > Manage > Import.
The rules these follow are modelled, with their iTerm2 sources, in tests/test_iterm2_launch_rules.py.
"""

from iterm2_autolaunch.install.command import install_main
from iterm2_autolaunch.install.layout import (
    ENVIRONMENT_VERSION,
    PINS,
    SATISFIES,
    InstallError,
    autolaunch_files,
    build_archive,
    requirements,
    runtime_marker_text,
    write_autolaunch_tree,
)
from iterm2_autolaunch.install.paths import NAME, Locations, custom_scripts_folder, locations

__all__ = [
    "ENVIRONMENT_VERSION", "NAME", "PINS", "SATISFIES", "InstallError", "Locations", "autolaunch_files",
    "build_archive", "custom_scripts_folder", "install_main", "locations", "requirements",
    "runtime_marker_text", "write_autolaunch_tree",
]

if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(install_main(sys.argv[1:]))
