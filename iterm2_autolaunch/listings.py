"""`jupyter server list --json` and `--jsonlist`: running servers as JSON. Pure: no I/O.

jupyter_server 2.21.1 serverapp.py:792-796 (1.24.0 serverapp.py:656-660)::

    if self.jsonlist:
        print(json.dumps(serverinfo_list, indent=2))   # one array, an object over 13 lines
    elif self.json:
        for serverinfo in serverinfo_list:
            print(json.dumps(serverinfo))              # one object per line

Each object is the server's runtime file (``jpserver-PID.json``): url, port, token, base_url, pid,
secure, ... Only an object with that whole shape counts, and its URL must be a plain server URL.
"""

from __future__ import annotations

import json
import re

from iterm2_autolaunch.kinds import URL

JSON_URL_KEY = '"url": "'  # the detector's candidate search reports lines where a URL follows this
_URL_LINE = '    "url": '  # an --jsonlist object's url line (json.dumps indent=2, the object in a list)
MAX_OBJECT_LINES = 30  # an --jsonlist object has 13 lines; a few more for future keys
MAX_OBJECT = 8192
_REQUIRED = {"url": str, "port": int, "base_url": str, "pid": int, "secure": bool}
_URL_ONLY = re.compile(rf"{URL}\Z", re.ASCII | re.VERBOSE)


def server_url(text: str) -> re.Match[str] | None:
    """The start URL a listed server object stands for (URL and token), matched like a printed URL."""
    if len(text) > MAX_OBJECT:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    if not isinstance(info, dict) or any(not isinstance(info.get(k), t) for k, t in _REQUIRED.items()):
        return None
    token = info.get("token") or ""
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9._~-]{0,256}", token):
        return None
    url = info["url"] + (f"?token={token}" if token else "")
    match = _URL_ONLY.match(url)
    if match is None or match["twin"] or int(match["port"]) != info["port"]:
        return None
    return match


class JsonListings:
    """Finds listed server objects across batches of lines; an --jsonlist object cut by a batch end
    is completed from the next batch."""

    def __init__(self) -> None:
        self._pending: list[str] | None = None  # lines of an object whose closing brace is still to come

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def scan(self, text: str, hits: list[int], before: list[str]) -> list[tuple[re.Match[str], int]]:
        """(URL match, offset of the line that ends the object) for each object; ``hits`` are the starts
        of the lines with a ``"url": "http...`` (in order); ``before`` the previous batch's last lines.
        An object is found whatever the batches it is cut into, down to one line each (the daemon's)."""
        found: list[tuple[re.Match[str], int]] = []
        lines = text.split("\n")
        if self._pending is not None:
            pending, self._pending = self._pending, None
            for i, line in enumerate(lines[: MAX_OBJECT_LINES - len(pending)]):
                if len(line) > MAX_OBJECT:
                    break
                if line in ("  }", "  },"):
                    match = server_url("\n".join([*pending, *lines[: i + 1]]).rstrip(","))
                    found.extend([(match, _offset(lines, 0, 0, i))] if match else [])
                    break
            else:
                if len(pending) + len(lines) < MAX_OBJECT_LINES:
                    self._pending = pending + lines  # still open: the next batch goes on with it
        index, counted_to = 0, 0
        for start in hits:
            index += text.count("\n", counted_to, start)  # counted onwards only: linear in the batch
            counted_to = start
            line = lines[index]
            if line.startswith("{") and line.rstrip().endswith("}"):  # --json: the object is the line
                match = server_url(line)
                found.extend([(match, start)] if match else [])
            elif line.startswith(_URL_LINE):  # --jsonlist: the object spans lines around this one
                match, end = self._object_around(lines, index, before)
                found.extend([(match, _offset(lines, index, start, end))] if match else [])
        return found

    def _object_around(self, lines: list[str], index: int, before: list[str]) -> tuple[re.Match[str] | None, int]:
        """The object whose url is on line ``index``, and the index of its last line (when complete here)."""
        if len(lines[index]) > MAX_OBJECT:
            return None, index
        head: list[str] = []
        for back in range(index, max(-1, index - MAX_OBJECT_LINES), -1):
            # Bounded work per hit, whatever the lines around it; an object has one "url", so another one
            # above before the opening brace means there is no object around this one.
            if len(lines[back]) > MAX_OBJECT or (back < index and lines[back].startswith(_URL_LINE)):
                return None, index
            head.insert(0, lines[back])
            if lines[back] == "  {":
                break
        else:
            earlier = before[-(MAX_OBJECT_LINES - len(head)) :] if len(head) < MAX_OBJECT_LINES else []
            opened = [i for i, line in enumerate(earlier) if line == "  {"]
            if not opened or any(line.startswith(_URL_LINE) for line in earlier[opened[-1] :]):
                return None, index
            head = earlier[opened[-1] :] + head
        for forward in range(index + 1, min(len(lines), index + MAX_OBJECT_LINES)):
            if len(lines[forward]) > MAX_OBJECT:
                return None, index
            head.append(lines[forward])
            if lines[forward] in ("  }", "  },"):
                return server_url("\n".join(head).rstrip(",")), forward
        if len(head) < MAX_OBJECT_LINES and index + MAX_OBJECT_LINES > len(lines):
            self._pending = head  # the object goes on in the next batch
        return None, index


def _offset(lines: list[str], index: int, start: int, end: int) -> int:
    """Where line ``end`` starts, line ``index`` starting at ``start`` (a few lines above it)."""
    return start + sum(len(line) + 1 for line in lines[index:end])
