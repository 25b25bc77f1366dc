"""Mistakes users make on the command line: each gets a clear message where they are looking."""

from __future__ import annotations

import pytest

from ktopui.cli import main


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """A machine with no kubeconfig at all: no ~/.kube, no $KUBECONFIG, not in a pod."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # the dashboard reads no config file from elsewhere
    return home


@pytest.mark.parametrize("argv", [[], ["top", "pods"], ["top", "nodes"], ["doctor"]])
def test_no_kubeconfig_names_the_missing_file_and_suggests_the_demo(fresh_home, capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    said = out.out + out.err
    assert code == 1
    assert f"looked for {fresh_home / '.kube' / 'config'}, and none exists" in said
    assert "ktopui --demo" in said
    assert "KUBERNETES_MASTER" not in said


def test_a_kubeconfig_variable_naming_no_file_says_so(fresh_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "looked for /nonexistent (from $KUBECONFIG), and none exists" in err
    assert "ktopui --demo" in err
