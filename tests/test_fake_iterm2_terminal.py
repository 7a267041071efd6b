"""The fake iTerm2's screen follows iTerm2's defaults (v3.6.11 ``sources/``), checked cell by cell.

Each test names the iTerm2 function whose behaviour it pins down. ``legacy=True`` is the fake's
older model, kept for tests written against it.
"""

from __future__ import annotations

import pytest
from iterm2 import api_pb2 as pb

from tests.fake_iterm2 import FakeITerm2, Terminal, buffer
from tests.fake_iterm2.grid import DWC_RIGHT, DWC_SKIP, TAB_FILLER


def lines(count: int, prefix: str = "row") -> bytes:
    return "".join(f"{prefix} {i}\r\n" for i in range(count)).encode()


def history(term: Terminal) -> list[str]:
    return [line.text for line in term.lines(term.overflow, term.screen_top)]


# ------------------------------------------------------------------------------ what reaches history


def test_alternate_screen_scrolls_into_history() -> None:
    # KEY_SCROLLBACK_IN_ALTERNATE_SCREEN defaults to YES (iTermProfilePreferences.m), so
    # VT100ScreenMutableState.m appendLineFeed passes the line buffer on the alternate grid too.
    term = Terminal(rows=3, columns=20)
    term.write(b"\x1b[?1049h" + lines(5, "alt"))
    assert history(term) == ["alt 0", "alt 1", "alt 2"]
    legacy = Terminal(rows=3, columns=20, legacy=True)
    legacy.write(b"\x1b[?1049h" + lines(5, "alt"))
    assert history(legacy) == []


def test_scroll_region_at_the_top_feeds_history_one_lower_does_not() -> None:
    # VT100Grid.m scrollUpIntoLineBuffer: a region with scrollTop == 0 appends its top row when
    # useScrollbackWithRegion (KEY_SCROLLBACK_WITH_STATUS_BAR, default YES); tmux's pane above its
    # status line is such a region.
    term = Terminal(rows=4, columns=20)
    term.write(b"\x1b[1;3r\x1b[3;1H" + b"\r\n".join(b"pane %d" % i for i in range(4)))
    # The cursor starts on the region's bottom row: the first line feed pushes the blank top row.
    assert history(term) == ["", "", "pane 0"]
    lower = Terminal(rows=4, columns=20)
    lower.write(b"\x1b[2;4r\x1b[4;1H" + b"\r\n".join(b"pane %d" % i for i in range(4)))
    assert history(lower) == []


def test_csi_scroll_up_feeds_history_even_on_the_alternate_screen() -> None:
    # VT100ScreenMutableState+TerminalDelegate.m terminalScrollUp: always passes self.linebuffer.
    term = Terminal(rows=3, columns=20)
    term.write(b"\x1b[?1049hone\r\ntwo\x1b[2S")
    assert history(term) == ["one", "two"]


@pytest.mark.parametrize("alternate", [False, True], ids=["main", "alternate"])
def test_erase_display_2_saves_the_used_rows(alternate: bool) -> None:
    # eraseInDisplayBeforeCursor:afterCursor: with both -> scrollScreenIntoHistory, which pushes
    # rows up to the last one that is not blank (numberOfNonEmptyLinesIncludingWhitespaceAsEmpty:).
    term = Terminal(rows=5, columns=20)
    if alternate:
        term.write(b"\x1b[?1049h")
    term.write(b"banner\r\n   \r\nurl\r\n\x1b[2J")
    assert history(term) == ["banner", "   ", "url"]
    assert all(line.text == "" for line in term.screen())


def test_erase_below_from_home_saves_the_alternate_screen_only() -> None:
    # The same function: ED 0 at (0,0) in alternate screen mode scrolls the screen into history
    # (advanced setting saveScrollBufferWhenClearing, YES); on the main screen it does not (zsh).
    alt = Terminal(rows=3, columns=20)
    alt.write(b"\x1b[?1049hscreen's page\x1b[H\x1b[J")
    assert history(alt) == ["screen's page"]
    main = Terminal(rows=3, columns=20)
    main.write(b"prompt\x1b[H\x1b[J")
    assert history(main) == []


# ------------------------------------------------------------------------------ cells


def test_cells_never_written_or_erased_are_nul() -> None:
    # Cursor motion writes nothing; ECH and EL 1 write the default char (code 0). GetBuffer trims
    # trailing NULs and sends inner ones as U+0000 (iTermTextExtractor.m enumerateCharsInRange:).
    term = Terminal(rows=2, columns=20)
    term.write(b"a\x1b[3Cb\r\nxyz\x1b[1G\x1b[1X")
    assert [line.sent for line in term.screen()] == ["a\x00\x00\x00b", "\x00yz"]
    assert [line.text for line in term.screen()] == ["a   b", " yz"]
    legacy = Terminal(rows=2, columns=20, legacy=True)
    legacy.write(b"a\x1b[3Cb")
    assert legacy.screen()[0].text == "a   b"


