"""``watch_markers`` as the tests run it: a real iterm2-library client process against (fake) iTerm2.

``python tests/marker_client.py IDENTITY`` subscribes with the identity and prints one JSON object per line
on stdout, flushed at once: ``{"subscribed": true}`` once iTerm2 confirmed the subscription, then
``{"session": id, "event": {...scan --json keys...}}`` for each genuine marker. Logs (the ignored markers
included) go to stderr. Start it like iTerm2 starts a script: HOME set (the socket lives under it) and
ITERM2_COOKIE set.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import iterm2

from iterm2_autolaunch.detect import Event
from iterm2_autolaunch.frontends.iterm2_marker import watch_markers


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: marker_client.py IDENTITY", file=sys.stderr)
        return 2
    identity = args[0]
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def on_marker(session_id: str, event: Event) -> None:
        _emit({"session": session_id, "event": event.to_json()})

    async def run(connection: iterm2.Connection) -> None:
        await watch_markers(connection, identity, on_marker, on_subscribed=lambda: _emit({"subscribed": True}))

    iterm2.Connection().run_until_complete(run, retry=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
