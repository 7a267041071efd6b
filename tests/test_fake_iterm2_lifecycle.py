"""The fake iTerm2's sessions over time, as iTerm2 v3.6.11 does it: refresh cadence by tab,
what "all sessions" subscriptions reach, closing with undo, resizing.

A real client (tests/iterm2_client.py, the frontend) is the subscriber; the fake's own counters
are what is checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.test_iterm2_frontend import Client, output, start_client

__all__ = ["start_client"]  # the fixture, shared with test_iterm2_frontend


async def _posted(session: FakeSession) -> int:
    return session.updates_posted


def test_background_tab_refreshes_about_once_a_second(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # iTermUpdateCadenceController.m: kBackgroundUpdateCadence (1 s) when the session's tab is not
    # the selected one; activeUpdateCadence (60 Hz) when it is.
    front = fake.add_session()
    back = fake.add_session(background_tab_of=front)
    start_client(front, back)
    before_front, before_back = fake.call(_posted(front)), fake.call(_posted(back))
    started = time.monotonic()
    for i in range(10):
        front.write(output([f"front {i}"]))
        back.write(output([f"back {i}"]))
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    back_updates = fake.call(_posted(back)) - before_back
    front_updates = fake.call(_posted(front)) - before_front
    assert back_updates <= elapsed + 1  # at most one per second (and one at the start)
    assert front_updates > back_updates
    fake.select_tab(back)  # now the front one is in the background


def test_all_sessions_subscription_misses_sessions_buried_before_it(home: str) -> None:
    # iTermAPIHelper.m handleSubscriptionRequestForAllObjects: subscribes each of allSessions (the
    # windows' tabs' sessions, PseudoTerminal.m allSessions: every tab, selected or not) and
    # sessionCreated: adds later ones; a session buried before the subscription is not among them.
    with FakeITerm2(home).running() as fake:
        buried = fake.add_session(buried=True)
        hidden = fake.add_session(background_tab_of=fake.add_session())
        client = Client(fake, home)
        try:
            client.wait_for(lambda: fake.screen_subscribers(hidden) > 0, "the frontend's subscriptions")
            assert not fake.reached_by_all_subscription(buried)
            assert fake.reached_by_all_subscription(hidden)
            later = fake.add_session(buried=True)  # created after: sessionCreated: covers it
            assert fake.reached_by_all_subscription(later)
            # The frontend subscribes to the buried session by itself (test_reader_iterm2_defaults).
            assert fake.screen_subscribers(buried) == 1
        finally:
            client.stop()
