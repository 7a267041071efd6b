"""Every kind of server, as one table entry: how its start, stop and listing lines look (with the tool's
own format string each pattern comes from), how to probe it, its label and its default action.

Adding a kind is one entry here (a generic development server's: in kinds_dev.py; a cluster service's: in
kinds_services.py), its name in KINDS, and its captures in tests/data/captures. The patterns are whole-line
layouts (kind_layouts.py): a fixed prefix the tool prints, the URL, an optional fixed suffix, nothing else.
Sources are cited as ``package version path:line`` of the installed wheel (grep them with tools/capture.py's
venvs).
"""

from __future__ import annotations

import re

from iterm2_autolaunch.kind_layouts import (
    BANNER_WINDOW,
    EVERY_ADDRESS,
    JUPYTER_LOG,
    PREFIXES,
    URL,
    Kind,
    any_prefix,
    layout,
)
from iterm2_autolaunch.kinds_dev import GUNICORN, HTTP_SERVER, UVICORN, VITE, WEBPACK, WEBPACK_LOG, WERKZEUG
from iterm2_autolaunch.kinds_services import (
    CODE_SERVER,
    DASK,
    DASK_SCHEDULER_LINE,
    DASK_SCHEDULER_PREFIX,
    DASK_SERVICE_LINE,
    DASK_SERVICES_WITHIN,
    MLFLOW,
    RAY,
)

__all__ = [  # the machinery is kind_layouts.py's; importers of kinds see one table with its vocabulary
    "BANNER_WINDOW", "CODE_SERVER", "DASK", "DASK_SCHEDULER_LINE", "DASK_SCHEDULER_PREFIX", "DASK_SERVICE_LINE",
    "DASK_SERVICES_WITHIN", "GUNICORN", "HTTP_SERVER", "JUPYTER_LOG", "KINDS", "KIND_BY_NAME", "MLFLOW", "PREFIXES",
    "RAY", "URL", "UVICORN", "VITE", "WEBPACK", "WEBPACK_LOG", "WERKZEUG", "Kind", "any_prefix", "layout",
]  # fmt: skip

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
        # "The Jupyter Notebook is running at: %s" % display_url: banner and URL on one line.
        layout(rf"{JUPYTER_LOG}[ \t]+The[ \t]Jupyter[ \t]Notebook[ \t]is[ \t]running[ \t]at:[ \t]+"),
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

VOILA = Kind(
    name="voila",
    label="Voilà",
    example=("[Voila] Voilà is running at:", "[Voila] {url}"),
    # voila 0.5.13 voila/app.py:922 self.log.info("Voilà is running at:\n%s" % display_url); captured: 0.3.6
    # voila/app.py:584, 0.2.16 :554 (same text), 0.1.23 :531 "Voila is running at:" (no accent). The URL is
    # the message's second line, which traitlets' log format "[%(name)s]%(highlevel)s %(message)s" (traitlets
    # config/application.py:221) leaves unindented: it starts the line (a diff's context line " URL" is no
    # Voila's).
    url_lines=(layout(r"(?:\[Voila\][ \t]+)?"),),
    token_param="token",
    banner=re.compile(r"Voil[aà] is running at:[ \t]*$"),
    # voila 0.5.13 voila/app.py:958 self.log.info("Stopping..."); :896 "Handle signal %s." (SIGTERM)
    stop_line=re.compile(r"^\[Voila\][ \t]+(?:Shutting down|Stopping|Handle signal [0-9]+\.)"),
    stop_cues=("[Voila] ",),  # every stop line starts so, and few other lines do
    # A static file of Voila's own route, not its page: every GET of the page starts a kernel and runs the
    # notebook, and the kernel stays (measured on voila 0.5.13: 5 GETs, 5 live kernels), while the engine
    # probes a live forward every second. The route: voila 0.1.23 voila/app.py:446 '/voila/static/(.*)' over
    # the template's static paths, 0.2.16 :467, 0.3.6 :480, 0.4.6 :631, 0.5.0 :669, 0.5.13 :763; RequireJS is
    # in each version's share/jupyter/voila/templates/base/static/require.min.js (0.1.23: templates/default),
    # which the templates extending base serve; it starts "var requirejs,require,define;".
    probe_path="voila/static/require.min.js",
    probe_expect="var requirejs,require,define;",
    default_action="open",
    pages_in_path=True,
)

