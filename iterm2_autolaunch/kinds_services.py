"""The services of a cluster or a remote machine in the kind table: the Dask and Ray dashboards, MLflow's UI
and code-server. "open" by default: each is a page to look at. Kept apart from kinds.py (notebooks and
dashboards) only for size; KINDS there holds them all."""

from __future__ import annotations

import re

from iterm2_autolaunch.hosts import WILDCARDS
from iterm2_autolaunch.kind_layouts import BARE_URL, Kind, layout
from iterm2_autolaunch.kinds_dev import UVICORN_RELOAD_MARKS
from iterm2_autolaunch.runners import RUNNER_PREFIX

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
    # A small page, not the dashboard's: every GET of /status makes a Bokeh session (bokeh 3.9.2
    # server/views/doc_handler.py:54) that lives 15 s unused (server/tornado.py:76) running the status
    # document's 100 ms callbacks (distributed 2026.8.0 dashboard/components/scheduler.py:4718), while the
    # engine probes a live forward every second. The index of the JSON routes is a template rendered with their
    # names only, served by every version on the dashboard's port: distributed 1.25.3 bokeh/scheduler_html.py:176,
    # 1.28.1 :248, 2.9.3 dashboard/scheduler.py:373, 2.30.1 http/scheduler/json.py:71, 2021.12.0 and 2026.8.0 :73
    # (the json routes on by default, distributed.yaml scheduler.http.routes); its template (templates/
    # json-index.html:4, the same text in all of them) says what it is. The statics route's cluster map
    # (2021.12.0+) is not in 1.x.
    probe_path="json/index.html",
    probe_expect="automated services to query the state of the scheduler",
    default_action="open",
    page_last=True,  # the link is that page, "[/PREFIX]/status"
)

# distributed 2021.12.0-2023.3.0 print no dashboard URL: after the scheduler's address, logger.info("  Scheduler
# at: %25s", listener.contact_address), each service's "HOST:PORT" with no scheme, logger.info("%11s at: %25s", k,
# "%s:%d" % (listen_ip, v.port)), listen_ip the scheduler's own host with 0.0.0.0 printed as "" (2021.12.0
# scheduler.py:4083-4085, 2022.5.0 :3410-3412, 2023.3.0 :3861-3863; 2023.3.2 :3863-3870 prints the link the DASK
# layout reads). The log format has no date in 2021.12.0 (distributed.yaml:262 "%(name)s - %(levelname)s -
# %(message)s"). distributed 1.x to 2.30.1 print the same lines (1.25.3 scheduler.py:1123-1125, 1.28.1
# :1213-1215, 2.9.3 :1420-1422, 2.30.1 :1496-1498, the same log-format), but in 1.x the dashboard is the service
# named "bokeh" (cli/dask_scheduler.py:123 of 1.25.3, :205 of 1.28.1 services[("bokeh", ...)]; 2.x renamed it
# "dashboard", 2.9.3 scheduler.py:1099), so its line is "      bokeh at: HOST:PORT". The detector reads the
# scheduler's line (its "://" makes it a candidate) and the dashboard's in the DASK_SERVICES_WITHIN lines below it:
# the two loops log back to back, slack left for a line of another program in between. The dashboard is
# http://HOST:PORT/status (the page the link of 2023.3.2 names), HOST the scheduler's when the service line's is
# empty or a wildcard (as 2023.3.2+ prints the scheduler's contact host).
_DASK_LOG = r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]-[ \t])?distributed\.scheduler[ \t]-[ \t]INFO[ \t]-[ \t]+"
_ADDRESS = r"[0-9A-Za-z.:\[\]-]{0,262}"  # host and port as distributed joins them; the URL grammar checks it
DASK_SCHEDULER_PREFIX = re.compile(  # up to "://", behind a process runner's prefix too (runners.py)
    rf"(?:{RUNNER_PREFIX})?{_DASK_LOG}Scheduler[ \t]at:[ \t]+[a-z]{{2,8}}", re.ASCII
)
DASK_SCHEDULER_LINE = re.compile(rf"^{_DASK_LOG}Scheduler[ \t]at:[ \t]+[a-z]{{2,8}}://(?P<host>{_ADDRESS}):"
                                 r"[0-9]{1,5}[ \t]*$", re.ASCII)  # fmt: skip
