"""How a process reaches Temporal: TLS and API key (self-hosted with mTLS, Temporal Cloud), and the
SDK runtime that serves the worker's Prometheus metrics and forwards the SDK core's own logs into
Python logging (so that JSON logs stay JSON)."""

import logging

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
