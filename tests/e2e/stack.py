"""``crisis dev`` as a subprocess on free ports and a throwaway data folder: the real stack, for
the end-to-end tests and (``bench/stack.py``) the benchmarks.

Every test that calls the stack's API authenticates here: the stack starts with CRISIS_API_KEY
(an admin key ``crisis dev`` creates at start), and ``client()`` / ``async_client()`` send it.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import yaml

from domain.durations import format_duration, parse_duration
from tests.ports import free_port

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent.parent
API_KEY = "cf_e2e-admin-key-for-the-test-stack-000000000"


def wait_ready(url: str, processes: list[subprocess.Popen], logs: list[Path], timeout: float) -> None:
    """Until ``url``/readyz answers 200; a process that exits first fails with its log."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            for process, log in zip(processes, logs):
                if process.poll() is not None:
                    raise RuntimeError(f"{' '.join(process.args)} exited with {process.returncode}:\n{log.read_text()}")
            try:
                if http.get(f"{url}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready in {timeout} s:\n" + "\n".join(log.read_text() for log in logs))


class DevStack:
    """``crisis dev`` with the caller's environment plus ``extra_env``, run from ``cwd`` (default: here)."""

    def __init__(
        self, data_dir: Path, extra_env: dict[str, str] | None = None, api_key: str | None = API_KEY, cwd: Path | None = None
    ):
        self.data_dir = data_dir
        self.extra_env = extra_env or {}
        self.cwd = cwd
        self.api_key = api_key  # None: `crisis dev` makes its own and keeps it in the data folder (read by ``headers``)
        self.api_port, self.temporal_port, self.ui_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen | None = None
        self.log = data_dir / "crisis-dev.log"

    def base_env(self) -> dict[str, str]:
        return dict(os.environ)

    @property
    def env(self) -> dict[str, str]:
        return {
            **self.base_env(),
            "CRISIS_DATA_DIR": str(self.data_dir),
            "CRISIS_API_PORT": str(self.api_port),
            "CRISIS_TEMPORAL_PORT": str(self.temporal_port),
            "CRISIS_TEMPORAL_UI_PORT": str(self.ui_port),
            **({"CRISIS_API_KEY": self.api_key} if self.api_key else {}),
            **self.extra_env,
        }

    @property
    def key(self) -> str:
        return self.api_key or (self.data_dir / "dev-api-key").read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def client(self, **options) -> httpx.Client:
        """An httpx client on the API with the admin key."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=options.pop("timeout", 30), **options)

    def async_client(self, **options) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=options.pop("timeout", 30), **options)

    async def sign_in(self, page) -> None:
        """Give a Playwright page the session cookie the sign-in form sets (tests/api covers the form)."""
        await page.context.add_cookies(
            [{"name": "crisis_session", "value": self.key, "url": self.url, "httpOnly": True, "sameSite": "Lax"}]
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def launch(self) -> None:
        """Start ``crisis dev`` without waiting for it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        output = open(self.log, "ab")
        self.process = subprocess.Popen(
            [str(BIN / "crisis"), "dev"], env=self.env, cwd=self.cwd, stdout=output, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 90) -> None:
        assert self.process is not None
        wait_ready(self.url, [self.process], [self.log], timeout)

    def start(self, timeout: float = 240) -> None:
        """Launch and wait until ready (the timeout is a ceiling for a loaded machine, not a speed
        requirement); a stack that never gets ready is stopped, not left running."""
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def temporal_pid(self) -> int:
        """The pid of the Temporal dev server ``crisis dev`` runs as its child."""
        assert self.process is not None
        found = [
            pid
            for pid in children(self.process.pid)
            if "temporal" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        ]
        assert len(found) == 1, f"expected one Temporal child of {self.process.pid}, found {found}"
        return found[0]

    def stop(self) -> int | None:
        """SIGTERM, as a process manager would (SIGKILL after a minute); returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def until(predicate, seconds: float = 30, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def write_quick_playbooks(
    folder: Path, wait_s: int, playbook: str = "technical_outage", page: tuple[str, ...] = ("incident_commander",)
) -> Path:
    """The project's playbooks in ``folder``, with ``playbook`` paging only the roles in ``page`` and
    escalating after ``wait_s`` seconds at every severity, so escalation fits in a test. Its approvers
    are narrowed to the paged roles and its first-statement windows grow by ``wait_s``, as ``crisis
    playbooks check`` refuses an approver nobody pages and windows that cannot be met."""
    shutil.copytree(PROJECT / "playbooks", folder)
    book = yaml.safe_load((folder / f"{playbook}.yaml").read_text())
    book["identify"]["page"] = list(page)
    book["communicate"]["approvers"] = [role for role in book["communicate"]["approvers"] if role in page]
    book["identify"]["acknowledge_within"] = {severity: f"{wait_s}s" for severity in ("SEV1", "SEV2", "SEV3", "SEV4")}
    first_statement = book["communicate"]["first_statement_within"]
    book["communicate"]["first_statement_within"] = {
        severity: format_duration(parse_duration(within) + timedelta(seconds=wait_s))
        for severity, within in first_statement.items()
    }
    (folder / f"{playbook}.yaml").write_text(yaml.safe_dump(book, allow_unicode=True))
    return folder
