"""Shared fixtures: simulated clusters and HTTPS clients for them."""

from __future__ import annotations

import logging
import ssl

import httpx
import pytest

from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

# Real Prometheus and VictoriaMetrics for any test: prometheus_engine, victoria_engine, engine.
pytest_plugins = ["helpers.engines"]

SIM_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: frozen-clock tests start here


@pytest.fixture
def make_sim_server():
    """Factory of started SimServers, frozen at SIM_START unless told otherwise; stopped after the test."""
    servers: list[SimServer] = []

    def make(**options) -> SimServer:
        settings = {"nodes": 6, "pods_per_node": 8, "seed": 7, "start_time": SIM_START, "frozen": True, **options}
        server = SimServer(SimOptions(**settings)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def sim_server(make_sim_server) -> SimServer:
    return make_sim_server()


@pytest.fixture
def sim_api(tmp_path):
    """Factory of httpx clients for a SimServer: its CA verified, its token (or `token`; "" for none)
    as bearer, optionally a client certificate `cert=(cert PEM, key PEM)`."""
    clients: list[httpx.Client] = []

    def make(server: SimServer, token: str | None = None, cert: tuple[bytes, bytes] | None = None,
             **kwargs) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(server.ca_path))
        if cert is not None:
            (tmp_path / "client.crt").write_bytes(cert[0])
            (tmp_path / "client.key").write_bytes(cert[1])
            context.load_cert_chain(tmp_path / "client.crt", tmp_path / "client.key")
        headers = {} if token == "" else {"Authorization": f"Bearer {token or server.token}"}
        client = httpx.Client(base_url=server.url, verify=context, headers=headers, timeout=30, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def close_logs():
    """--log adds file handlers to process-wide loggers: take them off after the test."""
    yield
    for name in ("ktopui", "httpx"):
        logger = logging.getLogger(name)
        for handler in logger.handlers[:]:
            logger.removeHandler(handler)
            handler.close()


@pytest.fixture
def home(tmp_path):
    """An empty home directory: kubeconfig lookups start from here."""
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture(scope="module")
def ca():
    from helpers.pki import CA

    return CA()
