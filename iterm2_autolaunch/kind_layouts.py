"""How a kind of server is described: the URL as servers print it, whole-line layouts around it, and the
Kind record that the kind tables (kinds.py, kinds_dev.py) fill in. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from iterm2_autolaunch.runners import RUNNER_PREFIX

# A URL as servers print it: scheme, a host (name, IPv4 or bracketed IPv6), an explicit port, then a
# path and query of plain URL characters (no %-escapes in the query: tokens are plain). Quotes, spaces,
# `;`, `|`, `$` and backticks cannot occur, which rules out shell tricks, nor `@` before the path, which rules
# out `user@host` confusions. In the path it may: JupyterHub leaves it unescaped in a user's server path,
# /user/NAME/ (jupyterhub 5.2.1 jupyterhub/utils.py:505 url_escape_path quote(value, safe='@~')), and hubs name
# users by e-mail address (pasted: jupyterhub/batchspawner#233). A name may hold "_" inside: a host name that is
# no DNS name but a machine's own (pasted: notebook 5 printing "cs275-liwei_node08", a paste in hpc.json).
# Notebook 5.6/5.7 print a wildcard server as ``http://(NAME or 127.0.0.1):8888/`` (notebook 5.7.16
# notebook/notebookapp.py:1435 ``ip = "(%s or 127.0.0.1)" % socket.gethostname()``): ``twin`` is NAME.
# Notebook 4.x-6.x print an IPv6 --ip without brackets, ``http://::1:8888/`` ("%s://%s:%i%s" % (proto, ip,
# port, base_url): notebook 4.4.1 notebookapp.py:1021, 5.7.16 :1452, 6.4.13 :1891): an unbracketed host
# with two or more colons is an IPv6 address (make_event checks it), the port the digits after its last ":".
# Three more ways of printing "every address", all read as 0.0.0.0 (PRINTED_WILDCARDS): Notebook 4.4-5.4 under
# --ip='*' or '' print "[all ip addresses on your system]" (notebook 5.0.0 notebookapp.py:1141, 4.4.1 :1004);
# uvicorn, Flask, Panel/Bokeh, TensorBoard, Voila, Dash and marimo told to listen on "*" (--host '*' and the
# like) bind every address and print the host as given, "http://*:PORT/" (uvicorn 0.55.0 config.py:592
# addr_format "%s://%s:%d", werkzeug 3.1.9 serving.py:850 display_hostname = self.host; captured: *_star.raw);
# uvicorn, Flask, TensorBoard and marimo told "" print nothing there, "http://:PORT/" (captured: *_empty.raw).
# re.ASCII: no look-alike digits or letters.
EVERY_ADDRESS = "[all ip addresses on your system]"
PRINTED_WILDCARDS = frozenset({"*", "", EVERY_ADDRESS})
URL = r"""
    (?P<url>
      (?P<scheme>https?)://
      (?:\((?P<twin>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?)[ ]or[ ](?=127\.0\.0\.1\)))?
      (?P<host>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])? | \[[0-9A-Fa-f:.]{2,45}\]
               | [0-9A-Fa-f]{0,4}:[0-9A-Fa-f.]{0,4}:[0-9A-Fa-f:.]{0,37}
               | \[all[ ]ip[ ]addresses[ ]on[ ]your[ ]system\] | \* | (?=:[0-9]))
      (?(twin)\))
      :(?P<port>[0-9]{1,5})
      (?P<path>/[A-Za-z0-9._~%/+,=@-]*)?
      (?:\?(?P<query>[A-Za-z0-9._~/+,=&-]*))?
    )"""
BARE_URL = re.compile(rf"^{URL}$", re.ASCII | re.VERBOSE)  # a URL put together from an address printed without one

# Jupyter's log prefix: "[I 2026-11-28 03:39:05.553 ServerApp] " or "[I 12:34:56.789 NotebookApp] ", and a
# JupyterHub single-user server's "[I 2026-11-28 03:39:05.553 SingleUserLabApp serverapp:2923] "
# (jupyterhub 5.2.1 jupyterhub/singleuser/mixins.py:362, 6.1.1 :363: "[%(levelname)1.1s %(asctime)s.%(msecs).03d
# %(name)s %(module)s:%(lineno)d]"; the hub's own lines, app.py:1663 in 6.1.1, use it too). Captured from a
# real JupyterHub 6.1.1: that form is the SingleUserLabApp's (JUPYTERHUB_SINGLEUSER_EXTENSION=0); the default
# with Jupyter Server 2, the single-user extension, logs plain "[I ... ServerApp]" lines.
JUPYTER_LOG = r"\[[DIWEC]\ [0-9 :.-]{8,30}\ [A-Za-z]{2,40}(?:\ [A-Za-z0-9_.]{1,40}:[0-9]{1,6})?\]"

PREFIXES: list[str] = []  # every layout's prefix, for the detector's quick first check of a candidate



def layout(prefix: str, suffix: str = "") -> re.Pattern[str]:
    """A whole-line pattern: ``prefix``, the URL, ``suffix``, optional trailing blanks, nothing else."""
    PREFIXES.append(prefix)
    return re.compile(rf"^{prefix}{URL}{suffix}[ \t]*$", re.ASCII | re.VERBOSE)


def any_prefix(extra: Sequence[str] = ()) -> re.Pattern[str]:
    """One pattern for "the text before the URL could belong to some layout", behind a process runner's prefix
    too (runners.py; fullmatch it)."""
    layouts = "|".join(f"(?:{prefix})" for prefix in (*PREFIXES, *extra))
    return re.compile(f"(?:{RUNNER_PREFIX})?(?:{layouts})", re.ASCII | re.VERBOSE)


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of server, as data. Each is one object, so it compares and hashes by identity (running.py
    keeps a cache keyed by the kinds watched)."""

    name: str
    label: str
    url_lines: tuple[re.Pattern[str], ...]  # after the banner (when there is one)
    token_param: str | None = None
    banner: re.Pattern[str] | None = None  # must appear within BANNER_WINDOW lines before the URL
    own_lines: tuple[re.Pattern[str], ...] = ()  # banner and URL on one line: no banner above needed
    # Start lines that print the address with no scheme, "HOST:PORT" (groups ``host`` and ``port``): the URL is
    # http://HOST:PORT. No "://" makes them candidates, so the lines holding ``address_cue`` are looked at
    # too: one more search through all output for each kind that has one (Ray's alone).
    address_lines: tuple[re.Pattern[str], ...] = ()
    address_cue: str = ""
    stop_line: re.Pattern[str] | None = None
    # Literals that every stop line of the kind holds (only lines holding one are checked against
    # stop_line, besides candidate lines). While a server of the kind runs, its cues are searched through
    # the output, one search per cue or per group of cues sharing their first two characters (streams.Cue):
    # few per kind, shared between kinds where the lines allow, and long (str.find skips faster with a
    # longer needle: 0.3-0.4 of a str.count('://') pass for 14-26 characters, 0.6 for 8, on bench_scan's text).
    stop_cues: tuple[str, ...] = ()
    # A tool that restarts its server process in place, keeping the listening socket (uvicorn --reload), prints
    # the old process's stop line then too. Searched in the lines above a stop line, nearest first: a match of
    # its group "reload" (the restart's announcement) makes the stop line a restart's, one of "started" (a
    # server process starting after the restart) or none a real stop.
    reload_marks: re.Pattern[str] | None = None
    probe_path: str = ""  # relative to the server's base path
    probe_expect: str = ""  # a substring the probe's response body must contain
    probe_header: tuple[str, str] = ("", "")  # (header, substring of its value) the server must send
    default_action: str = "notify"  # "open" for notebooks and dashboards
    generic: bool = False  # a web server under some app: yields to a specific kind on the same port
    # A generic server's page may be a known kind's (MLflow 2's UI under gunicorn): those kinds, told by their
    # probe_expect in the probe's answer at the same path (probe.judge); the page is then shown as theirs.
    serves: tuple[str, ...] = ()
    example: tuple[str, ...] = ()  # start lines with "{url}" in place of the URL (doctor --url)
    pages_in_path: bool = False  # Jupyter-style: /lab, /tree ... after the base_url
    # Of PRINTED_WILDCARDS, the ones this kind prints: a URL with another is not its own.
    printed_wildcards: frozenset[str] = frozenset({"*", ""})
    # The URL's last path segment is a page beside the probe path, not the server's root (Panel's /app, Dask's
    # /status). Otherwise the printed path is the root, with or without its final "/" (Streamlit's
    # --server.baseUrlPath foo prints http://HOST:PORT/foo and serves /foo/_stcore/health).
    page_last: bool = False
    # Seconds the server may take after printing its URL before it answers. 0 for a tool that listens
    # before it prints (most do): the probe's quick retries suffice, and a URL that never answers is
    # reported at once. More for a tool that prints first and serves later (the engine waits, and says so).
    listens_within: float = 0.0


BANNER_WINDOW = 8  # lines above a URL in which its kind's banner must stand
