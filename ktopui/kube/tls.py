"""TLS for one cluster: trusted roots, server name, client certificate.

Follows client-go transport.TLSConfigFor: the kubeconfig CA replaces the
system roots, insecure-skip-tls-verify cannot be combined with a CA, and
tls-server-name is the name used for SNI and certificate verification.
"""

from __future__ import annotations

import os
import ssl
import tempfile

from ktopui.kube.errors import ConfigError


class KubeSSLContext(ssl.SSLContext):
    """An SSLContext for one cluster.

    `server_name` (kubeconfig tls-server-name) is, like Go's
    tls.Config.ServerName, sent in SNI and checked against the server
    certificate whatever host the connection dials. Pinning it on the context
    rather than per request (httpcore's `sni_hostname` extension) keeps it
    working through HTTP CONNECT proxies, where httpcore ignores that
    extension.

    `cert_generation` counts client certificates loaded; exec plugins rotate
    them and the transport then stops reusing connections that present the
    old one.
    """

    server_name: str | None = None
    cert_generation: int = 0

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        return super().wrap_socket(sock, server_side, do_handshake_on_connect, suppress_ragged_eofs,
                                   self.server_name or server_hostname, session)

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        return super().wrap_bio(incoming, outgoing, server_side, self.server_name or server_hostname, session)

    def load_client_cert(self, cert_pem: bytes, key_pem: bytes) -> None:
        """Present this certificate from now on.

        The ssl module only loads keys from files: the PEM goes through a
        private (0600) temporary file that is deleted right after loading.
        """
        fd, path = tempfile.mkstemp(prefix="ktopui-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(cert_pem.rstrip(b"\n") + b"\n" + key_pem)
            self.load_cert_chain(path)
        finally:
            os.unlink(path)
        self.cert_generation += 1

    def load_client_cert_files(self, cert_file: str, key_file: str) -> None:
        self.load_cert_chain(cert_file, key_file)
        self.cert_generation += 1


def build_context(*, ca_pem: bytes | None, insecure: bool, server_name: str | None,
                  where: str) -> KubeSSLContext:
    """The context verifying a cluster's server (`where` names it in errors)."""
    if insecure and ca_pem:
        raise ConfigError("specifying a root certificates file with the insecure flag is not allowed",
                          hint=f"{where} sets insecure-skip-tls-verify together with a certificate authority.")
    ctx = KubeSSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # Go's client default
    ctx.server_name = server_name or None
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_pem:
        try:
            ctx.load_verify_locations(cadata=ca_pem.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError) as e:
            raise ConfigError(f"unable to load root certificates: {_reason(e)}",
                              hint=f"Certificate authority of {where}.") from None
    else:
        load_system_roots(ctx)
    return ctx


def load_system_roots(ctx: ssl.SSLContext) -> None:
    """The platform's roots, as Go uses; certifi's bundle where Python finds none."""
    ctx.load_default_certs()
    if not ctx.cert_store_stats()["x509_ca"]:
        import certifi

        ctx.load_verify_locations(certifi.where())


def describe_cert(cert_pem: bytes) -> str:
    """ "CN=jane" for display; imported lazily, only configurations with client certificates pay for it."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        return "unparsable certificate"
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return f"CN={names[0].value}" if names else cert.subject.rfc4514_string()


def _reason(e: Exception) -> str:
    return getattr(e, "reason", None) or str(e)
