"""The generic development servers of the kind table: uvicorn, Flask/Werkzeug, ``python -m http.server``,
Vite and webpack-dev-server. "notify" by default: they serve whatever app, and a tab opening may surprise.
Kept apart from kinds.py (notebooks and dashboards) only for size; KINDS there holds them all."""

from __future__ import annotations

import re

from iterm2_autolaunch.kind_layouts import Kind, layout

# uvicorn --reload (and `fastapi dev`, and `mlflow server --dev`) restarts the server process when a watched file
# changes, the reloader keeping the socket: uvicorn 0.55.0 supervisors/basereload.py:54 (0.20.0 :48) "%s detected
# changes in %s. Reloading...", 0.13.4 statreload.py:31 "StatReload detected file change in '%s'. Reloading...";
# then the old process's "Shutting down" .. "Finished server process [PID]" and server.py's "Started server process
# [PID]" (0.55.0 server.py:101) of the new one (captured: uvicorn*_reload_edited.raw, fastapi_cli0_0_34_dev_edited.raw,
# mlflow_server_dev_edited.raw).
UVICORN_RELOAD_MARKS = re.compile(
    r"(?P<reload>[ \t]detected[ \t](?:changes|file[ \t]change)[ \t]in[ \t].*\.[ \t]Reloading\.\.\.)"
    r"|(?P<started>Started[ \t]server[ \t]process[ \t]\[[0-9]+\])"
)

UVICORN = Kind(
    name="uvicorn",
    label="Uvicorn",
    example=("INFO:     Uvicorn running on {url} (Press CTRL+C to quit)",),
    # uvicorn 0.55.0 uvicorn/config.py:607 logger.info(f"Uvicorn running on {addr_format} (Press CTRL+C to
    # quit)") under the default log format "%(levelprefix)s %(message)s" ("INFO:     ").
    # The same from 0.13.4 (config.py:376) through 0.20.0 (config.py:573, server.py:203) and 0.30.6 (config.py:519,
    # server.py:212), "%s://[%s]:%d" for an IPv6 host (0.30.6 config.py:509).
    url_lines=(
        layout(r"INFO:[ \t]+Uvicorn[ \t]running[ \t]on[ \t]", r"[ \t]+\(Press[ \t]CTRL\+C[ \t]to[ \t]quit\)"),
        # `fastapi dev` / `fastapi run` log uvicorn's lines through FastAPI CLI's own formatter, in Rich: fastapi-cli
        # 0.0.13 fastapi_cli/utils/cli.py:15 toolkit.print_as_string(message, tag=record.levelname) under
        # TaggedStyle(tag_width=11) (:62), "      INFO   Uvicorn running on ..."; 0.0.34 utils/cli.py:136-142 a
        # level bar "▕" in a bullet column (:121-126, FastAPIStyle :97-108), " ▕  Uvicorn running on ...". Rich
        # breaks the message at the terminal's width (captured at 60 columns: "(Press CTRL+C " and "to quit)" on
        # the next line), so the line may end anywhere in "(Press CTRL+C to quit)". The indents are exact, as a layout's
        # are (a diff's context line adds one blank): the tag " INFO " right-aligned in tag_width 11, then 2 blanks
        # (rich_toolkit 0.11.0-0.15.0 styles/tagged.py "left_padding = self.tag_width - len(tag)", padding 2;
        # tag_width=11 in fastapi-cli 0.0.7-0.0.28), and from 0.0.30 the bar after one blank, then 2.
        layout(r"(?:[ ]{6}INFO[ ]{3}|[ ]▕[ ]{2})Uvicorn[ \t]running[ \t]on[ \t]",
               r"(?:[ \t]+\(Press(?:[ \t]+CTRL\+C(?:[ \t]+to(?:[ \t]+quit\))?)?)?)?"),
    ),  # fmt: skip
    # uvicorn 0.55.0 uvicorn/server.py:111 "Finished server process [%d]" (0.20.0 :83, 0.30.6 :90), under FastAPI
    # CLI's formatter as its start line.
    stop_line=re.compile(r"^(?:INFO:[ \t]+|[ ]{6}INFO[ ]{3}|[ ]▕[ ]{2})Finished server process \[[0-9]+\][ \t]*$"),
    stop_cues=("Finished server process",),
    reload_marks=UVICORN_RELOAD_MARKS,
    probe_path="",
    probe_header=("server", "uvicorn"),  # uvicorn sends "server: uvicorn" unless --no-server-header
    # Under --reload or --workers N the parent binds and prints (Config.bind_socket logs the start line), then a
    # child imports the app and only then listens (uvicorn 0.30.6 main.py:570-575, 0.20.0 :562-567): an app
    # that imports for long (MLflow 3.5: 4 workers, tens of seconds) answers that much later. `fastapi dev`
    # runs --reload by default (fastapi-cli 0.0.13 fastapi_cli/cli.py:215-222 dev(reload=True)).
    listens_within=180.0,
    generic=True,
    # MLflow 3.3-3.11's UI: they run `python -m uvicorn` with uvicorn's own log format (mlflow 3.5.1
    # mlflow/server/__init__.py:272-290), so the line is a bare uvicorn's; opened as MLflow's is (its <title>).
    serves=("mlflow",),
)

