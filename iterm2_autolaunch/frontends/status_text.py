"""The status bar's texts, as pure functions of the live servers: summary, badge URL, notification, popover.

Everything from the screen (hosts, paths) and from session titles is HTML-escaped in the popover; the
token never enters a text here (``badge_url`` drops the query, ``describe`` and ``redact`` hide it).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from iterm2.util import invocation_string

from iterm2_autolaunch.interfaces import ServerView
from iterm2_autolaunch.kinds import KINDS
from iterm2_autolaunch.redact import redact

NO_FORWARDS = "no forwards"
MAX_NOTIFICATION = 240  # characters; Notification Center truncates long bodies anyway

DISPLAY_NAMES = {kind.name: kind.label for kind in KINDS}  # one place for a kind: kinds.py

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def summary(servers: Iterable[ServerView]) -> str:
    """ "2 Jupyter", "1 Jupyter, 1 TensorBoard" (in order of first appearance), or "no forwards"."""
    counts: dict[str, int] = {}
    for server in servers:
        counts[server.kind] = counts.get(server.kind, 0) + 1
    if not counts:
        return NO_FORWARDS
    return ", ".join(f"{n} {DISPLAY_NAMES.get(kind, kind)}" for kind, n in counts.items())


def badge_url(server: ServerView) -> str:
    """The local URL without query or fragment: where the token lives, so never shown."""
    parts = urlsplit(server.url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def session_urls(servers: Iterable[ServerView]) -> dict[str, str]:
    """Per session, the URL of its newest forward, a Jupyter one when it has one."""
    urls: dict[str, tuple[bool, str]] = {}
    for server in servers:  # oldest first: later ones win, unless they would displace a Jupyter
        is_jupyter = server.kind == "jupyter"
        if server.session_id not in urls or is_jupyter or not urls[server.session_id][0]:
            urls[server.session_id] = (is_jupyter, badge_url(server))
    return {session_id: url for session_id, (_, url) in urls.items()}


def notification_text(title: str, message: str) -> str:
    """One line, no control characters (they would end or extend the OSC), no token, bounded."""
    text = f"{title}: {message}" if message else title
    text = redact(" ".join(_CONTROL.sub(" ", text).split()))
    if len(text) > MAX_NOTIFICATION:
        text = text[: MAX_NOTIFICATION - 1] + "…"
    if text[:1].isdigit():
        # "OSC 9 ; 4 ; ..." is a progress report to iTerm2 (ConEmu's), not a notification.
        text = "iterm2-autolaunch: " + text
    return text


def popover_html(rows: list[tuple[ServerView, str]], clicked_session: str) -> str:
    """The popover page: one block per forward with Open and Close buttons, then Close all.

    ``rows`` pairs each server with its session's name. Each button carries the invocation of one of
    our registered functions (session id and port only: no token, no screen text)."""
    blocks = []
    for server, session_name in rows:
        info = server.describe()
        where = "this session" if server.session_id == clicked_session else f"session {session_name}"
        open_call = invocation_string("autolaunch_open", {"session": server.session_id, "port": server.local_port})
        close_call = invocation_string("autolaunch_close", {"session": server.session_id, "port": server.local_port})
        blocks.append(
            "<div class=fwd>"
            f"<b>{_e(DISPLAY_NAMES.get(server.kind, server.kind))}</b> on {_e(info['ssh_host'])}"
            f" <span class=dim>({_e(where)})</span><br>"
            f"<code>{_e(info['remote'])}</code> &rarr; <code>{_e(info['url'])}</code><br>"
            f'<button data-invoke="{_e(open_call)}">Open</button> '
            f'<button data-invoke="{_e(close_call)}">Close</button>'
            "</div>"
        )
    body = "".join(blocks) or f"<p>{NO_FORWARDS}</p>"
    if blocks:
        body += f'<p><button data-invoke="{_e(invocation_string("autolaunch_close_all", {}))}">Close all</button></p>'
    return _PAGE.replace("{body}", body)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# iterm2Invoke(invocation, callbackName) is defined by iTerm2 in popovers; the callback gets the
# function's JSON result. Without it (an old iTerm2) the page says what to bind instead.
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 13px -apple-system, sans-serif; margin: 10px; }
.fwd { margin-bottom: 10px; } .dim { color: #888; } code { font-size: 12px; }
</style></head><body><div id=forwards>{body}</div><p id=status class=dim></p><script>
function autolaunchDone(result) { document.getElementById("status").textContent = String(result); }
for (const button of document.querySelectorAll("button[data-invoke]")) {
  button.addEventListener("click", function () {
    if (typeof iterm2Invoke !== "function") {
      autolaunchDone("This iTerm2 cannot call scripts from here: bind autolaunch_close_all to a key.");
      return;
    }
    button.disabled = true;
    iterm2Invoke(button.dataset.invoke, "autolaunchDone");
  });
}
</script></body></html>"""
