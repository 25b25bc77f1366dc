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


# What `ktopui top` must never load: the dashboard's toolkit and the sampled
# pods' machinery cost it startup time (numpy alone about 60 ms) and it uses
# neither; httpx's command-line client (rich, click) is stubbed out. Of the live
# layer it takes only the process's memory policy, which every join goes through.
TOP_NEVER_LOADS = ("textual", "rich", "click", "kubernetes", "ktopui.sim", "ktopui.ui", "ktopui.live")
TOP_MAY_LOAD = {"ktopui.live", "ktopui.live.memory"}


def modules_loaded_by(argv: list[str]) -> set[str]:
    """Every module a `ktopui ...` run imports (it must succeed), listed as it exits."""
    code = (
        "import sys\n"
        "from ktopui.cli import main\n"
        f"status = main({argv!r})\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "raise SystemExit(status)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stderr.split())


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of `packages` or inside one."""
    return sorted(m for m in modules - TOP_MAY_LOAD if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_top_nodes_imports_neither_numpy_nor_the_pods_machinery(sim_server, tmp_path):
    kubeconfig = str(sim_server.write_kubeconfig(tmp_path / "kubeconfig"))
    modules = modules_loaded_by(["top", "--kubeconfig", kubeconfig, "nodes"])
    assert "ktopui.batch.nodes" in modules  # (the command did run)
    assert loaded(modules, TOP_NEVER_LOADS + ("numpy", "ktopui.model.pods", "ktopui.model.containers", "ktopui.model.samples",
                                               "ktopui.batch.pods", "ktopui.doctor.checks")) == []


def test_top_pods_imports_nothing_of_the_dashboard(sim_server, tmp_path):
    kubeconfig = str(sim_server.write_kubeconfig(tmp_path / "kubeconfig"))
    modules = modules_loaded_by(["top", "--kubeconfig", kubeconfig, "pods", "-A"])
    assert "ktopui.batch.pods" in modules
    assert loaded(modules, TOP_NEVER_LOADS + ("ktopui.batch.nodes", "ktopui.doctor.checks")) == []
