"""The iTerm2 frontend against what real iTerm2 does with default preferences.

The fake iTerm2 (tests/fake_iterm2) follows iTerm2 v3.6.11's source here; each test names the
behaviour and the function it comes from. The frontend runs as a real client process
(tests/iterm2_client.py) and prints every logical line it hands over.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.client_process import WAIT
from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.test_iterm2_frontend import SSH_CONTEXT, Client, jupyter_url, numbered, output, start_client

__all__ = ["start_client"]  # the fixture, shared with test_iterm2_frontend

BANNER = "[I 10:00:00 ServerApp] Jupyter Server 2.21.1 is running at:"


def ended(client: Client, session: FakeSession) -> bool:
    return any(r.get("ended") == session.session_id for r in client.records)


def test_nul_cells_read_as_spaces(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # Cursor motion leaves NUL cells, sent as U+0000 (PTYSession.m stringForLine:); a program that
    # indents with CSI C draws "    http://..." on the screen, and that is what must be read.
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client(session)
    url = jupyter_url().strip()
    session.write(f"{BANNER}\r\n\x1b[4C{url}\r\nnext\t|\r\n".encode())
    assert client.wait_lines(session, 3) == [BANNER, jupyter_url(), "next    |"]


def test_banner_in_a_multiplexer_scrolled_into_history_arrives_once(
    fake: FakeITerm2, start_client: Callable[..., Client]
) -> None:
    # A tmux-like screen: alternate screen, a scroll region over all rows but the status line.
    # Rows leaving the region's top enter the history (VT100Grid.m scrollUpIntoLineBuffer:,
    # KEY_SCROLLBACK_WITH_STATUS_BAR and KEY_SCROLLBACK_IN_ALTERNATE_SCREEN default YES).
    session = fake.add_session(rows=10, columns=80, variables=SSH_CONTEXT)
    client = start_client(session)
    session.write(b"\x1b[?1049h\x1b[10;1H[0] 0:bash*\x1b[1;9r\x1b[1;1H")
    session.write(output([BANNER, jupyter_url()]))
    client.wait_for(lambda: jupyter_url() in client.lines(session), "the URL on the multiplexer's screen")
    session.write(output(numbered("pane", 30)))
    client.wait_for(lambda: "pane 00028" in client.lines(session), "the pane's later lines")
    assert session.terminal.history_size > 20  # the banner went into the history
    assert client.lines(session).count(jupyter_url()) == 1
    assert client.lines(session).count(BANNER) == 1


def test_screen_cleared_into_history_is_not_read_again(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # ED 2 pushes the used rows into the history first (VT100ScreenMutableState.m
    # eraseInDisplayBeforeCursor:afterCursor: -> scrollScreenIntoHistory): same rows, same numbers.
    session = fake.add_session(rows=10)
    client = start_client(session)
    session.write(output([BANNER, jupyter_url()]))
    client.wait_lines(session, 2)
    session.write(b"\x1b[H\x1b[2J" + output(["after clear"]))
    assert client.wait_lines(session, 3) == [BANNER, jupyter_url(), "after clear"]
    assert session.terminal.lines(0, 1)[0].text == BANNER  # in the history, at its old number


def test_resize_repeats_nothing_and_loses_nothing_after(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # A resize reflows history and screen and renumbers rows (VT100ScreenMutableState+Resizing.m),
    # then `columns`/`rows` change and a layout change follows.
    session = fake.add_session(rows=6, columns=80, variables=SSH_CONTEXT)
    client = start_client(session)
    before = [BANNER, jupyter_url(), *numbered("log", 8)]
    session.write(output(before))
    client.wait_lines(session, len(before))
    for rows, columns in [(6, 30), (12, 120), (5, 20)]:
        fake.resize_session(session, rows, columns)
        session.write(output([f"after {columns}"]))
        client.wait_lines(session, len(client.lines(session)) + 1)
    assert client.lines(session) == [*before, "after 30", "after 120", "after 20"]
    assert client.contexts(session)[-1]["session_id"] == session.session_id


def test_undone_close_keeps_the_session_and_termination_ends_it(home: str) -> None:
    # PTYSession.m terminate -> makeTerminationUndoable: gone from the layout at once; hardStop
    # (TERMINATE_SESSION) after KEY_UNDO_TIMEOUT; revive posts NEW_SESSION with the same id.
    with FakeITerm2(home, undo_timeout=1.0).running() as fake:
        session = fake.add_session(variables=SSH_CONTEXT)
        client = Client(fake, home)
        try:
            client.wait_for(lambda: fake.call(_reads(session)) > 0, "the first read")
            session.write(output([BANNER]))
            client.wait_lines(session, 1)
            fake.close_session(session)
            session.write(output(["written while closed"]))  # waits: the shell is paused
            time.sleep(0.5)  # within the undo timeout
            fake.revive_session(session)
            assert client.wait_lines(session, 2) == [BANNER, "written while closed"]
            time.sleep(1.5)  # past the first close's undo timeout: no termination was posted
            assert not ended(client, session)
            fake.close_session(session)
            client.wait_for(lambda: ended(client, session), "session_ended after the undo timeout", WAIT)
        finally:
            client.stop()


def test_buried_session_is_read(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # An "all" subscription does not reach sessions buried before it (iTermAPIHelper.m
    # handleSubscriptionRequestForAllObjects: over allSessions); the frontend subscribes to them.
    buried = fake.add_session(buried=True, variables=SSH_CONTEXT)
    shown = fake.add_session()
    client = start_client(buried, shown)
    buried.write(output([BANNER, jupyter_url()]))
    assert client.wait_lines(buried, 2) == [BANNER, jupyter_url()]
    assert client.contexts(buried)[-1]["job_name"] == "ssh"


def test_background_tab_updates_slowly_and_loses_nothing(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    # iTermUpdateCadenceController.m: a session not in its window's selected tab refreshes every
    # second (kBackgroundUpdateCadence); what scrolled by meanwhile is read from the history.
    front = fake.add_session(rows=10)
    back = fake.add_session(rows=10, background_tab_of=front)
    client = start_client(front, back)
    lines = [BANNER, jupyter_url(), *numbered("log", 200)]
    for i in range(0, len(lines), 50):
        back.write(output(lines[i : i + 50]))
    assert client.wait_lines(back, len(lines)) == lines


async def _reads(session: FakeSession) -> int:
    return session.screen_reads
