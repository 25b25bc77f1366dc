"""The Prometheus client against servers that answer well and badly (plain asyncio on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import math
import ssl

import httpx
import numpy as np
import pytest

from ktopui.kube.prometheus import (
    MAX_IN_FLIGHT,
    PromBadQuery,
    PromClient,
    PromError,
    PromMalformed,
    PromRefused,
    PromSource,
    PromTimeout,
    PromTooLarge,
    PromUnavailable,
    PromUnreachable,
    public_url,
    url_client,
)
from ktopui.model import promql
from tests.helpers.pki import CA
from tests.helpers.prom_api import JSON, Engine, fixed, matrix


async def ask(url: str, expr: str = "up", **kw) -> object:
    client = url_client(url, **kw)
    try:
        return await client.query_range(expr, 1000, 1060, 15)
    finally:
        await client.aclose()


async def test_a_range_query_is_posted_form_encoded_and_decoded_into_float_arrays():
    body = matrix(({"pod": "a", "container": "c"}, [(1000, "1.5"), (1015, "2"), (1030, "3e2")]))
    async with Engine(fixed(200, body)) as engine:
        result = await ask(engine.url, 'sum(rate(x{pod=~"a|b"}[1m]))')
    method, path, form = engine.seen[0]
    assert (method, path) == ("POST", "/api/v1/query_range")
    assert form == {"query": 'sum(rate(x{pod=~"a|b"}[1m]))', "start": "1000", "end": "1060", "step": "15"}
    [series] = result.series
    assert series.labels == {"pod": "a", "container": "c"}
    assert series.times.dtype == np.float64 and list(series.times) == [1000, 1015, 1030]
    assert list(series.values) == [1.5, 2.0, 300.0]
    assert result.warnings == []


async def test_nan_and_infinities_become_gaps():
    body = matrix(({}, [(1000, "NaN"), (1015, "+Inf"), (1030, "-Inf"), (1045, "nonsense"), (1060, "4")]))
    async with Engine(fixed(200, body)) as engine:
        result = await ask(engine.url)
    values = result.series[0].values
    assert [math.isnan(v) for v in values] == [True, True, True, True, False]
    assert values[-1] == 4.0


async def test_warnings_of_partial_data_are_kept_and_sanitised():
    body = matrix(({}, [(1000, "1")]), warnings=["store \x1b]0;owned\x07 unreachable: partial data"])
    async with Engine(fixed(200, body)) as engine:
        result = await ask(engine.url)
    assert result.warnings == ["store \\x1b]0;owned\\x07 unreachable: partial data"]


async def test_instant_vector_and_scalar_answers_are_series_of_one_point():
    async def reply(method, path, form, headers):
        if form["query"] == "1":
            return 200, JSON, {"status": "success", "data": {"resultType": "scalar", "result": [1000.5, "1"]}}
        return 200, JSON, {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"node": "n1"}, "value": [1000.5, "42"]}]}}
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        scalar = await client.query("1")
        vector = await client.query("node_x", at=1000.5)
        await client.aclose()
    assert scalar.series[0].labels == {} and list(scalar.series[0].values) == [1.0]
    assert vector.series[0].labels == {"node": "n1"} and list(vector.series[0].times) == [1000.5]
    assert engine.seen[1][2] == {"query": "node_x", "time": "1000.5"}


async def test_identical_range_queries_are_answered_from_the_cache():
    async with Engine(fixed(200, matrix(({}, [(1000, "1")])))) as engine:
        client = url_client(engine.url)
        first = await client.query_range("up", 1000, 2000, 15)
        again = await client.query_range("up", 1000, 2000, 15)
        await client.query_range("up", 1000, 2015, 15)
        await client.aclose()
    assert again is first
    assert len(engine.seen) == 2
    assert (client.stats.queries, client.stats.cache_hits, client.stats.samples) == (2, 1, 2)
    assert client.stats.bytes > 0


@pytest.mark.parametrize(("entries", "samples", "small"), [(3, 1000, 5), (100, 12, 3)])
async def test_the_cache_is_bounded_by_answers_and_samples(monkeypatch, entries, samples, small):
    monkeypatch.setattr("ktopui.kube.prometheus.CACHE_ENTRIES", entries)
    monkeypatch.setattr("ktopui.kube.prometheus.CACHE_SAMPLES", samples)
    # `big`: more than a quarter of the samples (or of what a small answer is), never kept.
    points = {"small": small, "big": max(small, samples // 4) + 1}
    ends = range(2000, 2000 + 15 * (min(entries, samples // small) + 1), 15)  # one answer too many

    async def reply(method, path, form, headers):
        return 200, JSON, matrix(({}, [(1000 + 15 * i, "1") for i in range(points[form["query"]])]))
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        for _ in range(2):
            await client.query_range("big", 1000, 2000, 15)
        for end in ends:
            await client.query_range("small", 1000, end, 15)
        await client.query_range("small", 1000, ends[-1], 15)  # kept: the newest
        await client.query_range("small", 1000, ends[0], 15)  # dropped: the oldest
        await client.aclose()
    assert len(engine.seen) == 2 + len(ends) + 1
    assert client.stats.cache_hits == 1


async def test_the_same_query_asked_while_it_is_on_its_way_is_sent_once():
    gate = asyncio.Event()

    async def reply(method, path, form, headers):
        await gate.wait()
        return 200, JSON, matrix(({}, [(1000, "1")]))
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        tasks = [asyncio.create_task(client.query_range("up", 1000, 2000, 15)) for _ in range(3)]
        await asyncio.sleep(0.2)
        gate.set()
        first, *others = await asyncio.gather(*tasks)
        await client.aclose()
    assert len(engine.seen) == 1 and all(o is first for o in others)
    assert (client.stats.queries, client.stats.cache_hits) == (1, 2)


async def test_a_failed_query_fails_every_caller_waiting_for_it_and_is_not_cached():
    answers = iter([(503, {"Content-Type": "text/plain"}, b"overloaded"), (200, JSON, matrix(({}, [(1000, "1")])))])

    async def reply(method, path, form, headers):
        await asyncio.sleep(0.2)
        return next(answers)
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        results = await asyncio.gather(*(client.query_range("up", 1000, 2000, 15) for _ in range(2)),
                                       return_exceptions=True)
        again = await client.query_range("up", 1000, 2000, 15)
        await client.aclose()
    assert all(isinstance(r, PromUnavailable) for r in results)
    assert len(again.series) == 1 and len(engine.seen) == 2


async def test_a_401_through_the_proxy_names_both_possible_causes():
    async with Engine(fixed(401, {"kind": "Status", "message": "Unauthorized"})) as engine:
        source = PromSource(base=engine.url + "/api/v1/namespaces/m/services/p:web/proxy", via="proxy", name="m/p",
                            flavour="prometheus")
        async with httpx.AsyncClient() as http:
            with pytest.raises(PromRefused) as caught:
                await PromClient(source, http, owns_http=False).query("1")
    assert caught.value.message == "Prometheus m/p: refused (401): Unauthorized"
    assert "log in again" in caught.value.hint and "--prometheus URL" in caught.value.hint


async def test_at_most_four_queries_are_in_flight():
    gate = asyncio.Event()

    async def reply(method, path, form, headers):
        await gate.wait()
        return 200, JSON, matrix(({}, [(1000, "1")]))
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        tasks = [asyncio.create_task(client.query_range(f"q{i}", 1000, 2000, 15)) for i in range(10)]
        await asyncio.sleep(0.3)
        waiting = engine.recorder.in_flight
        gate.set()
        await asyncio.gather(*tasks)
        await client.aclose()
    assert waiting == MAX_IN_FLIGHT
    assert engine.recorder.most_in_flight == MAX_IN_FLIGHT and len(engine.seen) == 10


async def test_a_plain_text_503_from_a_proxy_reads_as_unavailable():
    async with Engine(fixed(503, b"no healthy upstream\n", {"Content-Type": "text/plain"})) as engine:
        with pytest.raises(PromUnavailable) as caught:
            await ask(engine.url)
        assert caught.value.message == f"Prometheus {engine.url}: unavailable (503): no healthy upstream"


async def test_an_ingress_html_502_is_read_for_its_title():
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502</h1></center></body></html>"
    async with Engine(fixed(502, page, {"Content-Type": "text/html"})) as engine:
        with pytest.raises(PromUnavailable) as caught:
            await ask(engine.url)
    assert caught.value.message.endswith("unavailable (502): 502 Bad Gateway")
    assert "\n" not in caught.value.message


async def test_bad_data_names_the_engine_s_complaint():
    body = {"status": "error", "errorType": "bad_data",
            "error": 'invalid parameter "query": 1:5: parse error: unexpected \x1b[2J'}
    async with Engine(fixed(400, body)) as engine:
        with pytest.raises(PromBadQuery) as caught:
            await ask(engine.url, "sum((")
    assert "bad_data: invalid parameter" in caught.value.message
    assert "\x1b" not in caught.value.message and "\\x1b[2J" in caught.value.message


async def test_an_engine_overloaded_or_rate_limited_says_so_with_what_to_do():
    heavy = {"status": "error", "errorType": "execution",
             "error": "query processing would load too many samples into memory in query execution"}
    async with Engine(fixed(422, heavy)) as engine:
        with pytest.raises(PromBadQuery) as too_heavy:
            await ask(engine.url)
    assert "execution: query processing would load too many samples" in too_heavy.value.message
    assert "narrower scope" in too_heavy.value.hint
    async with Engine(fixed(429, b"rate limit exceeded", {"Content-Type": "text/plain"})) as engine:
        with pytest.raises(PromUnavailable) as limited:
            await ask(engine.url)
    assert limited.value.message.endswith("too many queries (429): rate limit exceeded")


async def test_a_forbidden_service_proxy_says_which_rbac_to_ask_for():
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
              "message": 'services "prometheus-k8s:web" is forbidden: User "jane" cannot get resource '
                         '"services/proxy" in API group "" in the namespace "monitoring"'}
    async with Engine(fixed(403, status)) as engine:
        base = engine.url + "/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy"
        source = PromSource(base=base, via="proxy", name="monitoring/prometheus-k8s", flavour="kube-prometheus-stack")
        async with httpx.AsyncClient() as http:
            client = PromClient(source, http, owns_http=False)
            with pytest.raises(PromRefused) as short:
                await client.query_range("up", 1000, 2000, 15)
            with pytest.raises(PromRefused) as long:
                await client.query_range("up" + " " * 9000, 1000, 2000, 15)
    assert short.value.message.startswith("Prometheus monitoring/prometheus-k8s: refused (403): services ")
    assert short.value.hint.startswith("Ask a cluster admin for RBAC permission to get services/proxy "
                                       "in namespace 'monitoring'")
    # A query too long for a URL goes as POST, which RBAC calls `create`.
    assert [m for m, _, _ in engine.seen] == ["GET", "POST"]
    assert "create services/proxy" in long.value.hint


async def test_an_endless_body_stops_at_the_limit_with_a_way_to_narrow_it(monkeypatch):
    monkeypatch.setattr("ktopui.kube.prometheus.MAX_BODY", 1 << 20)

    async def endless(writer):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()

    async def reply(method, path, form, headers):
        return endless
    async with Engine(reply) as engine:
        with pytest.raises(PromTooLarge) as caught:
            await ask(engine.url)
    assert "larger than 1 MiB" in caught.value.message
    assert "--since" in caught.value.hint


async def test_a_gzip_bomb_stops_at_the_limit_without_inflating_it_whole(monkeypatch):
    monkeypatch.setattr("ktopui.kube.prometheus.MAX_BODY", 1 << 20)
    bomb = gzip.compress(b"[" * (64 << 20))

    async def reply(method, path, form, headers):
        return 200, {**JSON, "Content-Encoding": "gzip"}, bomb
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        with pytest.raises(PromTooLarge):
            await client.query_range("up", 1000, 2000, 15)
        await client.aclose()
    assert client.stats.bytes < 2 << 20


async def test_a_slow_body_ends_at_the_deadline():
    async def trickle(writer):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)

    async def reply(method, path, form, headers):
        return trickle
    async with Engine(reply) as engine:
        client = url_client(engine.url)
        client._deadline = 0.5
        with pytest.raises(PromTimeout) as caught:
            await client.query_range("up", 1000, 2000, 15)
        await client.aclose()
    assert "no complete answer to a query within" in caught.value.message


async def test_a_refused_connection_is_unreachable():
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(PromUnreachable) as caught:
        await ask(f"http://127.0.0.1:{port}")
    assert caught.value.message == f"Prometheus http://127.0.0.1:{port}: connection refused"


async def test_a_body_that_is_not_json_is_named_with_its_start():
    async with Engine(fixed(200, b"<html><title>Sign in</title></html>", {"Content-Type": "text/html"})) as engine:
        with pytest.raises(PromMalformed) as caught:
            await ask(engine.url)
    assert "not the Prometheus API's JSON" in caught.value.message and "Sign in" in caught.value.message


@pytest.mark.parametrize(("body", "says"), [
    (b'{"status":"success","data":{"resultType":"matrix","result":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
     "not the Prometheus API's JSON"),
    (b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":1},"values":[]}]}}',
     "an answer of an unexpected shape"),
    (b'{"status":"success","data":{"resultType":"streams","result":[]}}', "an answer of an unexpected shape"),
    (b'{"status":"success"}', "an answer of an unexpected shape"),
])
async def test_an_answer_of_the_wrong_shape_or_nested_too_deep_is_malformed(body, says):
    async with Engine(fixed(200, body)) as engine:
        with pytest.raises(PromMalformed) as caught:
            await ask(engine.url)
    assert says in caught.value.message and len(caught.value.message) < 400


async def test_basic_auth_from_the_url_is_sent_and_never_shown():
    sent = []

    async def reply(method, path, form, headers):
        sent.append(headers.get("authorization"))
        return 401, {"Content-Type": "text/plain"}, b"Unauthorized"
    async with Engine(reply) as engine:
        url = engine.url.replace("http://", "http://ops:s3cret@")
        with pytest.raises(PromRefused) as caught:
            await ask(url)
        assert "s3cret" not in str(caught.value) and engine.url in caught.value.message
    assert sent == ["Basic " + base64.b64encode(b"ops:s3cret").decode()]


async def test_a_rotated_bearer_token_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr("ktopui.kube.auth.TOKEN_FILE_PERIOD", 0.0)
    tokens = []

    async def reply(method, path, form, headers):
        tokens.append(headers.get("authorization"))
        return 200, JSON, matrix(({}, [(1000, "1")]))
    token = tmp_path / "token"
    token.write_text("first\n")
    async with Engine(reply) as engine:
        client = url_client(engine.url, token_file=str(token))
        client._http.auth._period = 0.0
        await client.query_range("up", 1, 2, 1)
        token.write_text("second\n")
        await client.query_range("up", 1, 3, 1)
        await client.aclose()
    assert tokens == ["Bearer first", "Bearer second"]


async def test_https_is_verified_against_the_ca_given(tmp_path):
    ca = CA("prometheus-ca")
    cert, key = ca.issue("prometheus", ips=("127.0.0.1",))
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    async with Engine(fixed(200, matrix(({}, [(1000, "1")]))), tls=tls) as engine:
        assert engine.url.startswith("https://")
        with pytest.raises(PromUnreachable) as unknown:
            await ask(engine.url)
        assert len((await ask(engine.url, ca_file=str(tmp_path / "ca.pem"))).series) == 1
        assert len((await ask(engine.url, insecure=True)).series) == 1
        assert unknown.value.message.startswith(f"Prometheus {engine.url}: TLS handshake failed: ")
    assert "certificate" in unknown.value.message and "--prometheus-ca" in unknown.value.hint


def test_bad_urls_and_missing_files_are_named(tmp_path):
    for url, text in [("ftp://host", "not an http:// or https:// URL with a host"),
                      ("http://", "not an http:// or https:// URL with a host"),
                      ("http://host:port", "not a URL")]:
        with pytest.raises(PromError) as caught:
            url_client(url)
        assert text in caught.value.message
    with pytest.raises(PromError) as caught:
        url_client("http://u:pw@host:99999")
    assert "pw" not in caught.value.message
    with pytest.raises(PromError) as caught:
        url_client("http://host", token_file=str(tmp_path / "absent"))
    assert "Prometheus bearer token file" in caught.value.message and "absent" in caught.value.message
    with pytest.raises(PromError) as caught:
        url_client("http://host", ca_file=str(tmp_path / "no-ca.pem"))
    assert "Prometheus CA file" in caught.value.message


async def test_through_the_proxy_each_batch_of_a_long_pod_list_is_a_get():
    async with Engine(fixed(200, {"status": "success", "data": {"resultType": "vector", "result": []}})) as engine:
        source = PromSource(base=engine.url + "/proxy", via="proxy", name="m/p", flavour="prometheus")
        async with httpx.AsyncClient() as http:
            client = PromClient(source, http, owns_http=False)
            pods = [f"{'a' * 50}.{i}" for i in range(1000)]  # dots: escaped, then URL-encoded
            for batch in promql.batches(pods):
                await client.query(promql.pod_cpu("ns", batch, "1m"))
    assert len(engine.seen) > 1 and {method for method, _, _ in engine.seen} == {"GET"}


def test_public_url_drops_the_user_and_password():
    assert public_url("https://ops:s3cret@prom.example:9443/base") == "https://prom.example:9443/base"
    assert public_url("http://prom:9090") == "http://prom:9090"
