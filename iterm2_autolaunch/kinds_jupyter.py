"""Jupyter's own lines, for the kind table in kinds.py: its start lines (banner, URL block, the copy-and-paste
block), its stop lines, what may stand between a banner and its URLs, and `jupyter server list`'s listing.
Kept apart from kinds.py (the other notebooks and dashboards) for size; KINDS there holds them all."""

from __future__ import annotations

import re

from iterm2_autolaunch.kind_layouts import EVERY_ADDRESS, JUPYTER_LOG, Kind, layout

JUPYTER_STOP = re.compile(
    # jupyter_server 2.21.1 serverapp.py:2508 "Shutdown confirmed", :2898 "Shutting down %d kernel(s)",
    # :2909 "... %d extension(s)"; 1.24.0 serverapp.py:2112, :2440, :2457 "... %d terminal(s)";
    # notebook 6.5.7 notebookapp.py:1977, :2185, :2200; notebook 5.5.0 notebookapp.py:1417, :1551.
    # notebook 4.4.1 notebookapp.py:1154 logs "Shutting down kernels" with no count (its only line after
    # SIGTERM besides "received signal"; captured on Python 3.6), so does 5.0.0 :1308; 5.2.2 :1381 and 5.4.1
    # :1521 have the count.
    # JupyterLab's File > Shut Down and the Notebook's Quit button POST /api/shutdown, logged first "Shutting down
    # on /api/shutdown request." (jupyter_server 2.21.1 services/shutdown.py:20, 1.13.5 :12; notebook 6.4.12 :9).
    # A stop signal (SIGTERM, or a second Ctrl-C before the question is answered) is logged first, at CRITICAL:
    # jupyter_server 2.21.1 serverapp.py:2534 log.critical("received signal %s, stopping", sig), 1.0.11 :1446;
    # notebook 6.5.7 notebookapp.py:1992, 5.0.0 :1222. It is the only stop line a server at --log-level WARN
    # prints, and notebook 5.0 may exit before its cleanup (capture notebook5_0_ip_any.raw ends there).
    # Ctrl-C's question is written with no newline (notebook 5.0.0 notebookapp.py:1203 and 4.4.1 :1068
    # sys.stdout.write("Shutdown this notebook server (y/[n])? "), 6.4.12 :1949 with _("...(%s/[%s])? ");
    # jupyter_server 1.13.5 serverapp.py:2042 "Shutdown this Jupyter server", 2.21.1 :2502 "Shut down this
    # Jupyter server"): the answer is echoed by the terminal, not into a pipe, so there the next log line,
    # "Shutdown confirmed", follows the question on the same line; so does "received signal 2, stopping"
    # after the echo of a second Ctrl-C that skips the question (captured: "...(y/[n])? ^C[C ...] received ...").
    r"^(?:Shut[ ]?down[ ]this[ ](?:notebook|Jupyter)[ ]server[ ]\([^()\s]{1,16}/\[[^()\s]{1,16}\]\)\?[ \t]*(?:\^C)?)?"
    # The message follows the prefix after one blank (jupyter_server 2.21.1 serverapp.py:952, notebook 6.5.7
    # notebookapp.py:768, 4.4.1 :401: "%(color)s[%(levelname)1.1s ... %(name)s]%(end_color)s %(message)s"),
    # so the stop cues can begin with "] ", which few other lines hold (one search: streams.Cue).
    rf"{JUPYTER_LOG}[ ]"
    r"(?:Shutdown confirmed|Shutting down (?:[0-9]+ )?(?:kernels?|extensions?|terminals?)"
    r"|Shutting down on /api/shutdown request\.[ \t]*$|received signal [0-9]{1,2}, stopping[ \t]*$)",
    re.ASCII,
)

