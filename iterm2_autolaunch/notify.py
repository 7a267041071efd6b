"""Desktop notifications: macOS Notification Center via osascript, `notify-send` elsewhere, else the log.

The text is passed as argv to a fixed script, never spliced into code, so printed text cannot inject.
Callers never pass a token (the engine redacts URLs first).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

log = logging.getLogger(__name__)

_APPLESCRIPT = ("on run argv", "display notification (item 2 of argv) with title (item 1 of argv)", "end run")


def notify(title: str, message: str) -> None:
    log.warning("%s: %s", title, message)
    if sys.platform == "darwin":
        argv = ["osascript", *(arg for line in _APPLESCRIPT for arg in ("-e", line)), title, message]
    elif shutil.which("notify-send"):
        argv = ["notify-send", "--app-name=iterm2-autolaunch", title, message]
    else:
        return
    try:
        subprocess.run(argv, timeout=5, check=False, capture_output=True)  # noqa: S603 - fixed argv
    except (OSError, subprocess.TimeoutExpired) as error:
        log.info("notification not shown: %s", error)
