"""The browser side of the redirect pages (iterm2_autolaunch/browser.py): what a browser reads from one."""

from __future__ import annotations

import html
import re
import urllib.parse
import urllib.request
from pathlib import Path

_REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]*)">')


def page_path(file_url: str) -> Path:
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(file_url).path))


def page_target(file_url: str) -> str:
    """The URL a browser goes to from our redirect page (the meta refresh, as HTML unescapes it)."""
    found = _REFRESH.search(page_path(file_url).read_text(encoding="utf-8"))
    assert found is not None, f"not a redirect page: {file_url}"
    return html.unescape(found.group(1))


def recorder(append: bool) -> str:
    """A browser command (python -c) that writes down the URL it would go to, and its argv beside it
    (FILE.argv). It runs in the daemon's environment, so it imports nothing of ours."""
    mode, end = ("a", "\n") if append else ("w", "")
    return (
        "import html, re, sys, urllib.parse, urllib.request\n"
        "arg = sys.argv[2]\n"
        "url = arg\n"
        "if arg.startswith('file:'):\n"
        "    page = open(urllib.request.url2pathname(urllib.parse.urlsplit(arg).path), encoding='utf-8').read()\n"
        f"    url = html.unescape(re.search({_REFRESH.pattern!r}, page).group(1))\n"
        f"open(sys.argv[1] + '.argv', {mode!r}).write(arg + {end!r})\n"
        f"open(sys.argv[1], {mode!r}).write(url + {end!r})\n"
    )
