"""The dashboard at everyday terminal sizes, with more rows than fit: what is on screen.

80x24, 120x40 and 200x50, on a simulated cluster of 50 nodes whose pod names,
node names (EKS-style, with a shared domain) and namespaces are long enough
to be cut.
"""

from __future__ import annotations

import re

import pytest

from helpers.app import cells_on_screen, make_app, refreshed, screen_lines, table
from helpers.sims import frozen_sim

from ktopui.ui.cells import qualified, shorten
from ktopui.ui.columns.nodes import COLUMNS as NODE_COLUMNS
from ktopui.ui.columns.pods import COLUMNS as POD_COLUMNS
from ktopui.ui.layout import lay_out
from ktopui.model.text_widths import TextWidths, text_widths

SIZES = [(80, 24), (120, 40), (200, 50)]
PERCENT = re.compile(r" *(-|~?\d+%(!!?)?|\?)")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("sizes"), nodes=50, pods_per_node=4, seed=7) as sim:
        yield sim


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", ["nodes", "pods"])
async def test_the_last_column_is_whole_beside_the_scrollbar(sim, size, view):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=size) as pilot:
        await refreshed(app, pilot)
        await pilot.press("1" if view == "nodes" else "2")
        t = table(app, view)
        assert len(t.rows) > t.size.height  # the rows scroll: the scrollbar is there
        assert t.line_width == t.size.width - 1
        header = cells_on_screen(app, t, 0)
        for column, _ in t.layout().columns:
            assert header[column.id].strip().rstrip("▲▼").endswith(column.title), (column.id, header)
        for y in range(1, t.size.height):
            for column_id, cell in cells_on_screen(app, t, y).items():
                if column_id.endswith("pct"):
                    assert PERCENT.fullmatch(cell), (column_id, cell)


async def test_names_too_long_lose_their_middle_and_keep_what_tells_them_apart(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "slash", *"kube-controller", "enter")
        t = table(app, "pods")
        width = dict((c.id, w) for c, w in t.layout().columns)["name"]
        shown = [cells_on_screen(app, t, y)["name"].strip() for y in range(1, len(t.rows) + 1)]
        full = [row.name for row in t.rows]
        assert all(len(name) > width for name in full)
        # The static pods are named after their node: the end (its IP) differs, so it stays.
        assert shown == [shorten(name, width) for name in full]
        assert all("…" in s and s.startswith("kube-controller-") and name.split(".")[0][-6:] in s
                   for s, name in zip(shown, full))
        assert len(set(shown)) == len(full)


