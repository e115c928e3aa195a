"""How a process reaches Temporal: TLS and API key (self-hosted with mTLS, Temporal Cloud), and the
SDK runtime that serves the worker's Prometheus metrics and forwards the SDK core's own logs into
Python logging (so that JSON logs stay JSON)."""

import asyncio
import logging
from datetime import timedelta

from temporalio import client as temporal_client
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode, TLSConfig, WorkflowService

from settings import Settings

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
    with Retry-After within seconds.

    Queries and Updates are answered by a worker, which can be slow for good reasons (busy, or
    just restarted: a killed worker's incidents wait 10 s before another takes them), and a start
    waits for the server to persist it, which takes seconds when many declarations arrive at once
    on a loaded machine. Past the deadline, Temporal itself is asked whether it answers; if it does,
    the call is given up to ``GRACE`` deadlines in all, and only a frozen Temporal is a 503 at
    once. ``service`` (the client's workflow service) is set once the client is connected."""

    GRACE = 6

    def __init__(self, timeout: timedelta):
        self.timeout = timeout
        self.service: WorkflowService | None = None

    def intercept_client(self, next: temporal_client.OutboundInterceptor) -> temporal_client.OutboundInterceptor:
        return _BoundedCalls(next, self)


class _BoundedCalls(temporal_client.OutboundInterceptor):
    def __init__(self, next: temporal_client.OutboundInterceptor, bounds: BoundedRpcTimeouts):
        super().__init__(next)
        self._bounds = bounds

    def _bounded(self, input):
        if input.rpc_timeout is None:
            input.rpc_timeout = self._bounds.timeout
        return input

    async def _unless_temporal_is_frozen(self, call, input):
        if input.rpc_timeout is not None:
            return await call(input)
        timeout = self._bounds.timeout
        input.rpc_timeout = timeout * BoundedRpcTimeouts.GRACE
        answer = asyncio.ensure_future(call(input))
        done, _ = await asyncio.wait({answer}, timeout=timeout.total_seconds())
        if not done and not await self._temporal_answers():
            answer.cancel()
            await asyncio.gather(answer, return_exceptions=True)
            raise RPCError(f"no answer within {timeout.total_seconds():g} s", RPCStatusCode.DEADLINE_EXCEEDED, b"")
        return await answer

    async def _temporal_answers(self) -> bool:
        if self._bounds.service is None:
            return False
        try:
            await self._bounds.service.get_system_info(GetSystemInfoRequest(), timeout=self._bounds.timeout)
        except Exception:  # any failure to answer is the answer
            return False
        return True

    async def start_workflow(self, input):
        return await self._unless_temporal_is_frozen(self.next.start_workflow, input)

    async def describe_workflow(self, input):
        return await self.next.describe_workflow(self._bounded(input))

    async def query_workflow(self, input):
        return await self._unless_temporal_is_frozen(self.next.query_workflow, input)

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
        return await self._unless_temporal_is_frozen(self.next.start_workflow_update, input)

    async def start_update_with_start_workflow(self, input):
        return await self._unless_temporal_is_frozen(self.next.start_update_with_start_workflow, input)

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


async def connect(settings: Settings, metrics: bool = False, bounded: bool = False) -> Client:
    """A client for ``CRISIS_TEMPORAL_ADDRESS`` with the TLS / API key settings; ``metrics``: this
    client's runtime serves the SDK's Prometheus metrics on ``CRISIS_WORKER_METRICS_BIND``;
    ``bounded``: every call gets CRISIS_TEMPORAL_RPC_TIMEOUT as its deadline (the API's client:
    a person waiting gets a 503 in seconds rather than a request hanging on a frozen server)."""
    bounds = BoundedRpcTimeouts(timedelta(seconds=settings.temporal_rpc_timeout_s)) if bounded else None
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=api_key(settings),
        runtime=temporal_runtime(settings, metrics=metrics),
        interceptors=[bounds] if bounds else [],
    )
    if bounds:
        bounds.service = client.workflow_service
    return client


def bounded_on_connection_of(client: Client, settings: Settings) -> Client:
    """The API's client (bounded like ``connect(bounded=True)``'s) on ``client``'s connection.

    ``crisis dev`` gives its API this client on the worker's connection: a declaration's start then
    asks for an eager start (``services.temporal.start_incident``), and the SDK hands the new
    workflow's first task straight to the worker of the same connection, skipping a round of the
    task queue (docs/operations.md, "Eager workflow start")."""
    bounds = BoundedRpcTimeouts(timedelta(seconds=settings.temporal_rpc_timeout_s))
    shared = Client(
        client.service_client, namespace=client.namespace, data_converter=client.data_converter, interceptors=[bounds]
    )
    bounds.service = shared.workflow_service
    return shared
