"""The layering contracts in pyproject.toml (import-linter) hold."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_model_and_batch_layers_keep_their_imports():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extras"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_batch_top_does_not_import_textual_or_the_kubernetes_client():
    code = (
        "import sys, ktopui.cli, ktopui.batch.top, ktopui.kube.connection;"
        "bad = [m for m in ('textual', 'kubernetes.client') if m in sys.modules];"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
