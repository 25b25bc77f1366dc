"""The virtual table on its own: where the cursor goes when rows are replaced, re-sorted or gone."""

from __future__ import annotations

import random
from dataclasses import replace

from textual.app import App, ComposeResult

from ktopui.model.history import History
from ktopui.model.amounts import Usage
from ktopui.model.pods import PODS, PodRow
from ktopui.ui.columns.pods import COLUMNS as POD_COLUMNS
from ktopui.ui.table import RowTable


def pods(seed: int, n: int = 400) -> list[PodRow]:
    """Pods in name order (name, namespace), as the dashboard's refresh hands them over."""
    rng = random.Random(seed)
    rows = [
        PodRow(f"ns-{i % 7}", f"pod-{i // 7:04d}", node=f"node-{i % 5}", usage=Usage(rng.randrange(1000), 1 << 20))
        for i in range(n)
    ]
    return sorted(rows, key=PODS.order)


class OneTable(App):
    def __init__(self, kind=PODS) -> None:
        super().__init__()
        self.kind = kind

    def compose(self) -> ComposeResult:
        table = RowTable(POD_COLUMNS, kind=self.kind, history=History(), id="t")
        table.sort_by("cpu", True)
        yield table


async def test_the_cursor_follows_its_pod_through_new_rows_and_stays_in_place_when_it_is_gone():
    keyed = []  # rows whose key was asked for
    app = OneTable(replace(PODS, key=lambda row: keyed.append(row) or PODS.key(row)))
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(pods(1), in_name_order=True)
        await pilot.press("down", "down", "down", "down")
        chosen, place = table.cursor_key, table.cursor_index
        for seed in range(2, 12):
            # New row objects with new usage: the CPU order moves, the cursor goes with its pod.
            keyed.clear()
            table.set_rows(pods(seed), in_name_order=True)
            assert table.cursor_key == chosen and table.kind.key(table.cursor_row) == chosen
            # Found by bisecting the name order: no index of every key was built.
            assert len(keyed) < 20
            place = table.cursor_index
        # The pod goes away: the cursor stays on the same line, on its neighbour.
        table.set_rows([r for r in pods(12) if PODS.key(r) != chosen], in_name_order=True)
        assert table.cursor_index == place and table.cursor_key != chosen
        assert table.cursor_key == table.kind.key(table.rows[place])
        # Sorted by a text column (node), the same holds.
        table.sort_by("node", False)
        chosen = table.cursor_key
        table.set_rows(pods(13), in_name_order=True)
        assert table.cursor_key == chosen and table.kind.key(table.cursor_row) == chosen


async def test_typing_in_the_filter_formats_each_row_once_and_new_rows_are_filtered_too():
    formatted = []
    app = OneTable(replace(PODS, filter_text=lambda row: formatted.append(row) or f"{row.namespace}/{row.name} {row.node}"))
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(RowTable)
        rows = pods(1)
        table.set_rows(rows, in_name_order=True)
        for typed in ("n", "ns", "ns-", "ns-3", "ns-3/pod-001", "ns-3"):
            table.set_filter(typed)
            expected = {PODS.key(r) for r in rows if typed in f"{r.namespace}/{r.name} {r.node}"}
            assert {PODS.key(r) for r in table.rows} == expected and expected
        assert len(formatted) == len(rows)  # once per row, not once per key typed
        # A refresh brings new rows: they are filtered by the same text.
        rows = pods(2, n=500)
        table.set_rows(rows, in_name_order=True)
        assert {PODS.key(r) for r in table.rows} == {PODS.key(r) for r in rows if r.namespace == "ns-3"}
        table.set_filter("")
        assert len(table.rows) == 500
        # (150,000 texts are kept only while a filter is on: the next filter formats them again)
        formatted.clear()
        table.set_filter("ns-4")
        assert len(formatted) == 500


