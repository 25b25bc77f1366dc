"""`ktopui doctor` before the first answer: unreachable servers, TLS (which CA, which name),
rejected or unobtainable credentials."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import yaml
from helpers.exec_plugins import V1, exec_user, write_plugin
from helpers.kubeconfigs import b64, write
from helpers.pki import CA

from ktopui.cli import main
from ktopui.doctor import FAIL, OK, SKIP, diagnose
from ktopui.kube.connection import load_connection


@pytest.fixture
def sim(make_sim_server):
    return make_sim_server(nodes=2, pods_per_node=3)


def kubeconfig(sim, path, *, cluster=None, user=None, token=None):
    """The sim's kubeconfig with cluster/user fields changed (None removes a field; `user` replaces it)."""
    sim.write_kubeconfig(path, token=token)
    doc = yaml.safe_load(path.read_text())
    body = doc["clusters"][0]["cluster"]
    for key, value in (cluster or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    if user is not None:
        doc["users"][0]["user"] = user
    return write(path, doc)


def doctor(capsys, path, *args: str) -> tuple[int, dict[str, dict]]:
    code = main(["doctor", "--kubeconfig", str(path), *args, "-o", "json"])
    return code, {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server(sim, tmp_path, capsys):
    port = free_port()
    path = kubeconfig(sim, tmp_path / "config", cluster={"server": f"https://127.0.0.1:{port}"})
    code, found = doctor(capsys, path)
    assert code == 1
    connection = found["connection"]
    assert connection["status"] == FAIL
    assert f"The connection to the server 127.0.0.1:{port} was refused" in connection["detail"]
    assert f"that https://127.0.0.1:{port} is its address" in connection["next_step"]
    assert f'server of cluster "sim" in {path}' in connection["next_step"]
    assert "VPN" in connection["next_step"]
    for check in ("credentials", "server version", "permissions", "metrics API"):
        assert found[check]["status"] == SKIP and "cannot be reached" in found[check]["detail"]


async def test_server_too_slow(sim, tmp_path):
    path = kubeconfig(sim, tmp_path / "config")
    sim.faults.set_latency("/", 2.0)
    conn = load_connection(kubeconfig=str(path), environ={"HOME": str(tmp_path)})
    findings = {f.check: f for f in await diagnose(conn, namespace="", timeout=0.3)}
    assert findings["connection"].status == FAIL
    assert "timed out waiting for the server" in findings["connection"].detail
    assert "did not answer in time" in findings["connection"].next_step


@pytest.mark.parametrize("as_file", [False, True], ids=["ca-data", "ca-file"])
def test_wrong_ca_says_which_ca(sim, tmp_path, capsys, as_file):
    other = CA("corp-ca")
    if as_file:
        (tmp_path / "corp.crt").write_bytes(other.cert_pem)
        cluster = {"certificate-authority-data": None, "certificate-authority": str(tmp_path / "corp.crt")}
        source = f'certificate-authority {tmp_path / "corp.crt"} of cluster "sim"'
    else:
        cluster = {"certificate-authority-data": b64(other.cert_pem)}
        source = 'certificate-authority-data of cluster "sim"'
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", cluster=cluster))
    assert code == 1
    connection = found["connection"]
    assert connection["status"] == FAIL
    assert "TLS handshake with 127.0.0.1" in connection["detail"]
    assert "unable to get local issuer certificate" in connection["detail"]
    assert f"trusting CN=corp-ca from {source}" in connection["detail"]
    assert "the server presents CN=kube-apiserver issued by CN=ktopui-sim-ca" in connection["detail"]
    assert "issued by CN=ktopui-sim-ca, is not signed by a CA you trust" in connection["next_step"]
    assert 'Put the cluster\'s CA in certificate-authority-data of cluster "sim"' in connection["next_step"]
    assert "Do not turn on insecure-skip-tls-verify" in connection["next_step"]
    assert found["credentials"]["status"] == SKIP


def test_no_ca_at_all_means_the_system_roots(sim, tmp_path, capsys):
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", cluster={"certificate-authority-data": None}))
    assert code == 1
    assert "trusting the system's trusted roots" in found["connection"]["detail"]
    assert "no certificate-authority in the kubeconfig" in found["connection"]["detail"]


def test_tls_server_name(sim, tmp_path, capsys):
    port = urlsplit(sim.url).port
    cluster = {"server": f"https://127.0.0.1:{port}", "tls-server-name": "sim.ktopui.test"}
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", cluster=cluster))
    assert code == 0
    assert "server name sim.ktopui.test (tls-server-name)" in found["connection"]["detail"]
    cluster["tls-server-name"] = "wrong.ktopui.test"
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", cluster=cluster))
    connection = found["connection"]
    assert code == 1 and connection["status"] == FAIL
    assert "Hostname mismatch, certificate is not valid for 'wrong.ktopui.test'" in connection["detail"]
    assert "server name wrong.ktopui.test (tls-server-name)" in connection["detail"]
    assert "not valid for the name wrong.ktopui.test" in connection["next_step"]
    assert "DNS:sim.ktopui.test" in connection["next_step"] and "IP:127.0.0.1" in connection["next_step"]
    assert 'set tls-server-name of cluster "sim" to one of its names' in connection["next_step"]


def test_insecure_skip_tls_verify_is_a_warning(sim, tmp_path, capsys):
    path = kubeconfig(sim, tmp_path / "config",
                      cluster={"certificate-authority-data": None, "insecure-skip-tls-verify": True})
    code, found = doctor(capsys, path)
    assert code == 0
    assert found["kubeconfig"]["status"] == "warn"
    assert "insecure-skip-tls-verify" in found["kubeconfig"]["detail"]
    assert "remove insecure-skip-tls-verify" in found["kubeconfig"]["next_step"]
    assert "trusting nothing" in found["connection"]["detail"]


def test_expired_token(sim, tmp_path, capsys):
    token = sim.issue_token(0.01)
    time.sleep(0.05)
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", token=token))
    assert code == 1
    credentials = found["credentials"]
    assert credentials["status"] == FAIL
    assert "authenticates with bearer token: the server rejects it (401 Unauthorized)" in credentials["detail"]
    assert "has expired or was revoked: get a new one" in credentials["next_step"]
    assert found["connection"]["status"] == OK
    assert found["server version"]["status"] == OK  # /version needs no credentials
    assert found["permissions"]["status"] == SKIP and "does not accept the credentials" in found["permissions"][
        "detail"]
    assert found["metrics API"]["status"] == SKIP


def test_credentials_when_the_server_will_not_say_who_you_are(sim, tmp_path, capsys):
    sim.faults.forbid("sim-admin", "create", "selfsubjectreviews")
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config"))
    assert code == 0
    assert found["credentials"]["status"] == OK
    assert found["credentials"]["detail"] == "bearer token; accepted (the server did not say who you are)"
    assert 'denied: kubeconfig user "sim-admin"' not in json.dumps(found)


def test_rejected_exec_plugin_credential(sim, tmp_path, capsys):
    plugin = write_plugin(tmp_path / "plugin", f"""
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": {{"token": "not-valid"}}}}))
    """)
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", user=exec_user(str(plugin))))
    assert code == 1
    credentials = found["credentials"]
    assert f"authenticates with exec plugin {plugin.name}" in credentials["detail"]
    assert "401 Unauthorized" in credentials["detail"]
    assert "log in again with the tool behind the plugin" in credentials["next_step"]


def test_failing_exec_plugin(sim, tmp_path, capsys):
    plugin = write_plugin(tmp_path / "plugin", """
        print("no session: run `corp-login` first", file=sys.stderr)
        sys.exit(3)
    """)
    code, found = doctor(capsys, kubeconfig(sim, tmp_path / "config", user=exec_user(str(plugin))))
    assert code == 1
    credentials = found["credentials"]
    assert credentials["status"] == FAIL
    assert "failed with exit code 3" in credentials["detail"]
    assert "no session: run `corp-login` first" in credentials["detail"]  # the plugin's own stderr
    assert "credential plugin" in credentials["next_step"]
    assert found["connection"]["status"] == OK  # checked without credentials
