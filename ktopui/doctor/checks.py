"""The checks behind `ktopui doctor`, in the order a request meets the problems:
kubeconfig, connection and TLS, credentials, server version, permissions, reads,
the metrics API and how fresh its numbers are.

Every finding carries the next step a person should take. Nothing here prints,
and no secret (token, key, credential plugin output) is ever put in a finding:
credentials are described by `ClusterConnection.auth_method` only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from ktopui.doctor import advice, metrics
from ktopui.doctor import prometheus as prometheus_checks
from ktopui.doctor import tls as tlsinfo
from ktopui.doctor.findings import FAIL, OK, SKIP, WARN, Finding
from ktopui.kube import errors
from ktopui.kube.api import KubeAPI, Target
from ktopui.kube.connection import ClusterConnection, make_http_client
from ktopui.kube.kubeconfig import NothingConfigured
from ktopui.kube.prometheus_settings import PromSettings
from ktopui.kube.watch import relist_interval
from ktopui.logs import kubeconfig_secrets, redact

Clock = Callable[[], float]

# What ktopui asks the server for: (verb, resource, API group, namespaced, needed).
# Needed ones fail the run when denied; the others only limit a feature.
PERMISSIONS = (
    ("list", "nodes", "", False, True),
    ("watch", "nodes", "", False, False),
    ("list", "pods", "", True, True),
    ("watch", "pods", "", True, False),
    ("list", "nodes", "metrics.k8s.io", False, True),
    ("list", "pods", "metrics.k8s.io", True, True),
    ("list", "namespaces", "", False, False),
)
_NOT_NEEDED = {
    "namespaces": "Without it the namespace picker (`s`) can only offer the namespace you pass with -n.",
}


def scope_text(namespace: str) -> str:
    return f'namespace "{namespace}"' if namespace else "all namespaces"


@dataclass(frozen=True, slots=True)
class Permission:
    verb: str
    resource: str  # "pods"
    group: str  # "" or "metrics.k8s.io"
    namespace: str  # "" = cluster-wide / all namespaces
    needed: bool

    @property
    def full_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def title(self) -> str:
        return f"permission: {self.verb} {self.full_resource}"

    @property
    def where(self) -> str:
        if self.namespace:
            return f'in namespace "{self.namespace}"'
        return "in all namespaces" if self.resource == "pods" else "cluster-wide"


@dataclass(slots=True)
class Decision:
    allowed: bool | None  # None: unknown
    how: str  # "SelfSubjectAccessReview" or the request that showed it
    reason: str = ""


class _Stop(Exception):
    """Nothing further can be checked; the remaining checks are skipped for this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def diagnose(conn: ClusterConnection, *, namespace: str, clock: Clock = time.time,
                   http: httpx.AsyncClient | None = None, timeout: float = 10.0,
                   prometheus: PromSettings | None = None) -> list[Finding]:
    """Every check, in order, for `conn` with `namespace` in scope ("" = all namespaces), and the
    Prometheus section when `prometheus` settings are given.

    `http` reuses a client made by make_http_client (it is left open); without
    one a client with `timeout` seconds per request is made and closed here.
    `clock` is "now" for metrics freshness when the server does not say.
    """
    own = http is None
    client = make_http_client(conn, timeout=timeout) if own else http
    try:
        findings = await _Doctor(conn, namespace, client, clock, prometheus).run()
    finally:
        if own:
            await client.aclose()
    return scrub(findings, kubeconfig_secrets(conn.config_files))


def scrub(findings: list[Finding], secrets: set[str]) -> list[Finding]:
    """Belt and braces: no finding repeats a kubeconfig secret or anything shaped like a credential
    (a server or a plugin could echo one back in an error message)."""
    return [Finding(f.check, f.status, redact(f.detail, secrets), redact(f.next_step, secrets))
            for f in findings]


