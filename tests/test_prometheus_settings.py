"""Which Prometheus ktopui uses: flags over the config file's [prometheus], bad values named with
their line, and opening it (a client, or one line saying why not)."""

from __future__ import annotations

import logging

import httpx
import pytest

from ktopui import config
from ktopui.cli import build_parser
from ktopui.kube.api import KubeAPI
from ktopui.kube.prometheus_settings import PromSettings, open_prometheus, settings_from
from ktopui.ui.settings import vocabulary
from tests.helpers.fake_apiserver import FakeAPIServer, prometheus_answer, serve
from tests.helpers.prom_api import JSON, Engine

VOCABULARY = vocabulary()
FILE = PromSettings(url="https://prom.example:9090", bearer_token_file="/run/token", ca_file="/etc/ca.pem")


def flags(*argv: str):
    return build_parser().parse_args(list(argv))


def test_without_flags_the_config_file_s_section_is_used():
    assert settings_from(flags(), FILE) == FILE
    assert settings_from(flags(), None) == PromSettings()


def test_the_flags_win_over_the_file():
    assert settings_from(flags("--prometheus-token-file", "/other"), FILE).bearer_token_file == "/other"
    assert settings_from(flags("--prometheus-ca", "/ca2.pem"), FILE).ca_file == "/ca2.pem"
    assert settings_from(flags("--no-prometheus"), FILE).enabled is False
    off_in_file = PromSettings(enabled=False)
    assert settings_from(flags("--prometheus", "http://p:9090"), off_in_file).enabled is True


def test_another_url_on_the_command_line_does_not_get_the_file_s_credentials():
    chosen = settings_from(flags("--prometheus", "http://elsewhere:9090"), FILE)
    assert chosen == PromSettings(url="http://elsewhere:9090")
    same = settings_from(flags("--prometheus", FILE.url), FILE)
    assert same == FILE


def test_the_doctor_takes_the_same_flags_before_or_after_its_name():
    assert settings_from(flags("doctor", "--prometheus", "http://p:9090"), None).url == "http://p:9090"
    assert settings_from(flags("--no-prometheus", "doctor"), None).enabled is False
    with pytest.raises(SystemExit):
        flags("--prometheus", "http://p", "--no-prometheus")


def test_the_config_file_section_is_read_and_printed_by_default():
    text = '[prometheus]\nurl = "http://prom:9090"\nbearer_token_file = "/t"\n'
    assert config.parse(text, "c.toml", VOCABULARY).prometheus == PromSettings(url="http://prom:9090",
                                                                              bearer_token_file="/t")
    default = config.default_text(VOCABULARY)
    assert "[prometheus]" in default and "# bearer_token_file = " in default
    assert config.parse(default, "c.toml", VOCABULARY).prometheus == PromSettings()


@pytest.mark.parametrize(("text", "line", "message"), [
    ('view = "pods"\n[prometheus]\nurl = "ftp://prom"\n', 3, "prometheus.url: not an http:// or https:// URL"),
    ('[prometheus]\nenabled = true\nurl = "http://p:port"\n', 3, "prometheus.url: not a URL"),
    ('[prometheus]\nurl = "http://p?x=1"\n', 2, "prometheus.url: a query or fragment has no place in it"),
    ('[prometheus]\nurl = "http://u:pw@p"\n\nbearer_token_file = "/t"\n', 4, "a bearer_token_file and a user"),
    ('[prometheus]\npassword_file = "/pw"\n', 2, "prometheus.password_file: give the username"),
    ('[prometheus]\nca_file = "/ca"\ninsecure_skip_tls_verify = true\n', 3, "ca_file and insecure_skip_tls_verify"),
    ('[prometheus]\nenabled = "yes"\n', 2, "prometheus.enabled: expected `bool`, got `str`"),
    ('[prometheus]\ntoken = "x"\n', 2, 'unknown key "prometheus.token"; known keys: enabled, url,'),
])
def test_a_bad_prometheus_section_names_the_line_and_what_is_wrong(text, line, message):
    with pytest.raises(config.ConfigFileError) as caught:
        config.parse(text, "c.toml", VOCABULARY)
    assert caught.value.line == line
    assert message in caught.value.message


@pytest.fixture
async def empty_cluster():
    fake = FakeAPIServer()
    async with serve(fake) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield fake, KubeAPI(http, server.url)


async def test_an_explicit_url_is_opened_and_its_recording_rules_probed(empty_cluster):
    _, api = empty_cluster

    async def reply(method, path, form, headers):
        return 200, JSON, {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "node_namespace_pod_container:container_memory_working_set_bytes"},
             "value": [1, "3"]}]}}
    async with Engine(reply) as engine:
        opened = await open_prometheus(PromSettings(url=engine.url + "/"), api)
        assert opened.client is not None and opened.client.source.base == engine.url
        assert opened.note == f"Prometheus: {engine.url}"
        assert opened.client.rules.memory and not opened.client.rules.cpu_rate5m
        await opened.client.aclose()


async def test_a_url_that_does_not_answer_is_one_line_and_no_client(empty_cluster, tmp_path):
    _, api = empty_cluster
    async with Engine(lambda *a: None) as engine:
        url = engine.url
    opened = await open_prometheus(PromSettings(url=url), api)
    assert opened.client is None and opened.note == f"Prometheus {url}: connection refused"


@pytest.mark.parametrize(("settings", "note"), [
    (PromSettings(url="prom:9090"), "Prometheus URL prom:9090: not an http:// or https:// URL with a host"),
    (PromSettings(url="http://p", bearer_token_file="/nonexistent/token"),
     "Prometheus bearer token file: open /nonexistent/token: no such file or directory"),
    (PromSettings(url="http://p", username="u", password_file="/nonexistent/pw"),
     "Prometheus password file /nonexistent/pw: No such file or directory"),
    (PromSettings(url="https://p", ca_file="/nonexistent/ca.pem"),
     "Prometheus CA file /nonexistent/ca.pem: No such file or directory"),
    (PromSettings(enabled=False, url="http://p"), "Prometheus: off"),
])
async def test_settings_that_cannot_be_used_are_one_line_and_no_client(empty_cluster, settings, note):
    _fake, api = empty_cluster
    opened = await open_prometheus(settings, api)
    assert (opened.client, opened.note) == (None, note)


async def test_discovery_finding_nothing_is_silent_but_says_why_for_the_log(empty_cluster, caplog):
    _, api = empty_cluster
    with caplog.at_level(logging.INFO, logger="ktopui.prometheus"):
        opened = await open_prometheus(PromSettings(), api)
    assert (opened.client, opened.note) == (None, "")
    assert "no Prometheus" in opened.found.reason
    assert caplog.messages[-1] == ("prometheus: none used: no Prometheus, Thanos or VictoriaMetrics service found "
                                   "by its labels")


async def test_discovery_finding_one_opens_it_through_the_proxy(empty_cluster):
    fake, api = empty_cluster
    fake.add_service("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"},
                     [{"name": "web", "port": 9090}], prometheus_answer)
    opened = await open_prometheus(PromSettings(), api)
    assert opened.note == "Prometheus: monitoring/prometheus-k8s (prometheus, through the API server's proxy)"
    assert opened.client.source.via == "proxy"
    await opened.client.aclose()
