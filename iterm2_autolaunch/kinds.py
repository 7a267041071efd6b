"""Every kind of server, as one table entry: how its start, stop and listing lines look (with the tool's
own format string each pattern comes from), how to probe it, its label and its default action.

Adding a kind is one entry here (a generic development server's: in kinds_dev.py), its name in KINDS, and its
captures in tests/data/captures. The patterns are whole-line layouts (kind_layouts.py): a fixed prefix the tool
prints, the URL, an optional fixed suffix, nothing else. Sources are cited as ``package version path:line``
of the installed wheel (grep them with tools/capture.py's venvs).
"""

from __future__ import annotations

import re

from iterm2_autolaunch.kind_layouts import BANNER_WINDOW, JUPYTER_LOG, PREFIXES, URL, Kind, any_prefix, layout
from iterm2_autolaunch.kinds_dev import GUNICORN, HTTP_SERVER, UVICORN, VITE, WEBPACK, WEBPACK_LOG, WERKZEUG

__all__ = [  # the machinery is kind_layouts.py's; importers of kinds see one table with its vocabulary
    "BANNER_WINDOW", "GUNICORN", "HTTP_SERVER", "JUPYTER_LOG", "KINDS", "KIND_BY_NAME", "PREFIXES", "URL",
    "UVICORN", "VITE", "WEBPACK", "WEBPACK_LOG", "WERKZEUG", "Kind", "any_prefix", "layout",
]  # fmt: skip

JUPYTER_STOP = re.compile(
    # jupyter_server 2.21.1 serverapp.py:2508 "Shutdown confirmed", :2898 "Shutting down %d kernel(s)",
    # :2909 "... %d extension(s)"; 1.24.0 serverapp.py:2112, :2440, :2457 "... %d terminal(s)";
    # notebook 6.5.7 notebookapp.py:1977, :2185, :2200; notebook 5.5.0 notebookapp.py:1417, :1551.
    # notebook 4.4.1 notebookapp.py:1154 logs "Shutting down kernels" with no count (its only line after
    # SIGTERM besides "received signal"; captured on Python 3.6), so does 5.0.0 :1308; 5.2.2 :1381 and 5.4.1
    # :1521 have the count.
    # Ctrl-C's question is written with no newline (notebook 5.0.0 notebookapp.py:1203 and 4.4.1 :1068
    # sys.stdout.write("Shutdown this notebook server (y/[n])? "), 6.4.12 :1949 with _("...(%s/[%s])? ");
    # jupyter_server 1.13.5 serverapp.py:2042 "Shutdown this Jupyter server", 2.21.1 :2502 "Shut down this
    # Jupyter server"): the answer is echoed by the terminal, not into a pipe, so there the next log line,
    # "Shutdown confirmed", follows the question on the same line.
    r"^(?:Shut[ ]?down[ ]this[ ](?:notebook|Jupyter)[ ]server[ ]\([^()\s]{1,16}/\[[^()\s]{1,16}\]\)\?[ \t]*)?"
    rf"{JUPYTER_LOG}[ \t]+"
    r"(?:Shutdown confirmed|Shutting down (?:[0-9]+ )?(?:kernels?|extensions?|terminals?))",
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
    banner=re.compile(
        rf"^{JUPYTER_LOG}[ \t]+\S.*is running at:[ \t]*$|^[ \t]*Or copy and paste one of these URLs:[ \t]*$"
        r"|^[ \t]*Or copy and paste this URL:[ \t]*$|^[ \t]*To access the (?:server|notebook|Jupyter Server)",
        re.ASCII,
    ),
    stop_line=JUPYTER_STOP,
    # Every way of stopping (Ctrl-C and y, a second Ctrl-C, SIGTERM) ends in the cleanup that logs
    # "Shutting down %d extensions/kernels" (jupyter_server 2.21.1 serverapp.py:3202 _cleanup, :2898,
    # :2909; notebook 6.5.7 notebookapp.py:2185 cleanup_kernels).
    # "Shutdown confirmed" too (notebook 5.4.1 notebookapp.py:1387, before cleanup_kernels' :1521):
    # notebook 5.0 may exit before cleaning up (capture notebook5_0_token_auto.raw ends there).
    stop_cues=("Shutting down ", "Shutdown confirmed"),
    probe_path="api",
    probe_expect='"version"',  # GET /api answers {"version": "..."} (jupyter_server handlers/api)
    default_action="open",
    pages_in_path=True,
)

