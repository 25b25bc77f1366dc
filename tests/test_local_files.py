"""Local files ktopui reads and writes: a hostile kubeconfig costs no time and no CPU,
the log is the user's alone, and the demo leaves no key or token behind."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from helpers.app import make_app, refreshed
from helpers.kubeconfigs import simple, write

from ktopui.kube import kubeconfig as kc
from ktopui.kube.connection import load_connection
from ktopui.kube.errors import ConfigError
from ktopui.logs import kubeconfig_secrets, start_log


def alias_bomb(server: str = "https://127.0.0.1:6443") -> str:
    """A "billion laughs" kubeconfig: under 700 bytes, nine levels of nine aliases each."""
    levels = "abcdefghi"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]" for prev, cur in zip(levels, levels[1:])]
    return ("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n"
            f"    server: {server}\n    extensions:\n    - name: lol\n      extension:\n"
            + "".join(f"        {line}\n" for line in lines)
            + "users:\n- name: c\n  user:\n    token: s3cr3t-token\n"
            "contexts:\n- name: c\n  context:\n    cluster: c\n    user: c\n")


# --log adds file handlers to process-wide loggers: taken off after each test.
pytestmark = pytest.mark.usefixtures("close_logs")


def test_an_alias_bomb_is_refused_like_kubectl_refuses_it(tmp_path):
    path = tmp_path / "config"
    path.write_text(alias_bomb())
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_connection(kubeconfig=str(path))
    assert str(caught.value) == f'error loading config file "{path}": yaml: document contains excessive aliasing'
    assert kubeconfig_secrets([str(path)]) == set()
    assert time.monotonic() - started < 1


def test_doctor_and_log_finish_at_once_on_an_alias_bomb(tmp_path):
    path = tmp_path / "config"
    path.write_text(alias_bomb())
    log = tmp_path / "ktopui.log"
    done = subprocess.run([sys.executable, "-m", "ktopui", "doctor", "--kubeconfig", str(path), "--log", str(log)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "✘ FAIL  kubeconfig: error loading config file" in done.stdout
    assert "excessive aliasing" in done.stdout and "s3cr3t" not in done.stdout


def test_an_anchor_that_contains_itself_is_refused(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\npreferences: &p {again: *p}\n")
    with pytest.raises(ConfigError, match="yaml: anchor value contains itself"):
        load_connection(kubeconfig=str(path))
    assert kubeconfig_secrets([str(path)]) == set()


def test_ordinary_aliases_still_load(home):
    doc = yaml.safe_dump(simple(user={"token": "t0ken-123"}), sort_keys=False)
    doc += "extensions:\n- name: shared\n  extension: &shared {team: web, tier: [a, b]}\n"
    doc += "- name: again\n  extension: *shared\n"
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(doc)
    conn = load_connection(environ={"HOME": str(home)})
    assert conn.server == "https://k8s.example:6443"
    assert kubeconfig_secrets(conn.config_files) == {"t0ken-123"}


def test_many_aliases_of_a_large_document_are_allowed_within_go_yamls_ratio():
    # 2,000 real nodes and 1,000 nodes reached through aliases: a third, well under 99 %.
    doc = "items: [" + ", ".join(f"v{i}" for i in range(2000)) + "]\nbase: &b [x, y, z, w]\n"
    doc += "copies: [" + ", ".join(["*b"] * 200) + "]\n"
    assert len(kc.parse(doc.encode())["copies"]) == 200


def test_the_log_file_is_readable_by_its_owner_only(tmp_path):
    fresh, existing = tmp_path / "new.log", tmp_path / "old.log"
    existing.write_text("earlier run\n")
    existing.chmod(0o644)
    for path in (fresh, existing):
        start_log(str(path)).info("started")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert existing.read_text().startswith("earlier run\n")  # appended to, not replaced


async def test_the_doctor_screen_never_stalls_the_dashboard(make_sim_server, tmp_path):
    server = make_sim_server(nodes=2, pods_per_node=2)
    path = server.write_kubeconfig(tmp_path / "config")
    # A kubeconfig that takes a while to read: the doctor reads it again, twice.
    doc = yaml.safe_load(path.read_text())
    doc["users"] += [{"name": f"other-{i}", "user": {"token": f"t-{i}", "as-groups": ["a", "b", "c"]}}
                     for i in range(12000)]
    write(path, doc)
    app = make_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await refreshed(app, pilot)
        gaps, last = [], time.monotonic()

        def tick() -> None:
            nonlocal last
            now = time.monotonic()
            gaps.append(now - last)
            last = now

        ticker = app.set_interval(0.02, tick)
        await pilot.press("d")
        for _ in range(600):
            if app.screen.findings is not None:
                break
            await pilot.pause(0.05)
        ticker.stop()
        assert app.screen.findings is not None
        assert [f.check for f in app.screen.findings if f.status == "fail"] == []
        assert max(gaps) < 1.0, max(gaps)


def _demo_files(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_the_demo_cleans_up_its_token_and_keys_when_its_terminal_goes_away(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # `ktopui --demo top` would finish by itself: the dashboard runs until the signal, in a pty.
    main, child = os.openpty()
    env = {**os.environ, "TMPDIR": str(tmp), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "ktopui", "--demo"], stdin=child, stdout=child, stderr=child,
                            env=env, start_new_session=True)
    os.close(child)
    screen = bytearray()

    def drain() -> None:  # a terminal reads what the app writes
        with contextlib.suppress(OSError):
            while chunk := os.read(main, 65536):
                screen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        for _ in range(600):
            if any(p.name == "kubeconfig" for p in tmp.rglob("kubeconfig")) and any(tmp.rglob("server.key")):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the demo did not start: {_demo_files(tmp)} {bytes(screen[-2000:])!r}")
        time.sleep(1.0)  # the dashboard is up and polling
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert _demo_files(tmp) == []