def config_error(err: errors.KubeError) -> list[Finding]:
    """The findings when the kubeconfig cannot even be loaded (load_connection raised)."""
    text = err.message + (f" ({err.hint})" if err.hint else "")
    if isinstance(err, NothingConfigured):
        first = [Finding("kubeconfig", FAIL, err.message, err.hint)]
    elif isinstance(err, errors.CredentialError):
        first = [Finding("kubeconfig", OK, "loaded"),
                 Finding("credentials", FAIL, text, "Fix the credential the kubeconfig user points at "
                         "(the file must exist and be readable), or log in again.")]
    else:
        first = [Finding("kubeconfig", FAIL, text,
                         "Fix the kubeconfig as the message says: check --kubeconfig, $KUBECONFIG (or "
                         "~/.kube/config) and --context; `kubectl config get-contexts` lists the contexts.")]
    return first + [Finding(title, SKIP, "not checked: no usable kubeconfig") for title in
                    ("connection", "credentials", "metrics API") if title not in {f.check for f in first}]


class _Doctor:
    def __init__(self, conn: ClusterConnection, namespace: str, http: httpx.AsyncClient, clock: Clock,
                 prometheus: PromSettings | None) -> None:
        self.conn = conn
        self.prometheus = prometheus
        self.namespace = namespace
        self.http = http
        self.clock = clock
        self.api = KubeAPI(http, conn.server)
        self.findings: list[Finding] = []
        self.username = ""  # who the server says we are (SelfSubjectReview), when it says
        self.anonymous_version: dict | None = None  # /version as read without credentials

    def add(self, check: str, status: str, detail: str, next_step: str = "") -> None:
        self.findings.append(Finding(check, status, detail, next_step if status != OK else ""))

    async def run(self) -> list[Finding]:
        self.findings.append(self.kubeconfig())
        try:
            self.anonymous_version = await self.connection()
            await self.credentials()
            await self.version(self.anonymous_version)
            await self.namespace_exists()
            decisions = await self.access_reviews()
            reads = await self.core_reads()
            try:
                metrics_state = await metrics.check(self.api, namespace=self.namespace,
                                                    clock=self.clock, node_count=reads.get("nodes"),
                                                    pod_count=reads.get("pods"))
            except errors.Unauthorized:
                raise _Stop("the server stopped accepting the credentials") from None
            self.permissions(decisions, reads, metrics_state)
            self.unexplained_read_errors(decisions, reads)
            self.findings.extend(metrics_state.findings)
            if self.prometheus is not None:
                self.findings.extend(await prometheus_checks.check(self.api, self.prometheus))
        except _Stop as stop:
            done = {f.check for f in self.findings}
            if "server version" not in done and self.anonymous_version is not None:
                await self.version(self.anonymous_version)
                done.add("server version")
            for check in ("connection", "credentials", "server version", "permissions", "metrics API"):
                if check not in done:
                    self.add(check, SKIP, f"not checked: {stop.reason}")
            if self.prometheus is not None:
                self.add(prometheus_checks.SOURCE, SKIP, f"not checked: {stop.reason}")
        return self.findings

    # -- requests of our own (KubeAPI has only the reads) --------------------------

    async def request(self, method: str, path: str, target: Target, *, body: dict | None = None,
                      anonymous: bool = False, params: dict | None = None) -> dict:
        """The decoded JSON answer; a KubeError (as KubeAPI raises them) on failure."""
        kwargs: dict = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        if anonymous:
            kwargs["auth"] = None
        # Bounded like every answer: a hostile server cannot make the doctor a memory hog or hang it.
        content = await self.api.fetch(method, path, target, **kwargs)
        try:
            doc = json.loads(content)
        except (ValueError, RecursionError):  # (RecursionError: nested thousands deep)
            raise errors.MalformedResponse(f"malformed JSON for {target.describe()}") from None
        if not isinstance(doc, dict):
            raise errors.MalformedResponse(f"unexpected response shape for {target.describe()}")
        return doc

    # -- kubeconfig ---------------------------------------------------------------

    def kubeconfig(self) -> Finding:
        c = self.conn
        files = ", ".join(c.config_files) if c.config_files else "none (in-cluster service account)"
        where = (f'context "{c.context}" (cluster "{c.cluster}", user "{c.user}")' if c.context
                 else "the pod's service account")
        if self.namespace and self.namespace == c.namespace:
            source = {"flag": "from -n", "context": "from the context", "in-cluster": "the pod's namespace",
                      "default": "default"}.get(c.namespace_source, c.namespace_source)
            scope = f"{scope_text(self.namespace)} ({source})"
        else:
            scope = scope_text(self.namespace)
        detail = f"{files}; {where}; server {tlsinfo.redact_url(c.server)}; {scope}"
        if not c.warnings:
            return Finding("kubeconfig", OK, detail)
        detail += "; warnings: " + "; ".join(c.warnings)
        if any("insecure-skip-tls-verify" in w for w in c.warnings):
            step = (f'Put the cluster\'s CA in certificate-authority-data of cluster "{c.cluster}" and remove '
                    "insecure-skip-tls-verify: without it anyone on the network path can impersonate the server.")
        else:
            step = "Fix the kubeconfig entries the warnings name."
        return Finding("kubeconfig", WARN, detail, step)

    # -- connection and TLS -------------------------------------------------------

    async def connection(self) -> dict | None:
        """Reach the server without credentials (GET /version): DNS, TCP, proxy, TLS.
        Returns the version document when it was readable anonymously."""
        c = self.conn
        via = f" through proxy {tlsinfo.redact_url(c.proxy or c.env_proxy or '')}" if (c.proxy or c.env_proxy) else ""
        if c.server.startswith("https://"):
            security = (f"TLS, server name {tlsinfo.server_name(c)}"
                        f"{' (tls-server-name)' if c.tls_server_name else ''}, trusting {tlsinfo.trusted(c)}")
        else:
            security = "plain http: nothing is encrypted and the server is not verified"
        target = Target("get", "version")
        try:
            version = await self.request("GET", "/version", target, anonymous=True)
        except errors.APIError:  # any HTTP answer means the server is reachable and TLS is fine
            version = None
        except errors.TLSError as err:
            await self.tls_failure(err, security, via)
            raise _Stop("the TLS handshake with the server fails") from None
        except errors.TransportError as err:
            self.add("connection", FAIL, f"{tlsinfo.redact_url(c.server)}{via}: {err.message}",
                     self.unreachable_step(err))
            raise _Stop("the server cannot be reached") from None
        except (errors.MalformedResponse, errors.ResponseTooLarge):  # (an answer, however bad)
            version = None
        plain = not c.server.startswith("https://")
        self.add("connection", WARN if plain else OK, f"{tlsinfo.redact_url(c.server)}{via} answers; {security}",
                 "Use the API server's https address, with its CA in certificate-authority-data." if plain else "")
        return version

    def unreachable_step(self, err: errors.KubeError) -> str:
        c = self.conn
        files = ", ".join(c.config_files) or "the in-cluster configuration"
        proxy = c.proxy or c.env_proxy
        if proxy:
            network = (f"check that proxy {tlsinfo.redact_url(proxy)} is running and allows CONNECT to the server "
                       "(proxy-url of the cluster, or HTTPS_PROXY/NO_PROXY)")
        else:
            network = ("if the cluster is only reachable over a VPN, a bastion or a proxy, connect first "
                       "(or set proxy-url for the cluster)")
        if isinstance(err, errors.RequestTimeout):
            return (f"The server did not answer in time: check the network path to {tlsinfo.redact_url(c.server)} "
                    f"(firewalls, security groups), {network}; an overloaded API server can also be the cause.")
        return (f"Check that the cluster is running and that {tlsinfo.redact_url(c.server)} is its address "
                f'(server of cluster "{c.cluster}" in {files}); {network}.')

    async def tls_failure(self, err: errors.TLSError, security: str, via: str) -> None:
        c = self.conn
        name = tlsinfo.server_name(c)
        peer = await tlsinfo.peer_certificate(c)
        presented = f"; the server presents {peer.describe()}" if peer else ""
        detail = f"{tlsinfo.redact_url(c.server)}{via}: {err.message.rstrip('.')}; {security}{presented}"
        text = err.message.lower()
        where = f'cluster "{c.cluster}"' if c.cluster else "the cluster"
        if "mismatch" in text or "doesn't match" in text or "not valid for" in text:
            valid = f" (it is valid for {', '.join(peer.names)})" if peer and peer.names else ""
            step = (f"The server's certificate is not valid for the name {name}{valid}: use a server URL whose host "
                    f"the certificate names, or set tls-server-name of {where} to one of its names.")
        elif "expired" in text or (peer is not None and peer.expired):
            step = ("The server's certificate has expired: renew it (kubeadm: `kubeadm certs renew apiserver`), "
                    "or check that this machine's clock is right.")
        elif any(w in text for w in ("issuer", "self-signed", "self signed", "unknown ca", "unable to get")):
            issuer = f", issued by {peer.issuer}," if peer else ""
            step = (f"The server's certificate{issuer} is not signed by a CA you trust; you trust "
                    f"{tlsinfo.trusted(c)}. "
                    f"Put the cluster's CA in certificate-authority-data of {where}: get it from your cluster admin "
                    "or re-run your provider's get-credentials command. Do not turn on insecure-skip-tls-verify.")
        else:
            step = (f"Check certificate-authority(-data) and tls-server-name of {where}, and that "
                    f"{tlsinfo.redact_url(c.server)} is the API server and not something in front of it.")
        self.add("connection", FAIL, detail, step)

    # -- credentials --------------------------------------------------------------

    async def credentials(self) -> None:
        """Who the server says we are (SelfSubjectReview, `kubectl auth whoami`); a 401 stops here."""
        c = self.conn
        method = c.auth_method or "none"
        target = Target("create", "selfsubjectreviews.authentication.k8s.io")
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            doc = await self.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", target, body=body)
        except errors.Unauthorized:
            self.add("credentials", FAIL,
                     f'user "{c.user}" authenticates with {method}: the server rejects it (401 Unauthorized)',
                     advice.unauthorized(method, c.user))
            raise _Stop("the server does not accept the credentials") from None
        except errors.CredentialError as err:
            detail = f'user "{c.user}" authenticates with {method}: {err.message}'
            hint = f" {err.hint}" if err.hint else ""
            self.add("credentials", FAIL, detail + hint,
                     "Fix the credential plugin or file the kubeconfig user names (the message above says what "
                     "failed), or log in again with the tool behind it.")
            raise _Stop("no credentials could be obtained") from None
        except (errors.NotFound, errors.Forbidden):
            # Servers before 1.28 have no SelfSubjectReview; a 403 still proves we are authenticated.
            await self.credentials_without_review(method)
            return
        except errors.TransportError as err:
            self.add("credentials", FAIL, err.message, self.unreachable_step(err))
            raise _Stop("the server stopped answering") from None
        except errors.KubeError as err:
            self.add("credentials", WARN, f"{method}; could not ask who you are: {err.message}",
                     "Run `kubectl auth whoami` to see who the server thinks you are.")
            return
        info = (doc.get("status") or {}).get("userInfo") or {}
        self.username = str(info.get("username") or "")
        groups = [g for g in info.get("groups") or [] if isinstance(g, str)]
        who = f"authenticated as {self.username}" + (f" (groups: {', '.join(groups)})" if groups else "")
        if self.username == "system:anonymous":
            self.add("credentials", WARN, f"{method}; the server treats the requests as anonymous",
                     f'Give user "{c.user}" credentials in the kubeconfig (a token, client certificate or '
                     "credential plugin): anonymous users can rarely read nodes or metrics.")
            return
        self.add("credentials", OK, f"{method}; {who}")

    async def credentials_without_review(self, method: str) -> None:
        c = self.conn
        try:
            await self.request("GET", "/apis", Target("get", "apigroups"))
        except errors.Unauthorized:
            self.add("credentials", FAIL,
                     f'user "{c.user}" authenticates with {method}: the server rejects it (401 Unauthorized)',
                     advice.unauthorized(method, c.user))
            raise _Stop("the server does not accept the credentials") from None
        except errors.KubeError:
            pass
        self.add("credentials", OK, f"{method}; accepted (the server did not say who you are)")

    # -- version ------------------------------------------------------------------

    async def version(self, anonymous: dict | None) -> None:
        doc = anonymous
        if doc is None:
            try:
                info = await self.api.version()
                doc = {"gitVersion": info.gitVersion, "platform": info.platform}
            except errors.KubeError as err:
                self.add("server version", WARN, f"could not read /version: {err.message}",
                         "Nothing to do for ktopui; `kubectl version` shows the same.")
                return
        version = str(doc.get("gitVersion") or "unknown")
        platform = f" ({doc['platform']})" if doc.get("platform") else ""
        self.add("server version", OK, f"Kubernetes {version}{platform}")

    # -- namespace --------------------------------------------------------------------

    async def namespace_exists(self) -> None:
        """A namespace in scope that does not exist shows no pods, which reads like an idle cluster."""
        if not self.namespace:
            return
        name = self.namespace
        try:
            await self.request("GET", f"/api/v1/namespaces/{quote(name, safe='')}", Target("get", "namespaces", name=name))
        except errors.NotFound:
            self.add("namespace", FAIL, f'namespace "{name}" does not exist',
                     "Check the name: `kubectl get namespaces` lists them (or pass -A for all namespaces).")
            return
        except errors.Unauthorized:
            raise _Stop("the server stopped accepting the credentials") from None
        except errors.KubeError as err:
            self.add("namespace", SKIP, f'could not check that namespace "{name}" exists: {err.message}')
            return
        self.add("namespace", OK, f'namespace "{name}" exists')

    # -- permissions ------------------------------------------------------------------

    def wanted(self) -> list[Permission]:
        return [Permission(verb, resource, group, self.namespace if namespaced else "", needed)
                for verb, resource, group, namespaced, needed in PERMISSIONS]

    async def access_reviews(self) -> dict[Permission, Decision]:
        """SelfSubjectAccessReview (`kubectl auth can-i`) for each permission, concurrently."""
        wanted = self.wanted()
        answers = await asyncio.gather(*(self.access_review(p) for p in wanted), return_exceptions=True)
        decisions = {}
        failures: list[str] = []
        for perm, answer in zip(wanted, answers):
            if isinstance(answer, errors.Unauthorized):
                raise _Stop("the server stopped accepting the credentials")
            if isinstance(answer, BaseException):
                if not isinstance(answer, errors.KubeError):
                    raise answer
                decisions[perm] = Decision(None, "the server could not be asked")
                if answer.message not in failures:
                    failures.append(answer.message)
            else:
                decisions[perm] = answer
        if failures:
            self.add("access reviews", WARN, "could not ask the server what you may do "
                     f"(SelfSubjectAccessReview): {'; '.join(failures)}",
                     "The permissions below are judged from the requests themselves where possible; "
                     "`kubectl auth can-i` needs the same access review.")
        return decisions

    async def access_review(self, perm: Permission) -> Decision:
        attributes = {"verb": perm.verb, "resource": perm.resource, "group": perm.group}
        if perm.namespace:
            attributes["namespace"] = perm.namespace
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}}
        doc = await self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                 Target("create", "selfsubjectaccessreviews.authorization.k8s.io"), body=body)
        status = doc.get("status") or {}
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return Decision(bool(status.get("allowed")), "SelfSubjectAccessReview", reason)

    async def core_reads(self) -> dict[str, int | None | errors.KubeError]:
        """One-item lists of nodes and pods: proves reads work and counts them (remainingItemCount)."""
        pods = f"/api/v1/namespaces/{self.namespace}/pods" if self.namespace else "/api/v1/pods"
        probes = {"nodes": ("/api/v1/nodes", Target("list", "nodes")),
                  "pods": (pods, Target("list", "pods", self.namespace)),
                  "namespaces": ("/api/v1/namespaces", Target("list", "namespaces"))}

        async def count(path: str, target: Target) -> int | None | errors.KubeError:
            try:
                doc = await self.request("GET", path, target, params={"limit": "1"})
            except errors.KubeError as err:
                return err
            items = doc.get("items") or []
            meta = doc.get("metadata") or {}
            remaining = meta.get("remainingItemCount")
            if isinstance(remaining, int):
                return len(items) + remaining
            return None if meta.get("continue") else len(items)

        results = await asyncio.gather(*(count(path, target) for path, target in probes.values()))
        found = dict(zip(probes, results))
        if any(isinstance(r, errors.Unauthorized) for r in results):
            raise _Stop("the server stopped accepting the credentials")
        return found

    def permissions(self, decisions: dict[Permission, Decision], reads: dict, metrics_state) -> None:
        """One finding per permission; where the server could not be asked, what the reads showed."""
        shown_by = {("list", "nodes"): reads.get("nodes"), ("list", "pods"): reads.get("pods"),
                    ("list", "namespaces"): reads.get("namespaces"),
                    ("list", "nodes.metrics.k8s.io"): metrics_state.node_read,
                    ("list", "pods.metrics.k8s.io"): metrics_state.pod_read}
        who = self.username
        resolution = metrics_state.resolution or 0.0
        for perm, decision in decisions.items():
            if decision.allowed is None:
                read = shown_by.get((perm.verb, perm.full_resource), "unknown")
                if isinstance(read, errors.Forbidden):
                    decision = Decision(False, f"the {perm.verb} request was forbidden", read.message)
                elif isinstance(read, errors.KubeError):
                    decision = Decision(None, f"the {perm.verb} request failed: {read.message}")
                elif read is not None and read != "unknown" and not isinstance(read, errors.KubeError):
                    decision = Decision(True, f"a {perm.verb} request succeeded")
            cost = ""
            if perm.verb == "watch":
                count = reads.get(perm.resource)
                count = count if isinstance(count, int) else None
                cost = advice.list_only(perm.resource, count, relist_interval(count or 0, resolution))
            self.add_permission(perm, decision, who, cost)

    def add_permission(self, perm: Permission, decision: Decision, who: str, cost: str = "") -> None:
        subject = f'user "{who}"' if who else f'kubeconfig user "{self.conn.user}"'
        if decision.allowed is None:
            self.add(perm.title, SKIP, f"not checked {perm.where}: {decision.how}")
            return
        if decision.allowed:
            self.add(perm.title, OK, f"allowed {perm.where}")
            return
        why = f" ({decision.reason})" if decision.reason else ""
        detail = f"denied: {subject} may not {perm.verb} {perm.full_resource} {perm.where}{why}"
        step = advice.rbac(perm.verb, perm.full_resource, perm.namespace, who)
        if perm.needed:
            self.add(perm.title, FAIL, detail, step)
        else:
            self.add(perm.title, WARN, detail, f"{cost or _NOT_NEEDED.get(perm.resource, '')} {step}".strip())

    def unexplained_read_errors(self, decisions: dict[Permission, Decision], reads: dict) -> None:
        """A read that failed for a reason the permission findings do not already give."""
        denied = {(p.verb, p.full_resource) for p, d in decisions.items() if d.allowed is False}
        problems = []
        for resource in ("nodes", "pods"):
            err = reads.get(resource)
            if not isinstance(err, errors.KubeError):
                continue
            if isinstance(err, errors.Forbidden) and ("list", resource) in denied:
                continue
            if isinstance(err, errors.Forbidden):
                problems.append(f"list {resource} was forbidden although the access review allowed it: {err.message}")
            else:
                problems.append(f"list {resource}: {err.message}")
        if problems:
            self.add("reading nodes and pods", FAIL, "; ".join(problems),
                     "Run `kubectl get nodes` and `kubectl get pods` to see the same error; a 5xx points at the "
                     "API server or etcd, a 403 at an admission or authorization webhook.")
