"""Desktop notifications for the pty wrapper: macOS Notification Center via osascript, `notify-send`
elsewhere, else nothing (the caller has logged the event already). The iTerm2 daemon uses iTerm2's own.

The text is passed as argv to a fixed script, never spliced into code, so printed text cannot inject.
Callers never pass a token (the engine redacts URLs first). Never blocks: the child is reaped by a thread.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

_APPLESCRIPT = ("on run argv", "display notification (item 2 of argv) with title (item 1 of argv)", "end run")


def notify(title: str, message: str) -> None:
    if sys.platform == "darwin":
        argv = ["osascript", *(arg for line in _APPLESCRIPT for arg in ("-e", line)), title, message]
    elif shutil.which("notify-send"):
        argv = ["notify-send", "--app-name=iterm2-autolaunch", title, message]
    else:
        return
    try:
        child = subprocess.Popen(  # noqa: S603 - fixed argv, text as arguments
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return
    threading.Thread(target=child.wait, name="notify-reaper", daemon=True).start()
