"""How a process reaches Temporal: TLS and API key (self-hosted with mTLS, Temporal Cloud), and the
SDK runtime that serves the worker's Prometheus metrics and forwards the SDK core's own logs into
Python logging (so that JSON logs stay JSON)."""

import logging
from datetime import timedelta

from temporalio import client as temporal_client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import TLSConfig

from api.settings import Settings

_runtimes: dict[tuple[str | None, bool], Runtime] = {}


def tls_config(settings: Settings) -> bool | TLSConfig | None:
    """What ``Client.connect(tls=...)`` gets: None lets the SDK decide (TLS when an API key is
    set), False/True force it, a TLSConfig carries mTLS files or a CA or a server name."""
    files = (settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca)
    if settings.temporal_tls is False:
        if any(files):
            raise ValueError("CRISIS_TEMPORAL_TLS is false but TLS files are set (CRISIS_TEMPORAL_TLS_CERT / _KEY / _CA)")
        return False
    if bool(settings.temporal_tls_cert) != bool(settings.temporal_tls_key):
        raise ValueError("mTLS needs both CRISIS_TEMPORAL_TLS_CERT and CRISIS_TEMPORAL_TLS_KEY")
    if not any(files) and not settings.temporal_tls_server_name:
        return settings.temporal_tls

    def read(path, name: str) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as error:
            raise ValueError(f"{name}: cannot read {path}: {error.strerror}") from None

    return TLSConfig(
        client_cert=read(settings.temporal_tls_cert, "CRISIS_TEMPORAL_TLS_CERT"),
        client_private_key=read(settings.temporal_tls_key, "CRISIS_TEMPORAL_TLS_KEY"),
        server_root_ca_cert=read(settings.temporal_tls_ca, "CRISIS_TEMPORAL_TLS_CA"),
        domain=settings.temporal_tls_server_name,
    )


def api_key(settings: Settings) -> str | None:
    return settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None


def temporal_runtime(settings: Settings, metrics: bool = False) -> Runtime | None:
    """The SDK runtime for this process, or None for the SDK's default one (text logs, no
    metrics). One per (metrics address, log format): the Prometheus endpoint binds once."""
    bind = settings.worker_metrics_bind if metrics else None
    forward = settings.log_format == "json"
    if bind is None and not forward:
        return None
    key = (bind, forward)
    if key not in _runtimes:
        logging_config = LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"))
        if forward:
            logging_config = LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        _runtimes[key] = Runtime(
            telemetry=TelemetryConfig(
                logging=logging_config,
                metrics=PrometheusConfig(bind_address=bind) if bind else None,
            )
        )
    return _runtimes[key]


class BoundedRpcTimeouts(temporal_client.Interceptor):
    """Every call the API makes to Temporal gets a deadline unless it names its own.

    Without one, a frozen frontend (a stopped process, a network that drops packets) holds a
    request until gRPC's keep-alive gives up, 15 to 45 s later; with one, the caller gets a 503
    with Retry-After within the deadline. An Update's deadline bounds the call that delivers it:
    the server answers before the deadline with the stage reached, and the SDK then polls for the
    outcome, so a slow handler is not cut short."""

    def __init__(self, timeout: timedelta):
        self.timeout = timeout

    def intercept_client(self, next: temporal_client.OutboundInterceptor) -> temporal_client.OutboundInterceptor:
        return _BoundedCalls(next, self.timeout)


class _BoundedCalls(temporal_client.OutboundInterceptor):
    def __init__(self, next: temporal_client.OutboundInterceptor, timeout: timedelta):
        super().__init__(next)
        self._timeout = timeout

    def _bounded(self, input):
        if input.rpc_timeout is None:
            input.rpc_timeout = self._timeout
        return input

    async def start_workflow(self, input):
        return await self.next.start_workflow(self._bounded(input))

    async def describe_workflow(self, input):
        return await self.next.describe_workflow(self._bounded(input))

    async def query_workflow(self, input):
        return await self.next.query_workflow(self._bounded(input))

    async def signal_workflow(self, input):
        return await self.next.signal_workflow(self._bounded(input))

    async def cancel_workflow(self, input):
        return await self.next.cancel_workflow(self._bounded(input))

    async def terminate_workflow(self, input):
        return await self.next.terminate_workflow(self._bounded(input))

    async def count_workflows(self, input):
        return await self.next.count_workflows(self._bounded(input))

    def list_workflows(self, input):
        return self.next.list_workflows(self._bounded(input))

    async def start_workflow_update(self, input):
        return await self.next.start_workflow_update(self._bounded(input))

    async def start_update_with_start_workflow(self, input):
        return await self.next.start_update_with_start_workflow(self._bounded(input))

    async def create_schedule(self, input):
        return await self.next.create_schedule(self._bounded(input))

    async def describe_schedule(self, input):
        return await self.next.describe_schedule(self._bounded(input))

    async def delete_schedule(self, input):
        return await self.next.delete_schedule(self._bounded(input))

    def list_schedules(self, input):
        return self.next.list_schedules(self._bounded(input))

    async def update_schedule(self, input):
        return await self.next.update_schedule(self._bounded(input))

    async def trigger_schedule(self, input):
        return await self.next.trigger_schedule(self._bounded(input))

    async def pause_schedule(self, input):
        return await self.next.pause_schedule(self._bounded(input))

    async def unpause_schedule(self, input):
        return await self.next.unpause_schedule(self._bounded(input))
