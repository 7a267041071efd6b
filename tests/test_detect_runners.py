"""Servers under a process runner or seen through a log viewer: every line behind a prefix (runners.py).

docker compose prints a container's line as fmt.Sprintf("%-" + strconv.Itoa(width) + "s | ", name) + the line,
width the longest name + 1, the prefix coloured, and under --timestamps an RFC 3339 time and a blank before
the line (docker/compose cmd/formatter/logs.go, presenter.setPrefix and write()); compose 1.x printed
"name_1  | " the same way. Here real captures of the tools (tests/data/captures) are put behind such names, with
another container's lines (real pip output, tests/data/negative) interleaved, and must give the same events as
the captures alone. Pastes of a real `docker-compose up` are in tests/data/issue_pastes (test_detect_issue_pastes);
honcho (a Procfile's runner, which puts the time first) is captured running JupyterLab (honcho_jupyterlab*.raw).
`docker logs -t` puts moby's rfc3339NanoFixed time and a blank in front (daemon/server/httputils/logstream/
logstream.go), the journal systemd's output_short "%b %d %H:%M:%S HOST IDENT[PID]: " (src/shared/logs-show.c).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import bytes_to_lines

DATA = Path(__file__).parent / "data"
INDEX: list[dict[str, Any]] = json.loads((DATA / "captures" / "index.json").read_text())
# One capture per tool whose server starts once and is seen to stop, and whose text is its own (the first; not
# honcho's, whose lines are behind a runner's prefix already: test_a_runner_s_time_comes_first).
CAPTURES = sorted({e["tool"]: e["file"] for e in reversed(INDEX)
                   if len(e["expect"]) == 1 and e["shutdown"] and e["tool"] != "honcho"}.values())  # fmt: skip
NOISE = [line for line in bytes_to_lines([(DATA / "negative" / "pip_verbose_index.raw").read_bytes()]) if line]
COLOURS = itertools.cycle(["\x1b[36m", "\x1b[33m"])  # compose's cf: each prefix in its colour, then reset


def lines_of(name: str) -> list[str]:
    return list(bytes_to_lines([(DATA / "captures" / name).read_bytes()]))


def events(lines: list[str]) -> list[tuple[str, str, int, str | None, str]]:
    detector = Detector()
    found = detector.feed(lines) + detector.finish()
    return [(e.event, e.kind, e.port, e.token, e.path) for e in found]


def composed(containers: dict[str, list[str]], *, timestamps: bool = False) -> list[str]:
    """The containers' lines as `docker compose up` interleaves them (one of each in turn), as the terminal
    shows them: through the line reader, which drops the colours."""
    width = max(map(len, containers)) + 1
    prefixes = {name: f"{next(COLOURS)}{name:<{width}} | \x1b[0m" for name in containers}
    stamp = "2026-12-05T06:50:00.123456789Z " if timestamps else ""
    rows = itertools.zip_longest(*([(name, line) for line in lines] for name, lines in containers.items()))
    text = "".join(f"{prefixes[name]}{stamp}{line}\n" for row in rows for name, line in filter(None, row))
    return list(bytes_to_lines([text.encode()]))


def test_the_captures_are_one_per_tool() -> None:
    assert len(CAPTURES) >= 20 and any(name.startswith(("jupyter", "mx_jupyter")) for name in CAPTURES)


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("timestamps", [False, True], ids=["plain", "timestamps"])
def test_a_container_s_server_is_read_among_another_container_s_lines(name: str, timestamps: bool) -> None:
    alone = events(lines_of(name))
    assert [e[0] for e in alone].count("announce") == 1 and "shutdown" in [e[0] for e in alone]
    lines = lines_of(name)
    noise = (NOISE * len(lines))[: len(lines)]  # a line of the other container after each of the server's
    composed_lines = composed({"notebook-1": lines, "pip-1": noise}, timestamps=timestamps)
    assert composed_lines[0].startswith("notebook-1  | ")  # the colours are gone, the prefix is as printed
    assert events(composed_lines) == alone


def test_compose_1_names_and_a_blank_line_ending_at_the_bar() -> None:
    lines = [f"lab_1  |{' ' + line if line else ''}" for line in lines_of("jupyterlab_token_auto.raw")]
    assert events(lines) == events(lines_of("jupyterlab_token_auto.raw"))


def test_a_url_of_another_container_after_a_banner_does_not_count() -> None:
    """Jupyter's URL counts only below its banner: in another container's lines it has none."""
    lines = lines_of("jupyterlab_token_auto.raw")
    banner = next(i for i, line in enumerate(lines) if line.endswith("is running at:"))
    url = lines[banner + 1]
    assert "/lab?token=" in url
    fake = [f"notebook-1  | {line}" for line in lines[: banner + 1]] + [f"evil-1      | {url}"]
    assert events(fake) == []
    assert [e[0] for e in events([*fake[:-1], f"notebook-1  | {url}"])] == ["announce"]


@pytest.mark.parametrize("name", [f"honcho_jupyterlab{end}.raw" for end in ("", "_sigterm", "_pipe")])
def test_a_runner_s_time_comes_first(name: str) -> None:
    """honcho (a Procfile's runner) prints "HH:MM:SS lab.1  | " before each line of the process (captured)."""
    lines = lines_of(name)
    assert any(re.match(r"[0-9]{2}:[0-9]{2}:[0-9]{2} lab\.1  \| \[I ", line) for line in lines)
    expected = next(e for e in INDEX if e["file"] == name)["expect"][0]
    assert events(lines) == [("announce", "jupyter", expected["port"], expected["token"], "/lab"),
                             ("shutdown", "jupyter", expected["port"], expected["token"], "/lab")]


def docker_logs_t(lines: list[str]) -> list[str]:
    return [f"2026-12-05T06:50:{i % 60:02d}.{i:09d}Z {line}".rstrip(" ") for i, line in enumerate(lines)]


def journal(lines: list[str], unit: str) -> list[str]:
    return [f"Dec 05 06:50:{i % 60:02d} node042 {unit}[4242]: {line}".rstrip(" ") for i, line in enumerate(lines)]


@pytest.mark.parametrize("name", CAPTURES)
def test_a_server_is_read_through_docker_logs_t_and_the_journal(name: str) -> None:
    lines = lines_of(name)
    alone = events(lines)
    assert events(docker_logs_t(lines)) == alone
    other = journal(NOISE * (len(lines) // len(NOISE) + 1), "cron")
    interleaved = [line for pair in zip(journal(lines, "jupyter.service"), other, strict=False) for line in pair]
    assert events(interleaved) == alone  # another unit's lines between the server's


def test_a_url_of_another_unit_after_a_banner_does_not_count() -> None:
    lines = lines_of("jupyterlab_token_auto.raw")
    banner = next(i for i, line in enumerate(lines) if line.endswith("is running at:"))
    fake = journal(lines[: banner + 1], "jupyter") + journal([lines[banner + 1]], "evil")
    assert events(fake) == []
    assert [e[0] for e in events(journal(lines[: banner + 2], "jupyter"))] == ["announce"]
