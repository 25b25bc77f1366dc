"""Credentials that change under a running client: a token vendor and plugins that use it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from helpers.exec_plugins import V1, write_plugin
from helpers.kubeconfigs import write


def sim_kubeconfig(sim, path, *, token=None, client_cert=None, embed_ca=True, cluster=None, user=None):
    """The sim's own kubeconfig, with cluster/user fields changed (None values removed)."""
    sim.write_kubeconfig(path, token=token, client_cert=client_cert, embed_ca=embed_ca)
    doc = yaml.safe_load(path.read_text())
    for section, changes in (("clusters", cluster), ("users", user)):
        body = doc[section][0][section[:-1]]
        for key, value in (changes or {}).items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
    write(path, doc)
    return path



class TokenVendor:
    """What an exec plugin talks to (its identity provider): mints short-lived sim tokens or certificates."""

    def __init__(self, sim) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if q.get("kind") == "cert":
                    cert, key = sim.issue_client_cert(q["user"])
                    body = {"clientCertificateData": cert.decode(), "clientKeyData": key.decode()}
                else:
                    body = {"token": sim.issue_token(float(q["ttl"]))}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()



def vending_plugin(path, vendor, *, query: str, expires_in: float | None):
    """A plugin returning what the vendor mints, declaring it valid for `expires_in` seconds."""
    return write_plugin(path, f"""
        import datetime, urllib.request
        status = json.load(urllib.request.urlopen({vendor.url!r} + "/?" + {query!r}))
        with open(LOG.replace(".runs", ".tokens"), "a") as minted:  # for leak checks
            minted.write(json.dumps({{"token": status.get("token", "")}}) + "\\n")
        if {expires_in!r} is not None:
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={expires_in!r})
            status["expirationTimestamp"] = exp.isoformat().replace("+00:00", "Z")
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": status}}))
    """)


