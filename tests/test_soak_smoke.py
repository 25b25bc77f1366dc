"""The soak benchmark runs end to end (briefly): the dashboard survives random faults and churn."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.bench  # run with `python -m pytest -m bench`


def test_soak_survives_random_faults_briefly():
    result = subprocess.run(
        [sys.executable, "bench/soak.py", "--ticks", "150", "--nodes", "6", "--pods-per-node", "6"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "still running: True" in result.stdout
    assert result.stderr == ""  # nothing leaks onto the terminal