TENSORBOARD = Kind(
    name="tensorboard",
    label="TensorBoard",
    example=("TensorBoard 2.0.0 at {url} (Press CTRL+C to quit)",),
    url_lines=(
        # tensorboard 2.18.0 tensorboard/program.py:593 "TensorBoard %s at %s (Press CTRL+C to quit)\n"
        # (same text in the captured 2.21.0); captured too: 2.4.1 program.py:504, 2.0.2 :444, 1.15.0 :221,
        # 1.14.0 :229, 1.13.1 (TensorFlow 1.13.2) :225 (on Python 3.7/3.8), tensorflow-tensorboard 1.5.1
        # (TensorFlow 1.5.1) program.py:277 (on Python 3.6).
        layout(
            r"TensorBoard[ \t]+[0-9][0-9a-z.+-]{0,30}[ \t]+at[ \t]+", r"[ \t]+\(Press[ \t]CTRL\+C[ \t]to[ \t]quit\)"
        ),  # fmt: skip
        # TensorBoard inside TensorFlow <= 1.2: tensorflow 1.2.1 tensorflow/tensorboard/tensorboard.py:183
        # print('Starting TensorBoard %s at %s' % (tb_app.tag, url)), then :186 '(Press CTRL+C to quit)' on
        # its own line; the tag is bytes (backend/application.py:727), so Python 3 prints "b'54'" (captured
        # on Python 3.6), Python 2 a bare number. tensorflow 1.1.0 tensorboard.py:124 'Starting TensorBoard %s
        # at http://%s:%d' % (tb_app.tag, FLAGS.host, port), host 0.0.0.0 by default (:51): captured, "b'47'".
        layout(r"Starting[ \t]+TensorBoard[ \t]+(?:b'[0-9]{1,6}'|[0-9][0-9a-z.+-]{0,30})[ \t]+at[ \t]+"),
    ),
    # tensorboard 2.21.0 tensorboard/program.py:367 "TensorBoard caught %s; exiting...\n" % signal_name, from
    # the handler installed for SIGTERM only (:271); Ctrl-C ends it without a word.
    stop_line=re.compile(r"^TensorBoard caught [A-Z]{3,10}; exiting\.\.\.[ \t]*$"),
    stop_cues=("TensorBoard caught",),
    # The one data route of every version: tensorflow 1.1.0 tensorflow/tensorboard/backend/application.py:60
    # LOGDIR_ROUTE, :260 _serve_logdir {'logdir': ...}; tensorflow 1.2.1 :58, :281; tensorflow-tensorboard
    # 1.5.1 tensorboard/plugins/core/core_plugin.py:62; tensorboard 2.21.0 core_plugin.py:86, :227. The
    # /data/environment route came with 1.13 (core_plugin.py:74): TensorFlow 1.1-1.5 answer 404 there.
    probe_path="data/logdir",
    probe_expect='"logdir"',
    default_action="open",
)

MARIMO = Kind(
    name="marimo",
    label="marimo",
    example=("        Create or edit notebooks in your browser", "        ➜  URL: {url}"),
    # marimo 0.25.2 marimo/_server/print.py:48 print_tabbed(f"➜  URL: {url}"), print_tabbed indenting by TAB,
    # eight blanks (marimo 0.25.2 marimo/_utils/print.py:9-13; 0.1.88 marimo/_server/utils.py:13-19 the same);
    # 0.15.5 :42 (captured) and, bound to 0.0.0.0, "➜  Network: {url}" below it (:44-47) with the interface's
    # address: not taken, the URL line is first.
    url_lines=(layout(r"[ ]{8}(?:\S{1,3}[ \t]+)?URL:[ \t]+"),),
    token_param="access_token",
    # marimo 0.25.2 marimo/_server/print.py:33 "Edit {file} in your browser" (edit FILE), :37 "Running
    # {file}" (run FILE), :41 "Create a new notebook in your browser" (new), :45 "Create or edit
    # notebooks in your browser" (edit). marimo 0.1.88 marimo/_server/print.py:31 "Create a new marimo app
    # in your browser" (edit, no file); 0.6.26 :33 "Create a new notebook in your browser".
    banner=re.compile(
        r"Create or edit notebooks in your browser|Create a new (?:notebook|marimo app) in your browser"
        r"|Edit \S.* in your browser|^[ \t]*Running \S+(?: \S{1,3})?[ \t]*$|Running .* in your browser"
    ),
    # marimo 0.25.2 marimo/_server/print.py:69 "Thanks for using marimo!"; the Ctrl-C question is
    # marimo/_server/api/interrupt.py:73 "Are you sure you want to quit? (y/N): ".
    stop_line=re.compile(r"^[ \t]*Thanks for using marimo"),
    stop_cues=("Thanks for using marimo",),
    # The web app manifest, served without a login by every version's catch-all static route (marimo 0.1.88
    # _server/api/endpoints/assets.py:68 STATIC_FILES, :114 serve_static; 0.25.2 :531, :752), its
    # _static/manifest.json:3 "name": "A Marimo App" (same in 0.1.88, 0.6.26, 0.8.22, 0.10.19, 0.25.2). The
    # /health route came later (0.6.26 _server/api/endpoints/health.py:24): marimo 0.1 answers 404 there.
    probe_path="manifest.json",
    probe_expect="A Marimo App",
    default_action="open",
)