async def test_a_filter_that_matches_nothing_says_so_not_that_there_are_no_rows():
    app = OneTable()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(pods(1), in_name_order=True)
        table.set_filter("no-such-pod")
        await pilot.pause()
        assert "No match for 'no-such-pod' among 400 rows. Esc clears the filter." in table.render_line(2).text
        table.set_rows([], in_name_order=True)
        assert table.render_line(2).text.strip() == table.empty_message


async def test_sorting_a_filtered_table_matches_sorting_the_filtered_rows():
    from reference.sorting import sort_rows

    rows = pods(3, n=300)
    rows = [r if i % 9 else PodRow(r.namespace, r.name, node=r.node) for i, r in enumerate(rows)]  # some unmeasured
    text = {PODS.key(r): f"{r.namespace}/{r.name} {r.node}" for r in rows}
    app = OneTable(replace(PODS, filter_text=lambda r: text[PODS.key(r)]))
    async with app.run_test(size=(160, 30)):
        table = app.query_one(RowTable)
        table.set_rows(rows, in_name_order=True)
        for typed in ("", "ns-2", "node-4", "pod-00", "nothing"):
            table.set_filter(typed)
            for column_id, descending in (("cpu", True), ("mem", False), ("node", False), ("name", True), ("cpu", False)):
                table.sort_by(column_id, descending)
                value = PODS.values[next(c for c in POD_COLUMNS if c.id == column_id).sort]
                kept = [r for r in rows if typed.lower() in text[PODS.key(r)].lower()]
                expected = sort_rows(kept, value, descending=descending, name=PODS.order)
                assert [PODS.key(r) for r in table.rows] == [PODS.key(r) for r in expected], (typed, column_id)


class Held(list):
    """A rows list that can be watched for being let go."""


async def test_a_hidden_table_lets_go_of_the_rows_it_showed_and_finds_its_pod_again_when_shown():
    import gc
    import weakref

    app = OneTable()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(RowTable)
        shown = Held(pods(1))
        table.set_rows(shown, in_name_order=True)
        table.set_filter("ns-3")
        await pilot.press("down", "down", "down")
        chosen = table.cursor_key
        table.display = False  # (the other view of the main screen is showing)
        for seed in range(2, 5):
            table.set_rows(Held(pods(seed)), in_name_order=True)
        assert table.pending
        gone = weakref.ref(shown)
        del shown
        gc.collect()
        assert gone() is None  # neither its order, its sort values nor its filter texts hold it
        table.display = True
        await pilot.pause()
        assert not table.pending
        assert table.cursor_key == chosen and table.kind.key(table.cursor_row) == chosen
        assert all(r.namespace == "ns-3" for r in table.rows)
        assert [r.usage.cpu_milli for r in table.rows] == sorted((r.usage.cpu_milli for r in table.rows), reverse=True)


async def test_a_line_is_drawn_again_when_its_history_changes_without_a_new_row():
    """A backfill changes a pod's history, not its row: its trend must still show it."""
    from ktopui.model import history_keys
    from ktopui.model.history import epoch

    app = OneTable()
    async with app.run_test(size=(220, 30)) as pilot:
        table = app.query_one(RowTable)
        rows = pods(1, n=20)
        table.set_rows(rows, in_name_order=True)
        table.sort_by("name", False)
        await pilot.pause()
        assert "cpu_hist" in table.visible_column_ids()
        first = table.rows[0]
        before = table.render_line(1).text
        assert not any(ch in before for ch in "▁▂▃▄▅▆▇█")
        table.history.ingest(history_keys.pod(first.namespace, first.name),
                             [epoch("2026-08-01T12:00:00Z") + 15 * i for i in range(4)], [1, 2, 3, 4], [1, 2, 3, 4])
        after = table.render_line(1).text
        assert table.cursor_row is first and sum(ch in "▁▂▃▄▅▆▇█" for ch in after) >= 4
        assert table.render_line(2).text == table.render_line(2).text  # (the other lines as they were)
