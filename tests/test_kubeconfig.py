"""Kubeconfig file selection, merging and context lookup, as kubectl does it."""

from __future__ import annotations

import os

import pytest
from helpers.kubeconfigs import kubeconfig, simple, write

from ktopui.kube import kubeconfig as kc
from ktopui.kube.connection import load_connection
from ktopui.kube.errors import ConfigError

NO_CONFIG = "invalid configuration: no configuration has been provided"


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return home


def env(home, **extra):
    return {"HOME": str(home), **extra}


def test_default_file_is_home_kube_config(home):
    write(home / ".kube" / "config", simple("https://home:6443"))
    conn = load_connection(environ=env(home))
    assert conn.server == "https://home:6443"
    assert conn.config_files == [str(home / ".kube" / "config")]


def test_empty_kubeconfig_variable_means_home_file(home):
    # Python's kubernetes package fails here; kubectl falls back to ~/.kube/config.
    write(home / ".kube" / "config", simple("https://home:6443"))
    assert load_connection(environ=env(home, KUBECONFIG="")).server == "https://home:6443"


def test_explicit_file_is_not_merged(home, tmp_path):
    write(home / ".kube" / "config", simple("https://home:6443", name="h"))
    other = write(tmp_path / "other.yaml", kubeconfig(clusters={"x": {"server": "https://x:1"}}))
    explicit = write(tmp_path / "explicit.yaml", simple("https://explicit:6443"))
    conn = load_connection(kubeconfig=str(explicit), environ=env(home, KUBECONFIG=str(other)))
    assert conn.server == "https://explicit:6443"
    assert conn.config_files == [str(explicit)]
    with pytest.raises(ConfigError, match='context "h" does not exist'):
        load_connection(kubeconfig=str(explicit), context="h", environ=env(home))


def test_explicit_file_must_exist(home, tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as e:
        load_connection(kubeconfig=str(missing), environ=env(home))
    assert str(e.value) == f"stat {missing}: no such file or directory"


def test_first_file_wins_per_entry_as_a_whole(home, tmp_path):
    first = write(tmp_path / "a.yaml", kubeconfig(
        clusters={"red": {"server": "https://first:1"}},
        users={"red-user": {"token": "first-token"}},
        contexts={"red": {"cluster": "red", "user": "red-user"}}))
    second = write(tmp_path / "b.yaml", kubeconfig(
        clusters={"red": {"server": "https://second:2", "disable-compression": True},
                  "blue": {"server": "https://blue:3"}},
        users={"red-user": {"token": "second-token", "username": "bob"}},
        contexts={"blue": {"cluster": "blue", "user": "red-user"}}, current="red"))
    config = kc.load(None, env(home, KUBECONFIG=f"{first}{os.pathsep}{second}"))
    # Even non-conflicting fields of the second file's entries are discarded.
    assert config.clusters["red"] == {"server": "https://first:1"}
    assert config.users["red-user"]["token"] == "first-token"
    assert "username" not in config.users["red-user"]
    assert config.clusters["blue"]["server"] == "https://blue:3"
    assert config.current_context == "red"
    assert config.files == [str(first), str(second)]
    assert config.user_origin["red-user"] == str(first)


@pytest.mark.parametrize(("first_current", "second_current", "expected"), [
    ("a", "b", "a"),
    ("", "b", "b"),  # an empty value never overrides (Python's loader takes the last, even "")
    (None, "b", "b"),
    ("a", "", "a"),
])
def test_first_non_empty_current_context_wins(home, tmp_path, first_current, second_current, expected):
    contexts = {"a": {"cluster": "c", "user": "u"}, "b": {"cluster": "c", "user": "u"}}
    first = write(tmp_path / "a.yaml", kubeconfig(clusters={"c": {"server": "https://c:1"}}, users={"u": {}},
                                                  contexts=contexts, current=first_current))
    second = write(tmp_path / "b.yaml", kubeconfig(current=second_current))
    conn = load_connection(environ=env(home, KUBECONFIG=f"{first}{os.pathsep}{second}"))
    assert conn.context == expected


def test_missing_files_are_skipped_and_duplicates_dropped(home, tmp_path):
    real = write(tmp_path / "real.yaml", simple())
    missing = tmp_path / "missing.yaml"
    value = os.pathsep.join([str(missing), str(real), "", str(real)])
    config = kc.load(None, env(home, KUBECONFIG=value))
    assert config.files == [str(real)]
    assert config.warnings == []


def test_all_files_missing_warns_then_no_configuration(home, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    config = kc.load(None, env(home, KUBECONFIG=f"{a}{os.pathsep}{b}"))
    assert config.warnings == [f"Config not found: {a}, {b}"]
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home, KUBECONFIG=f"{a}{os.pathsep}{b}"))
    assert e.value.message == f"no kubeconfig found: looked for {a}, {b} (from $KUBECONFIG), and none exists"
    assert "ktopui --demo" in e.value.hint


