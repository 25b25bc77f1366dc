"""What users install: the built wheel, in a fresh venv outside the checkout, started.

An editable install reads files straight from the checkout and hides
packaging bugs (a stylesheet left out of the wheel stopped every pip-installed
dashboard at start). Here the wheel is built from the files git tracks, in a
copy of them, installed into a new venv in a temporary directory, and every
entry point is run from there with the checkout out of sight.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from ktopui import __version__

ROOT = Path(__file__).resolve().parents[1]
TMUX = shutil.which("tmux")


def _tracked_files() -> list[str]:
    """The files a clean clone has (git's list; the tree minus build output without git)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        found = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        return [name for name in found.stdout.decode().split("\0") if name and (ROOT / name).exists()]
    skip = {".venv", "build", "dist", ".git", "__pycache__", ".pytest_cache", ".hypothesis"}
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in _tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
                    str(source)], check=True, cwd=out)
    (built,) = out.glob("ktopui-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel (and its dependencies) installed; returns its bin directory."""
    where = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   cwd=where.parent)
    return where / "bin"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working directory away from the checkout, so nothing is imported from it."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    return work


def clean_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), TERM=env.get("TERM", "xterm-256color"))
    return env


def run(venv: Path, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / args[0]), *args[1:]], cwd=cwd, env=clean_env(cwd), capture_output=True,
                          text=True, timeout=timeout)


def test_the_wheel_holds_every_file_of_the_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = [name for name in _tracked_files() if name.startswith("ktopui/")]
    data = [name for name in package if not name.endswith(".py")]
    assert "ktopui/ui/ktopui.tcss" in data  # the file that was missing
    assert sorted(set(package) - names) == []


def test_the_installed_package_is_the_one_imported(venv, outside):
    found = run(venv, "python", "-c", "import ktopui; print(ktopui.__file__)", cwd=outside)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().startswith(str(venv.parent)), found.stdout


def test_version_and_help_of_every_entry_point(venv, outside):
    version = run(venv, "ktopui", "--version", cwd=outside)
    assert (version.returncode, version.stdout.strip()) == (0, f"ktopui {__version__}")
    for args in (("ktopui", "--help"), ("ktopui", "sim", "--help"), ("kubectl-ktopui", "--help"),
                 ("ktopui", "top", "--help"), ("ktopui", "doctor", "--help")):
        done = run(venv, *args, cwd=outside)
        assert done.returncode == 0, (args, done.stderr)
        assert "usage:" in done.stdout


@pytest.fixture
def installed_sim(venv, outside):
    """`ktopui sim` from the installed package, in the background; yields its kubeconfig."""
    kubeconfig = outside / "sim.kubeconfig"
    proc = subprocess.Popen([str(venv / "ktopui"), "sim", "--nodes", "3", "--pods-per-node", "2", "--frozen",
                             "--kubeconfig", str(kubeconfig)], cwd=outside, env=clean_env(outside),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("Ctrl-C to stop."):
                break
        else:
            pytest.fail(f"ktopui sim did not start (exit {proc.wait()})")
        yield kubeconfig
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_top_and_doctor_run_against_the_simulated_cluster(venv, outside, installed_sim):
    top = run(venv, "ktopui", "top", "nodes", "--kubeconfig", str(installed_sim), cwd=outside)
    assert top.returncode == 0, top.stderr
    lines = top.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"] and len(lines) == 4
    doctor = run(venv, "ktopui", "doctor", "--kubeconfig", str(installed_sim), cwd=outside)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "metrics API" in doctor.stdout


def test_the_dashboard_starts_headless_and_shows_the_nodes_table(venv, outside, installed_sim):
    script = textwrap.dedent(f"""
        import asyncio
        from ktopui.live.session import ClusterSession
        from ktopui.ui.app import KtopApp

        async def main():
            app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig={str(installed_sim)!r}))
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(200):
                    await pilot.pause(0.05)
                    if app.refresh_count and app.session.snapshot and app.session.snapshot.nodes:
                        break
                table = app.screen.query_one("#nodes")
                print("ROWS", len(table.rows))
                print(app.export_screenshot())

        asyncio.run(main())
    """)
    done = run(venv, "python", "-c", script, cwd=outside)
    assert done.returncode == 0, done.stderr
    assert "ROWS 3" in done.stdout
    assert "NAME" in done.stdout and "Traceback" not in done.stderr


def tmux_screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")
@pytest.mark.parametrize("args", [("--demo",), ("--kubeconfig", "SIM")], ids=["demo", "sim"])
def test_the_dashboard_starts_in_a_real_terminal_and_quits(venv, outside, installed_sim, args):
    session = f"ktopui-wheel-{os.getpid()}-{args[0].strip('-')}"
    args = tuple(str(installed_sim) if a == "SIM" else a for a in args)
    status = outside / "exit-status"
    # (Textual draws on stderr: it is left to the terminal, and read back from the screen after quitting.)
    command = f"{venv / 'ktopui'} {' '.join(args)}; echo $? > {status}.new; mv {status}.new {status}; sleep 30"
    env = clean_env(outside)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True,
                   env=env, cwd=outside)
    try:
        deadline, screen = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            screen = tmux_screen(session)
            if "NAME" in screen and "Ready" in screen:
                break
            time.sleep(0.25)
        assert "NAME" in screen and "Ready" in screen, screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 30
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        after = tmux_screen(session)
        assert status.read_text().strip() == "0", after
        assert "Traceback" not in after and "Error" not in after, after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
