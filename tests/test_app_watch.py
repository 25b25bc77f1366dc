"""The dashboard when WATCH does not work: current rows, one notice in plain words, no error banner."""

from __future__ import annotations

import json

import pytest
from helpers.app import make_app, names, refresh, refreshed, table

from ktopui.kube.watch import WatchSettings

SIZE = (160, 40)
# A LIST a second while the watch cannot work (the sim scrapes every second too); the rest shrunk as well.
WATCH = WatchSettings(watch_seconds=1, silence_slack=0.5, retry_interval=0.05, retry_cap=0.4, min_relist=1.0,
                      watch_retry=3600.0)
FAULTS = {
    "watch forbidden": (lambda f: f.forbid("sim-admin", "watch", "pods"), "watch not allowed"),
    "a list answered to a watch": (lambda f: f.answer_watches_with_lists(prefix="/api/v1/pods"),
                                   "the watch stream is unreadable"),
}


def header(app) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


def on_server(server) -> set[tuple[str, str]]:
    """The pods a fresh look would show: listed, or measured (a pod deleted since its last scrape)."""
    metrics = json.loads(server.cluster.pod_metrics_list(None, [], []))["items"]
    return ({p.key for p in server.cluster.pods}
            | {(m["metadata"]["namespace"], m["metadata"]["name"]) for m in metrics})


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_without_a_watch_the_dashboard_re_lists_pods_and_says_so_in_plain_words(make_sim_server, tmp_path,
                                                                                     fault):
    server = make_sim_server(nodes=4, pods_per_node=6, churn_per_minute=30, metric_resolution=1.0)
    inject, reason = FAULTS[fault]
    inject(server.faults)
    app = make_app(server.write_kubeconfig(tmp_path / "config"), interval=1, watch=WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        for _ in range(20):
            if "re-listing" in header(app):
                break
            await refresh(app, pilot)
        text = header(app)
        assert f"↻ {reason}: re-listing pods every 1s, listed " in text, text
        assert "refresh failed" not in text and "no data yet" not in text and "⚠" not in text
        pods = table(app, "pods")
        assert set(names(pods)) == on_server(server)

        shown = set(names(pods))
        server.cluster.advance(60)  # pods come and go on the server
        expected = on_server(server)
        assert shown - expected, "some pods should have gone"
        for _ in range(20):  # within one re-list (a second) and a refresh
            await pilot.pause(0.2)
            await refresh(app, pilot)
            if set(names(pods)) == expected:
                break
        assert set(names(pods)) == expected
        assert f"↻ {reason}: re-listing pods every 1s, listed " in header(app)
