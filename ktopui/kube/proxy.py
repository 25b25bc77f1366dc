"""Which proxy the connection to a cluster goes through.

client-go: the cluster's proxy-url (http, https or socks5), else Go's
http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy). The environment
rules are applied here rather than left to httpx's trust_env because they
differ: Go never proxies localhost or loopback addresses, honours CIDRs in
NO_PROXY (common in Kubernetes setups) and ignores ALL_PROXY.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

PROXY_SCHEMES = ("http", "https", "socks5")


def proxy_url_error(proxy_url: str) -> str | None:
    """client-go parseProxyURL's complaint about a proxy-url, or None if usable."""
    try:
        scheme = urlsplit(proxy_url).scheme
    except ValueError:
        return f"could not parse: {proxy_url}"
    if scheme not in PROXY_SCHEMES:
        return f'unsupported scheme "{scheme}", must be http, https, or socks5'
    return None


def proxy_from_environment(server: str, environ: Mapping[str, str]) -> str | None:
    """The proxy Go would use for `server` given HTTPS_PROXY/HTTP_PROXY/NO_PROXY."""
    url = urlsplit(server)
    host = (url.hostname or "").lower()
    port = str(url.port or (443 if url.scheme == "https" else 80))
    proxy = _env(environ, "HTTPS_PROXY") if url.scheme == "https" else _env(environ, "HTTP_PROXY")
    if url.scheme == "http" and environ.get("REQUEST_METHOD"):
        proxy = ""  # CGI: HTTP_PROXY may be a request header (httpoxy)
    if not proxy or not _use_proxy(host, port, _env(environ, "NO_PROXY")):
        return None
    return proxy if "://" in proxy else "http://" + proxy


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name) or environ.get(name.lower()) or ""


def _use_proxy(host: str, port: str, no_proxy: str) -> bool:
    if host == "localhost":
        return False
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return False
    for entry in (p.strip().lower() for p in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return False
        if "/" in entry:
            try:
                if ip is not None and ip in ipaddress.ip_network(entry, strict=False):
                    return False
                continue
            except ValueError:
                pass
        entry_host, entry_port = _split_host_port(entry)
        if entry_port and entry_port != port:
            continue
        entry_ip = _ip(entry_host)
        if entry_ip is not None:
            if entry_ip == ip:
                return False
            continue
        if entry_host.startswith("*."):
            entry_host = entry_host[1:]
        # "example.com" matches itself and subdomains; ".example.com" only subdomains.
        if host.endswith(entry_host if entry_host.startswith(".") else "." + entry_host) or host == entry_host:
            return False
    return True


def _split_host_port(entry: str) -> tuple[str, str]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, ""


def _ip(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
