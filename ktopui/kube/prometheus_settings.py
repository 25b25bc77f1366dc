"""Where ktopui reads history from: the flags, the config file's [prometheus] section, and opening it.

Flags win over the config file. An explicit URL is used as given; without
one, the cluster is searched (prometheus_discovery) unless that is turned off.
Nothing here stops ktopui: a source that cannot be opened is a one-line note,
and the live view works without it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

log = logging.getLogger("ktopui.prometheus")

if TYPE_CHECKING:  # (imported when opening: the parsers and the config file need none of it)
    from ktopui.kube.api import KubeAPI
    from ktopui.kube.prometheus import PromClient
    from ktopui.kube.prometheus_discovery import Found


class PromSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The config file's [prometheus] section."""

    enabled: bool = True  # false: no Prometheus, not even discovery
    url: str = ""  # http(s)://[user:password@]host[:port][/prefix]; empty: discover it in the cluster
    bearer_token_file: str = ""  # re-read as it rotates
    username: str = ""  # basic auth, with the password read from password_file
    password_file: str = ""
    ca_file: str = ""  # PEM bundle that signed the server's certificate
    insecure_skip_tls_verify: bool = False


# Keys that say how to reach one particular URL: not carried over to another one.
_URL_BOUND = ("bearer_token_file", "username", "password_file", "ca_file", "insecure_skip_tls_verify")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a flag given before a subcommand is not reset by the subcommand's parser.
    group = parser.add_argument_group("history from Prometheus")
    which = group.add_mutually_exclusive_group()
    which.add_argument("--prometheus", metavar="URL", default=argparse.SUPPRESS,
                       help="read history from this Prometheus-compatible URL (default: find one in the cluster)")
    which.add_argument("--no-prometheus", action="store_true", default=argparse.SUPPRESS,
                       help="do not read history from Prometheus, nor look for one")
    group.add_argument("--prometheus-token-file", metavar="FILE", default=argparse.SUPPRESS,
                       help="bearer token for --prometheus, read from FILE (re-read when it changes)")
    group.add_argument("--prometheus-ca", metavar="FILE", default=argparse.SUPPRESS,
                       help="CA bundle (PEM) for an https --prometheus")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a Prometheus base URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError as err:
        return f"not a URL ({err})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http:// or https:// URL with a host"
    if parts.query or parts.fragment:
        return "a query or fragment has no place in it: give the base the API paths go under"
    return None


def settings_from(args: argparse.Namespace, config_section: PromSettings | None) -> PromSettings:
    """The settings in force: flags win over the config file's [prometheus] section. A URL on the
    command line other than the file's does not get the file's credentials and CA."""
    settings = config_section or PromSettings()
    if getattr(args, "no_prometheus", False):
        return _replace(settings, enabled=False)
    url = getattr(args, "prometheus", None)
    if url is not None and url != settings.url:
        settings = _replace(PromSettings(), url=url)
    if url is not None:
        settings = _replace(settings, enabled=True)
    if (token := getattr(args, "prometheus_token_file", None)) is not None:
        settings = _replace(settings, bearer_token_file=token)
    if (ca := getattr(args, "prometheus_ca", None)) is not None:
        settings = _replace(settings, ca_file=ca)
    return settings


def _replace(settings: PromSettings, **changes: object) -> PromSettings:
    return msgspec.structs.replace(settings, **changes)


@dataclass
class Opened:
    client: PromClient | None
    note: str  # one line for the header or stderr; empty when discovery quietly found nothing
    found: Found | None = None  # what discovery asked and why it found nothing (for the doctor and --log)


async def open_prometheus(settings: PromSettings, api: KubeAPI, conn: object = None) -> Opened:
    """The client the settings lead to, with the recording rules probed, or a note why there is none.
    (`conn`, the cluster connection, is not needed: `api` carries its client and credentials.)"""
    from ktopui.kube.prometheus import PromError, proxy_client
    from ktopui.kube.prometheus_discovery import find_prometheus

    if not settings.enabled:
        return Opened(None, "Prometheus: off")
    if settings.url:
        try:
            client = _url_client(settings)
        except PromError as err:
            log.info("prometheus: none used: %s", err.message)
            return Opened(None, err.message)
    else:
        found = await find_prometheus(api)
        log.info("prometheus discovery: %s", "; ".join(found.tried))
        if found.source is None:
            log.info("prometheus: none used: %s%s", found.reason, f" ({found.hint})" if found.hint else "")
            return Opened(None, "", found)
        client = proxy_client(api, found.source)
    try:
        await client.probe_rules()
    except PromError as err:
        await client.aclose()
        log.info("prometheus: none used: %s", err.message)
        return Opened(None, err.message)
    source = client.source
    log.info("prometheus: %s at %s, recording rules %s", source.name, source.base, client.rules)
    if source.via == "url":
        return Opened(client, f"Prometheus: {source.name}")
    return Opened(client, f"Prometheus: {source.name} ({source.flavour}, through the API server's proxy)")


def _url_client(settings: PromSettings) -> PromClient:
    from ktopui.kube.prometheus import PromError, url_client

    password = ""
    if settings.password_file:
        try:
            with open(settings.password_file, encoding="utf-8") as f:
                password = f.read().strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise PromError(f"Prometheus password file {settings.password_file}: {reason}") from None
    return url_client(settings.url, token_file=settings.bearer_token_file, username=settings.username,
                      password=password, ca_file=settings.ca_file, insecure=settings.insecure_skip_tls_verify)
