"""The series writers (batch/series_csv.py): the columns, the order, the rounding, missing values."""

from __future__ import annotations

import json
import math

from ktopui.batch.series_csv import (
    NODE_COLUMNS,
    POD_COLUMNS,
    WORKLOAD_COLUMNS,
    csv_text,
    json_text,
    time_text,
)

T0 = 1796605200.0  # 2026-12-07T01:00:00Z


def test_times_are_rfc3339_utc_with_milliseconds_only_when_there_is_a_fraction():
    assert time_text(T0) == "2026-12-07T01:00:00Z"
    assert time_text(T0 + 15.25) == "2026-12-07T01:00:15.250Z"
    assert time_text(T0 + 59.9996) == "2026-12-07T01:01:00Z"


def test_csv_rounds_cpu_to_3_decimals_and_memory_to_whole_bytes_without_trailing_zeros():
    rows = [(T0, "node-a", 250.0, 1048576.0), (T0 + 60, "node-a", 12.34567, 1023.5),
            (T0 + 120, "node-a", 0.0004, 0.4), (T0 + 180, "node-a", 1e-9 * -1, 7e9)]
    assert csv_text(NODE_COLUMNS, rows) == (
        "time,node,cpu_millicores,memory_bytes\n"
        "2026-12-07T01:00:00Z,node-a,250,1048576\n"
        "2026-12-07T01:01:00Z,node-a,12.346,1024\n"
        "2026-12-07T01:02:00Z,node-a,0,0\n"
        "2026-12-07T01:03:00Z,node-a,0,7000000000\n")


def test_csv_rows_are_sorted_by_time_then_names_and_a_missing_value_is_an_empty_field():
    rows = [(T0 + 60, "b", "web-1", "app", 1.0, None), (T0, "b", "web-1", "app", math.nan, 5.0),
            (T0, "a", "web-2", "sidecar", math.inf, 6.0), (T0, "a", "web-2", "app", 3.0, 7.0)]
    assert csv_text(POD_COLUMNS, rows).splitlines() == [
        "time,namespace,pod,container,cpu_millicores,memory_bytes",
        "2026-12-07T01:00:00Z,a,web-2,app,3,7",
        "2026-12-07T01:00:00Z,a,web-2,sidecar,,6",
        "2026-12-07T01:00:00Z,b,web-1,app,,5",
        "2026-12-07T01:01:00Z,b,web-1,app,1,",
    ]


def test_csv_escapes_control_characters_in_names_and_quotes_commas():
    text = csv_text(WORKLOAD_COLUMNS, [(T0, "ns", "Deployment", "evil\x1b[2J,name", 1.0, 2.0)])
    assert text.splitlines()[1] == '2026-12-07T01:00:00Z,ns,Deployment,"evil\\x1b[2J,name",1,2'


def test_json_groups_series_by_key_with_the_csv_numbers_and_null_for_missing():
    rows = [(T0 + 60, "a", "p", "c", 12.34567, None), (T0, "a", "p", "c", 250.0, 1023.5),
            (T0, "a", "p", "d", None, 3.0)]
    doc = json.loads(json_text("PodHistory", POD_COLUMNS, rows, since="1h", step=60.0))
    assert doc["kind"] == "PodHistory" and doc["since"] == "1h" and doc["step"] == 60.0
    assert doc["series"] == [
        {"namespace": "a", "pod": "p", "container": "c", "points": [
            {"time": "2026-12-07T01:00:00Z", "cpu_millicores": 250, "memory_bytes": 1024},
            {"time": "2026-12-07T01:01:00Z", "cpu_millicores": 12.346, "memory_bytes": None}]},
        {"namespace": "a", "pod": "p", "container": "d", "points": [
            {"time": "2026-12-07T01:00:00Z", "cpu_millicores": None, "memory_bytes": 3}]},
    ]


def test_json_keeps_names_exact_but_writes_control_characters_as_escapes():
    text = json_text("NodeHistory", NODE_COLUMNS, [(T0, "n\x1b]0;x\x07", 1.0, 1.0)])
    assert "\x1b" not in text and json.loads(text)["series"][0]["node"] == "n\x1b]0;x\x07"
