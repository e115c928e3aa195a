"""Prometheus metrics of the API (``GET /metrics``) and the request log.

- ``crisis_http_request_duration_seconds{method,route,status}``: a histogram per route template
  (``/incidents/{incident}/acknowledge``), so incident ids never become label values.
- Read-model figures, computed at scrape time from the database (store/service.py): open
  incidents by phase, pages and other messages by channel and delivery status, missed deadlines
  by kind. They are database-wide: every API replica reports the same values, so aggregate them
  with ``max``, not ``sum``. ``crisis_read_model_up`` is 0 when the database did not answer.
- The process's own CPU, memory, file descriptors and GC (prometheus_client's collectors), and
  ``crisis_process_gc_frozen_objects``: the start-up objects exempt from garbage collection
  (services/heap.py; 0 in a process that did not freeze its heap).
"""

import gc
import logging
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from api.deps import SessionDep
from api.logs import bind_request, unbind_request
from domain.incident import Phase
from store import service

log = logging.getLogger("crisisflow.http")
UNMATCHED = "<unmatched>"
QUIET_ROUTES = {"/metrics", "/healthz", "/readyz"}  # scrapes and health checks: logged at DEBUG
OPEN_PHASES = [phase.value for phase in Phase if phase is not Phase.CLOSED]


class ApiMetrics:
    """One registry per app (tests build several apps in one process)."""

    def __init__(self):
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_FrozenHeap())
        self.request_seconds = Histogram(
            "crisis_http_request_duration_seconds",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )


def route_template(scope: dict) -> str:
    """The matched route's path template; UNMATCHED for unknown paths and for requests answered
    before routing (413 for a body over the limit), so that no raw path becomes a label."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


# Path parameters that are credentials (the action link's token), and the prefixes of their routes:
# a request to one is logged by its route template, matched or not (a 404, a 413 before routing).
SECRET_PARAMETERS = ("{token}",)
SECRET_PREFIXES = {"/a/": "/a/{token}"}


def loggable_path(scope: dict) -> str:
    """The path as the request log writes it: the route template when the path carries a secret,
    the path itself otherwise (an incident id is worth seeing, a token is not)."""
    template = getattr(scope.get("route"), "path", None)
    if template is not None and any(parameter in template for parameter in SECRET_PARAMETERS):
        return template
    path = scope["path"]
    for prefix, secret_template in SECRET_PREFIXES.items():
        if path.startswith(prefix):
            return secret_template
    return path


class ObservedRequests:
    """ASGI middleware: times every request, logs it (``crisisflow.http``, with its incident id
    when the route names one) and makes the request's route visible to the log records made while
    it is handled."""

    def __init__(self, app, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # unless a response starts
        token = bind_request(scope)

        async def observed_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            path = loggable_path(scope)
            self.metrics.request_seconds.labels(scope["method"], route, str(status)).observe(elapsed)
            log.log(
                logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO,
                "%s %s %s %.1f ms",
                scope["method"],
                path,
                status,
                elapsed * 1000,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            unbind_request(token)


class _FrozenHeap:
    def collect(self):
        frozen = GaugeMetricFamily(
            "crisis_process_gc_frozen_objects", "Objects from the process's start-up exempt from garbage collection (gc.freeze)."
        )
        frozen.add_metric([], gc.get_freeze_count())
        yield frozen


class ReadModelFigures:
    """A collector holding one scrape's counts from the database."""

    def __init__(self, up: bool, open_incidents=None, notifications=None, deadlines_missed=None):
        self.up = up
        self.open_incidents = open_incidents or {}
        self.notifications = notifications or {}
        self.deadlines_missed = deadlines_missed or {}

    def collect(self):
        up = GaugeMetricFamily("crisis_read_model_up", "1 when the read model answered this scrape, else 0.")
        up.add_metric([], 1 if self.up else 0)
        yield up
        if not self.up:
            return
        incidents = GaugeMetricFamily(
            "crisis_incidents_open", "Open incidents by phase (database-wide).", labels=["phase", "drill"]
        )
        counts = {(phase, drill): 0 for phase in OPEN_PHASES for drill in (False, True)} | self.open_incidents
        for (phase, drill), count in sorted(counts.items()):
            incidents.add_metric([phase, _bool(drill)], count)
        yield incidents
        pages = CounterMetricFamily(
            "crisis_pages",
            "Pages (messages that want an acknowledgement) by channel and delivery status.",
            labels=["channel", "status", "drill"],
        )
        notifications = CounterMetricFamily(
            "crisis_notifications",
            "Every message to people and the public by channel, kind and delivery status.",
            labels=["channel", "kind", "status", "drill"],
        )
        for (channel, kind, status, drill), count in sorted(self.notifications.items()):
            notifications.add_metric([channel, kind, status, _bool(drill)], count)
            if kind == service.PAGE_KIND:
                pages.add_metric([channel, status, _bool(drill)], count)
        yield pages
        yield notifications
        missed = CounterMetricFamily(
            "crisis_deadlines_missed", "Missed deadlines by kind (acknowledge, task, statement…).", labels=["deadline", "drill"]
        )
        for (deadline, drill), count in sorted(self.deadlines_missed.items()):
            missed.add_metric([deadline, _bool(drill)], count)
        yield missed


def _bool(value: bool) -> str:
    return "true" if value else "false"


async def read_model_figures(session) -> ReadModelFigures:
    try:
        return ReadModelFigures(
            up=True,
            open_incidents=await service.count_open_incidents(session),
            notifications=await service.count_notifications(session),
            deadlines_missed=await service.count_missed_deadlines(session),
        )
    except Exception as error:  # the process metrics are still worth serving
        logging.getLogger("crisisflow.metrics").warning("read model unavailable for /metrics: %s", type(error).__name__)
        return ReadModelFigures(up=False)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, session: SessionDep) -> Response:
    """Prometheus text format."""
    figures = CollectorRegistry()
    figures.register(await read_model_figures(session))
    body = generate_latest(request.app.state.metrics.registry) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