def test_tab_leaves_fillers_and_one_tab_character() -> None:
    # VT100ScreenMutableState.m appendTabAtCursor: over NUL cells, TAB_FILLER up to the stop and
    # '\t' in its last cell; stringForLine: gives the fillers no code points.
    term = Terminal(rows=1, columns=20)
    term.write(b"ab\tc")
    line = term.screen()[0]
    assert line.cells == "ab" + TAB_FILLER * 5 + "\tc"
    assert line.sent == "ab\tc"


def test_double_width_characters_take_two_cells_and_wrap_whole() -> None:
    # VT100Grid.m appendCharsAtCursor: a DWC that would start in the last column leaves DWC_SKIP
    # there and EOL_DWC (soft); its right half is DWC_RIGHT.
    term = Terminal(rows=3, columns=5)
    term.write("ab日本".encode())
    first, second = term.screen()[:2]
    assert first.cells == "ab日" + DWC_RIGHT + DWC_SKIP and first.soft
    assert second.cells == "本" + DWC_RIGHT
    assert (first.sent, second.sent) == ("ab日", "本")


# ------------------------------------------------------------------------------ resize


def test_resize_reflows_history_and_screen_and_moves_line_numbers() -> None:
    # VT100ScreenMutableState+Resizing.m: history and screen are logical lines rewrapped at the
    # new width; the screen is refilled from the end.
    term = Terminal(rows=3, columns=10)
    term.write(b"0123456789abcdef\r\nshort\r\nlast")
    assert (term.history_size, term.screen_top) == (1, 1)
    term.resize(3, 20)
    assert [line.text for line in term.lines(0, 3)] == ["0123456789abcdef", "short", "last"]
    assert (term.history_size, term.screen_top, term.cursor()) == (0, 0, (4, 2))
    term.resize(3, 4)
    assert history(term) == ["0123", "4567", "89ab", "cdef"]
    assert [line.text for line in term.screen()] == ["shor", "t", "last"]
    assert term.cursor() == (4, 6)


# ------------------------------------------------------------------------------ GetBuffer


def get_buffer(term: Terminal, first: int, end: int, end_x: int = 0) -> pb.GetBufferResponse:
    line_range = pb.LineRange()
    coords = line_range.windowed_coord_range.coord_range
    coords.start.y, coords.end.y, coords.end.x = first, end, end_x
    result = pb.GetBufferResponse()
    buffer.fill(term, line_range, result, styles=False)
    return result


def test_get_buffer_shape() -> None:
    # PTYSession.m handleGetBufferRequest: one LineContents per end of line, from the first line
    # still stored; the reply echoes the requested range unclipped; private cells have 0 code points.
    term = Terminal(rows=3, columns=5, scrollback=1)
    term.write("first\r\nx\tyabcd日\r\nlast".encode())
    reply = get_buffer(term, 0, 10)
    assert term.overflow == 1  # "first" was dropped from the one-line history
    soft, hard = pb.LineContents.CONTINUATION_SOFT_EOL, pb.LineContents.CONTINUATION_HARD_EOL
    assert [(c.text, c.continuation) for c in reply.contents] == [
        ("x\ty", soft),
        ("abcd", soft),  # EOL_DWC: the wide character did not fit
        ("日", hard),
        ("last", hard),
    ]
    cells = [[(r.num_code_points, r.repeats) for r in c.code_points_per_cell] for c in reply.contents]
    assert cells[:3] == [[(1, 1), (0, 2), (1, 2)], [(1, 4), (0, 1)], [(1, 1), (0, 1)]]
    assert (reply.windowed_coord_range.coord_range.start.y, reply.windowed_coord_range.coord_range.end.y) == (0, 10)


def test_get_buffer_range_ending_inside_a_row_ends_soft() -> None:
    # enumerateCharsInRange: on row end.y only cells before end.x, and no EOL unless trailing NULs;
    # handleGetBufferRequest then closes the line with EOL_SOFT.
    term = Terminal(rows=2, columns=5)
    term.write(b"abcde")
    reply = get_buffer(term, 0, 0, end_x=3)
    assert [(c.text, c.continuation) for c in reply.contents] == [("abc", pb.LineContents.CONTINUATION_SOFT_EOL)]


def test_custom_escape_parameters_parsed_as_iterm2_does(
    fake: FakeITerm2, monkeypatch: pytest.MonkeyPatch
) -> None:
    # VT100Terminal.m executeXtermSetKvp: "Custom=k1=v1;k2=v2:payload"; the identity is the "id"
    # parameter (PTYSession.m screenDidReceiveCustomEscapeSequenceWithParameters:).
    posted: list[tuple[str, str]] = []
    monkeypatch.setattr(fake, "_post_custom_escape", lambda _session, identity, text: posted.append((identity, text)))
    session = fake.add_session()
    session.write(b"\x1b]1337;Custom=id=secret;v=2:http://x:1/?a=b\x07\x1b]1337;Custom=v=1:no-id\x07")
    session.write(b"\x1b]1337;Custom=id=no-colon\x07")
    assert posted == [("secret", "http://x:1/?a=b"), ("", "no-id")]
