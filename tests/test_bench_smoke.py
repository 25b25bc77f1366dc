"""The benchmark scripts still run (tiny sizes, one run); their numbers are not checked here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.kubectl import KUBECTL

from ktopui.sim.engines import have_prometheus

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = pytest.mark.bench  # minutes in all: `python -m pytest -m bench`


def run_bench(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl.1.33 is not installed beside the kubectl dispatcher")
def test_top_vs_kubectl_runs_and_prints_ratios():
    out = run_bench("top_vs_kubectl.py", "--nodes", "3", "--pods-per-node", "3", "--runs", "1", "--kubectl", KUBECTL)
    assert "top pods -A: time ratio ktopui/kubectl" in out
    assert "top nodes: time ratio ktopui/kubectl" in out
    assert "top pods -A: memory ratio ktopui/kubectl" in out
    assert "output identical" in out and "DIFFERENT" not in out


def test_quantity_throughput_runs_and_prints_speed_ups():
    out = run_bench("quantity_throughput.py", "--count", "2000", "--runs", "1")
    assert "kubernetes.utils.parse_quantity" in out
    assert "ktopui simple_nanos (+exact)" in out
    assert out.count("x\n") >= 3  # one speed-up per contender


def test_dashboard_runs_tiny_and_prints_every_phase():
    out = run_bench("dashboard.py", "--nodes", "3", "--pods-per-node", "3", "--ticks", "3", "--presses", "2",
                    "--history-ticks", "3")
    for line in ("a. first usable screen after the lists arrive", "b. CPU per refresh tick, mean over the window",
                 "c. key to screen, p95 of all presses", "d. resident memory (VmRSS) after history",
                 "dashboard: finished"):
        assert line in out
    assert "partial" not in out and "n/a" not in out  # every phase measured all it was asked to


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl.1.33 is not installed beside the kubectl dispatcher")
def test_api_load_runs_tiny_and_prints_ratios():
    out = run_bench("api_load.py", "--nodes", "3", "--pods-per-node", "3", "--minutes", "0.2", "--kubectl", KUBECTL)
    assert '"failed": 0' in out  # every kubectl top pods -A run succeeded
    assert "requests per minute ratio ktopui/kubectl: " in out
    assert "bytes per minute ratio ktopui/kubectl: " in out
    for kind in ("pod list", "pod watch", "node list/watch", "node metrics", "pod metrics", "discovery/other"):
        assert kind in out


def test_join_stages_runs_tiny_and_prints_both_kinds_of_tick():
    out = run_bench("join_stages.py", "--nodes", "3", "--pods-per-node", "3", "--ticks", "2")
    assert "steady ticks:" in out and "pod metrics ticks:" in out and "CPU (process)" in out


def test_metrics_tick_runs_tiny_and_prints_every_stage():
    out = run_bench("metrics_tick.py", "--nodes", "3", "--pods-per-node", "3", "--reps", "1")
    for stage in ("summing pod metrics", "pod rows", "history", "all three"):
        assert stage in out


def test_ui_thread_runs_tiny_and_prints_both_measures():
    out = run_bench("ui_thread.py", "--nodes", "3", "--pods-per-node", "3", "--refreshes", "3", "--reps", "1")
    assert "1. showing each refresh's snapshot" in out
    assert "sort: c" in out and "drill into a pod and back: enter" in out and "filter: clear: escape" in out


def test_refresh_cpu_runs_tiny_pairs_against_a_baseline_and_prints_both(monkeypatch):
    monkeypatch.setenv("BASELINE_PYTHONPATH", str(BENCH.parent))  # (this code against itself)
    out = run_bench("refresh_cpu.py", "--nodes", "3", "--pods-per-node", "3", "--seconds", "3", "--pairs", "1")
    assert "pair 1 this" in out and "pair 1 baseline" in out
    assert "this     process CPU per refresh (ms):" in out and "baseline process CPU per refresh (ms):" in out


def test_hostile_runs_tiny_and_prints_every_scenario_next_to_the_polite_one():
    out = run_bench("hostile.py", "--nodes", "3", "--pods-per-node", "3", "--seconds", "3", "--runs", "1")
    assert "LIST nodes" in out and "LIST pods" in out and "WATCH" in out and "peak RSS" in out
    for scenario in ("polite (no faults)", "watch forbidden", "410 on every watch", "a list answered to a watch",
                     "silent watch", "endless watch line"):
        assert f"\n{scenario} " in out


@pytest.mark.skipif(have_prometheus() is not None, reason=str(have_prometheus()))
def test_prometheus_load_runs_tiny_and_prints_every_measure():
    out = run_bench("prometheus_load.py", "--nodes", "3", "--pods-per-node", "3", "--ticks", "3", "--minute", "6")
    for line in ("a. visible nodes' sparklines filled after the LIST", "a. pods view: visible pods filled after their rows",
                 "b. ratio with / without", "c. queries per minute of use", "c. samples returned per minute",
                 "c. bytes read per minute", "prometheus_load: finished", "source monitoring/prometheus-k8s"):
        assert line in out
    assert "n/a" not in out and "3 and 3 ticks of 3" in out  # every phase measured all it was asked to
    assert "most queries in flight at once" in out and "MISSED" not in out  # (at most 4: the client's limit)
    assert "range pods" in out and "range workloads" in out  # the queries, by kind (a drill-down each)