WERKZEUG = Kind(
    name="werkzeug",
    label="Flask/Werkzeug",
    example=(" * Running on {url}",),
    # werkzeug 3.1.9 werkzeug/serving.py:862/867 f" * Running on {scheme}://{host}:{self.port}", then
    # :1113 "Press CTRL+C to quit"; it prints no stop line. Werkzeug 2.0 and older print both on one line:
    # werkzeug 2.0.3 serving.py:946 " * Running on %s://%s:%d/ (Press CTRL+C to quit)" (captured under Flask
    # 2.0.3); 2.2.3 serving.py:805/:810 as 3.x.
    url_lines=(layout(r"[ \t]\*[ \t]Running[ \t]on[ \t]", r"(?:[ \t]+\(Press[ \t]CTRL\+C[ \t]to[ \t]quit\))?"),),
    probe_path="",
    probe_header=("Server", "Werkzeug"),  # werkzeug serving.py WSGIRequestHandler.version_string
    generic=True,
)

# gunicorn's log time, "%Y-%m-%d %H:%M:%S": in brackets with the zone from 19.1 (23.0.0 glogging.py:176 datefmt
# "[%Y-%m-%d %H:%M:%S %z]", 19.1.1 :160), bare in 18.0 and 19.0 (18.0 glogging.py:150, 19.0.0 :160).
_GUNICORN_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t][0-9]{2}:[0-9]{2}:[0-9]{2}"

GUNICORN = Kind(
    name="gunicorn",
    label="Gunicorn",
    example=("[2026-12-04 16:50:00 +0000] [4242] [INFO] Listening at: {url} (4242)",),
    # gunicorn 23.0.0 gunicorn/arbiter.py:158 self.log.info("Listening at: %s (%s)", listeners_str, self.pid),
    # each listener "%s://%s:%d" (sock.py:85; "http://[%s]:%d" for IPv6, :98), under the error log's format
    # "%(asctime)s [%(process)d] [%(levelname)s] %(message)s" with datefmt "[%Y-%m-%d %H:%M:%S %z]"
    # (glogging.py:175-176); the same in 19.9.0 (arbiter.py:159-161, sock.py:86/:99, glogging.py:182-183), 20.1.0
    # (arbiter.py:157-159), 21.2.0 and 22.0.0 (arbiter.py:157-159, glogging.py:176-177), and 18.0 (arbiter.py:136-138,
    # sock.py:70/:83/:105) but for its time (_GUNICORN_TIME). MLflow 2.x serves its UI so (mlflow 2.22.1
    # mlflow/server/__init__.py:224-303 execs "python -m gunicorn -b HOST:PORT -w 4 mlflow.server:app"; captured
    # with gunicorn 23.0.0): nothing MLflow's is printed.
    # Several -b listeners are ",".join()ed on the one line (arbiter.py:156 in 23.0.0, :159 in 19.9.0), a unix
    # socket as "unix:PATH" (sock.py:120 "unix:%s" % self.cfg_addr, :121 in 19.9.0): the server is announced
    # at its first TCP listener (no forward reaches a unix socket), the ones after it are the same server. A
    # TCP listener prints getsockname()'s address, an IP (with an IPv6 zone, "%eth0", for a link-local one).
    # An IPv6 listener says "http://" even under --certfile (sock.py:98 in 23.0.0, :99 in 19.9.0): that server is
    # announced as http; its probe gets no HTTP answer there and asks https (locate.answer), which answers.
    # A unix path here holds no blank, "," or ":" (a candidate URL's "://" must be the line's first) and is
    # at most 107 bytes (sun_path); one before the first URL keeps the prefix within candidates.MAX_PREFIX.
    url_lines=(
        layout(rf"(?:\[{_GUNICORN_TIME}(?:[ \t][+-][0-9]{{4}})?\]|{_GUNICORN_TIME})[ \t]"
               r"\[[0-9]{1,10}\][ \t]\[INFO\][ \t]Listening[ \t]at:[ \t](?:unix:[^\s,:]{1,107},)?",
               r"(?:,(?:https?://(?:[0-9.]{7,15}|\[[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,32})?\]):[0-9]{1,5}"
               r"|unix:[^\s,:]{1,107})){0,8}[ \t]\([0-9]{1,10}\)"),
    ),  # fmt: skip
    # gunicorn 23.0.0 gunicorn/arbiter.py:344 log_func("Shutting down: %s", self.master_name) from halt(), which
    # SIGINT, SIGTERM and SIGQUIT all reach (:222 "Handling signal: %s" first, then handle_int / handle_term /
    # handle_quit raise StopIteration, :225, :254-266); log_func is log.error when halted by a failure (:343, a
    # worker that cannot boot or load the app, :527-532), so the level is INFO or ERROR (21.2.0 and 22.0.0
    # :344-345 the same; 18.0 :299, 19.9.0 :346 and 20.1.0 :343 always INFO).
    stop_line=re.compile(
        rf"^(?:\[[0-9 :+-]{{19,30}}\]|{_GUNICORN_TIME})[ \t]\[[0-9]{{1,10}}\][ \t]\[(?:INFO|ERROR)\][ \t]"
        r"Shutting down: Master",
        re.ASCII,
    ),
    stop_cues=("Shutting down: Master",),
    probe_path="",
    # gunicorn 23.0.0 http/wsgi.py:315 "Server: %s" with SERVER "gunicorn" (20.1.0 __init__.py:8 the same);
    # 19.9.0 sends "gunicorn/19.9.0" (__init__.py:8 SERVER_SOFTWARE, http/wsgi.py:208), 18.0 "gunicorn/18.0"
    # (__init__.py:8): a substring either way.
    probe_header=("Server", "gunicorn"),
    # The master binds and prints before its workers have imported the app (MLflow 2: tens of seconds).
    listens_within=180.0,
    generic=True,
    serves=("mlflow",),  # MLflow 2's UI: a dashboard, opened as MLflow's is (its index page's <title>)
)

