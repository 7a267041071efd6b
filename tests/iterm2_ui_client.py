"""The iTerm2 UI as the tests run it: the real frontend, the real engine and ``start_ui``, with the
fake world of tests/test_engine.py as the remote side (forwards, probes and the browser are fakes).

``python -m tests.iterm2_ui_client`` (from the repository root) connects to whatever iTerm2 $HOME points at (HOME and
ITERM2_COOKIE set, as iTerm2 starts a script) and prints one JSON object per line on stdout:

    {"ready": true}                                   once the UI is registered and sessions are watched
    {"opened": [urls...]}                             each time the fake browser is asked to open a URL
    {"forwards": [{"local_port": .., "closed": ..}]}  each time the engine's forwards change
    {"stopped": true}                                 after the test_stop function ran

Besides the UI it registers two functions for the tests: ``test_notify(title, message)`` calls
``Ui.notify`` (to send hostile text through the real path) and ``test_stop()`` shuts down the engine
and the UI as the daemon does while iTerm2 stays up. It exits when the connection drops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import iterm2

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.frontends.iterm2_frontend import watch_sessions
from iterm2_autolaunch.frontends.iterm2_ui import start_ui
from tests.test_engine import FakeWorld

# The fake world answers on these (remote host, port) pairs; anything else "did not answer".
ALIVE = {("127.0.0.1", 8888), ("127.0.0.1", 6006)}


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(connection: iterm2.Connection) -> None:
    world = FakeWorld(alive=set(ALIVE))
    effects = world.effects()

    def open_url(url: str) -> None:
        world.opened.append(url)
        _emit({"opened": list(world.opened)})

    effects.open_url = open_url
    engine = Engine(Config(), effects, health_interval=0.2)
    engine.add_listener(
        lambda: _emit({"forwards": [{"local_port": f.local_port, "closed": f.closed} for f in world.forwards]})
    )
    ui = await start_ui(connection, engine)
    effects.notify = ui.notify  # as the daemon wires it: the engine was built first
    watcher = asyncio.create_task(watch_sessions(connection, engine))

    @iterm2.RPC
    async def test_notify(title: str, message: str) -> str:
        ui.notify(title, message)
        return "ok"

    @iterm2.RPC
    async def test_stop() -> str:
        watcher.cancel()
        await engine.shutdown(timeout=2.0)
        await ui.close()
        _emit({"stopped": True})
        return "stopped"

    for function in (test_notify, test_stop):
        try:
            await function.async_register(connection)
        except iterm2.notifications.SubscriptionException:
            pass  # a second copy against the same iTerm2: the first one's are registered
    _emit({"ready": True})
    assert connection.websocket is not None
    await connection.websocket.wait_closed()
    watcher.cancel()
    await engine.shutdown(timeout=2.0)
    await ui.close()


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    iterm2.Connection().run_until_complete(main, retry=False)