def test_a_fresh_home_is_told_which_file_is_missing_and_about_the_demo(home):
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home))
    assert e.value.message == f"no kubeconfig found: looked for {home / '.kube' / 'config'}, and none exists"
    assert "ktopui --demo" in e.value.hint
    assert "KUBERNETES_MASTER" not in str(e.value)


def test_empty_file_is_empty_config(home):
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text("")
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home))
    assert e.value.message == f"{NO_CONFIG}: {home / '.kube' / 'config'} defines no context, cluster or user"


def test_context_override(home):
    doc = kubeconfig(clusters={"one": {"server": "https://one:1"}, "two": {"server": "https://two:2"}},
                     users={"u": {}},
                     contexts={"one": {"cluster": "one", "user": "u"}, "two": {"cluster": "two", "user": "u"}},
                     current="one")
    write(home / ".kube" / "config", doc)
    conn = load_connection(context="two", environ=env(home))
    assert (conn.context, conn.cluster, conn.server) == ("two", "two", "https://two:2")


@pytest.mark.parametrize(("doc", "context", "message"), [
    (simple(), "nope", 'context "nope" does not exist'),
    (kubeconfig(clusters={}, users={"u": {}}, contexts={"x": {"cluster": "gone", "user": "u"}}, current="x"),
     None, 'cluster "gone" does not exist'),
    (kubeconfig(clusters={"c": {"server": "https://c:1"}}, users={}, contexts={"x": {"cluster": "c", "user": "gone"}},
                current="x"), None, 'auth info "gone" does not exist'),
    (kubeconfig(clusters={"c": {"server": "https://c:1"}}, users={}, contexts={"x": {"cluster": "c"}},
                current="missing"), None, 'context "missing" does not exist'),
    (kubeconfig(clusters={"c": {"server": "https://c:1"}}, contexts={"x": {"cluster": "c"}}), None,
     f"{NO_CONFIG}: no current-context is set"),
])
def test_lookup_errors_use_client_go_texts(home, doc, context, message):
    write(home / ".kube" / "config", doc)
    with pytest.raises(ConfigError) as e:
        load_connection(context=context, environ=env(home))
    assert e.value.message == message


def test_context_without_user_is_anonymous(home):
    write(home / ".kube" / "config", kubeconfig(clusters={"c": {"server": "https://c:1"}},
                                                contexts={"x": {"cluster": "c"}}, current="x"))
    conn = load_connection(environ=env(home))
    assert conn.auth is None and conn.auth_method == "none" and conn.user == ""


def test_duplicate_names_in_one_file(home):
    path = home / ".kube" / "config"
    path.parent.mkdir()
    path.write_text("clusters:\n- name: a\n  cluster: {server: 'https://a:1'}\n"
                    "- name: a\n  cluster: {server: 'https://b:1'}\n")
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home))
    assert e.value.message == (f'error loading config file "{path}": error converting *[]NamedCluster into '
                               '*map[string]*api.Cluster: duplicate name "a" in list')


