"""Why pods die, in the dashboard on the simulated cluster: the pods view's LAST EXIT column and
its sort, each container's last exit on a pod's own screen (OOM kills as they happen), and
pods without metrics shown as `-`, never 0 %. And a reason that carries control characters,
fed by hand, shown escaped."""

from __future__ import annotations

import json
import ssl
from types import MappingProxyType

from helpers.app import cells_on_screen, make_app, refresh, refreshed, screen_lines, table
from helpers.feeds import HandFed

from ktopui.kube.connection import ClusterConnection
from ktopui.kube.objects import PodList, decode
from ktopui.live.feed import Inputs, Scope
from ktopui.live.session import ClusterSession
from ktopui.model.exits import exit_of, exit_text, finished_at, most_recent
from ktopui.model.pod_info import pod_info
from ktopui.model.snapshot import SOURCES, SourceHealth
from ktopui.sim import zoo
from ktopui.sim.cluster import CHURN_PERIOD, OOM_INTERVAL
from ktopui.ui.app import KtopApp
from ktopui.ui.screens import PodScreen
from ktopui.ui.table import RowTable

SIZE = (220, 50)
USAGE_CELLS = ("cpu", "cpu_req_pct", "cpu_lim_pct", "mem", "mem_req_pct", "mem_lim_pct")


def last_exits(server, sim_api) -> dict:
    """Each pod's most recent container exit, from the API's own answer."""
    pods = decode(sim_api(server).get("/api/v1/pods").content, PodList).items
    out = {}
    for p in pods:
        statuses = p.status.containerStatuses + p.status.initContainerStatuses
        out[p.metadata.namespace, p.metadata.name] = most_recent(
            exit_of(s.name, s.lastState.terminated) for s in statuses if s.lastState.terminated is not None)
    return out


def told(last, now: float, width: int) -> set[str]:
    """What a cell `width` wide may say, by a clock read off the server's `Date` header (whole
    seconds) a moment before; a longer text loses its end."""
    texts = {exit_text(last, now + drift) for drift in range(-1, 3)}
    return {t if len(t) <= width else t[:width - 1] + "…" for t in texts}


def width_of(t: RowTable, column_id: str) -> int:
    return dict((c.id, w) for c, w in t.layout().columns)[column_id]


async def click_header(pilot, t: RowTable, column_id: str) -> None:
    x = 0
    for column, width in t.layout().columns:
        if column.id == column_id:
            break
        x += width + 1
    else:
        raise AssertionError(f"{column_id} is not shown")
    await pilot.click(f"#{t.id}", offset=(x + 1, 0))


async def cells_of(pilot, app, t: RowTable, key) -> dict[str, str]:
    """The cells of one pod's line as on screen, found with the filter as a user would (then cleared)."""
    await pilot.press("slash", *key[1], "enter")
    await pilot.pause()
    cells = cells_on_screen(app, t, [r.key for r in t.rows].index(key) + 1)
    await pilot.press("escape")
    return cells


async def open_pod(pilot, app, name: str) -> None:
    await pilot.press("2", "slash", *name, "enter", "enter")
    assert isinstance(app.screen, PodScreen) and app.screen.pod == name


async def test_sorting_by_last_exit_puts_the_latest_exits_first_and_pods_without_one_last(
        make_sim_server, sim_api, tmp_path):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)
    expected = last_exits(server, sim_api)
    dated = sorted((key for key, last in expected.items() if last is not None and last.finished is not None),
                   key=lambda key: (-expected[key].finished, key[1], key[0]))
    assert len(dated) >= 5 and {expected[k].reason for k in dated} == {"OOMKilled", "Error"}
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        await click_header(pilot, pods, "last_exit")
        assert pods.sort_column == "last_exit" and pods.sort_descending
        assert "LAST EXIT▼" in pods.render_line(0).text
        shown = [r.key for r in pods.rows]
        assert shown[:len(dated)] == dated
        assert all(expected.get(key) is None for key in shown[len(dated):])
        now = server.cluster.now()
        for line, key in enumerate(dated[:5], start=1):
            cell = cells_on_screen(app, pods, line)["last_exit"].strip()
            assert cell in told(expected[key], now, width_of(pods, "last_exit")), (key, cell)
        never = next(key for key in shown if expected.get(key) is None)
        assert (await cells_of(pilot, app, pods, never))["last_exit"].strip() == "-"
        await click_header(pilot, pods, "last_exit")  # again: the oldest first, still none last
        assert [r.key for r in pods.rows][:len(dated)] == sorted(
            dated, key=lambda key: (expected[key].finished, key[1], key[0]))


