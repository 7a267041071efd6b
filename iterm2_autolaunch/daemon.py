"""Entry points that build the engine from the config with the real effects, then run a frontend.

``main`` is what the AutoLaunch script runs inside iTerm2; ``run_command`` is ``iterm2-autolaunch run``.
Logging is configured here and only here. A bad config file is reported and the daemon goes on with
the defaults: a typo must not leave the user without the tool.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import iterm2

from iterm2_autolaunch.browser import Browser
from iterm2_autolaunch.config import Config
from iterm2_autolaunch.config_file import load_config
from iterm2_autolaunch.control import ControlServer, serve_control
from iterm2_autolaunch.detect import Event
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.errors import ConfigError
from iterm2_autolaunch.frontends.iterm2_frontend import run
from iterm2_autolaunch.frontends.iterm2_marker import session_context, watch_markers
from iterm2_autolaunch.frontends.iterm2_pane import Iterm2Panes
from iterm2_autolaunch.frontends.iterm2_ui import Ui, start_ui
from iterm2_autolaunch.interfaces import Effects
from iterm2_autolaunch.notify import notify
from iterm2_autolaunch.ports import choose_local_port
from iterm2_autolaunch.probe import probe
from iterm2_autolaunch.resolve import resolve_context
from iterm2_autolaunch.session import LineSink
from iterm2_autolaunch.target import remote_forward_host
from iterm2_autolaunch.tunnels.registry import choose_backend

log = logging.getLogger("iterm2_autolaunch")


def setup_logging(verbose: bool = False, raw_terminal: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if raw_terminal:
        handler.terminator = "\r\n"  # the pty wrapper puts the terminal in raw mode: \n alone would not return
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    # paramiko logs every channel at INFO; only its problems interest a user.
    logging.getLogger("paramiko").setLevel(logging.WARNING)


def config_or_defaults() -> Config:
    try:
        return load_config()
    except ConfigError as error:
        log.error("%s; running with the default settings", error)
        notify("iterm2-autolaunch: config ignored", str(error))
        return Config()


def real_effects(config: Config, browser: Browser, notifier: Callable[[str, str], None] = notify) -> Effects:
    return Effects(
        resolve=functools.partial(resolve_context, trusted=config.trusts_variables),
        backend=choose_backend,
        choose_port=choose_local_port,
        remote_host=remote_forward_host,
        probe=probe,
        open_url=browser.open,
        notify=notifier,
    )


async def start_service(config: Config) -> DaemonService:
    """The service of the pty wrapper (and of any frontend without iTerm2): the engine and its browser."""
    browser = Browser(config.browser)
    return DaemonService(Engine(config, real_effects(config, browser)), browser=browser)


@dataclass
class DaemonService:
    """Everything a running daemon owns, for the iTerm2 daemon and the pty wrapper alike: the engine, and
    in iTerm2 the control socket, the UI and the marker watcher. ``aclose`` stops it all, bounded."""

    engine: Engine
    browser: Browser | None = None
    control: ControlServer | None = None
    ui: Ui | None = None
    panes: Iterm2Panes | None = None
    markers: asyncio.Task[None] | None = None
    workers: ThreadPoolExecutor = field(default_factory=lambda: _bounded_workers())

    @property
    def sink(self) -> LineSink:
        return self.engine

    async def aclose(self) -> None:
        if self.markers is not None:
            self.markers.cancel()
            await asyncio.gather(self.markers, return_exceptions=True)
        if self.control is not None:
            await self.control.close()
        await self.engine.shutdown(timeout=1.0)
        if self.panes is not None:
            await self.panes.close()  # the panes themselves stay, as the user's tabs do
        if self.ui is not None:
            await self.ui.close()
        if self.browser is not None:
            await asyncio.to_thread(self.browser.close, 1.0)  # its pages go; a browser still starting has them
        self.workers.shutdown(wait=False, cancel_futures=True)  # a thread still in a login ends with it


WORKERS = 8  # threads for blocking steps (ssh -G, logins, probes): enough for logins_per_host x a few hosts


def _bounded_workers() -> ThreadPoolExecutor:
    """The loop's executor, bounded and named, so that a flood of work queues instead of spawning threads."""
    workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="ita-worker")
    asyncio.get_running_loop().set_default_executor(workers)
    return workers


async def start_iterm2_service(connection: iterm2.Connection, config: Config) -> DaemonService:
    """The engine, its control socket (refused if another daemon runs), the iTerm2 UI, and the invisible
    marker (when ``marker_identity`` is configured)."""
    browser = Browser(config.browser)
    effects = real_effects(config, browser)
    engine = Engine(config, effects)
    control = await serve_control(engine)
    ui = await start_ui(connection, engine)
    effects.notify = ui.notify  # iTerm2's own notification (OSC 9) instead of a second desktop one
    # iTerm2's built-in browser for `browser = "iterm2-split" | "iterm2-tab"`; the system browser otherwise.
    panes = Iterm2Panes(connection, browser.open, ui.notify, close_panes=config.close_browser_pane)
    effects.panes = panes
    service = DaemonService(engine, browser, control, ui, panes)
    if config.marker_identity:
        tasks: set[asyncio.Task[None]] = set()

        def on_marker(session_id: str, event: Event) -> None:
            async def hand_over() -> None:  # the engine needs the session's context to find its ssh host
                engine.session_event(await session_context(connection, session_id), event)

            task = asyncio.get_running_loop().create_task(hand_over())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        service.markers = asyncio.create_task(watch_markers(connection, config.marker_identity, on_marker))
    return service


def main() -> int:
    """The iTerm2 daemon: watch every session until iTerm2 goes away."""
    setup_logging()
    config = config_or_defaults()
    log.info("iterm2-autolaunch starting (config: %s)", config.source)
    return run(lambda connection: start_iterm2_service(connection, config))


def run_command(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch run -- CMD...``: the pty wrapper for any terminal."""
    from iterm2_autolaunch.frontends.pty_frontend import run_wrapped

    setup_logging(raw_terminal=sys.stdin.isatty())
    config = config_or_defaults()

    return run_wrapped(argv, lambda: start_service(config), marker_identity=config.marker_identity)