def test_invalid_yaml_error_does_not_quote_the_file(home, tmp_path):
    path = write(tmp_path / "ok.yaml", simple())
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n- name: u\n  user:\n    token: s3cr3t-value: oops\n")
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home, KUBECONFIG=f"{path}{os.pathsep}{bad}"))
    assert str(e.value).startswith(f'error loading config file "{bad}": yaml: line 4:')
    assert "s3cr3t" not in str(e.value)


def test_unreadable_file(home, tmp_path):
    path = write(tmp_path / "x.yaml", simple())
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as root: permissions are not enforced")
    with pytest.raises(ConfigError, match=f'error loading config file "{path}": open {path}: permission denied'):
        load_connection(kubeconfig=str(path), environ=env(home))


def test_relative_paths_resolve_against_the_file_that_holds_them(home, tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    write(one / "config", kubeconfig(
        clusters={"c": {"server": "https://c:1", "certificate-authority": "pki/ca.crt"}},
        contexts={"x": {"cluster": "c", "user": "u"}}, current="x"))
    write(two / "config", kubeconfig(users={"u": {
        "client-certificate": "certs/u.crt", "client-key": "/abs/u.key", "tokenFile": "tok",
        "exec": {"command": "./bin/plugin", "apiVersion": "client.authentication.k8s.io/v1"}}}))
    write(two / "other", kubeconfig(users={"v": {"exec": {"command": "plugin-in-path"}}}))
    monkeypatch.chdir(tmp_path)
    # Relative KUBECONFIG entries are relative to the working directory.
    config = kc.load(None, env(home, KUBECONFIG=os.pathsep.join(["one/config", "two/config", "two/other"])))
    assert config.clusters["c"]["certificate-authority"] == str(one / "pki" / "ca.crt")
    user = config.users["u"]
    assert user["client-certificate"] == str(two / "certs" / "u.crt")
    assert user["client-key"] == "/abs/u.key"
    assert user["tokenFile"] == str(two / "tok")
    assert user["exec"]["command"] == str(two / "bin" / "plugin")
    assert config.users["v"]["exec"]["command"] == "plugin-in-path"  # looked up in PATH


@pytest.mark.parametrize(("flag", "context_ns", "pod_env", "sa_ns", "expected"), [
    ("flagged", "ctx", "pod", "sa", ("flagged", "flag")),
    (None, "ctx", "pod", "sa", ("ctx", "context")),
    (None, "default", "pod", "sa", ("default", "context")),  # explicit "default" still counts
    (None, None, "pod", "sa", ("pod", "in-cluster")),
    (None, None, None, "sa", ("sa", "in-cluster")),
    (None, None, None, None, ("default", "default")),
])
def test_namespace_precedence_in_a_pod(home, tmp_path, flag, context_ns, pod_env, sa_ns, expected):
    write(home / ".kube" / "config", simple(namespace=context_ns))
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token")
    if sa_ns:
        (sa / "namespace").write_text(sa_ns + "\n")
    e = env(home, KUBERNETES_SERVICE_HOST="10.0.0.1", KUBERNETES_SERVICE_PORT="443")
    if pod_env:
        e["POD_NAMESPACE"] = pod_env
    conn = load_connection(namespace=flag, environ=e, serviceaccount_dir=str(sa))
    assert (conn.namespace, conn.namespace_source) == expected
    assert conn.server == "https://k8s.example:6443"  # the kubeconfig is still what is used


def test_pod_namespace_ignored_outside_a_pod(home, tmp_path):
    write(home / ".kube" / "config", simple())
    conn = load_connection(environ=env(home, POD_NAMESPACE="pod"), serviceaccount_dir=str(tmp_path / "none"))
    assert (conn.namespace, conn.namespace_source) == ("default", "default")


def test_invalid_context_namespace(home):
    write(home / ".kube" / "config", simple(namespace="Not_A_Label"))
    with pytest.raises(ConfigError) as e:
        load_connection(environ=env(home))
    assert e.value.message == ('namespace "Not_A_Label" for context "c" does not conform to the kubernetes '
                               "DNS_LABEL rules")