async def test_a_pods_own_screen_shows_each_containers_last_exit_and_a_new_oom_kill(
        make_sim_server, sim_api, tmp_path):
    # The ReplicationController's memcached is over its 128Mi limit: OOMKilled again and again.
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=1)
    name = next(key[1] for key in last_exits(server, sim_api) if key[1].startswith("legacy-cache-"))
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await open_pod(pilot, app, name)
        containers = table(app)
        before = last_exits(server, sim_api)[zoo.NAMESPACE, name]
        cells = cells_on_screen(app, containers, 1)
        assert cells["name"].strip() == "memcached" and cells["restarts"].strip() == "7"
        assert cells["last_exit"].strip() in told(before, server.cluster.now(), width_of(containers, "last_exit"))
        assert cells["last_exit"].startswith("OOMKilled ") and cells["last_exit"].strip().endswith(" ago")
        assert app.session.snapshot.pod(zoo.NAMESPACE, name).info.oom_kills == 1

        for _ in range(int(4 * OOM_INTERVAL / CHURN_PERIOD)):
            server.cluster.advance(CHURN_PERIOD)
            after = last_exits(server, sim_api)[zoo.NAMESPACE, name]
            if after != before:
                break
        else:
            raise AssertionError("not OOMKilled again in four times the average interval")

        async def caught_up() -> bool:
            await refresh(app, pilot)
            row = app.screen.row
            return row is not None and row.info.last_exit == after

        for _ in range(20):
            if await caught_up():
                break
        else:
            raise AssertionError("the new OOM kill did not reach the pod's screen")
        cells = cells_on_screen(app, containers, 1)
        assert cells["restarts"].strip() == "8"
        assert cells["last_exit"].strip() in told(after, server.cluster.now(), width_of(containers, "last_exit"))
        assert after.finished > before.finished


async def test_pods_without_metrics_show_a_dash_in_every_usage_cell(make_sim_server, tmp_path):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        unmeasured = [r for r in pods.rows if not r.has_metrics]
        assert any(r.status == "Running" and r.requests.cpu_milli for r in unmeasured)  # (a node stopped reporting)
        for row in unmeasured[:8]:
            cells = await cells_of(pilot, app, pods, row.key)
            assert {cells[c].strip() for c in USAGE_CELLS} == {"-"}, (row.key, cells)
        measured = next(r for r in pods.rows if r.has_metrics and r.requests.cpu_milli and r.requests.mem_bytes)
        cells = await cells_of(pilot, app, pods, measured.key)
        assert all(cells[c].strip().rstrip("!").endswith("%") for c in ("cpu_req_pct", "mem_req_pct"))


HOSTILE_REASON = "\x1b]0;owned\x07Oops\r\u202e[b]x[/b]"


def nowhere() -> ClusterConnection:
    """A connection that is never used: the session is fed by hand."""
    return ClusterConnection(
        server="https://cluster.invalid:6443", context="by-hand", cluster="by-hand", user="tester", namespace="default",
        namespace_source="default", ssl_context=ssl.create_default_context(), insecure=False, tls_server_name=None,
        proxy=None, auth=None, auth_method="none", config_files=[], warnings=[], disable_compression=False,
    )


async def test_a_reason_with_control_characters_is_shown_escaped_in_the_pods_view_and_the_pods_screen():
    now = finished_at("2026-11-18T12:00:00Z")
    body = json.dumps({"items": [{
        "metadata": {"name": "victim", "namespace": "web"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "app"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": True, "restartCount": 1, "state": {"running": {}},
            "lastState": {"terminated": {"reason": HOSTILE_REASON, "exitCode": 2, "finishedAt": "2026-11-18T11:00:00Z"}},
        }]},
    }]}).encode()
    (pod,) = decode(body, PodList).items
    health = MappingProxyType({source: SourceHealth(ok_at=now) for source in SOURCES})
    session = ClusterSession(nowhere(), feed=HandFed(), interval=60, clock=lambda: now)
    app = KtopApp(session)
    async with app.run_test(size=SIZE) as pilot:
        session.feed.inputs.put_nowait(Inputs(
            scope=Scope(), nodes=None, pods={("web", "victim"): pod_info(pod)}, pod_changes=None, node_metrics=None,
            pod_metrics=None, pod_metrics_kept=True, health=health, loading=()))
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        assert cells_on_screen(app, pods, 1)["last_exit"].startswith("\\x1b]0;owned\\x07")
        await pilot.press("enter")
        assert isinstance(app.screen, PodScreen)
        containers = table(app)
        assert cells_on_screen(app, containers, 1)["last_exit"].startswith("\\x1b]0;owned\\x07")
        for line in screen_lines(app):
            assert not set(line) & {"\x1b", "\x07", "\r", "\u202e"}, line
