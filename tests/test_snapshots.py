"""Each screen pinned as a snapshot (pytest-textual-snapshot), from the same scenes as screenshots/.

Update after an intended UI change with `pytest tests/test_snapshots.py --snapshot-update`,
then look at the images and regenerate screenshots/ (`python screenshots/generate.py`).
"""

from __future__ import annotations

import pytest

from ktopui.ui.scenes import SCENES, scene_app, show, start_cluster


@pytest.fixture
def scene(tmp_path):
    server = start_cluster()
    yield server, scene_app(server, tmp_path)
    server.stop()


# The doctor scene names a temporary kubeconfig and the real port: not pinnable.
@pytest.mark.parametrize("name", sorted(set(SCENES) - {"doctor"}))
def test_screen_snapshot(snap_compare, scene, name):
    server, app = scene

    async def run_before(pilot):
        await show(app, pilot, server, name)

    assert snap_compare(app, terminal_size=(150, 36), run_before=run_before)


def test_narrow_terminal_snapshot(snap_compare, scene):
    server, app = scene

    async def run_before(pilot):
        await show(app, pilot, server, "nodes")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
