"""Raw bytes to logical lines: what a person would read, however the bytes were cut."""

from __future__ import annotations

import pytest

from iterm2_autolaunch.lines import MAX_LINE, TRUNCATED, LineAssembler, bytes_to_lines


def lines_of(data: bytes, chunk: int | None = None) -> list[str]:
    if chunk is None:
        return list(bytes_to_lines([data]))
    return list(bytes_to_lines(data[i : i + chunk] for i in range(0, len(data), chunk)))


CASES = [
    pytest.param(b"a\r\nb\nc", ["a", "b", "c"], id="crlf-lf-and-unterminated-last-line"),
    pytest.param(b"\x1b[1;32mgreen\x1b[0m text\n", ["green text"], id="csi-colours"),
    pytest.param(b"\x1b]0;user@host: ~\x07prompt$ ls\n", ["prompt$ ls"], id="osc-title-bel"),
    pytest.param(b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n", ["link"], id="osc-hyperlink-st"),
    pytest.param(b"\x1bP1$r0m\x1b\\after\n", ["after"], id="dcs"),
    pytest.param(b"\x1b(B\x1b7saved\x1b8\n", ["saved"], id="short-escapes"),
    pytest.param(b"progress 10%\rprogress 100%\n", ["progress 100%"], id="cr-redraw"),
    pytest.param(b"long line here\rshort\n", ["shortline here"], id="cr-partial-overwrite"),
    pytest.param(b"abc\x08\x08XY\n", ["aXY"], id="backspace"),
    pytest.param(b"bad \xff\xfe utf8\n", ["bad \ufffd\ufffd utf8"], id="invalid-utf8"),
    pytest.param(b"bell\x07 and nul\x00\n", ["bell and nul"], id="control-chars-dropped"),
    pytest.param(b"text\x1b[31", ["text"], id="unterminated-csi-at-end"),
    pytest.param(b"\x1b]0;never ends\nnext\n", ["0;never ends", "next"], id="osc-without-terminator-at-newline"),
    pytest.param("caf\u00e9 \u2192 ok\n".encode(), ["caf\u00e9 \u2192 ok"], id="utf8-kept"),
]


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_lines(data: bytes, expected: list[str]) -> None:
    assert lines_of(data) == expected


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_any_chunking_gives_the_same_lines(chunk: int) -> None:
    data = (
        b"\x1b[1;34m[I 2026-11-28 03:39:05.553 ServerApp]\x1b[0m http://127.0.0.1:8888/lab?token=ab\xc3\xa9\r\n"
        b"\x1b]0;title\x07next \xe2\x86\x92 line\r\nprogress 1%\rprogress 99%\r\n"
    )
    assert lines_of(data, chunk) == lines_of(data)


def test_escape_sequence_split_across_chunks_is_removed() -> None:
    assembler = LineAssembler()
    assert assembler.feed(b"before \x1b[3") == []
    assert assembler.feed(b"8;5;196mred\x1b]0;ti") == []
    assert assembler.feed(b"tle\x07 after\n") == ["before red after"]


def test_very_long_line_is_capped() -> None:
    got = lines_of(b"x" * (5 * 1024 * 1024) + b"\nnext\n", chunk=65536)
    assert got == ["x" * MAX_LINE + TRUNCATED, "next"]
    carriage = lines_of(b"spinner\r" * 10_000 + b"done\n")
    assert carriage == ["donener"]
    endless = lines_of(b"spinner\r" * 200_000 + b"done\n")  # past the cap: cut, and it says so
    assert endless == ["spinner" + TRUNCATED]


def test_bare_carriage_returns_keep_what_sticks_out() -> None:
    assert lines_of(b"0123456789\rabc\rX\r\r\n") == ["Xbc3456789"]
    assert lines_of(b"abc\r\r\r\n") == ["abc"]


def test_unterminated_osc_does_not_swallow_the_stream() -> None:
    got = lines_of(b"\x1b]1337;" + b"A" * 10_000 + b"\nvisible line\n")
    assert got[-1] == "visible line"
