"""The processes under test, started the way the project starts them.

- :class:`BenchStack` is ``crisis dev`` (Temporal dev server + worker + API in one process) on free
  ports and a throwaway data folder: the e2e tests' ``DevStack`` (``tests/e2e/stack.py``) in a
  clean environment.
- :class:`Satellite` is a ``crisis api`` and a ``crisis worker`` in two processes of their own,
  against that same dev server but on a task queue of their own (so the worker of ``crisis dev``
  takes none of their work), with their own data folder and playbooks folder. The memory
  benchmark measures the satellite worker's RSS; the fan-out benchmark uses one with a 200-person
  team, which must not weigh on the other figures (every declaration pins the whole org chart),
  and with Twilio and SendGrid settings pointing at the bench's loopback fakes. A satellite may
  run several ``crisis worker`` processes on its task queue (``workers``), as one scales out.

Every process gets a clean environment: no CRISIS_*, TWILIO_* or SENDGRID_* setting of the caller
(nothing can reach a real provider: every message goes to the outbox, or to the loopback fakes
the fan-out satellite is given), and it runs in its data folder, so no ``.env`` file is read.
PYTHONDONTWRITEBYTECODE is dropped too: with it, every sandboxed workflow run compiles
``workflows/incident.py`` from source again (see docs/BENCHMARKS.md), which is not how Python
runs by default.
"""

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from activities.detector import PROCESS_NAME as DETECTOR_PROCESS
from settings import Settings
from store.db import create_engine, create_schema
from tests.e2e.stack import BIN, DevStack, free_port, wait_ready

PROJECT = Path(__file__).resolve().parent.parent
DROPPED_PREFIXES = ("CRISIS_", "TWILIO_", "SENDGRID_")
DROPPED = {"DATABASE_URL", "PYTHONDONTWRITEBYTECODE"}
API_KEY = "cf_bench-admin-key-of-the-throwaway-stack-000"
# The bench declares and acts far faster than any crisis team: its processes get the admin key
# above and rate limits out of the way (the limits are not what it measures).
ACCESS = {
    "CRISIS_API_KEY": API_KEY,
    "CRISIS_RATE_LIMIT_DECLARE": "100000/second",
    "CRISIS_RATE_LIMIT_LINKS": "100000/second",
    "CRISIS_RATE_LIMIT_WEBHOOKS": "100000/second",
}
HEADERS = {"Authorization": f"Bearer {API_KEY}"}


def clean_env(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(DROPPED_PREFIXES) and key not in DROPPED}
    return {**env, **ACCESS, **settings}


def cpu_seconds(pid: int) -> float:
    """CPU used so far by a process and its children (``crisis dev``'s Temporal server is one)."""
    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def stop_processes(processes: list[subprocess.Popen | None], timeout: float = 60) -> None:
    """SIGTERM, as a process manager would; SIGKILL whatever is still running after ``timeout``."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class BenchStack(DevStack):
    """``crisis dev`` on free ports with its data in ``data_dir``, in a clean environment."""

    def __init__(self, data_dir: Path, playbooks_dir: Path = PROJECT / "playbooks"):
        super().__init__(data_dir, {"CRISIS_PLAYBOOKS_DIR": str(playbooks_dir)}, api_key=API_KEY, cwd=data_dir)

    def base_env(self) -> dict[str, str]:
        return clean_env()

    @property
    def database(self) -> Path:
        return self.data_dir / "crisis.db"

    async def wait_temporal(self, timeout: float = 120) -> Client:
        """A client once the embedded dev server answers (``crisis dev`` may still be starting its API)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"crisis dev exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                client = await Client.connect(self.temporal_address)
                await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
                return client
            except (RuntimeError, RPCError):  # not listening yet / still starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Temporal dev server of crisis dev did not answer in {timeout} s:\n{self.log.read_text()}"
                )
            await asyncio.sleep(0.2)

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def cpu_by_process(self) -> dict[str, float]:
        """CPU used so far by ``crisis dev`` itself (API and worker), its Temporal server, the
        worker's detector process and its other children (the sentiment processes)."""
        assert self.process is not None
        main = psutil.Process(self.process.pid)
        used = {"API and worker": 0.0, "sentiment": 0.0, "detector": 0.0, "Temporal": 0.0}
        named = {"temporal": "Temporal", DETECTOR_PROCESS: "detector"}
        for each in [main, *main.children(recursive=True)]:
            try:
                times = each.cpu_times()
                kind = "API and worker" if each.pid == main.pid else named.get(each.name(), "sentiment")
                used[kind] += times.user + times.system
            except psutil.Error:
                pass
        return used

    def temporal_cpu_seconds(self) -> float:
        """CPU used so far by the dev server ``crisis dev`` started (its child process)."""
        assert self.process is not None
        servers = [child for child in psutil.Process(self.process.pid).children(recursive=True) if child.name() == "temporal"]
        return sum(server.cpu_times().user + server.cpu_times().system for server in servers)