STREAMLIT = Kind(
    name="streamlit",
    label="Streamlit",
    example=("  You can now view your Streamlit app in your browser.", "", "  Local URL: {url}"),
    # streamlit bootstrap.py _print_url: "  Local URL: ", "  Network URL: ", "  External URL: ", "  URL: ",
    # indented by two blanks (streamlit 1.67.0 web/bootstrap.py:334 f"  {url_name}: "; 0.89.0 url_util.py:68
    # "  %s: " % title).
    url_lines=(layout(r"[ ]{2}(?:Local[ \t]+|Network[ \t]+|External[ \t]+)?URL:[ \t]+"),),
    # streamlit 1.5x streamlit/web/bootstrap.py:290 "Welcome to Streamlit. Check out our demo in your
    # browser." (streamlit hello), :292 "You can now view your Streamlit app in your browser."
    banner=re.compile(r"You can now view your Streamlit app in your browser|Check out our demo in your browser"),
    # streamlit/web/server/server.py:120 print_to_cli("  Stopping..."); captured: 1.20.0 web/bootstrap.py:246
    # (banner), web/server/server.py:400 ("  Stopping..."); 0.89.0 and 1.0.0 bootstrap.py:215, server/server.py:600;
    # 1.30.0 web/bootstrap.py:259, web/server/server.py:398, and headless with no --server.address only "Network
    # URL" and "External URL" (bootstrap.py:280-287, captured).
    stop_line=re.compile(r"^[ \t]*Stopping\.\.\.[ \t]*$"),
    stop_cues=("Stopping...",),
    # The app's page, at the root of every version: static/index.html has <title>Streamlit</title> (0.89.0,
    # 1.0.0 and 1.20.0 line 1, 1.45.1 :48, 1.67.0 :34). No health route serves them all: 0.89.0 and 1.0.0
    # have only /healthz (server/server.py:344), 1.20-1.45 both (1.45.1 web/server/server.py:104), 1.67.0
    # only /_stcore/health (web/server/starlette/starlette_routes.py:441).
    probe_path="",
    probe_expect="<title>Streamlit</title>",
    default_action="open",
)

GRADIO = Kind(
    name="gradio",
    label="Gradio",
    example=("* Running on local URL:  {url}",),
    # gradio 4.44.1 gradio/strings.py:12 "Running on local URL:  {}" (5.x prints "* Running on ...");
    # captured: 3.50.2 strings.py:12 and 3.20.1 :10 (same text; stop line blocks.py:2363 / :1682), 5.49.1
    # blocks.py:2669 "* Running on local URL:  {}://{}:{}". With server-side rendering (GRADIO_SSR_MODE=true or
    # launch(ssr_mode=True)) Gradio 5 adds ", with SSR ⚡" and a note in parentheses: 5.0.2 strings.py:12
    # (no note), 5.9.1 strings.py:12 "(experimental, to disable set `ssr=False` in `launch()`)", 5.49.1
    # blocks.py:2667 the same with `ssr_mode=False` (captured).
    # Either form starts the line (printed, not logged): "Running" or "* Running".
    url_lines=(
        layout(r"(?:\*[ \t]*)?Running[ \t]+on[ \t]+local[ \t]+URL:[ \t]+",
               r"(?:,[ ]with[ ]SSR[ ]⚡(?:[ ]\([ -~]{1,120}\))?)?"),
    ),  # fmt: skip
    # gradio 4.44.1 gradio/blocks.py:2711 "Keyboard interruption in main thread... closing server." (5.49.1
    # blocks.py:2960). Under server-side rendering Gradio 5 handles SIGINT and SIGTERM itself (5.49.1
    # node_server.py:121-123) and prints only print("\nStopping Node.js server...") (:183; 5.0.2 :176, captured)
    # before sys.exit(0).
    stop_line=re.compile(
        r"^(?:Keyboard interruption in main thread\.\.\. closing server\.|Stopping Node\.js server\.\.\.)[ \t]*$"
    ),
    stop_cues=("Keyboard interrupt", "Stopping Node.js server"),  # the first shared with http.server
    probe_path="config",
    probe_expect='"components"',  # gradio routes.py /config: the Blocks config
    default_action="open",
)

