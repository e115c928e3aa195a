"""The pieces ``crisis dev`` runs in one process, each in a process of its own on the same data:
the Temporal dev server (started exactly as ``crisis dev`` starts it), ``crisis worker`` and
``crisis api``, so a test can kill, stop and restart any one of them."""

import asyncio
import signal
import subprocess
import time

import httpx
from temporalio.client import Client

import devstack
from settings import Settings
from tests.e2e.stack import BIN, DevStack


class SplitStack(DevStack):
    def __init__(self, data_dir, extra_env: dict[str, str] | None = None):
        super().__init__(data_dir, extra_env)
        self.temporal: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.more_workers: list[subprocess.Popen] = []  # further `crisis worker` processes on the same task queue
        self.api: subprocess.Popen | None = None

    def _settings(self) -> Settings:
        return Settings(
            CRISIS_DATA_DIR=self.data_dir, CRISIS_TEMPORAL_PORT=self.temporal_port, CRISIS_TEMPORAL_UI_PORT=self.ui_port
        )

    def _crisis(self, *command: str, log_name: str | None = None) -> subprocess.Popen:
        log = open(self.data_dir / f"crisis-{log_name or command[0]}.log", "ab")
        return subprocess.Popen([str(BIN / "crisis"), *command], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def log_of(self, command: str) -> str:
        return (self.data_dir / f"crisis-{command}.log").read_text(errors="replace")

    def start(self, timeout: float = 90) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        migrate = subprocess.run(
            [str(BIN / "crisis"), "db", "upgrade"], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert migrate.returncode == 0, migrate.stderr
        self.start_temporal(timeout)
        self.start_worker()
        self.api = self._crisis("api")
        self._wait_ready(timeout)

    def start_temporal(self, timeout: float = 90) -> None:
        self.temporal = devstack.start_temporal(self._settings())
        asyncio.run(self._wait_temporal(timeout))

    async def _wait_temporal(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.temporal.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited with {self.temporal.returncode}")
            try:
                await Client.connect(self.temporal_address)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    def stop_temporal(self) -> None:
        devstack.stop_process(self.temporal)

    def start_worker(self) -> None:
        self.worker = self._crisis("worker")

    def start_another_worker(self) -> subprocess.Popen:
        """One more ``crisis worker`` beside the first, as ``docker compose up --scale worker=2`` would;
        its log is ``crisis-worker-2.log`` (then 3, …), and it is polling once the log says so."""
        process = self._crisis("worker", log_name=f"worker-{len(self.more_workers) + 2}")
        self.more_workers.append(process)
        return process

    def kill_worker(self) -> None:
        """SIGKILL: no shutdown, no running activity finished, as when a machine dies."""
        self.worker.send_signal(signal.SIGKILL)
        assert self.worker.wait(timeout=10) == -signal.SIGKILL

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.client(timeout=2) as http:
            while time.monotonic() < deadline:
                for name in ("api", "worker"):
                    process = getattr(self, name)
                    if process.poll() is not None:
                        raise RuntimeError(f"crisis {name} exited with {process.returncode}:\n{self.log_of(name)}")
                try:
                    if http.get("/readyz").status_code == 200:
                        return
                except httpx.HTTPError:  # not listening yet
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"crisis api did not become ready:\n{self.log_of('api')}")

    def stop(self) -> int:
        """SIGTERM to the API, the worker, then the dev server; the worst exit code of the first two.
        uvicorn re-raises the SIGTERM it handled once its graceful shutdown is done, so the API's
        clean exit reads as -SIGTERM: counted as 0."""
        codes = []
        for process in (self.api, self.worker, *self.more_workers):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    code = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = process.wait()
                codes.append(0 if process is self.api and code == -signal.SIGTERM else code)
        if self.temporal is not None:
            self.stop_temporal()
        return max(codes, key=abs, default=0)
