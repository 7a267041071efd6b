"""iTerm2's browser panes as the tests run them: the real frontend, the real engine and the real
``Iterm2Panes``, with the fake world of tests/test_engine.py as the remote side (forwards and probes fake).

``python -m tests.iterm2_pane_client '<config TOML>'`` connects to the iTerm2 that $HOME points at and prints
one JSON object per line on stdout:

    {"ready": true}                               once sessions are watched
    {"opened": [urls...]}                         each time the system browser (the fallback) gets a URL
    {"notes": [[title, message], ...]}            each time a notification is posted
    {"servers": [...], "forwards": [closed...]}  each time the engine's forwards change

and registers ``test_list()``, which answers what `iterm2-autolaunch list` would show (JSON).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import iterm2

from iterm2_autolaunch.config_parse import parse_config_text
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.frontends.iterm2_frontend import watch_sessions
from iterm2_autolaunch.frontends.iterm2_pane import Iterm2Panes
from tests.test_engine import FakeWorld

ALIVE = {("127.0.0.1", 8888), ("127.0.0.1", 8889)}


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(connection: iterm2.Connection) -> None:
    config = parse_config_text(sys.argv[1], "<test>")
    world = FakeWorld(alive=set(ALIVE))
    effects = world.effects()

    def open_url(url: str) -> None:
        world.opened.append(url)
        _emit({"opened": list(world.opened)})

    def notify(title: str, message: str) -> None:
        world.notes.append((title, message))
        _emit({"notes": [list(note) for note in world.notes]})

    effects.open_url = open_url
    effects.notify = notify
    panes = Iterm2Panes(connection, open_url, notify, close_panes=config.close_browser_pane)
    effects.panes = panes
    engine = Engine(config, effects, health_interval=0.2)

    def changed() -> None:
        servers = [{**server.describe(), "pane": panes.pane_of(server)} for server in engine.servers()]
        _emit({"servers": servers, "forwards": [f.closed for f in world.forwards]})

    engine.add_listener(changed)

    @iterm2.RPC
    async def test_list() -> str:  # what `iterm2-autolaunch list` gets from the control socket
        return json.dumps([server.describe() for server in engine.servers()])

    await test_list.async_register(connection)
    watcher = asyncio.create_task(watch_sessions(connection, engine))
    _emit({"ready": True})
    assert connection.websocket is not None
    await connection.websocket.wait_closed()
    watcher.cancel()
    await engine.shutdown(timeout=2.0)
    await panes.close()


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    iterm2.Connection().run_until_complete(main, retry=False)
