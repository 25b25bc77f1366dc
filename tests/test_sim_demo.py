"""`ktopui --demo` runs a real Prometheus beside its simulated cluster when one is installed."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from ktopui.cli import demo_cluster
from ktopui.sim.engines import have_prometheus

needs_prometheus = pytest.mark.skipif(have_prometheus() is not None, reason=have_prometheus() or "")
PROXY = "/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy"


def _client(kubeconfig: str, tmp_path: Path) -> httpx.Client:
    doc = yaml.safe_load(Path(kubeconfig).read_text())
    ca = tmp_path / "ca.crt"
    ca.write_bytes(base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]))
    return httpx.Client(base_url=doc["clusters"][0]["cluster"]["server"], timeout=10,
                        verify=ssl.create_default_context(cafile=str(ca)),
                        headers={"Authorization": f"Bearer {doc['users'][0]['user']['token']}"})


def _until(check, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError):
            found = check()
            if found:
                return found
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s: {check.__doc__}")


@needs_prometheus
def test_the_demos_prometheus_answers_through_the_service_proxy_and_stops_with_it(tmp_path):
    with demo_cluster() as kubeconfig, _client(kubeconfig, tmp_path) as api:
        def listening():
            """Prometheus answers through the proxy"""
            answer = api.get(f"{PROXY}/api/v1/status/flags")
            return answer.status_code == 200 and answer.json()["data"]["web.listen-address"]

        address = _until(listening)

        def scraped():
            """Prometheus has scraped a node's cAdvisor through the node proxy"""
            query = 'count(container_memory_working_set_bytes{job="kubelet",container!=""})'
            result = api.post(f"{PROXY}/api/v1/query", data={"query": query}).json()
            return result["data"]["result"]

        _until(scraped, 60)  # its first scrapes are spread over the 15 s interval
    host, port = address.rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port)), timeout=5):
        pass


def test_without_prometheus_the_demo_says_in_one_line_that_history_is_off(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no prometheus to be found
    with demo_cluster():
        pass
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1
    assert "without history from Prometheus" in said[0] and "prometheus is not installed" in said[0]


def _prometheus_pids(tmp: Path) -> list[int]:
    """Running prometheus processes whose storage lies under `tmp`."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                status = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if argv[0].endswith(b"prometheus") and str(tmp).encode() in b" ".join(argv) and status != "Z":
                    pids.append(int(proc.name))
    return pids


@needs_prometheus
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_the_demos_prometheus_ends_when_its_terminal_goes_away(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    main, child = os.openpty()
    env = {**os.environ, "TMPDIR": str(tmp), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "ktopui", "--demo"], stdin=child, stdout=child, stderr=child,
                            env=env, start_new_session=True)
    os.close(child)

    def drain() -> None:  # a terminal reads what the app writes
        with contextlib.suppress(OSError):
            while os.read(main, 65536):
                pass

    threading.Thread(target=drain, daemon=True).start()
    try:
        for _ in range(600):
            if _prometheus_pids(tmp):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the demo started no prometheus")
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert _prometheus_pids(tmp) == []
    assert list(tmp.iterdir()) == []
