"""The real engines: started on loopback, filled with generated history, queried back exactly."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest
from helpers.engines import holding, started

from ktopui.sim.engines import EngineError

STEP = 15
HOURS = 3


def _history() -> dict[str, list[tuple[float, float]]]:
    """A counter and a gauge over a few recent hours, a sample every 15 s (recent: VictoriaMetrics
    keeps only what lies within its retention of now)."""
    start = (time.time() // 3600 - HOURS - 1) * 3600
    times = [start + i * STEP for i in range(HOURS * 3600 // STEP)]
    cpu, total = [], 0.0
    for i, t in enumerate(times):
        total += (i % 7) * 0.25 + 0.125   # exact in binary and in a dozen decimal digits
        cpu.append((t, total))
    memory = [(t, float(100_000_000 + (i * 4096) % 40_960_000)) for i, t in enumerate(times)]
    return {"cpu": cpu, "memory": memory}


def _openmetrics(series: dict[str, list[tuple[float, float]]]) -> str:
    labels = 'namespace="shop",pod="cart-0",container="app"'
    lines = ["# HELP demo_cpu_seconds CPU time.", "# TYPE demo_cpu_seconds counter"]
    lines += [f"demo_cpu_seconds_total{{{labels}}} {v} {t:.0f}" for t, v in series["cpu"]]
    lines += ["# HELP demo_memory_bytes Working set.", "# TYPE demo_memory_bytes gauge"]
    lines += [f"demo_memory_bytes{{{labels}}} {v:.0f} {t:.0f}" for t, v in series["memory"]]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def filled(request, tmp_path_factory):
    """(engine, generated series): Prometheus from promtool blocks, VictoriaMetrics by import."""
    series = _history()
    with holding(request.param, tmp_path_factory.mktemp(request.param), _openmetrics(series)) as engine:
        yield engine, series


def _query_range(url: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{query}", timeout=30) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.parametrize(("expr", "name"), [("demo_cpu_seconds_total", "cpu"), ("demo_memory_bytes", "memory")])
def test_generated_history_is_queryable_back_exactly(filled, expr, name):
    engine, series = filled
    expected = series[name]
    result = _query_range(engine.url, expr, expected[0][0], expected[-1][0], STEP)
    assert len(result) == 1
    assert result[0]["metric"] == {"__name__": expr, "namespace": "shop", "pod": "cart-0", "container": "app"}
    assert [(float(t), float(v)) for t, v in result[0]["values"]] == expected


def test_prometheus_takes_no_imports_over_http(tmp_path):
    with started("prometheus", tmp_path) as engine, pytest.raises(EngineError, match="blocks_from"):
        engine.import_openmetrics("# EOF\n")


def test_a_stopped_engine_has_ended_its_process(tmp_path):
    engine = started("victoriametrics", tmp_path)
    engine.stop()
    assert engine.process.poll() is not None


def test_promtool_refusing_the_file_says_why(tmp_path):
    bad = tmp_path / "bad.om"
    bad.write_text("demo 1 1700000000\n")   # no "# EOF"
    with pytest.raises(EngineError, match="promtool"):
        started("prometheus", tmp_path / "data", blocks_from=bad)


def test_each_engine_answers_prometheus_http_api_queries(engine):
    query = urllib.parse.urlencode({"query": "vector(1) + 1"})
    with urllib.request.urlopen(f"{engine.url}/api/v1/query?{query}", timeout=30) as response:
        body = json.load(response)
    assert body["status"] == "success"
    assert [float(r["value"][1]) for r in body["data"]["result"]] == [2.0]


def test_the_named_engine_fixtures_are_the_kinds_they_say(prometheus_engine, victoria_engine):
    assert (prometheus_engine.kind, victoria_engine.kind) == ("prometheus", "victoriametrics")
    prometheus_engine.flush()  # nothing to do for Prometheus: its head is queryable
    victoria_engine.flush()
