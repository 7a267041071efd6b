"""Process runners and log viewers: the prefix they put in front of every line of a process's output, and the
line as the process printed it. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Process runners and log viewers print each line of a process's output behind a prefix; the detector reads the
# rest of the line as the process printed it (unwrapped below), and when the prefix names the process, looks
# for its banner and URL among that process's own lines.
# - `docker compose up` (and `logs`): the name padded to the longest and one blank, and a bar: docker/compose
#   cmd/formatter/logs.go presenter.setPrefix fmt.Sprintf("%-" + strconv.Itoa(width) + "s | ", p.name), width the
#   longest name + 1 (coloured: escapes the line reader drops), under --timestamps an RFC 3339 time and a blank
#   after it (write(): "%s%s %s\n"); compose 1.x printed "name_1  | " the same way (pasted in
#   domoritz/streamlit-docker#2, coder/code-server#1428). An empty line ends at the "|" once its last blank is
#   dropped. honcho puts the time first: honcho 2.0.0 honcho/printer.py:56 '{time} {name}| ', "%H:%M:%S" and the
#   name padded and a blank (captured: honcho_jupyterlab*.raw); foreman the same (lib/foreman/engine/cli.rb
#   output(): the time when timestamps are on, then "#{pad_process_name(name)} | ").
# - The journal (`journalctl`, `systemctl status`): systemd src/shared/logs-show.c output_short(), "%b %d
#   %H:%M:%S", the host, the identifier, "[PID]" and ": " (pasted: a jupyter.service under systemctl status).
# - `docker logs -t` and `kubectl logs --timestamps`, and CI and hosting log viewers: an RFC 3339 time and a
#   blank (moby daemon/server/httputils/logstream/logstream.go WriteLogStream, rfc3339NanoFixed; pasted:
#   a docker-stacks container's log, Render's).
_RFC3339 = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,18}(?:Z|[+-][0-9]{2}:[0-9]{2})"
RUNNER_PREFIX = (
    rf"(?:[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}[ ])?(?P<process>[A-Za-z0-9][A-Za-z0-9_.-]{{0,63}})[ ]{{1,64}}\|"
    rf"(?:[ ](?:{_RFC3339}[ ])?|$)"
    rf"|[A-Z][a-z]{{2}}[ ][ 0-9][0-9][ ][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}[ ][A-Za-z0-9_.-]{{1,64}}[ ]"
    rf"(?P<unit>[A-Za-z0-9_.@-]{{1,64}})(?:\[[0-9]{{1,10}}\])?:(?:[ ]|$)"
    rf"|{_RFC3339}(?:[ ]|$)"
)
_RUNNER = re.compile(RUNNER_PREFIX, re.ASCII)


def unwrapped(line: str) -> tuple[str, str]:
    """The process whose output ``line`` is behind a runner's or viewer's prefix (``docker compose``, the
    journal; "" for none or unnamed), and the line as that process printed it."""
    wrapped = _RUNNER.match(line)
    return ("", line) if wrapped is None else (wrapped["process"] or wrapped["unit"] or "", line[wrapped.end() :])


def lines_of(process: str, lines: Iterable[str]) -> list[str]:
    """``lines`` as their processes printed them: for a named ``process``, only that process's."""
    pairs = (unwrapped(line) for line in lines)
    return [line for name, line in pairs if name == process or not process]
