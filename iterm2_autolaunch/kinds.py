"""Every kind of server, as one table entry: how its start, stop and listing lines look (with the tool's
own format string each pattern comes from), how to probe it, its label and its default action.

Adding a kind is one entry here (a generic development server's: in kinds_dev.py; a cluster service's: in
kinds_services.py; Jupyter's is in kinds_jupyter.py), its name in KINDS, and its captures in
tests/data/captures. The patterns are whole-line layouts (kind_layouts.py): a fixed prefix the tool prints, the
URL, an optional fixed suffix, nothing else.
Sources are cited as ``package version path:line`` of the installed wheel (grep them with tools/capture.py's
venvs).
"""

from __future__ import annotations

import re

from iterm2_autolaunch.kind_layouts import (
    BANNER_WINDOW,
    JUPYTER_LOG,
    PREFIXES,
    URL,
    Kind,
    any_prefix,
    layout,
)
from iterm2_autolaunch.kinds_dev import GUNICORN, HTTP_SERVER, UVICORN, VITE, WEBPACK, WEBPACK_LOG, WERKZEUG
from iterm2_autolaunch.kinds_jupyter import BLOCK_FILLER, JUPYTER, JUPYTER_STOP, LISTING_HEADER, LISTING_LINE
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
    "BANNER_WINDOW", "BLOCK_FILLER", "CODE_SERVER", "DASK", "DASK_SCHEDULER_LINE", "DASK_SCHEDULER_PREFIX",
    "DASK_SERVICE_LINE", "DASK_SERVICES_WITHIN", "GUNICORN", "HTTP_SERVER", "JUPYTER", "JUPYTER_LOG", "JUPYTER_STOP",
    "KINDS", "KIND_BY_NAME", "LISTING_HEADER", "LISTING_LINE", "MLFLOW", "PREFIXES", "RAY", "URL", "UVICORN", "VITE",
    "WEBPACK", "WEBPACK_LOG", "WERKZEUG", "Kind", "any_prefix", "layout",
]  # fmt: skip

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