class Satellite:
    """``crisis api`` + ``crisis worker`` on their own task queue against an existing Temporal server."""

    def __init__(
        self,
        name: str,
        data_dir: Path,
        temporal_address: str,
        playbooks_dir: Path = PROJECT / "playbooks",
        settings: dict[str, str] | None = None,
        workers: int = 1,
        metrics: bool = False,
    ):
        """``metrics``: the (first) worker serves the SDK's Prometheus metrics (``worker_metrics``)."""
        self.name = name
        self.workers = workers
        self.settings = dict(settings or {})
        self.metrics_bind = f"127.0.0.1:{free_port()}" if metrics else None
        if self.metrics_bind:
            self.settings["CRISIS_WORKER_METRICS_BIND"] = self.metrics_bind
        self.data_dir = data_dir
        self.temporal_address = temporal_address
        self.playbooks_dir = playbooks_dir
        self.api_port = free_port()
        self.task_queue = f"crisisflow-bench-{name}"
        self.api: subprocess.Popen | None = None
        self.worker_processes: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        return clean_env(
            CRISIS_DATA_DIR=str(self.data_dir),
            CRISIS_PLAYBOOKS_DIR=str(self.playbooks_dir),
            CRISIS_API_PORT=str(self.api_port),
            CRISIS_TEMPORAL_ADDRESS=self.temporal_address,
            CRISIS_TASK_QUEUE=self.task_queue,
            **self.settings,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "crisis.db"

    def _log(self, command: str) -> Path:
        return self.data_dir / f"crisis-{command}.log"

    def _spawn(self, command: str, log: str | None = None) -> subprocess.Popen:
        output = open(self._log(log or command), "ab")
        return subprocess.Popen(
            [str(BIN / "crisis"), command], env=self.env, cwd=self.data_dir, stdout=output, stderr=subprocess.STDOUT
        )

    async def start(self, timeout: float = 300) -> None:
        """Start its processes (the Temporal server must answer already) and wait for the API; the timeout
        is a ceiling for a loaded machine."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A throwaway database: created at the latest schema in one step (``crisis api`` and
        # ``crisis worker`` only check the schema, and would otherwise race to create it).
        engine = create_engine(f"sqlite+aiosqlite:///{self.database}")
        try:
            await create_schema(engine)
        finally:
            await engine.dispose()
        self.api = self._spawn("api")
        names = ["worker"] + [f"worker-{number}" for number in range(2, self.workers + 1)]
        self.worker_processes = [self._spawn("worker", log=name) for name in names]
        logs = [self._log("api")] + [self._log(name) for name in names]
        await asyncio.to_thread(wait_ready, self.url, [self.api, *self.worker_processes], logs, timeout)

    def _worker_process(self, process: subprocess.Popen) -> psutil.Process:
        assert process.poll() is None, f"a {self.name} worker is not running"
        return psutil.Process(process.pid)

    @property
    def max_cached_workflows(self) -> int:
        """The workers' sticky cache size: this satellite's setting, else the default."""
        default = Settings.model_fields["worker_max_cached_workflows"].default
        return int(self.settings.get("CRISIS_WORKER_MAX_CACHED_WORKFLOWS", default))

    async def worker_metrics(self) -> str:
        """The (first) worker's SDK metrics, Prometheus text."""
        assert self.metrics_bind, f"the {self.name} satellite was started without metrics"
        async with httpx.AsyncClient(timeout=30) as client:
            return (await client.get(f"http://{self.metrics_bind}/metrics")).raise_for_status().text

    def worker_rss(self) -> int:
        """The RSS of the (first) worker process."""
        return self._worker_process(self.worker_processes[0]).memory_info().rss

    def worker_cpu_seconds(self) -> float:
        """CPU used so far by all its worker processes together."""
        times = [self._worker_process(process).cpu_times() for process in self.worker_processes]
        return sum(each.user + each.system for each in times)

    def api_cpu_seconds(self) -> float:
        assert self.api is not None and self.api.poll() is None, f"the {self.name} API is not running"
        times = psutil.Process(self.api.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        stop_processes([self.api, *self.worker_processes])
