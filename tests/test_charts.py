"""The pod detail charts: CPU and memory history of a pod and its containers."""

import math

import pytest

from ktopui.model.history_keys import container as container_key
from ktopui.model.history_keys import pod as pod_key
from ktopui.model.history import History
from ktopui.ui.charts import COLLECTING_MESSAGE, usage_charts

MIB = 1024 * 1024
CONTAINERS = ["app", "sidecar"]


def ts(second):
    return f"2026-08-01T12:{second // 60:02d}:{second % 60:02d}Z"


def make_history(samples=13, step=60, gap=()):
    """A pod with two containers, one sample every `step` seconds; `gap` indexes have no app CPU."""
    h = History()
    for i in range(samples):
        app_cpu = 200 + 100 * math.sin(i / 3)
        side_cpu = 40 + 5 * i
        h.record(container_key("shop", "web-1", "app"), ts(i * step), None if i in gap else app_cpu, (300 + 4 * i) * MIB)
        h.record(container_key("shop", "web-1", "sidecar"), ts(i * step), side_cpu, 64 * MIB)
        h.record(pod_key("shop", "web-1"), ts(i * step), app_cpu + side_cpu, (364 + 4 * i) * MIB)
    return h


def charts(h, width, height, containers=CONTAINERS):
    return usage_charts(h, "shop", "web-1", containers, width=width, height=height)


def lines_of(text):
    return text.plain.splitlines()


def line_with(lines, needle):
    return next(i for i, line in enumerate(lines) if needle in line)


@pytest.mark.parametrize("width,height", [(120, 20), (60, 24)])
def test_titles_state_units_and_window(width, height):
    plain = charts(make_history(), width, height).plain
    assert "CPU (millicores), last 12m, 13 samples" in plain
    assert "Memory (MiB), last 12m, 13 samples" in plain


@pytest.mark.parametrize("width,height", [(120, 20), (60, 24)])
def test_pod_and_every_container_are_labelled(width, height):
    lines = lines_of(charts(make_history(), width, height))
    legend = lines[0]
    for label in ["pod", *CONTAINERS]:
        assert label in legend


@pytest.mark.parametrize("width,height", [(120, 20), (60, 24)])
def test_axes_are_labelled(width, height):
    lines = lines_of(charts(make_history(), width, height))
    plain = "\n".join(lines)
    assert plain.count("minutes ago") == 2
    assert "millicores" in plain
    assert "MiB" in plain
    # Time runs from the past (negative minutes) up to the newest sample at 0.
    ticks = lines[line_with(lines, "minutes ago") - 1].split()
    assert "0" in ticks and "-10" in ticks


@pytest.mark.parametrize("width,height", [(120, 20), (60, 24), (100, 16), (99, 30), (40, 20)])
def test_output_fits_the_given_size(width, height):
    lines = lines_of(charts(make_history(), width, height))
    assert max(len(line) for line in lines) <= width
    assert len(lines) <= height


def test_side_by_side_when_wide():
    lines = lines_of(charts(make_history(), 120, 20))
    cpu, memory = line_with(lines, "CPU (millicores)"), line_with(lines, "Memory (MiB)")
    assert cpu == memory
    assert lines[cpu].index("CPU") < lines[cpu].index("Memory")


def test_stacked_when_narrow():
    lines = lines_of(charts(make_history(), 60, 24))
    assert line_with(lines, "CPU (millicores)") < line_with(lines, "Memory (MiB)")


def test_short_windows_count_seconds():
    plain = charts(make_history(samples=4, step=15), 120, 20).plain
    assert "CPU (millicores), last 45s, 4 samples" in plain
    assert "seconds ago" in plain


def test_lines_take_the_legend_colours():
    text = charts(make_history(), 120, 20)
    legend_end = len(lines_of(text)[0])
    legend = {str(span.style) for span in text.spans if span.end <= legend_end}
    drawn = {str(span.style) for span in text.spans if span.start > legend_end}
    assert len(legend) == 3  # pod and both containers have their own colour
    assert legend <= drawn


def test_gaps_and_missing_containers_are_drawn_without_fuss():
    h = make_history(gap={4, 5, 6})
    plain = charts(h, 120, 20, containers=[*CONTAINERS, "init-gone"]).plain
    assert "init-gone (no data)" in plain
    assert "CPU (millicores), last 12m, 13 samples" in plain


@pytest.mark.parametrize("samples", [0, 1])
def test_fewer_than_two_samples_explain_the_wait(samples):
    text = charts(make_history(samples=samples), 120, 20)
    assert text.plain == COLLECTING_MESSAGE
    assert "Collecting history" in text.plain and "second metrics sample" in text.plain


def test_nothing_is_written_to_the_terminal(capfd):
    charts(make_history(), 120, 20)
    charts(make_history(samples=1), 60, 24)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_repeated_calls_do_not_leak_state():
    first = charts(make_history(), 120, 20)
    charts(make_history(samples=3, step=15), 60, 24, containers=["other"])  # a different chart in between
    again = charts(make_history(), 120, 20)
    assert again.plain == first.plain
    assert again.spans == first.spans


@pytest.mark.parametrize("width,height", [(20, 6), (24, 8), (200, 60), (100, 8)])
def test_extreme_sizes_still_render(width, height):
    plain = charts(make_history(), width, height).plain
    assert "minutes ago" in plain and "pod" in plain
