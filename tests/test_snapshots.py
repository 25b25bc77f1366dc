"""Each screen pinned as a snapshot (pytest-textual-snapshot), from the same scenes as screenshots/.

Update after an intended UI change with `pytest tests/test_snapshots.py --snapshot-update`,
then look at the images and regenerate screenshots/ (`python screenshots/generate.py`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.scenes import SCENES, scene_app, show, start_cluster


@pytest.fixture
def scene(tmp_path):
    server = start_cluster()
    yield server, scene_app(server, tmp_path)
    server.stop()


# The doctor scene names a temporary kubeconfig and the real port: not pinnable.
@pytest.mark.parametrize("name", sorted(set(SCENES) - {"doctor", "failing"}))
def test_screen_snapshot(snap_compare, scene, name):
    server, app = scene

    async def run_before(pilot):
        await show(app, pilot, server, name)

    assert snap_compare(app, terminal_size=(160, 36), run_before=run_before)


# Everyday sizes, with more rows than fit: the last column whole beside the
# scrollbar, names shortened in the middle, the sorted column marked, the
# header keeping the metrics age.
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["nodes", "pods"])
def test_everyday_size_snapshot(snap_compare, scene, name, size):
    server, app = scene

    async def run_before(pilot):
        await show(app, pilot, server, name)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_failed_refresh_at_80_columns_snapshot(snap_compare, scene):
    """The header keeps the error, the data's age and the retry at 80 columns."""
    server, app = scene

    async def run_before(pilot):
        await show(app, pilot, server, "failing")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_screenshot_script_finds_the_scenes_from_the_checkout(tmp_path):
    """`python screenshots/generate.py` loads the same scenes, from any working directory."""
    script = Path(__file__).resolve().parent.parent / "screenshots" / "generate.py"
    code = f"import runpy; shots = runpy.run_path({str(script)!r}); print(shots['show'].__module__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "helpers.scenes"
