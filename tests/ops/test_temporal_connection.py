"""How processes reach Temporal: TLS / API key from the settings, and the runtime serving the
worker's Prometheus metrics."""

import httpx
import pytest
from temporalio.service import TLSConfig

from services.temporal_connection import api_key, temporal_runtime, tls_config
from settings import Settings
from tests.e2e.stack import free_port


def test_plaintext_by_default_and_the_sdk_decides_with_an_api_key():
    assert tls_config(Settings()) is None and api_key(Settings()) is None
    cloud = Settings(CRISIS_TEMPORAL_API_KEY="tk-123")
    assert tls_config(cloud) is None  # the SDK turns TLS on when an API key is given
    assert api_key(cloud) == "tk-123"
    assert tls_config(Settings(CRISIS_TEMPORAL_TLS="true")) is True
    assert tls_config(Settings(CRISIS_TEMPORAL_TLS="false", CRISIS_TEMPORAL_API_KEY="tk-123")) is False


def test_mtls_files_are_read_into_the_tls_config(tmp_path):
    (tmp_path / "client.pem").write_bytes(b"CERT")
    (tmp_path / "client.key").write_bytes(b"KEY")
    (tmp_path / "ca.pem").write_bytes(b"CA")
    config = tls_config(
        Settings(
            CRISIS_TEMPORAL_TLS_CERT=str(tmp_path / "client.pem"),
            CRISIS_TEMPORAL_TLS_KEY=str(tmp_path / "client.key"),
            CRISIS_TEMPORAL_TLS_CA=str(tmp_path / "ca.pem"),
            CRISIS_TEMPORAL_TLS_SERVER_NAME="temporal.internal",
        )
    )
    assert config == TLSConfig(
        client_cert=b"CERT", client_private_key=b"KEY", server_root_ca_cert=b"CA", domain="temporal.internal"
    )
    assert tls_config(Settings(CRISIS_TEMPORAL_TLS_SERVER_NAME="temporal.internal")) == TLSConfig(domain="temporal.internal")


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"CRISIS_TEMPORAL_TLS_CERT": "/x/client.pem"}, "needs both"),
        ({"CRISIS_TEMPORAL_TLS_KEY": "/x/client.key"}, "needs both"),
        ({"CRISIS_TEMPORAL_TLS": "false", "CRISIS_TEMPORAL_TLS_CA": "/x/ca.pem"}, "is false but TLS files are set"),
    ],
)
def test_contradictory_tls_settings_are_refused(settings, problem):
    with pytest.raises(ValueError, match=problem):
        tls_config(Settings(**settings))


def test_the_default_runtime_unless_metrics_or_json_logs():
    assert temporal_runtime(Settings()) is None
    assert temporal_runtime(Settings(CRISIS_WORKER_METRICS_BIND="127.0.0.1:1"), metrics=False) is None


def test_the_worker_runtime_serves_prometheus_metrics():
    bind = f"127.0.0.1:{free_port()}"
    settings = Settings(CRISIS_WORKER_METRICS_BIND=bind)
    runtime = temporal_runtime(settings, metrics=True)
    assert runtime is not None and temporal_runtime(settings, metrics=True) is runtime  # one per address
    response = httpx.get(f"http://{bind}/metrics", timeout=5)
    assert response.status_code == 200


def test_an_unreadable_certificate_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"CRISIS_TEMPORAL_TLS_CA: cannot read .*missing\.pem"):
        tls_config(Settings(CRISIS_TEMPORAL_TLS_CA=str(tmp_path / "missing.pem")))