JUPYTER = Kind(
    name="jupyter",
    label="Jupyter",
    example=(
        "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.0.0 is running at:",
        "[I 2026-11-28 03:39:05.553 ServerApp] {url}",
    ),
    url_lines=(
        # jupyter_server 2.21.1 serverapp.py:2923 "Jupyter Server {version} is running at:\n{url}" with
        # display_url (:2416) "{public}\n    {local}"; 1.24.0 serverapp.py:2483 with display_url (:2036)
        # "{public}\n or {local}"; notebook 6.5.7 notebookapp.py:2213; notebook 5.2-5.7 "The Jupyter
        # Notebook is running at:\n%s" (5.5.0 notebookapp.py:1563). Each line logged with the prefix.
        # Captured on old Pythons too: notebook 5.2.2 notebookapp.py:1393 and 5.4.1 :1533 (URL on its own
        # line, not the banner's), 6.0.3 :1796, 6.4.12 :2191 (also under JupyterLab 2.3.2 on notebook 6.4.13),
        # jupyter_server 1.13.5 serverapp.py:2411, 1.0.11 :1674 (" or http://127.0.0.1..." already).
        layout(rf"{JUPYTER_LOG}[ \t]{{1,16}}(?:or[ \t]+)?"),
        # The copy-and-paste block: jupyter_server 2.21.1 serverapp.py:3184-3197 "    %s" % connect_url;
        # 1.24.0 serverapp.py:2735; notebook 6.5.7 notebookapp.py:2383/2391.
        layout(r"[ \t]{1,16}(?:or[ \t]+)?"),
    ),
    own_lines=(
        # notebook 4.4.1 notebookapp.py:1161 / 5.0.0 notebookapp.py:1315
        # "The Jupyter Notebook is running at: %s" % display_url: banner and URL on one line; notebook 4.0.6
        # notebookapp.py:1025 "The IPython Notebook is running at: %s" (4.1.0 :1041 says Jupyter), pasted with
        # the same log prefix in gopherdata/gophernotes#6.
        layout(rf"{JUPYTER_LOG}[ \t]+The[ \t](?:Jupyter|IPython)[ \t]Notebook[ \t]is[ \t]running[ \t]at:[ \t]+"),
    ),
    token_param="token",
    # The "is running at:" line is always logged with the prefix (each line of running_server_info goes
    # through self.log.info): an unprefixed one is quoted text, such as an exception message.
    # The copy-and-paste block is one log.critical message (jupyter_server 2.21.1 serverapp.py:3184-3197,
    # notebook 6.5.7 notebookapp.py:2383) under tornado's LogFormatter (jupyter_server serverapp.py:944,
    # notebook 6.5.7 notebookapp.py:719 _log_formatter_cls), which indents every line after the first by
    # exactly four blanks (tornado 6.6.1 tornado/log.py:213 formatted.replace("\n", "\n    ")): a banner
    # indented otherwise is no Jupyter's, such as a diff's context line (" " + the line).
    # Notebook 4.4-5.5 end that block "Copy/paste this URL into your browser when you connect for the first time,\n
    # to login with a token:\n    URL" (notebook 5.0.0 notebookapp.py:1403-1408, 4.4.1 :1235, 5.5.0 :1658): under
    # --ip='*' 4.4-5.4 print their "running at" URL as http://[all ip addresses on your system]:PORT/, so this
    # block's http://localhost:PORT/ is the only one to read (captures notebook4_4_ip_star ... notebook5_4_ip_star).
    banner=re.compile(
        rf"^{JUPYTER_LOG}[ \t]+\S.*is running at:[ \t]*$"
        r"|^[ ]{4}(?:Or copy and paste (?:one of these URLs|this URL):[ \t]*$|to login with a token:[ \t]*$"
        r"|To access the (?:server|notebook|Jupyter Server))",
        re.ASCII,
    ),
    stop_line=JUPYTER_STOP,
    # Every way of stopping (Ctrl-C and y, a second Ctrl-C, SIGTERM) ends in the cleanup that logs
    # "Shutting down %d extensions/kernels" (jupyter_server 2.21.1 serverapp.py:3202 _cleanup, :2898,
    # :2909; notebook 6.5.7 notebookapp.py:2185 cleanup_kernels).
    # "Shutdown confirmed" too (notebook 5.4.1 notebookapp.py:1387, before cleanup_kernels' :1521):
    # notebook 5.0 may exit before cleaning up (capture notebook5_0_token_auto.raw ends there).
    # "received signal" too, for the same reasons (JUPYTER_STOP).
    stop_cues=("] Shutting down ", "] Shutdown confirmed", "] received signal "),
    probe_path="api",
    probe_expect='"version"',  # GET /api answers {"version": "..."} (jupyter_server handlers/api)
    default_action="open",
    pages_in_path=True,
    # --ip='*' is taken as "" (jupyter_server 2.21.1 serverapp.py:1041, notebook 6.5.7 notebookapp.py:861), and
    # "" is printed as a name ("localhost", serverapp.py:2372; socket.gethostname(), notebookapp.py:1890), never
    # as itself; only Notebook 4.4-5.4 print it so, as "[all ip addresses on your system]".
    printed_wildcards=frozenset({EVERY_ADDRESS}),
)

# Lines that may stand between a banner and its URLs: blank, a bare log prefix, the redirect file.
BLOCK_FILLER = re.compile(rf"^(?:{JUPYTER_LOG})?[ \t]*(?:file://\S*)?[ \t]*$", re.ASCII | re.VERBOSE)

# `jupyter server list` / `jupyter lab list` / `jupyter notebook list`: a header, then "URL :: directory"
# (jupyter_server 2.21.1 serverapp.py:798 "Currently running servers:", notebook 6.5.7 notebookapp.py).
LISTING_HEADER = re.compile(r"^[ \t]*Currently running (?:servers|Jupyter \w+ servers):[ \t]*$")
LISTING_LINE = layout("", r"[ \t]+::[ \t]+\S.*")
