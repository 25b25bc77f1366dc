"""TLS facts for the connection check: what the client trusts, which name it checks,
and (when the handshake fails) what certificate the server actually presents."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ktopui.kube import kubeconfig as kc
from ktopui.kube.connection import SERVICEACCOUNT_DIR, ClusterConnection

MAX_NAMED_CAS = 3  # above this many trusted roots, count them instead of naming them


def redact_url(url: str) -> str:
    """The URL without user:password (proxy URLs may carry credentials)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


def server_name(conn: ClusterConnection) -> str:
    """The name the server certificate must be valid for: tls-server-name, else the URL's host."""
    return conn.tls_server_name or urlsplit(conn.server).hostname or ""


def ca_source(conn: ClusterConnection, environ=None) -> str:
    """Where the trusted CA comes from, read back from the kubeconfig entry of the cluster
    ("" when it is the system's roots)."""
    if not conn.config_files and not conn.context:
        return f"the service account's CA file {os.path.join(SERVICEACCOUNT_DIR, 'ca.crt')}"
    env = dict(os.environ if environ is None else environ)
    try:
        if len(conn.config_files) == 1:
            config = kc.load(conn.config_files[0], env)
        else:
            config = kc.load(None, {**env, "KUBECONFIG": os.pathsep.join(conn.config_files)})
        cluster = config.clusters.get(conn.cluster) or {}
    except Exception:  # noqa: BLE001 - the connection was built from it; describing it is best effort
        cluster = {}
    where = f'cluster "{conn.cluster}"'
    if cluster.get("certificate-authority-data"):
        return f"certificate-authority-data of {where}"
    if cluster.get("certificate-authority"):
        return f"certificate-authority {cluster['certificate-authority']} of {where}"
    return ""


def _name(rdns) -> str:
    """ "CN=ktopui-sim-ca" from the ssl module's subject tuples (or the first attributes)."""
    pairs = [pair for rdn in rdns for pair in rdn]
    for key, value in pairs:
        if key == "commonName":
            return f"CN={value}"
    return ", ".join(f"{k}={v}" for k, v in pairs[:2]) or "an unnamed certificate"


def trusted(conn: ClusterConnection, environ=None) -> str:
    """What the client trusts: "CN=ktopui-sim-ca from certificate-authority-data of cluster "sim"",
    "the system's trusted roots (144 certificates; no certificate-authority in the kubeconfig)"."""
    if conn.insecure:
        return "nothing: insecure-skip-tls-verify is set, the server's certificate is not checked"
    source = ca_source(conn, environ)
    try:
        cas = conn.ssl_context.get_ca_certs()
    except (ssl.SSLError, AttributeError):
        cas = []
    if not source:
        count = f"{len(cas)} certificates; " if cas else ""
        return f"the system's trusted roots ({count}no certificate-authority in the kubeconfig)"
    if not cas:
        return source
    if len(cas) > MAX_NAMED_CAS:
        return f"{len(cas)} certificates from {source}"
    return f"{', '.join(_name(ca.get('subject', ())) for ca in cas)} from {source}"


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    subject: str
    issuer: str
    names: list[str]  # subjectAltName entries: "DNS:kubernetes", "IP:10.0.0.1"
    not_after: str  # "2027-01-01 00:00 UTC"
    expired: bool

    def describe(self) -> str:
        valid = f"valid for {', '.join(self.names)}" if self.names else "with no subjectAltName"
        until = f"expired {self.not_after}" if self.expired else f"until {self.not_after}"
        return f"{self.subject} issued by {self.issuer}, {valid}, {until}"


async def peer_certificate(conn: ClusterConnection, *, timeout: float = 5.0) -> PeerCertificate | None:
    """The certificate the server presents, fetched without verifying it (None if that fails,
    or if a proxy stands between: the probe connects directly)."""
    if conn.proxy or conn.env_proxy:
        return None
    parts = urlsplit(conn.server)
    if parts.scheme != "https" or not parts.hostname:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    name = server_name(conn)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port or 443, ssl=context, server_hostname=name or None),
            timeout)
    except (OSError, ssl.SSLError, TimeoutError):
        return None
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
    return _describe(der) if der else None


def _describe(der: bytes) -> PeerCertificate | None:
    import datetime

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None

    def name(n: x509.Name) -> str:
        cns = n.get_attributes_for_oid(NameOID.COMMON_NAME)
        return f"CN={cns[0].value}" if cns else (n.rfc4514_string() or "an empty name")

    names: list[str] = []
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [f"DNS:{d}" for d in sans.get_values_for_type(x509.DNSName)]
        names += [f"IP:{ip}" for ip in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    not_after = cert.not_valid_after_utc
    return PeerCertificate(subject=name(cert.subject), issuer=name(cert.issuer), names=names,
                           not_after=not_after.strftime("%Y-%m-%d %H:%M UTC"),
                           expired=not_after < datetime.datetime.now(datetime.UTC))
