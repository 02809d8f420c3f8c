import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.erp_simulator.erp_calls import LOGIN, PASSWORD, login_body

STARTUP_SECONDS = 20


@dataclass
class ServedSimulator:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> str:
        """Stop the server and return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        _, stderr = self.process.communicate(timeout=10)
        return stderr.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sim/state", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    pytest.fail("simulator did not start")


@pytest.fixture
def served() -> Iterator[ServedSimulator]:
    port = free_port()
    env = {
        **os.environ,
        "ERP_SIMULATOR_HOST": "127.0.0.1",
        "ERP_SIMULATOR_PORT": str(port),
        "ERP_SIMULATOR_USER": "rollsync",
        "ERP_SIMULATOR_PASSWORD": PASSWORD,
        "ERP_SIMULATOR_CUSTOMERS": "30",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "erp_simulator"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    simulator = ServedSimulator(f"http://127.0.0.1:{port}", process)
    try:
        wait_until_up(simulator.url)
        yield simulator
    finally:
        simulator.stop()


def test_python_m_erp_simulator_serves_logins_over_real_http(served: ServedSimulator) -> None:
    response = httpx.post(f"{served.url}{LOGIN}", json=login_body(), timeout=5)
    state = httpx.get(f"{served.url}/_sim/state", timeout=5).json()

    assert response.json()["header"]["status"] == 0
    assert state["stored_customers"] == 30
    assert state["logins"] == 1
    served.stop()
    assert served.process.returncode is not None


def test_a_reset_reaches_a_real_client_as_a_protocol_error_without_log_noise(
    served: ServedSimulator,
) -> None:
    httpx.post(f"{served.url}/_sim/faults", json={"reset_rate": 1.0}, timeout=5)

    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{served.url}{LOGIN}", json=login_body(), timeout=5)

    assert "Traceback" not in served.stop()