VOILA = Kind(
    name="voila",
    label="Voilà",
    example=("[Voila] Voilà is running at:", "[Voila] {url}"),
    # voila 0.5.13 voila/app.py:922 self.log.info("Voilà is running at:\n%s" % display_url); captured: 0.3.6
    # voila/app.py:584, 0.2.16 :554 (same text), 0.1.23 :531 "Voila is running at:" (no accent).
    url_lines=(layout(r"(?:\[Voila\][ \t]+)?[ \t]*"),),
    token_param="token",
    banner=re.compile(r"Voil[aà] is running at:[ \t]*$"),
    # voila 0.5.13 voila/app.py:958 self.log.info("Stopping..."); :896 "Handle signal %s." (SIGTERM)
    stop_line=re.compile(r"^\[Voila\][ \t]+(?:Shutting down|Stopping|Handle signal [0-9]+\.)"),
    stop_cues=("[Voila] ",),  # every stop line starts so, and few other lines do
    probe_path="",
    probe_expect="voila",  # the page names its template assets (voila/...)
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
    probe_path="data/environment",
    probe_expect='"data_location"',  # tensorboard/plugins/core/core_plugin.py _serve_environment
    default_action="open",
)

MARIMO = Kind(
    name="marimo",
    label="marimo",
    example=("        Create or edit notebooks in your browser", "        ➜  URL: {url}"),
    # marimo 0.25.2 marimo/_server/print.py:48 print_tabbed(f"➜  URL: {url}")
    url_lines=(layout(r"[ \t]*(?:\S{1,3}[ \t]+)?URL:[ \t]+"),),
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
    probe_path="health",
    probe_expect='"status"',  # marimo _server/api/endpoints/health.py: {"status": "healthy", ...}
    default_action="open",
)

STREAMLIT = Kind(
    name="streamlit",
    label="Streamlit",
    example=("  You can now view your Streamlit app in your browser.", "", "  Local URL: {url}"),
    # streamlit bootstrap.py _print_url: "  Local URL: ", "  Network URL: ", "  External URL: ", "  URL: "
    url_lines=(layout(r"[ \t]+(?:Local[ \t]+|Network[ \t]+|External[ \t]+)?URL:[ \t]+"),),
    # streamlit 1.5x streamlit/web/bootstrap.py:290 "Welcome to Streamlit. Check out our demo in your
    # browser." (streamlit hello), :292 "You can now view your Streamlit app in your browser."
    banner=re.compile(r"You can now view your Streamlit app in your browser|Check out our demo in your browser"),
    # streamlit/web/server/server.py:120 print_to_cli("  Stopping..."); captured: 1.20.0 web/bootstrap.py:246
    # (banner), web/server/server.py:400 ("  Stopping..."); 0.89.0 and 1.0.0 bootstrap.py:215, server/server.py:600.
    stop_line=re.compile(r"^[ \t]*Stopping\.\.\.[ \t]*$"),
    stop_cues=("Stopping...",),
    probe_path="_stcore/health",
    probe_expect="ok",
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
    url_lines=(
        layout(r"\*?[ \t]*Running[ \t]+on[ \t]+local[ \t]+URL:[ \t]+",
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
    # (bokeh 2.4.3 serve.py:927, captured alone and under Panel 0.14.4; 3.4.3 serve.py:982 under Panel 1.4.5).
    # pn.serve() in a script prints instead print(f"Launching server at {url}") with url f"http://{address}:
    # {server.port}{server.prefix}" (panel 1.4.5 panel/io/server.py:1152-1154, captured; 1.9.4 :1428).
    url_lines=(
        layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+)?Bokeh[ \t]+app[ \t]+running[ \t]+at:[ \t]+"),
        layout(r"Launching[ \t]server[ \t]at[ \t]"),
    ),
    # bokeh/server/server.py run_until_shutdown: print("\nInterrupted, shutting down") (Ctrl-C; bokeh 2.4.3
    # server.py:211, 3.9.2 :206), and on SIGTERM bokeh 2.4.3 server.py:299 f"Received signal {signum}, shutting
    # down" (a number; captured with Bokeh 2.4.3 and Panel 0.14.4), Bokeh 3.9.2 :294 the signal's name
    # ("SIGTERM", captured).
    stop_line=re.compile(r"^(?:Interrupted|Received signal (?:[0-9]{1,2}|SIG[A-Z]{2,8})), shutting down[ \t]*$"),
    stop_cues=(", shutting down",),
    # Every Bokeh server (Panel's too) serves its own client library at this fixed path (bokeh/server/
    # urls.py: the static route), whose first lines carry its copyright; Jupyter and Voila, also on Tornado,
    # do not. Checked against panel 1.9.4 (Bokeh 3) here.
    probe_path="static/js/bokeh.min.js",
    probe_expect="Bokeh Contributors",
    default_action="open",
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

DASK = Kind(
    name="dask",
    label="Dask dashboard",
    example=("2026-12-04 12:57:05,951 - distributed.scheduler - INFO -   dashboard at:  {url}",),
    # distributed scheduler.py:4447 logger.info("%11s at:  %25s", name, link) under the CLI's log format
    # "%(asctime)s - %(name)s - %(levelname)s - %(message)s" (distributed/config.py logging).
    url_lines=(
        layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]-[ \t])?distributed\.scheduler[ \t]-[ \t]INFO[ \t]-[ \t]+"
               r"dashboard[ \t]at:[ \t]+"),
    ),  # fmt: skip
    # distributed cli/dask_scheduler.py:247 logger.info("End scheduler")
    stop_line=re.compile(r"^(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]-[ \t])?distributed\.scheduler - INFO - End scheduler"),
    stop_cues=("End scheduler",),
    probe_path="status",  # the dashboard page; its template distributed/http/templates/base.html
    probe_expect="Dask Diagnostic UI",
    default_action="open",
)