DASK_SERVICE_LINE = re.compile(rf"^{_DASK_LOG}(?:dashboard|bokeh)[ \t]at:[ \t]+(?P<host>{_ADDRESS}):"
                               r"(?P<port>[0-9]{1,5})[ \t]*$", re.ASCII)  # fmt: skip
DASK_SERVICES_WITHIN = 4  # lines below the scheduler's address


class DashboardBelow:
    """Follows an old scheduler's address line (DASK_SCHEDULER_LINE) to its dashboard's (DASK_SERVICE_LINE) in the
    DASK_SERVICES_WITHIN lines below it."""

    def __init__(self) -> None:
        self.host = ""  # the scheduler's
        self.lines_left = 0  # lines in which the dashboard's may still come

    def scheduler(self, line: str) -> bool:
        """Whether ``line`` is an old scheduler's address; its dashboard's line is awaited then."""
        if (scheduler := DASK_SCHEDULER_LINE.match(line)) is None:
            return False
        self.host, self.lines_left = scheduler["host"], DASK_SERVICES_WITHIN
        return True

    def dashboard(self, line: str) -> re.Match[str] | None:
        """The dashboard's URL, http://HOST:PORT/status, when ``line`` is its line (the next line awaited): HOST
        the scheduler's when the line has none or a wildcard."""
        self.lines_left -= 1
        service = DASK_SERVICE_LINE.match(line)
        if service is None:
            return None
        self.lines_left = 0
        host = service["host"] if service["host"] not in ("", *WILDCARDS) else self.host
        return BARE_URL.match(f"http://{host}:{service['port']}/status")

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
    reload_marks=UVICORN_RELOAD_MARKS,  # `mlflow server --dev` is uvicorn --reload (mlflow 3.17.2 cli/__init__.py:615)
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
        # ray 1.13.0 ray/_private/services.py:1470-1477 (start_dashboard, under `ray start --head` and ray.init()
        # alike) logger.info("View the Ray dashboard at %s%shttp://%s%s%s", ...) with the same LOGGER_FORMAT
        # (1.13.0 ray/ray_constants.py:191), the URL bright green; the same message in 1.8.0 (_private/services.py
        # :1270) and 1.0.0 (ray/services.py:1164, "{}{}http://{}{}{}".format), the same LOGGER_FORMAT.
        layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+INFO[ \t]services\.py:[0-9]{1,6}[ \t]--[ \t])?"
               r"View[ \t]the[ \t]Ray[ \t]dashboard[ \t]at[ \t]"),
        # `ray start --head` prints the dashboard's address twice, both under `if dashboard_url:` (ray 2.60.0
        # ray/scripts/scripts.py): at :1151-1156 "To monitor and debug Ray, view the dashboard at " and below
        # it "  {dashboard_url}" with no scheme, and first at :1123-1131 the Jobs CLI hint cf.bold("  RAY_API_
        # SERVER_ADDRESS='http://{}' ray job submit --working-dir . -- python my_script.py") (indented 4 by
        # cli_logger's group; older 2.x: RAY_ADDRESS=). The hint carries the scheme, so it is the line read.
        # Its indent is even: the hint's own two blanks (2.60.0 scripts.py:1126, 2.9.3 :818 "  RAY_ADDRESS=...")
        # after cli_logger's "  " * indent_level (2.60.0 autoscaler/_private/cli_logger.py:368, 2.9.3 :418); a
        # diff's context line, " " + the line, is odd.
        layout(r"(?:[ ]{2}){1,8}RAY_(?:API_SERVER_)?ADDRESS='",
               r"'[ \t]ray[ \t]job[ \t]submit[ \t]--working-dir[ \t]\.[ \t]--[ \t]python[ \t]my_script\.py"),
    ),  # fmt: skip
    # ray.init() puts "http://" in front of the address only where urllib.parse finds no scheme in it (ray 2.9.3
    # ray/_private/worker.py:1706-1707, 2.0.1 :1501-1502, 2.20.0 :1731-1732, 2.60.0 :2020-2021): CPython 3.9 and
    # 3.10 read "127.0.0.1" in "127.0.0.1:PORT" as a scheme (3.9.18, 3.10.13; 3.8 and 3.11+ do not, 3.11.7
    # urllib/parse.py:487 wants a letter first), so under them it logs "... View the dashboard at 127.0.0.1:PORT"
    # (captured: ray 2.9.3 on 3.10.13, the node's IP with dashboard_host="0.0.0.0").
    address_lines=(
        re.compile(r"^(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+INFO[ \t]worker\.py:[0-9]{1,6}[ \t]--[ \t])?"
                   r"(?:Started[ \t]a[ \t]local[ \t]Ray[ \t]instance|Connected[ \t]to[ \t]Ray[ \t]cluster)\."
                   r"[ \t]View[ \t]the[ \t]dashboard[ \t]at[ \t](?P<host>[0-9A-Za-z.:\[\]-]{1,262}):"
                   r"(?P<port>[0-9]{1,5})[ \t]*$", re.ASCII),
    ),  # fmt: skip
    address_cue=". View the dashboard at ",  # 0.27 of a str.count("://") pass on bench_scan's text
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
    # The same in 4.10.0 (main.js:130) .. 4.139.1 (:160), whose address is new URL(...) with an IPv6 host in
    # brackets (4.5.2 out/node/app.js:112, 4.139.1 :141): "http://[::1]:PORT/". Older ones differ:
    # - 3.9.3 out/node/entry.js:200 and 3.10.2 out/node/main.js:197 "HTTP server listening on " + serverAddress +
    #   " " + (args.link ? "(randomized by --link)" : ""), serverAddress "http://" + addr.address + ":" + port
    #   (app.js:170): no "/", an IPv6 host unbracketed ("http://::1:PORT", which URL reads), "HTTP" and
    #   "http://" even under --cert (TLS then, plain HTTP redirected to https: routes/index.js:145-146);
    # - 4.0.2 main.js:128 .. 4.9.1 main.js:131 `... ${serverAddress.toString()} ${args.link ? "(randomized by
    #   --link)" : ""}`: a blank after the URL (the layout's trailing blanks), and that suffix under --link (gone
    #   in 4.10.0; not matched: candidates.py's _ENDING knows no "(randomized", and --link needs Coder's cloud
    #   agent, fetched from GitHub by postinstall.sh, so it was never run here);
    # - @coder/logger 1.1.16 (code-server <= 4.5.2; 3.0.x from 4.8.3) wraps the message too in colour codes when
    #   stdout is a terminal (out/logger.js:140), "%s%s%s" with "" and "\x1b[0m" (:66-68), where 3.0.1 leaves an
    #   uncoloured part bare (:105): escapes the line reader drops. Both print "[%s] " + new Date().toISOString()
    #   (1.1.16 :163, 3.0.1 :200) and the tag "info" padded to 5 and a blank; neither colours a pipe. The start
    #   line comes from the child process the wrapper starts, which shares the terminal in 3.x (3.9.3
    #   out/node/wrapper.js:391 stdio "inherit": coloured) and writes into a pipe from 4.0.2 on (4.0.2 :283,
    #   4.139.1 :319: never coloured; the parent's first line, "Wrote default config file", is).
    # No stop line: SIGINT/SIGTERM only log "disposing" at debug level (3.9.3 out/node/wrapper.js:167, 4.100.3
    # :118, 4.139.1 :128), below the default level info.
    url_lines=(
        layout(r"\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\][ \t]info[ \t]+"
               r"HTTPS?[ \t]server[ \t]listening[ \t]on[ \t]"),
    ),  # fmt: skip
    # code-server 4.100.3 out/node/routes/index.js:163 mounts /healthz before the login check (:93), answering
    # out/node/routes/health.js {"status": "alive"|"expired", "lastHeartbeat": ...}; the same route and JSON in
    # 3.9.3 (index.js:198, health.js:45-46) .. 4.139.1 (index.js:175, health.js:18-19). 3.x under --cert answers
    # plain HTTP with a redirect to https:// (index.js:145-146) while printing http://: locate.py then asks https.
    probe_path="healthz",
    probe_expect='"lastHeartbeat"',
    default_action="open",
)
