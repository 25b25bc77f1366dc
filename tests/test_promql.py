"""The PromQL text ktopui builds: escaping, steps, windows, batches, the expressions' shape."""

from __future__ import annotations

import re

import pytest

from ktopui.model import promql


def test_a_string_literal_escapes_quotes_backslashes_newlines_and_controls():
    assert promql.quote('a"b\\c\nd\re\tf\x1bg\u202eh') == '"a\\"b\\\\c\\nd\\re\\tf\\u001bg\\u202eh"'


def test_regex_alternation_escapes_every_regex_metacharacter():
    names = ["api.v2-0", "a+b", "x|y", "(z)", "[q]", "{1}", "^s$", "a*?", "back\\slash"]
    alternation = promql.regex_alternation(names)
    # RE2 reads these escapes as Python does: each name matches itself and nothing else.
    pattern = re.compile(f"(?:{alternation})")
    for name in names:
        assert pattern.fullmatch(name)
    assert not pattern.fullmatch("apixv2-0") and not pattern.fullmatch("x") and not pattern.fullmatch("aab")
    assert promql.quote(promql.regex_alternation(["a.b"])) == '"a\\\\.b"'


@pytest.mark.parametrize(("range_seconds", "step"), [
    (15 * 60, 15), (3600, 15), (6 * 3600, 120), (24 * 3600, 600), (7 * 86400, 3600), (30 * 86400, 10800),
    (400 * 86400, 172800),
])
def test_step_for_gives_a_nice_step_and_at_most_250_points(range_seconds, step):
    assert promql.step_for(range_seconds) == step
    assert range_seconds / step <= promql.MAX_POINTS


@pytest.mark.parametrize(("step", "window"), [(15, "1m"), (30, "1m"), (60, "75s"), (300, "315s"), (3600, "3615s")])
def test_the_rate_window_covers_the_step_and_four_scrapes(step, window):
    assert promql.rate_window(step) == window


def test_the_cpu_rule_is_used_only_where_its_5m_windows_tile_the_range():
    rules = promql.RecordingRules(cpu_rate5m=True, memory=False)
    assert promql.cpu_window(300, rules) == "5m"
    assert promql.cpu_window(60, rules) == "75s"
    assert promql.cpu_window(300) == "315s"
    assert promql.CPU_RULE in promql.pod_cpu("ns", None, "5m", rules)
    assert promql.CPU_RULE not in promql.pod_cpu("ns", None, "75s", rules)
    assert promql.CPU_RULE not in promql.pod_cpu("ns", None, "5m")


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h30m", 5400), ("7d", 604800),
                                               ("2w", 1209600), ("500ms", 0.5), ("300", 300)])
def test_durations_parse_as_prometheus_writes_them(text, seconds):
    assert promql.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7 days", "1h-5m", "0s", "-5m", "nan", "inf", "5x", "m"])
def test_a_bad_duration_is_refused_with_an_example(text):
    with pytest.raises(ValueError, match="is not a duration"):
        promql.parse_duration(text)


def test_batches_keep_each_alternation_under_the_limit_and_lose_no_name():
    names = [f"pod-{i:05d}" for i in range(5000)]
    runs = list(promql.batches(names, max_chars=2000))
    assert [n for run in runs for n in run] == names
    assert all(len(promql.quote(promql.regex_alternation(run))) <= 2000 for run in runs)
    assert list(promql.batches([])) == []


def test_containers_exclude_the_pod_cgroup_and_the_pause_sandbox():
    text = promql.pod_cpu("shop", ["web-1"], "1m")
    assert text == ('sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", '
                    'container!="POD", image!="", namespace="shop", pod=~"web-1"}[1m])) * 1000')
    assert promql.pod_memory(None, None) == ('max by (namespace, pod, container) (container_memory_working_set_bytes'
                                             '{container!="", container!="POD", image!=""})')


def test_nodes_are_read_from_the_root_cgroup():
    assert promql.node_memory(["n.1"]) == 'sum by (node) (container_memory_working_set_bytes{id="/", node=~"n\\\\.1"})'
    assert 'id="/"' in promql.node_cpu(None, "1m")


def test_a_hostile_namespace_cannot_change_the_query():
    text = promql.pod_memory('x"} or vector(1) #', None)
    assert 'namespace="x\\"} or vector(1) #"' in text