# distributed 2021.12.0-2023.3.0 print no dashboard URL: after the scheduler's address, logger.info("  Scheduler
# at: %25s", listener.contact_address), each service's "HOST:PORT" with no scheme, logger.info("%11s at: %25s", k,
# "%s:%d" % (listen_ip, v.port)), listen_ip the scheduler's own host with 0.0.0.0 printed as "" (2021.12.0
# scheduler.py:4083-4085, 2022.5.0 :3410-3412, 2023.3.0 :3861-3863; 2023.3.2 :3863-3870 prints the link the DASK
# layout reads). The log format has no date in 2021.12.0 (distributed.yaml:262 "%(name)s - %(levelname)s -
# %(message)s"). The detector reads the scheduler's line (its "://" makes it a candidate) and the dashboard's in
# the DASK_SERVICES_WITHIN lines below it: the two loops log back to back, slack left for a line of another
# program in between. The dashboard is http://HOST:PORT/status (the page the link of 2023.3.2 names), HOST the
# scheduler's when the service line's is empty or a wildcard (as 2023.3.2+ prints the scheduler's contact host).
_DASK_LOG = r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]-[ \t])?distributed\.scheduler[ \t]-[ \t]INFO[ \t]-[ \t]+"
_ADDRESS = r"[0-9A-Za-z.:\[\]-]{0,262}"  # host and port as distributed joins them; the URL grammar checks it
DASK_SCHEDULER_PREFIX = re.compile(rf"{_DASK_LOG}Scheduler[ \t]at:[ \t]+[a-z]{{2,8}}", re.ASCII)  # up to "://"
DASK_SCHEDULER_LINE = re.compile(rf"^{_DASK_LOG}Scheduler[ \t]at:[ \t]+[a-z]{{2,8}}://(?P<host>{_ADDRESS}):"
                                 r"[0-9]{1,5}[ \t]*$", re.ASCII)  # fmt: skip
DASK_SERVICE_LINE = re.compile(rf"^{_DASK_LOG}dashboard[ \t]at:[ \t]+(?P<host>{_ADDRESS}):(?P<port>[0-9]{{1,5}})"
                               r"[ \t]*$", re.ASCII)  # fmt: skip
DASK_SERVICES_WITHIN = 4  # lines below the scheduler's address

MLFLOW = Kind(
    name="mlflow",
    label="MLflow",
    example=("2026/12/04 12:57:12 INFO:     Uvicorn running on {url} (Press CTRL+C to quit)",),
    # mlflow 3.17.2 mlflow/server/__init__.py _run_server starts uvicorn in a child process; its
    # "Uvicorn running on ..." (uvicorn config.py:607) arrives with MLflow's "%Y/%m/%d %H:%M:%S" date
    # (mlflow/utils/logging_utils.py:18) in front, which tells it apart from a bare uvicorn.
    url_lines=(
        layout(r"[0-9]{4}/[0-9]{2}/[0-9]{2}[ \t][0-9:]{8}[ \t]INFO:[ \t]+Uvicorn[ \t]running[ \t]on[ \t]",
               r"[ \t]+\(Press[ \t]CTRL\+C[ \t]to[ \t]quit\)"),
    ),  # fmt: skip
    stop_line=re.compile(r"^[0-9/]{10}[ \t][0-9:]{8}[ \t]INFO:[ \t]+(?:Shutting down|Finished server process)"),
    stop_cues=("Finished server process",),
    probe_path="",  # the UI's index.html (mlflow/server/js/build), checked on MLflow 3.17.2
    probe_expect="<title>MLflow</title>",
    default_action="open",
    # mlflow 3.17.2 mlflow/server/__init__.py:449 runs uvicorn with ``workers or 4``: its parent binds and
    # prints (uvicorn 0.55.0 config.py:607, Config.bind_socket) before the workers have imported MLflow, and
    # nothing answers until then: 64 s after the line on this 2-core machine under load (tests/
    # test_product_e2e_kinds.py's MLflow row fails without this patience); a busy login node may be slower.
    listens_within=180.0,
)