HTTP_SERVER = Kind(
    name="http_server",
    label="python -m http.server",
    example=("Serving HTTP on 127.0.0.1 port 8000 ({url}) ...",),
    # CPython 3.11 Lib/http/server.py:1264 f"Serving HTTP on {host} port {port} (http://{url_host}:{port}/) ..."
    # (3.8.18 :1270 to 3.13.0 :1271 the same, url_host the host bracketed when IPv6; 3.6.15 :1187 and 3.7.16 :1249
    # "Serving HTTP on {host} port {port} (http://{host}:{port}/) ...", IPv4 only). Python 2.7's SimpleHTTPServer
    # prints no URL (2.7.18 BaseHTTPServer.py:609 "Serving HTTP on 0.0.0.0 port 8000 ..."): not read (detect.py
    # reads lines holding "://" only). With --tls-cert (new after 3.13) CPython's test() prints f"Serving {protocol}
    # on {host} port {port} ({protocol.lower()}://{url_host}:{port}/) ...", protocol 'HTTPS' if tls_cert else
    # 'HTTP' (read in CPython's development Lib/http/server.py; no such Python here to capture).
    url_lines=(
        layout(r"Serving[ \t]HTTPS?[ \t]on[ \t][0-9A-Fa-f.:]{2,45}[ \t]port[ \t][0-9]{1,5}[ \t]\(", r"\)[ \t]\.\.\."),
    ),
    # http/server.py:1270 print("\nKeyboard interrupt received, exiting.") (3.6.15 :1192 to 3.13.0 :1277)
    stop_line=re.compile(r"^Keyboard interrupt received, exiting\.[ \t]*$"),
    stop_cues=("Keyboard interrupt",),
    probe_path="",
    probe_header=("Server", "SimpleHTTP/"),  # http.server SimpleHTTPRequestHandler.server_version
    generic=True,
)

