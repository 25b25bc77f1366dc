"""KubeAPI turns every failure into a typed error with a message for a person."""

from __future__ import annotations

import dataclasses

import pytest

from ktopui.kube import errors
from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


def started(tmp_path, **options):
    server = SimServer(SimOptions(frozen=True, **options)).start()
    return server, load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))


@pytest.fixture
def sim(tmp_path):
    server, conn = started(tmp_path, nodes=2, pods_per_node=2, seed=51)
    yield server, conn
    server.stop()


async def call(conn, method, *args, timeout=30.0, **kw):
    async with make_http_client(conn, timeout=timeout) as http:
        return await getattr(KubeAPI(http, conn.server), method)(*args, **kw)


async def test_lists_decode_into_typed_objects(sim):
    server, conn = sim
    nodes = await call(conn, "list_nodes")
    assert [n.metadata.name for n in nodes.items] == sorted(n.name for n in server.cluster.nodes)
    assert all(n.status.allocatable["cpu"] for n in nodes.items)


async def test_wrong_ca_is_a_tls_error_that_names_the_setting(sim, tmp_path):
    server, conn = sim
    other = SimServer(SimOptions(nodes=1, pods_per_node=1)).start()
    try:
        foreign = load_connection(kubeconfig=str(other.write_kubeconfig(tmp_path / "other")))
        wrong = dataclasses.replace(conn, ssl_context=foreign.ssl_context)
        with pytest.raises(errors.TLSError) as caught:
            await call(wrong, "list_nodes")
    finally:
        other.stop()
    assert "certificate-authority" in str(caught.value)


async def test_slow_server_times_out(sim):
    server, conn = sim
    server.faults.set_latency("/api/v1/nodes", 2.0)
    with pytest.raises(errors.RequestTimeout, match="timed out waiting for the server"):
        await call(conn, "list_nodes", timeout=0.3)


async def test_malformed_json_is_reported_as_such(sim):
    server, conn = sim
    server.faults.malformed_json(count=1, prefix="/api/v1/pods")
    with pytest.raises(errors.MalformedResponse, match="malformed JSON for list pods"):
        await call(conn, "list_pods")


async def test_truncated_body_is_a_broken_connection_not_a_crash(sim):
    server, conn = sim
    server.faults.truncate_bodies(count=1, prefix="/api/v1/nodes")
    with pytest.raises(errors.TransportError, match="broke before the response was complete"):
        await call(conn, "list_nodes")


async def test_dropped_connection_is_a_transport_error(sim):
    server, conn = sim
    server.faults.drop_connections(count=5, prefix="/api/v1/nodes")
    with pytest.raises(errors.TransportError):
        await call(conn, "list_nodes")


async def test_rate_limit_carries_retry_after(sim):
    server, conn = sim
    server.faults.too_many_requests(retry_after=7, count=1, prefix="/api/v1/pods")
    with pytest.raises(errors.TooManyRequests) as caught:
        await call(conn, "list_pods")
    assert caught.value.retry_after == 7


async def test_server_error_keeps_status_and_text(sim):
    server, conn = sim
    server.faults.server_error(502, count=1, prefix="/api/v1/nodes")
    with pytest.raises(errors.ServerError) as caught:
        await call(conn, "list_nodes")
    assert caught.value.status == 502 and "502" in str(caught.value)


async def test_missing_named_object_is_not_found(sim):
    server, conn = sim
    with pytest.raises(errors.NotFound, match='node "nope" not found'):
        await call(conn, "get_node_metrics", "nope")


async def test_metrics_api_absent_from_discovery(sim):
    server, conn = sim
    server.faults.metrics_absent = True
    with pytest.raises(errors.MetricsUnavailable) as caught:
        await call(conn, "list_node_metrics")
    assert caught.value.cause == "not-registered"


async def test_metrics_backend_down_keeps_the_plain_text_body(sim):
    server, conn = sim
    server.faults.metrics_down = True
    with pytest.raises(errors.MetricsUnavailable) as caught:
        await call(conn, "list_pod_metrics")
    assert caught.value.cause == "backend-down"
    assert caught.value.detail == "service unavailable"


async def test_metrics_api_coming_back_is_rediscovered(sim):
    server, conn = sim
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        await api.list_node_metrics()
        server.faults.metrics_absent = True
        with pytest.raises(errors.MetricsUnavailable):
            await api.list_node_metrics()
        server.faults.metrics_absent = False
        assert (await api.list_node_metrics()).items


async def test_forbidden_says_which_verb_and_resource(sim):
    server, conn = sim
    server.faults.forbid("sim-admin", "list", "pods", namespace="kube-system", group="")
    with pytest.raises(errors.Forbidden) as caught:
        await call(conn, "list_pods", namespace="kube-system")
    assert (caught.value.verb, caught.value.resource) == ("list", "pods")
    assert 'in the namespace "kube-system"' in caught.value.message


@pytest.fixture
def big_sim(tmp_path):
    """Enough pods that the pod list is over the API server's 128 KiB gzip threshold."""
    server, conn = started(tmp_path, nodes=10, pods_per_node=40, seed=52)
    yield server, conn
    server.stop()


async def test_large_lists_come_gzipped_and_decode_to_the_same_objects(big_sim):
    server, conn = big_sim
    server.requests.clear()
    gzipped = await call(conn, "list_pods")
    plain = await call(dataclasses.replace(conn, disable_compression=True), "list_pods")
    assert len(gzipped.items) == 400 and gzipped == plain
    sent = [r.bytes_sent for r in server.requests if r.path == "/api/v1/pods"]
    assert len(sent) == 2 and sent[1] > 128 * 1024 and sent[0] < sent[1] / 4


async def test_truncated_gzipped_body_is_a_broken_connection(big_sim):
    server, conn = big_sim
    server.faults.truncate_bodies(count=1, prefix="/api/v1/pods")
    with pytest.raises(errors.TransportError, match="broke before the response was complete"):
        await call(conn, "list_pods")
    assert len((await call(conn, "list_pods")).items) == 400


@pytest.mark.parametrize("name", ["x/../../../nodes", "..", "a?watch=1", "b#frag"])
async def test_a_name_is_one_path_segment_whatever_it_holds(sim, name):
    """`ktopui top pod NAME` and the pod detail put a name in the path: it cannot reach another one."""
    server, conn = sim
    with pytest.raises(errors.NotFound):
        await call(conn, "get_pod_metrics", "default", name)
    with pytest.raises(errors.NotFound):
        await call(conn, "get_node", name)
    asked = [r for r in server.requests if r.path.startswith(("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/",
                                                              "/api/v1/nodes/"))]
    assert len(asked) == 2 and not any(r.query for r in asked), asked