RAY = Kind(
    name="ray",
    label="Ray dashboard",
    example=("2026-12-04 14:28:02,939\tINFO worker.py:2029 -- Started a local Ray instance. View the dashboard at "
             "{url}",),
    # ray 2.60.0 ray/_private/worker.py:2029-2031 logger.info(info_str + " View the dashboard at %s%s%s %s%s", ...)
    # with info_str "Started a local Ray instance." or "Connected to Ray cluster." (:2025-2027), the URL bold
    # green and followed by a blank; under ray/_private/ray_constants.py:396 LOGGER_FORMAT "%(asctime)s\t
    # %(levelname)s %(filename)s:%(lineno)s -- %(message)s".
    url_lines=(
        layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+INFO[ \t]worker\.py:[0-9]{1,6}[ \t]--[ \t])?"
               r"(?:Started[ \t]a[ \t]local[ \t]Ray[ \t]instance|Connected[ \t]to[ \t]Ray[ \t]cluster)\."
               r"[ \t]View[ \t]the[ \t]dashboard[ \t]at[ \t]"),
        # `ray start --head` prints the dashboard's address twice, both under `if dashboard_url:` (ray 2.60.0
        # ray/scripts/scripts.py): at :1151-1156 "To monitor and debug Ray, view the dashboard at " and below
        # it "  {dashboard_url}" with no scheme, and first at :1123-1131 the Jobs CLI hint cf.bold("  RAY_API_
        # SERVER_ADDRESS='http://{}' ray job submit --working-dir . -- python my_script.py") (indented 4 by
        # cli_logger's group; older 2.x: RAY_ADDRESS=). The hint carries the scheme, so it is the line read.
        layout(r"[ \t]*RAY_(?:API_SERVER_)?ADDRESS='",
               r"'[ \t]ray[ \t]job[ \t]submit[ \t]--working-dir[ \t]\.[ \t]--[ \t]python[ \t]my_script\.py"),
    ),  # fmt: skip
    # Ctrl-C prints no stop line (a KeyboardInterrupt traceback, or click's "Aborted!"). SIGTERM to `ray start
    # --block` does: ray 2.60.0 ray/_private/node.py:698-700 logger.info("Node %s received SIGTERM. Draining for
    # up to %s seconds before shutting down local processes.", node id hex, ...) (then :748 "Local node finished
    # draining; shutting down."), logged under LOGGER_FORMAT as above.
    stop_line=re.compile(r"^[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+INFO[ \t]node\.py:[0-9]{1,6}[ \t]--[ \t]"
                         r"Node[ \t][0-9a-f]{1,128}[ \t]received[ \t]SIGTERM\.[ \t]Draining[ \t]", re.ASCII),
    stop_cues=("received SIGTERM. Draining",),
    # The dashboard's page, ray 2.60.0 ray/dashboard/client/build/index.html "<title>Ray Dashboard</title>": it
    # answers without a token, where /api/version (dashboard/modules/job/job_head.py:345) answers 401
    # "Missing authentication token" under the token authentication ray.init turns on by default (2.60.0).
    probe_path="",
    probe_expect="<title>Ray Dashboard</title>",
    default_action="open",
)

CODE_SERVER = Kind(
    name="code_server",
    label="code-server",
    example=("[2026-12-04T14:40:00.000Z] info  HTTP server listening on {url}",),
    # code-server 4.100.3 out/node/main.js:143 (src/node/main.ts) logger.info(`${protocol.toUpperCase()} server
    # listening on ${serverAddress.toString()}`) through @coder/logger 3.0.1 out/logger.js:200 "[%s] " with
    # new Date().toISOString(), then the level tag padded to 5 (:95-99): "[...Z] info  HTTP server ...".
    url_lines=(
        layout(r"\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\][ \t]info[ \t]+"
               r"HTTPS?[ \t]server[ \t]listening[ \t]on[ \t]"),
    ),  # fmt: skip
    # code-server 4.100.3 out/node/routes/index.js:163 mounts /healthz before the login check (:93), answering
    # out/node/routes/health.js {"status": "alive"|"expired", "lastHeartbeat": ...}.
    probe_path="healthz",
    probe_expect='"lastHeartbeat"',
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
