"""Opening one forward for the engine: the login bounded per host, one retry when the port was taken
meanwhile, and the forward owned even when the start that wanted it is cancelled half-way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.errors import PortTaken
from iterm2_autolaunch.interfaces import Effects
from iterm2_autolaunch.target import ForwardSpec, SshTarget
from iterm2_autolaunch.tunnels.base import AnyBackend, Forward, open_forward

log = logging.getLogger(__name__)


class Opener:
    def __init__(self, config: Config, effects: Effects, track: Callable[[Coroutine[Any, Any, object]], None]):
        self._config = config
        self._effects = effects
        self._track = track  # the engine's: runs a closing step that shutdown waits for
        self._logins: dict[tuple[str, int], asyncio.Semaphore] = {}  # per ssh host: logins in flight

    async def open(self, target: SshTarget, remote_host: str, remote_port: int) -> Forward:
        backend = await asyncio.to_thread(
            self._effects.backend, self._config.backend_for(target.destination), target
        )
        logins = self._logins.setdefault((target.hostname, target.port),
                                         asyncio.Semaphore(self._config.limits.logins_per_host))
        async with logins:  # a start cancelled while waiting here never logs in
            for attempt in (1, 2):
                local_port = self._effects.choose_port(remote_port, self._config.port_range)
                spec = ForwardSpec(target, remote_host, remote_port, local_port)
                try:
                    return await self._owned_open(backend, spec)
                except PortTaken:
                    # Taken between our check and the bind: one more try on another port.
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def _owned_open(self, backend: AnyBackend, spec: ForwardSpec) -> Forward:
        """Open, owning the result even when the start is cancelled meanwhile: a blocking open goes on in its
        thread, so a cancelled start leaves a task that waits for it and closes what it made."""
        opening = asyncio.ensure_future(open_forward(backend, spec))
        try:
            return await asyncio.shield(opening)
        except asyncio.CancelledError:
            self._track(_close_when_opened(opening))
            raise


async def _close_when_opened(opening: asyncio.Future[Forward]) -> None:
    """Wait for an open nobody wants any more, then close what it made (a failed open made nothing)."""
    try:
        forward = await opening
    except Exception:
        return
    await asyncio.to_thread(forward.close)
    log.info("closed localhost:%d: its start was cancelled while it opened", forward.local_port)
