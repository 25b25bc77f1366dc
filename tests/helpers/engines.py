"""Real time-series engines for tests: one per test module, skipped with the reason when absent
(a plugin of tests/conftest.py: any test module may ask for these fixtures).

    prometheus_engine   a running Prometheus with no scrape jobs
    victoria_engine     a running VictoriaMetrics single with no scrape jobs
    engine              each of the two in turn (parametrised)

Modules that need generated history in an engine start their own with `holding(kind, data_dir,
text)` (OpenMetrics text: Prometheus reads it as promtool's blocks, VictoriaMetrics imports it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ktopui.sim.engines import (
    have_prometheus,
    have_victoria_metrics,
    start_prometheus,
    start_victoria_metrics,
)

ENGINES = {
    "prometheus": (have_prometheus, start_prometheus),
    "victoriametrics": (have_victoria_metrics, start_victoria_metrics),
}


def started(kind: str, data_dir, **options):
    """A started engine of `kind`, or the test skipped with why it cannot run here."""
    have, start = ENGINES[kind]
    why = have()
    if why:
        pytest.skip(why)
    return start(data_dir, **options)


def holding(kind: str, data_dir: Path, openmetrics: str):
    """A started engine of `kind` holding the samples of `openmetrics` (timestamps in seconds, a
    `# EOF` line; recent enough for VictoriaMetrics's retention), or the test skipped."""
    if kind == "prometheus":
        data_dir.mkdir(parents=True, exist_ok=True)
        source = data_dir / "history.om"
        source.write_text(openmetrics)
        return started(kind, data_dir / "engine", blocks_from=source)
    engine = started(kind, data_dir)
    try:
        engine.import_openmetrics(openmetrics)
    except BaseException:
        engine.stop()
        raise
    return engine


@pytest.fixture(scope="module")
def prometheus_engine(tmp_path_factory):
    with started("prometheus", tmp_path_factory.mktemp("prometheus")) as engine:
        yield engine


@pytest.fixture(scope="module")
def victoria_engine(tmp_path_factory):
    with started("victoriametrics", tmp_path_factory.mktemp("victoriametrics")) as engine:
        yield engine


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request, tmp_path_factory):
    with started(request.param, tmp_path_factory.mktemp(request.param)) as engine:
        yield engine
