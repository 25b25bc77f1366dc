"""`ktopui doctor` never shows a secret: not the kubeconfig's token or key, not what a
credential plugin prints, whether the checks pass or fail, in text, JSON or the log."""

from __future__ import annotations


import pytest
import yaml
from helpers.exec_plugins import V1, exec_user, write_plugin
from helpers.kubeconfigs import write

from ktopui.cli import main
from ktopui.doctor import Finding
from ktopui.doctor.checks import scrub


@pytest.fixture
def sim(make_sim_server):
    return make_sim_server(nodes=2, pods_per_node=3)


# --log adds file handlers to process-wide loggers: taken off after each test.
pytestmark = pytest.mark.usefixtures("close_logs")


def run_everything(capsys, path, tmp_path, *extra: str) -> str:
    """Text and JSON output plus the --log file of one run each."""
    seen = []
    for fmt in ("text", "json"):
        log = tmp_path / f"doctor-{fmt}.log"
        main(["doctor", "--kubeconfig", str(path), "-o", fmt, "--log", str(log), *extra])
        out = capsys.readouterr()
        seen += [out.out, out.err, log.read_text() if log.exists() else ""]
    return "\n".join(seen)


def exec_kubeconfig(sim, tmp_path, token: str):
    plugin = write_plugin(tmp_path / "plugin", f"""
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": {{"token": {token!r}}}}}))
    """)
    path = sim.write_kubeconfig(tmp_path / "config")
    doc = yaml.safe_load(path.read_text())
    doc["users"][0]["user"] = exec_user(str(plugin))
    return write(path, doc)


@pytest.mark.parametrize("broken", [False, True], ids=["healthy", "metrics-down"])
def test_kubeconfig_token_never_shown(sim, tmp_path, capsys, broken):
    token = sim.issue_token(None)
    path = sim.write_kubeconfig(tmp_path / "config", token=token)
    if broken:
        sim.faults.metrics_unavailable("FailedDiscoveryCheck", bad_status=403)
        sim.faults.forbid("sim-admin", "list", "pods", group="")
    output = run_everything(capsys, path, tmp_path)
    assert "bearer token" in output  # the method is named ...
    assert token not in output  # ... the secret never


def test_rejected_token_never_shown(sim, tmp_path, capsys):
    token = sim.issue_token(None)
    sim.revoke_token(token)
    output = run_everything(capsys, sim.write_kubeconfig(tmp_path / "config", token=token), tmp_path)
    assert "401 Unauthorized" in output
    assert token not in output


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "rejected"])
def test_exec_plugin_token_never_shown(sim, tmp_path, capsys, accepted):
    token = sim.issue_token(None) if accepted else "exec-secret-that-the-server-rejects"
    output = run_everything(capsys, exec_kubeconfig(sim, tmp_path, token), tmp_path)
    assert "exec plugin plugin" in output
    assert ("authenticated as sim-admin" in output) == accepted
    assert token not in output


def test_client_key_never_shown(sim, tmp_path, capsys):
    cert, key = sim.issue_client_cert("jane")
    path = sim.write_kubeconfig(tmp_path / "config", client_cert=(cert, key))
    sim.faults.forbid("jane", "list", "nodes")
    output = run_everything(capsys, path, tmp_path)
    assert "authenticated as jane" in output
    body = b"".join(key.splitlines()[1:-1]).decode()
    assert "PRIVATE KEY" not in output and body[:40] not in output


def test_echoed_secrets_are_masked():
    secret = "s3cr3t-kubeconfig-token"
    findings = scrub([Finding("credentials", "fail", f"server said: Authorization: Bearer {secret} is bad",
                              f"token {secret} again; jwt eyJhbGciOiJI.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl")],
                     {secret})
    assert secret not in findings[0].detail and secret not in findings[0].next_step
    assert "eyJhbGci" not in findings[0].next_step
    assert findings[0].detail == "server said: Authorization: Bearer <redacted> is bad"
