"""A misbehaving server costs one failed request, never memory, time or a crash.

Every answer has a size limit derived from what the request can return and a
deadline for the whole request; Retry-After is capped; redirects, deep nesting
and error bodies of any size end as one clear error for that request.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest
from helpers.hostile import HostileServer, kubeconfig_for

from ktopui.kube import errors
from ktopui.kube.api import KubeAPI
from ktopui.kube.backoff import CAP, next_delay
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.limits import FLOOR, MiB, OBJECT_BYTES, SETTING, UNKNOWN_COUNT_BYTES, ResponseLimits
from ktopui.kube.objects import RawList
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

NODE_METRICS = "/apis/metrics.k8s.io/v1beta1/nodes"
POD_METRICS = "/apis/metrics.k8s.io/v1beta1/pods"


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=4, pods_per_node=3, seed=83, frozen=True)).start()
    yield server, load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
    server.stop()


@pytest.fixture
async def api(sim):
    server, conn = sim
    async with make_http_client(conn) as http:
        yield KubeAPI(http, conn.server)


async def test_a_gzip_bomb_is_stopped_at_the_limit_before_it_is_inflated(sim, api):
    server, _ = sim
    await api.list_nodes()  # the cluster has 4 nodes: their metrics cannot take more than the floor
    server.faults.gzip_bomb(inflated=512 * MiB, count=1, prefix=NODE_METRICS)
    tracemalloc.start()
    try:
        with pytest.raises(errors.ResponseTooLarge) as caught:
            await api.list_node_metrics()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < FLOOR + 4 * MiB, peak  # the body so far and one piece being inflated
    text = str(caught.value)
    assert "list nodes.metrics.k8s.io is larger than 16 MiB" in text and "stopped reading" in text
    assert f"{SETTING}=32" in text
    assert len((await api.list_node_metrics()).items) == 4  # the next request is fine


async def test_a_huge_plain_body_fails_only_that_request(sim, api):
    server, _ = sim
    await api.list_nodes()
    server.faults.huge_body(size=1024 * MiB, count=1, prefix=NODE_METRICS)
    started = time.monotonic()
    with pytest.raises(errors.ResponseTooLarge, match="larger than 16 MiB"):
        await api.list_node_metrics()
    assert time.monotonic() - started < 10
    assert len((await api.list_nodes()).items) == 4


async def test_the_setting_raises_every_limit(sim, monkeypatch):
    server, conn = sim
    monkeypatch.setenv(SETTING, "40")
    server.faults.huge_body(size=24 * MiB, count=1, prefix="/version")
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        # Read whole (24 MiB < 40 MiB); it is just not JSON that ends.
        with pytest.raises(errors.MalformedResponse):
            await api.version()
    assert ResponseLimits.from_environment({SETTING: "nonsense"}).at_least == 0
    assert ResponseLimits.from_environment({SETTING: "inf"}).at_least == 0


def test_limits_derive_from_what_the_request_can_return():
    limits = ResponseLimits()
    # A pod list page of `limit` pods; pod metrics of a known number of pods.
    assert limits.budget("pods", 5000).max_bytes == 5000 * OBJECT_BYTES["pods"]
    assert limits.budget("pods.metrics.k8s.io", 150_000).max_bytes == 150_000 * OBJECT_BYTES["pods.metrics.k8s.io"]
    # Nothing known yet: what a large cluster's answer weighs; small answers: the floor.
    assert limits.budget("pods.metrics.k8s.io", None).max_bytes == UNKNOWN_COUNT_BYTES["pods.metrics.k8s.io"]
    assert limits.budget("nodes.metrics.k8s.io", 3).max_bytes == FLOOR
    assert limits.budget("version", None).max_bytes == FLOOR
    # Big answers get longer, small ones the shortest deadline.
    assert limits.budget("pods.metrics.k8s.io", 150_000).deadline > limits.budget("version", None).deadline == 30


async def test_paged_lists_count_the_whole_cluster(sim, api):
    first = await api.list_pods(limit=5)
    assert first.metadata.continue_ and "pods" not in api.seen
    token = first.metadata.continue_
    while token:
        token = (await api.list_pods(limit=5, continue_=token)).metadata.continue_
    assert api.seen["pods"] == 12
    await api.list_pods(field_selector="spec.nodeName=nowhere")  # a selection is no count of the cluster
    assert api.seen["pods"] == 12


async def test_a_server_trickling_its_body_hits_the_request_deadline(sim):
    server, conn = sim
    server.faults.slow_body(bytes_per_second=50, prefix="/version")
    # Every read is quick (a byte each 20 ms), so only a deadline on the whole request ends it.
    async with make_http_client(conn, timeout=5.0) as http:
        api = KubeAPI(http, conn.server, limits=ResponseLimits(min_deadline=1.0))
        deadline = api.limits.budget("version", None).deadline  # (what a 16 MiB answer may take)
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeout) as caught:
            await api.version()
    assert time.monotonic() - started < deadline + 2
    assert "no complete answer" in str(caught.value) and f"within {deadline:.0f}s" in str(caught.value)


def test_the_deadline_defaults_to_twice_the_read_timeout(sim):
    _, conn = sim
    assert KubeAPI(make_http_client(conn, timeout=15.0), conn.server).limits.min_deadline == 30.0


@pytest.mark.parametrize("header", ["1e308", "3600", "1e999", "nan"])
async def test_retry_after_is_capped_at_the_backoff_cap(sim, api, header):
    server, _ = sim
    server.faults.too_many_requests(retry_after=header, count=1, prefix=NODE_METRICS)
    with pytest.raises(errors.TooManyRequests) as caught:
        await api.list_node_metrics()
    assert caught.value.retry_after is None or caught.value.retry_after <= CAP
    assert next_delay(2.0, 1, retry_after=caught.value.retry_after) <= CAP


def test_backoff_never_waits_past_its_cap_whatever_retry_after_says():
    assert next_delay(2.0, 0, retry_after=1e308) == CAP
    assert next_delay(2.0, 0, retry_after=9.0) == 9.0


async def test_a_redirect_says_so_and_names_only_the_host(sim, api):
    server, _ = sim
    server.faults.redirect("https://sso.example.com/login?state=SECRETSTATE", count=1, prefix=NODE_METRICS)
    with pytest.raises(errors.Redirected) as caught:
        await api.list_node_metrics()
    text = str(caught.value)
    assert "302 Found" in text and "redirect to sso.example.com" in text and "does not follow" in text
    assert "SECRETSTATE" not in text and "malformed" not in text and "bytes received" not in text


async def test_deep_nesting_in_an_unknown_field_is_a_malformed_answer(sim, api):
    server, _ = sim
    server.faults.deep_nesting(depth=100_000, count=2, prefix="/apis/metrics.k8s.io")
    with pytest.raises(errors.MalformedResponse, match="nested too deeply"):
        await api.list_node_metrics()
    with pytest.raises(errors.MalformedResponse, match="nested too deeply"):
        await api.list_pod_metrics(shape=RawList)
    assert len((await api.list_node_metrics()).items) == 4


async def test_an_error_answer_is_read_only_as_far_as_its_message(tmp_path):
    async def endless_error(head, writer):
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 4294967296\r\n\r\netcd is on fire")
        while True:  # until the client hangs up
            writer.write(b" " * 65536)
            await writer.drain()

    async with HostileServer(endless_error) as hostile:
        conn = load_connection(kubeconfig=kubeconfig_for(hostile.url, tmp_path / "config"))
        async with make_http_client(conn) as http:
            started = time.monotonic()
            with pytest.raises(errors.ServerError, match="500 Internal Server Error to list nodes: etcd is on fire"):
                await asyncio.wait_for(KubeAPI(http, conn.server).list_nodes(), 10)
    assert time.monotonic() - started < 5


async def test_a_redirect_without_a_location_is_still_named(tmp_path):
    async def bare_redirect(head, writer):
        writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with HostileServer(bare_redirect) as hostile:
        conn = load_connection(kubeconfig=kubeconfig_for(hostile.url, tmp_path / "config"))
        async with make_http_client(conn) as http:
            with pytest.raises(errors.Redirected, match="307 Temporary Redirect to list nodes: a redirect; "):
                await KubeAPI(http, conn.server).list_nodes()



async def test_the_deadline_does_not_count_the_time_credentials_take(sim, tmp_path):
    from helpers.credentials import sim_kubeconfig
    from helpers.exec_plugins import V1, exec_user, write_plugin

    server, _ = sim
    # A plugin that takes a while (a person logging in), then a server that answers at once.
    plugin = write_plugin(tmp_path / "login.py", f"""
        time.sleep(3)
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": {{"token": {server.token!r}}}}}))
    """)
    path = sim_kubeconfig(server, tmp_path / "config", user={"token": None, **exec_user(str(plugin))})
    conn = load_connection(kubeconfig=str(path))
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server, limits=ResponseLimits(min_deadline=1.0))
        assert api.limits.budget("version", None).deadline < 6
        server.faults.set_latency("/version", api.limits.budget("version", None).deadline - 1.5)
        assert (await api.version()).gitVersion