PANEL = Kind(
    name="panel",
    label="Panel/Bokeh",
    example=("Bokeh app running at: {url}",),
    # bokeh/server/server.py / bokeh command/subcommands/serve.py: log.info("Bokeh app running at: %s")
    # (bokeh 2.4.3 serve.py:927, captured alone and under Panel 0.14.4; 3.4.3 serve.py:982 under Panel 1.4.5;
    # 3.0.3 serve.py:977, captured, with https:// under --ssl-certfile (:970-976) and one line per app, routes
    # sorted (:975): the first is announced, one server).
    # pn.serve() in a script prints instead print(f"Launching server at {url}") with url f"http://{address}:
    # {server.port}{server.prefix}" (panel 1.4.5 panel/io/server.py:1152-1154, captured; 1.9.4 :1428).
    url_lines=(
        layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+)?Bokeh[ \t]+app[ \t]+running[ \t]+at:[ \t]+"),
        layout(r"Launching[ \t]server[ \t]at[ \t]"),
    ),
    # bokeh/server/server.py run_until_shutdown: print("\nInterrupted, shutting down") (Ctrl-C; bokeh 2.4.3
    # server.py:211, 3.9.2 :206), and on SIGTERM bokeh 2.4.3 server.py:299 f"Received signal {signum}, shutting
    # down" (a number; captured with Bokeh 2.4.3 and Panel 0.14.4), Bokeh 3.9.2 :294 the signal's name
    # ("SIGTERM", captured); Bokeh 3.0.3 :293 f"Received signal {signum}, shutting down" the number (captured).
    stop_line=re.compile(r"^(?:Interrupted|Received signal (?:[0-9]{1,2}|SIG[A-Z]{2,8})), shutting down[ \t]*$"),
    stop_cues=(", shutting down",),
    # Every Bokeh server (Panel's too) serves its own client library at this fixed path (bokeh/server/
    # urls.py: the static route), whose first lines carry its copyright; Jupyter and Voila, also on Tornado,
    # do not. Checked against panel 1.9.4 (Bokeh 3) here.
    probe_path="static/js/bokeh.min.js",
    probe_expect="Bokeh Contributors",
    default_action="open",
    page_last=True,  # "http://HOST:PORT[/PREFIX]/app": the app's page; the static route is beside it
)

DASH = Kind(
    name="dash",
    label="Dash",
    example=("Dash is running on {url}",),
    # dash/dash.py run(): self.logger.info("Dash is running on %s://%s%s%s\n", ...); captured: dash 1.21.0
    # dash.py:1738 and 2.0.0 :2021 (run_server).
    url_lines=(layout(r"Dash[ \t]+is[ \t]+running[ \t]+on[ \t]+"),),
    probe_path="_dash-layout",
    probe_expect='"props"',  # the layout JSON of a Dash app
    default_action="open",
)

KINDS: tuple[Kind, ...] = (
    JUPYTER, VOILA, TENSORBOARD, MARIMO, STREAMLIT, GRADIO, PANEL, DASH, DASK, MLFLOW, UVICORN, WERKZEUG,
    GUNICORN, HTTP_SERVER, VITE, WEBPACK, RAY, CODE_SERVER,
)  # fmt: skip
KIND_BY_NAME = {kind.name: kind for kind in KINDS}

# Lines that may stand between a banner and its URLs: blank, a bare log prefix, the redirect file.
BLOCK_FILLER = re.compile(rf"^(?:{JUPYTER_LOG})?[ \t]*(?:file://\S*)?[ \t]*$", re.ASCII | re.VERBOSE)

# `jupyter server list` / `jupyter lab list` / `jupyter notebook list`: a header, then "URL :: directory"
# (jupyter_server 2.21.1 serverapp.py:798 "Currently running servers:", notebook 6.5.7 notebookapp.py).
LISTING_HEADER = re.compile(r"^[ \t]*Currently running (?:servers|Jupyter \w+ servers):[ \t]*$")
LISTING_LINE = layout("", r"[ \t]+::[ \t]+\S.*")