VITE = Kind(
    name="vite",
    label="Vite",
    example=("  VITE v8.4.1  ready in 703 ms", "", "  ➜  Local:   {url}"),
    # vite 5.4.21 dist/node/chunks/dep-BK3b2jBa.js:17777 (printServerUrls) info(`  ${green("➜")}  ${bold("Local")}:
    # ${colorUrl(url)}`) and :17780 the same with "Network: "; vite 6.4.6 dist/node/chunks/dep-Cohbwjf9.js:7640,
    # vite 7.3.8 dist/node/chunks/logger.js:321, vite 8.4.1 dist/node/chunks/node.js:14801 (8.x may add blanks
    # and an interface name after a Network URL: those lines are not matched, the Local line comes first).
    # vite 2.9.18 dist/node/chunks/dep-0a035c79.js:18990 info(`  > Local: ${cyan(url)}`), :19006-19009
    # `  > ${"Local:   " or "Network: "} ${url}` (--host).
    # Both forms are indented by two blanks.
    url_lines=(layout(r"[ ]{2}(?:➜|>)[ \t]{1,4}(?:Local|Network):[ \t]+"),),
    # The dev server's banner, above the URLs: vite 5.4.21 dist/node/cli.js:761 / 6.4.6 :780 / 7.3.8 :590 /
    # 8.4.1 :982 `  ${green(`${bold("VITE")} v${VERSION}`)}${modeString}  ${startupDurationString}` ("ready in
    # N ms"); vite 2.9.18 dist/node/cli.js:703 `\n  vite v${version}` + ` dev server running at:\n`.
    # `vite preview` prints the URLs without it and serves no /@vite/client: it is not matched.
    banner=re.compile(
        r"^[ \t]*(?:VITE v[0-9][0-9A-Za-z.+-]{0,40}[ \t].{0,80}ready in "
        r"|vite v[0-9][0-9A-Za-z.+-]{0,40} dev server running at:)",
        re.ASCII,
    ),
    # Vite prints nothing when it stops (Ctrl-C or SIGTERM): no stop line.
    # The dev server's own HMR client module, relative to --base: vite 5.4.21 dist/client/client.mjs:495,
    # 8.4.1 :934 console.debug("[vite] connecting...").
    probe_path="@vite/client",
    probe_expect="[vite] connecting",
)

# webpack's infrastructure logger: webpack 5.113.0 lib/node/nodeConsole.js:175 info: writeColored("<i> ", ...)
# and lib/logging/createConsoleLogger.js:118 `[${name}] ${args[0]}`.
WEBPACK_LOG = r"<i>[ \t]\[webpack-dev-server\][ \t]"

WEBPACK = Kind(
    name="webpack",
    label="webpack-dev-server",
    example=("<i> [webpack-dev-server] Project is running at:", "<i> [webpack-dev-server] Loopback: {url}"),
    url_lines=(
        # webpack-dev-server 5.2.7 lib/Server.js:3120 `Loopback: ${loopbacks.join(", ")}` (localhost, then the
        # loopback address it listens on), :3102 `Server: ${host}` (a host name), :3125/:3131 `On Your Network
        # (IPv4): ...` / `(IPv6): ...`; 4.15.2 lib/Server.js:2923/:2941/:2946/:2952. The URL announced is the first.
        layout(rf"{WEBPACK_LOG}(?:Loopback|Server|On[ \t]Your[ \t]Network[ \t]\(IPv[46]\)):[ \t]",
               r"(?:,[ ]https?://[A-Za-z0-9.:\[\]/-]{1,300}){0,2}"),
        # webpack-dev-server 3.11.3 lib/utils/status.js:25 log.info(`Project is running at ${uri}`) through
        # webpack-log 2.0.0 src/index.js:31 `{{level}} ${gray('｢{{name}}｣')}: `, the level an ansi-colors 3.2.4
        # symbol (symbols.js:31 "ℹ", :12 "i" on Windows).
        layout(r"(?:ℹ|i)[ \t]｢wds｣:[ \t]Project[ \t]is[ \t]running[ \t]at[ \t]"),
    ),  # fmt: skip
    # webpack-dev-server 5.2.7 lib/Server.js:1825 / 4.15.2 :1907 logger.info("Gracefully shutting down. To force
    # exit, press ^C again. Please wait...") on SIGINT and SIGTERM.
    stop_line=re.compile(rf"^{WEBPACK_LOG}Gracefully shutting down\.", re.ASCII),
    stop_cues=("Gracefully shutting down",),
    # 3.11.3 prints no stop line (lib/utils/setupExitSignals.js).
    # GET /webpack-dev-server answers the dev server's own page, which starts with this fixed head (no title,
    # no script): webpack-dev-server 5.2.7 lib/Server.js:2287 (an "Assets Report"), 4.15.2 :2107, 3.11.3
    # lib/utils/routes.js:46 (a list of the bundle's files).
    probe_path="webpack-dev-server",
    probe_expect='<!DOCTYPE html><html><head><meta charset="utf-8"/></head><body>',
)

