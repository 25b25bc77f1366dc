"""A small API server (plain HTTP on 127.0.0.1) with Services and their service proxy, for discovery.

Services are listed with label selectors as the API server does; the proxy path
`/api/v1/namespaces/NS/services/[https:]NAME:PORT/proxy/REST` answers with the
`backends` reply for (namespace, name), or 503 as the API server does when
nothing answers behind it. Switches: `forbid_list`, `forbid_proxy`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ktopui.sim.selectors import matches, parse_labels
from tests.helpers.prom_api import JSON, Engine

_PROXY = re.compile(r"/api/v1/namespaces/([^/]+)/services/(?:https?:)?([^/:]+)(?::([^/]+))?/proxy(/.*)")


def status(code: int, reason: str, message: str) -> tuple[int, dict, dict]:
    return code, JSON, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": message, "reason": reason, "code": code}


@dataclass
class FakeAPIServer:
    services: list[dict] = field(default_factory=list)
    backends: dict = field(default_factory=dict)  # (namespace, name) -> reply(method, rest, form, headers)
    forbid_list: bool = False
    forbid_proxy: bool = False
    proxied: list[str] = field(default_factory=list)  # the proxy paths asked, in order

    def add_service(self, namespace: str, name: str, labels: dict, ports: list[dict], backend=None) -> None:
        self.services.append({"metadata": {"name": name, "namespace": namespace, "labels": labels},
                              "spec": {"ports": ports}})
        if backend is not None:
            self.backends[(namespace, name)] = backend

    async def reply(self, method, path, form, headers):
        if path == "/api/v1/services":
            if self.forbid_list:
                return status(403, "Forbidden", 'services is forbidden: User "jane" cannot list resource '
                                                '"services" in API group "" at the cluster scope')
            wanted = parse_labels(form.get("labelSelector", ""))
            items = [s for s in self.services if matches(wanted, s["metadata"]["labels"])]
            return 200, JSON, {"kind": "ServiceList", "apiVersion": "v1", "metadata": {}, "items": items}
        if proxy := _PROXY.fullmatch(path):
            namespace, name, _port, rest = proxy.groups()
            self.proxied.append(path)
            if self.forbid_proxy:
                return status(403, "Forbidden", f'services "{name}" is forbidden: User "jane" cannot get resource '
                                                f'"services/proxy" in API group "" in the namespace "{namespace}"')
            backend = self.backends.get((namespace, name))
            if backend is None:
                return 503, {"Content-Type": "text/plain"}, b"Error trying to reach service: 'dial tcp: connect: connection refused'"
            return await backend(method, rest, form, headers)
        return status(404, "NotFound", "the server could not find the requested resource")


async def prometheus_answer(method, rest, form, headers):
    """A healthy engine's answer to `query=1` and to the rules probe (no rules)."""
    if form.get("query") == "1":
        return 200, JSON, {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "1"]}}
    return 200, JSON, {"status": "success", "data": {"resultType": "vector", "result": []}}


def serve(fake: FakeAPIServer) -> Engine:
    return Engine(fake.reply)
