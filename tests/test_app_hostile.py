"""The dashboard and `ktopui top` against a hostile server: one bad answer spoils only itself."""

from __future__ import annotations

import logging

import pytest
from helpers.app import make_app, names, refresh, refreshed, table
from helpers.sims import frozen_sim
from helpers.watches import until

from ktopui.cli import main
from ktopui.kube.backoff import CAP
from ktopui.kube.limits import MiB
from ktopui.live.feed import MAX_RESOLUTION, window_seconds

SIZE = (160, 40)
NODE_METRICS = "/apis/metrics.k8s.io/v1beta1/nodes"


@pytest.fixture
def sim(tmp_path):
    with frozen_sim(tmp_path, nodes=5, pods_per_node=4, seed=97) as sim:
        yield sim


def header(app) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


async def test_deeply_nested_node_metrics_keep_the_nodes_and_back_off(sim):
    server, kubeconfig = sim
    server.faults.deep_nesting(depth=100_000, prefix=NODE_METRICS)
    app = make_app(kubeconfig, interval=2)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert len(names(table(app, "nodes"))) == 5  # the node list is fine: the nodes are shown
        text = header(app)
        assert "node metrics: refresh failed: malformed JSON" in text and "nested too deeply" in text
        assert "internal error" not in text
        await refresh(app, pilot)
        assert app.session.snapshot.health["node metrics"].failures == 2
        assert app.session.delay_after(app.session.snapshot) >= 4  # a failure like any other: backing off

        server.faults.clear_rules()
        await refresh(app, pilot)
        assert "refresh failed" not in header(app)
        assert any(r.has_metrics for r in table(app, "nodes").rows)


async def test_a_gzip_bomb_of_node_metrics_fails_that_list_and_nothing_else(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig, interval=2)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        server.faults.gzip_bomb(inflated=256 * MiB, prefix=NODE_METRICS)
        await refresh(app, pilot)
        text = header(app)
        assert "node metrics: refresh failed: the answer to list nodes.metrics.k8s.io is larger than 16 MiB" in text
        assert len(names(table(app, "nodes"))) == 5 and any(r.has_metrics for r in table(app, "nodes").rows)
        assert not app.session.snapshot.health["pods"].error and not app.session.snapshot.health["pod metrics"].error


async def test_a_server_trickling_node_metrics_is_given_up_on_at_the_deadline(sim):
    server, kubeconfig = sim
    # (the deadline is the longer of two reads' timeouts and the answer's size)
    app = make_app(kubeconfig, interval=2, request_timeout=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        server.faults.slow_body(bytes_per_second=20, prefix=NODE_METRICS)
        await refresh(app, pilot)
        text = header(app)
        assert "node metrics: refresh failed: no complete answer from 127.0.0.1" in text, text
        assert len(names(table(app, "nodes"))) == 5


async def test_an_unreadable_metrics_window_is_ignored(sim):
    server, kubeconfig = sim
    server.faults.bad_window("1.2.3s")
    app = make_app(kubeconfig, interval=2)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        for _ in range(3):
            server.cluster.advance(15)
            await refresh(app, pilot)
        assert app.session.internal_failures == 0
        assert "refresh failed" not in header(app) and "internal error" not in header(app)
        assert any(r.has_metrics for r in table(app, "nodes").rows)


async def test_an_absurdly_long_window_does_not_stop_the_pod_metrics(sim):
    server, kubeconfig = sim
    server.faults.bad_window("99999h")
    app = make_app(kubeconfig, interval=2)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await refresh(app, pilot)
        fetched = app.session.feed.pod_metrics_fetches
        server.cluster.advance(MAX_RESOLUTION + 15)
        await refresh(app, pilot)
        assert app.session.feed.pod_metrics_fetches == fetched + 1


@pytest.mark.parametrize("window", ["1.2.3s", "..s", "1e5s", "9" * 400 + "h", "15s and more", "-1s", "0s"])
def test_window_seconds_skips_what_it_cannot_read(window):
    assert window_seconds(window) is None


@pytest.mark.parametrize(("window", "seconds"), [("15.032s", 15.032), ("1m0.5s", 60.5), ("500ms", 0.5),
                                                 ("1h", 3600.0)])
def test_window_seconds_reads_go_durations(window, seconds):
    assert window_seconds(window) == pytest.approx(seconds)


async def test_a_huge_retry_after_waits_no_longer_than_the_backoff_cap(sim):
    server, kubeconfig = sim
    server.faults.too_many_requests(retry_after="1e308", prefix=NODE_METRICS)
    app = make_app(kubeconfig, interval=2)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert app.session.next_refresh_at - app.session.clock() <= CAP
        text = header(app)
        assert "Too many requests" in text
        retry = text[text.index("retry in"):].split()[2]
        assert retry.endswith("s") and int(retry.rstrip("s")) <= CAP


async def test_an_internal_error_in_a_refresh_backs_off_and_logs_one_traceback(sim, caplog):
    server, kubeconfig = sim
    app = make_app(kubeconfig, interval=1)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        session = app.session
        real = session.feed.collect

        async def broken():
            raise RuntimeError("a bug in the join")

        session.feed.collect = broken  # a bug ktopui does not know of yet
        delays = []
        with caplog.at_level(logging.ERROR, logger="ktopui.live"):
            for failures in range(1, 5):
                session.wake()
                await until(lambda: session.internal_failures == failures, within=30, what="a failed refresh")
                delays.append(session.delay_after(session.snapshot))
            await pilot.pause()
        assert "internal error during refresh" in header(app)
        assert delays[0] >= 1 and delays[-1] >= 4 and delays[-1] > delays[0]
        records = [r for r in caplog.records if r.name == "ktopui.live"]
        assert len(records) == 4 and sum(1 for r in records if r.exc_info) == 1

        session.feed.collect = real
        await refresh(app, pilot)
        assert session.internal_failures == 0 and session.delay_after(session.snapshot) == 1


def test_top_reports_deep_nesting_in_one_line(sim, capsys):
    server, kubeconfig = sim
    server.faults.deep_nesting(depth=100_000, prefix=NODE_METRICS)
    code = main(["top", "nodes", "--kubeconfig", str(kubeconfig)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: malformed JSON for list nodes.metrics.k8s.io") and "nested too deeply" in err
    assert "Traceback" not in err and "RecursionError" not in err


def test_the_doctor_reads_its_own_requests_within_the_same_limits(sim, capsys):
    """Its whoami, access reviews and APIService reads are bounded like the lists: a gzip
    bomb is a finding, not gigabytes in memory."""
    import resource

    server, kubeconfig = sim
    server.faults.gzip_bomb(inflated=2 << 30)  # every answer
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code = main(["doctor", "--kubeconfig", str(kubeconfig)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err + out.out
    assert "larger than 16 MiB" in out.out
    assert grown_mb < 200


def test_doctor_reports_deeply_nested_answers_without_a_traceback(sim, capsys):
    server, kubeconfig = sim
    server.faults.deep_nesting(depth=100_000)  # every JSON answer
    code = main(["doctor", "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err + out.out and "RecursionError" not in out.err + out.out
    assert "malformed JSON" in out.out