async def test_at_80_columns_the_namespace_goes_before_the_name(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        t = table(app, "pods")
        assert "namespace" not in t.visible_column_ids()
        assert cells_on_screen(app, t, 0)["name"].strip().startswith("NAMESPACE/NAME")
        width = dict((c.id, w) for c, w in t.layout().columns)["name"]
        for y in range(1, t.size.height):
            row = t.rows[y - 1]
            assert cells_on_screen(app, t, y)["name"].rstrip() == qualified(row.namespace, row.name, width)


async def test_one_namespace_needs_no_prefix(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, namespace="kube-system")
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        t = table(app, "pods")
        assert "namespace" not in t.visible_column_ids()
        assert cells_on_screen(app, t, 0)["name"].strip() == "NAME"
        assert cells_on_screen(app, t, 1)["name"].strip() == shorten(t.rows[0].name, t.layout().columns[0][1])


@pytest.mark.parametrize(("view", "key", "column_id", "title"), [
    ("pods", "t", "restarts", "RESTARTS▼"),
    ("nodes", "l", "cpu_lim_pct", "CPU/L%▼"),
])
async def test_sorting_by_a_column_the_width_left_out_brings_it_back_marked(sim, view, key, column_id, title):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("1" if view == "nodes" else "2")
        t = table(app, view)
        assert column_id not in t.visible_column_ids()
        await pilot.press(key)
        assert column_id in t.visible_column_ids()
        assert cells_on_screen(app, t, 0)[column_id].strip() == title
        assert {"name", "cpu", "mem"} <= set(t.visible_column_ids())
        assert len(screen_lines(app)[t.region.y]) == 80


async def test_rows_already_drawn_are_drawn_again_when_a_sort_brings_a_column_back(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        t = table(app, "pods")
        node = t.rows[0].node
        t.set_filter(node)  # a few rows: all on screen whatever the order
        await pilot.pause()
        drawn = [t.render_line(y) for y in range(1, len(t.rows) + 1)]  # (kept by the table)
        assert drawn and "restarts" not in t.visible_column_ids()
        await pilot.press("t")
        await pilot.pause()
        for y, row in enumerate(t.rows, start=1):
            assert cells_on_screen(app, t, y)["restarts"].strip() == str(row.restarts)


# -- the layout by itself ------------------------------------------------------------


def _texts(**widths: tuple[int, int]) -> dict[str, TextWidths]:
    return {cid: TextWidths(telling, longest, True) for cid, (telling, longest) in widths.items()}


def test_layout_gives_names_their_width_before_the_lesser_columns():
    texts = _texts(namespace=(9, 9), name=(28, 28), node=(16, 41), status=(7, 7))
    layout = lay_out(POD_COLUMNS, 119, texts=texts, pinned="cpu")
    widths = dict((c.id, w) for c, w in layout.columns)
    assert widths["name"] >= 28 and widths["namespace"] >= 9
    assert sum(widths.values()) + len(widths) - 1 <= 119
    assert {"cpu", "mem", "cpu_req_pct", "mem_req_pct", "cpu_lim_pct", "mem_lim_pct", "status"} <= set(widths)
    assert "cpu_hist" not in widths  # trends come after whole names


def test_layout_never_shows_one_of_twin_columns_without_the_other():
    for width in range(40, 220):
        ids = lay_out(NODE_COLUMNS, width, texts=_texts(name=(16, 42)), pinned="name").ids()
        for a, b in (("cpu", "mem"), ("cpu_pct", "mem_pct"), ("cpu_req_pct", "mem_req_pct"),
                     ("cpu_lim_pct", "mem_lim_pct"), ("cpu_hist", "mem_hist")):
            assert (a in ids) == (b in ids), (width, ids)


def test_layout_fills_the_width_with_names_and_leaves_the_rest_blank():
    texts = _texts(name=(16, 42), roles=(6, 6))
    widths = dict((c.id, w) for c, w in lay_out(NODE_COLUMNS, 250, texts=texts, pinned="name").columns)
    assert widths["name"] == 42  # a wide terminal shows the whole name, domain and all
    assert sum(widths.values()) + len(widths) - 1 < 250  # and no more: numbers stay near the names


def test_text_widths_leave_out_a_shared_domain():
    names = ["ip-10-0-1-17.eu-west-1.compute.internal", "ip-10-0-133-199.eu-west-1.compute.internal"]
    assert text_widths(names) == TextWidths(len("ip-10-0-133-199") + 1, len(names[1]), True)
    assert text_widths(["web", "web"]).varied is False


def test_a_few_long_names_do_not_widen_the_column_for_every_row():
    names = [f"web-7d4b9c6f5-{i:05d}" for i in range(40)] + ["kube-controller-manager-master-1"]
    assert text_widths(names) == TextWidths(len(names[0]), len(names[-1]), True)


def test_many_pods_are_measured_on_a_sample_but_a_second_namespace_is_never_missed():
    from ktopui.model.pod_view import WIDTH_SAMPLE, PodRowsView

    count = WIDTH_SAMPLE * 4
    keys = [("web", f"web-7d4b9c6f5-{i:06d}") for i in range(count)]
    view = PodRowsView(keys, [None] * count, [None] * count)
    assert view.text_widths("name") == TextWidths(len(keys[0][1]), len(keys[0][1]), True)
    assert view.text_widths("namespace").varied is False
    keys[count // 2 + 1] = ("db", keys[count // 2 + 1][1])  # one pod, between two sampled ones
    assert PodRowsView(keys, [None] * count, [None] * count).text_widths("namespace").varied is True


@pytest.mark.parametrize(("name", "width", "shown"), [
    ("recommender-ft6ft2g58n-x7k2p", 19, "recommender-…-x7k2p"),
    ("gke-prod-cluster-default-pool-3f2a1b9c-x7k2", 22, "gke-prod-cluster…-x7k2"),
    ("ip-10-0-133-199.eu-west-1.compute.internal", 20, "ip-10-0-133-199.eu-…"),
    ("kube-controller-manager-ip-10-36-202-17.eu-west-1.compute.internal", 28, "kube-controlle…-10-36-202-17"),
    ("abcdefghijklmnopqrstuvwxyz", 10, "abcdef…xyz"),
    ("redis-0", 10, "redis-0"),
])
def test_a_name_too_long_loses_its_middle(name, width, shown):
    assert shorten(name, width) == shown


def test_a_namespace_prefix_leaves_the_name_most_of_the_room():
    assert qualified("web", "redis-0", 24) == "web/redis-0"
    assert qualified("team-0206", "frontend-qrxvkhnkf6-dcjc5", 24) == "team-0206/fronten…-dcjc5"
    assert qualified("a-very-long-namespace-name", "redis-0", 24) == "a-very-long-nam…/redis-0"


# -- what the status lines keep ----------------------------------------------------------


def _header(app) -> list[str]:
    return screen_lines(app)[:3]


async def test_at_80_columns_the_header_keeps_the_metrics_age_and_the_footer_keeps_help_and_quit(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        assert re.search(r"metrics \d+s old", _header(app)[1])
        footer = screen_lines(app)[-1]
        assert "? Help" in footer and "q Quit" in footer and "space Pause" in footer


async def test_while_paused_the_data_age_stays_on_screen(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("space")
        usage = _header(app)[1]
        assert "PAUSED" in usage and re.search(r"metrics \d+s old", usage)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_failed_refresh_keeps_its_retry_and_the_age_of_the_data_at_every_size(sim, size):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=size) as pilot:
        await refreshed(app, pilot)
        server.faults.server_error(500, prefix="/apis/metrics.k8s.io/v1beta1/nodes")
        try:
            app.session.wake()
            await refreshed(app, pilot)
            await pilot.pause()
            status = _header(app)[2]
            assert "⚠ node metrics: refresh failed:" in status
            assert re.search(r"data (from \d\d:\d\d:\d\d )?\(\d+s ago\); retry in \d+s", status), status
        finally:
            server.faults.clear_rules()


async def test_before_the_pod_list_arrives_the_header_does_not_say_there_are_no_pods(make_sim_server, tmp_path):
    server = make_sim_server()
    server.faults.set_latency("/api/v1/pods", 3.0)  # a huge first pod LIST
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        assert app.session.snapshot.loading
        identity = _header(app)[0]
        assert f"{len(server.cluster.nodes)} nodes · listing pods…" in identity and "0 pods" not in identity


async def test_without_a_metrics_api_the_header_says_so_not_that_metrics_are_coming(make_sim_server, tmp_path):
    server = make_sim_server()
    server.faults.metrics_unavailable("ServiceNotFound")
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        usage = _header(app)[1]
        assert "no metrics API" in usage and "yet" not in usage


@pytest.mark.parametrize(("key", "last_words"), [
    ("question_mark", "Esc, q or ? closes it."),
    ("d", "Esc closes"),
])
async def test_help_and_doctor_scroll_with_the_keyboard_at_80x24(sim, key, last_words):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        await pilot.press(key)
        for _ in range(200):
            if getattr(app.screen, "findings", True) is not None:  # (the doctor: its checks done)
                break
            await pilot.pause(0.05)
        await pilot.pause()
        assert not any(last_words in line for line in screen_lines(app))
        await pilot.press("pagedown")
        scrolled = app.screen.focused
        assert scrolled is not None and scrolled.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert any(last_words in line for line in screen_lines(app))


def test_a_status_line_drops_its_least_important_parts_first_and_shortens_a_message_before_dropping_it():
    from rich.text import Text

    from ktopui.ui.parts import Part, fit

    parts = [
        Part(Text("⚠ pods: refresh failed:"), 100),
        Part(Text("the server answered 503 Service Unavailable to list pods"), 50, lead=" ", shrink=20, middle=True),
        Part(Text("hint: check the API server"), 20, lead=" — "),
        Part(Text("data from 12:03:04 (35s ago)"), 95, lead=" — "),
        Part(Text("retry in 4s"), 95, lead="; "),
    ]
    assert fit(parts, 200).plain == ("⚠ pods: refresh failed: the server answered 503 Service Unavailable to list "
                                     "pods — hint: check the API server — data from 12:03:04 (35s ago); retry in 4s")
    narrow = fit(parts, 100).plain
    assert "hint" not in narrow and narrow.endswith("— data from 12:03:04 (35s ago); retry in 4s")
    assert "…" in narrow and narrow.startswith("⚠ pods: refresh failed: the server") and len(narrow) <= 100
    assert fit(parts, 70).plain == "⚠ pods: refresh failed: — data from 12:03:04 (35s ago); retry in 4s"


async def test_the_metrics_age_is_told_by_the_servers_clock_not_a_skewed_local_one(sim):
    from ktopui.ui.cells import age_text

    server, kubeconfig = sim
    skewed = lambda: server.cluster.clock.now() + 95  # noqa: E731 - a laptop 95 s ahead
    app = make_app(kubeconfig, clock=skewed)
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        age = server.cluster.clock.now() - app.session.snapshot.newest_metrics
        assert age < 60
        assert f"metrics {age_text(age)} old" in _header(app)[1]
