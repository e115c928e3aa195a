"""Ports: ``crisis dev`` holds the API's and the UI proxy's ports from its first step (the dev server
it starts takes free ports of its own), and the tests' ports come from blocks no other process is
given (tests/ports.py)."""

import socket
import subprocess
import sys

import pytest

import devstack
from settings import Settings
from tests.conftest import PROJECT
from tests.ports import BLOCK, free_port


def settings_on(api_port: int, ui_port: int, temporal_port: int, api_host: str = "127.0.0.1") -> Settings:
    return Settings(
        CRISIS_API_PORT=api_port, CRISIS_TEMPORAL_UI_PORT=ui_port, CRISIS_TEMPORAL_PORT=temporal_port, CRISIS_API_HOST=api_host
    )


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_claimed_ports_stay_held_until_closed():
    api, ui, temporal = free_port(), free_port(), free_port()
    listeners = devstack.claim_ports(settings_on(api, ui, temporal))
    try:
        assert not bindable(api) and not bindable(ui)
        assert bindable(temporal)  # the dev server binds it itself
        with socket.create_connection(("127.0.0.1", api), timeout=5):
            pass  # listening already: a caller waits in the backlog until the API serves
    finally:
        listeners.close()
    assert bindable(api) and bindable(ui)


def test_a_taken_ui_port_is_named_and_the_api_port_is_let_go():
    api, ui, temporal = free_port(), free_port(), free_port()
    with socket.create_server(("127.0.0.1", ui)):
        with pytest.raises(devstack.PortTaken) as refused:
            devstack.claim_ports(settings_on(api, ui, temporal))
    assert f"port {ui} (CRISIS_TEMPORAL_UI_PORT) is already in use by process " in str(refused.value)
    assert bindable(api)


def test_a_taken_temporal_port_is_named_before_anything_is_held():
    api, ui, temporal = free_port(), free_port(), free_port()
    with socket.create_server(("127.0.0.1", temporal)):
        with pytest.raises(devstack.PortTaken, match=rf"port {temporal} \(CRISIS_TEMPORAL_PORT\) is already in use"):
            devstack.claim_ports(settings_on(api, ui, temporal))
    assert bindable(api) and bindable(ui)


def test_an_address_not_of_this_machine_is_named_with_the_setting():
    api = free_port()
    with pytest.raises(devstack.PortTaken) as refused:
        devstack.claim_ports(settings_on(api, free_port(), free_port(), api_host="192.0.2.7"))  # TEST-NET-1
    assert str(refused.value).startswith(f"cannot listen on 192.0.2.7:{api} (CRISIS_API_PORT): ")


def test_test_ports_are_below_the_ephemeral_range_and_skip_a_held_one():
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    first = free_port()
    with socket.create_server(("127.0.0.1", first + 1)):
        second = free_port()
    assert first < low and second < low
    assert second != first + 1


def test_two_processes_walk_different_blocks():
    ours = free_port()  # this process's block claimed first: the other cannot be given it
    other = subprocess.run(
        [sys.executable, "-c", "from tests.ports import free_port; print(free_port())"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(other.stdout) // BLOCK != ours // BLOCK
