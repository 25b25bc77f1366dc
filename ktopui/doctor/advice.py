"""The next step for each problem the checks can find, in words a person can act on.

The metrics API texts follow what kube-aggregator reports (SPEC Part B §4): the
APIService `v1beta1.metrics.k8s.io` and the reason of its `Available`
condition (kube-aggregator pkg/controllers/status/remote/remote_available_controller.go).
"""

from __future__ import annotations

import re
import shlex

METRICS_APISERVICE = "v1beta1.metrics.k8s.io"
METRICS_SERVER_MANIFEST = "https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml"

INSTALL_METRICS_SERVER = (
    f"Install metrics-server: `kubectl apply -f {METRICS_SERVER_MANIFEST}` (or your distribution's add-on, "
    "e.g. `minikube addons enable metrics-server`), then wait until "
    f"`kubectl get apiservice {METRICS_APISERVICE}` shows AVAILABLE True."
)
INSPECT_APISERVICE = f"`kubectl get apiservice {METRICS_APISERVICE} -o yaml` (its Available condition says why)"
CHECK_POD = ("`kubectl -n kube-system get pods -l k8s-app=metrics-server` and "
             "`kubectl -n kube-system logs deploy/metrics-server`")
KUBELET_FLAGS = (
    "If the log shows errors scraping the kubelets (x509 certificate errors, `no such host`, timeouts to "
    "port 10250), fix metrics-server's `--kubelet-*` flags: `--kubelet-preferred-address-types=InternalIP,"
    "ExternalIP,Hostname`, and `--kubelet-insecure-tls` on test clusters whose kubelets have self-signed "
    "serving certificates (better: serving certificates signed by the cluster CA)."
)
AGGREGATION_LAYER = (
    "The aggregation layer is not (fully) configured: metrics-server cannot authenticate kube-apiserver's "
    "proxied requests. Start kube-apiserver with `--requestheader-client-ca-file`, "
    "`--requestheader-allowed-names=front-proxy-client`, `--requestheader-username-headers=X-Remote-User`, "
    "`--requestheader-group-headers=X-Remote-Group`, `--requestheader-extra-headers-prefix=X-Remote-Extra-`, "
    "`--proxy-client-cert-file` and `--proxy-client-key-file` (kubeadm sets them by default), and let "
    "metrics-server read ConfigMap kube-system/extension-apiserver-authentication (a RoleBinding to Role "
    "`extension-apiserver-authentication-reader`, part of metrics-server's manifest). metrics-server's log "
    "mentions `requestheader-client-ca-file` when this is the problem."
)

_BAD_STATUS = re.compile(r"bad status from \S+: (\d{3})")
_NETWORK_WORDS = ("connection refused", "no route to host", "i/o timeout", "timed out", "deadline exceeded",
                  "network is unreachable", "connection reset")


def service_name(apiservice: dict) -> str:
    """ "kube-system/metrics-server" from spec.service ("" for a local APIService)."""
    service = (apiservice.get("spec") or {}).get("service") or {}
    if not isinstance(service, dict) or not service.get("name"):
        return ""
    return f"{service.get('namespace') or 'default'}/{service['name']}"


def apiservice_reason(reason: str, message: str, service: str, *, status: str = "False") -> str:
    """The next step for an APIService whose Available condition has this reason and message."""
    service = service or "the metrics-server Service"
    if reason == "ServiceNotFound":
        return (f"The APIService points at service {service}, which does not exist: metrics-server was removed "
                f"or installed under another name. Reinstall it (`kubectl apply -f {METRICS_SERVER_MANIFEST}`) "
                "or correct spec.service of the APIService.")
    if reason == "ServicePortError":
        return (f"Service {service} does not expose the port the APIService names: make the Service's port match "
                "spec.service.port of the APIService (metrics-server's manifest uses port 443, targetPort https).")
    if reason in ("ServiceAccessError", "EndpointsAccessError"):
        return ("kube-apiserver itself cannot read the Service or its endpoints (the error is quoted above): "
                "check kube-apiserver's logs and its own permissions.")
    if reason in ("MissingEndpoints", "EndpointsNotFound"):
        return (f"No ready metrics-server pod backs service {service}. Check {CHECK_POD}. A pod that runs but is "
                f"not Ready usually cannot scrape the kubelets. {KUBELET_FLAGS}")
    if reason == "FailedDiscoveryCheck":
        return failed_discovery_check(message)
    if status == "True":
        return (f"The APIService says Available but the request failed just now: metrics-server may have gone "
                f"away since kube-apiserver last checked it. Check {CHECK_POD}, then run `ktopui doctor` again.")
    return (f"kube-apiserver has not (yet) reported why the APIService is unavailable: wait a minute and run "
            f"`ktopui doctor` again, and meanwhile check {CHECK_POD}.")


def failed_discovery_check(message: str) -> str:
    """FailedDiscoveryCheck: what the probe of GET <service>/apis/metrics.k8s.io/v1beta1 ran into."""
    lower = message.lower()
    bad = _BAD_STATUS.search(message)
    code = int(bad.group(1)) if bad else None
    if code in (401, 403):
        return f"metrics-server answered the availability check with {code}. {AGGREGATION_LAYER}"
    if code == 404:
        return ("Something answered 404 for /apis/metrics.k8s.io/v1beta1: the Service does not lead to "
                "metrics-server. Check the Service's selector and targetPort, and that the pods behind it are "
                f"metrics-server ({CHECK_POD}).")
    if "x509" in lower or "certificate" in lower or "tls" in lower:
        return ("kube-apiserver does not accept metrics-server's serving certificate: set "
                "`insecureSkipTLSVerify: true` (as metrics-server's manifest does) or the right `caBundle` "
                "on the APIService.")
    if code is not None:
        return f"metrics-server answered the availability check with {code}: read its log ({CHECK_POD})."
    if any(word in lower for word in _NETWORK_WORDS):
        return ("kube-apiserver cannot reach metrics-server. Check that the pod is running and Ready "
                f"({CHECK_POD}) and that its `--secure-port` matches the Service's targetPort. If it is, the "
                "control plane cannot reach the pod network: allow the control plane to reach the metrics-server "
                "pods (firewall rules, security groups, NetworkPolicies; port 10250 or 4443), or run "
                "metrics-server with `hostNetwork: true`, or start kube-apiserver with "
                "`--enable-aggregator-routing=true`.")
    return f"Read metrics-server's log ({CHECK_POD}) and {INSPECT_APISERVICE}."


def rbac(verb: str, resource: str, namespace: str, who: str) -> str:
    """How to get `verb` on `resource` ("pods", "pods.metrics.k8s.io") in `namespace` ("" = cluster-wide).

    The user name comes from the server and the namespace from the user: both are
    quoted for a shell, so pasting a suggested command never runs what they hold."""
    subject = f"--user={shlex.quote(who)}" if who else "--user=<your user>"
    if namespace:
        in_namespace = f"-n {shlex.quote(namespace)}"
        can_i = f"`kubectl auth can-i {verb} {resource} {in_namespace}`"
        grant = (f"for example `kubectl create rolebinding ktopui-view --clusterrole=view {subject} {in_namespace}` "
                 "(the built-in `view` role includes pods and, with metrics-server's manifest, pod metrics)")
        where = f'in namespace "{namespace}"'
    else:
        can_i = f"`kubectl auth can-i {verb} {resource}" + (" --all-namespaces`" if "pods" in resource else "`")
        grant = ("for example `kubectl create clusterrole ktopui-reader --verb=get,list,watch "
                 "--resource=nodes,pods,namespaces,nodes.metrics.k8s.io,pods.metrics.k8s.io` and "
                 f"`kubectl create clusterrolebinding ktopui-reader --clusterrole=ktopui-reader {subject}`")
        where = "cluster-wide"
    return (f"Ask a cluster admin for RBAC permission to {verb} {resource} {where}: {grant}. "
            f"Check with {can_i}.")


def list_only(resource: str, count: int | None, every: float) -> str:
    """What it costs that `resource` may be listed but not watched."""
    what = f"all {count} {resource}" if count is not None else f"all {resource} in scope"
    return (f"Without it ktopui lists {what} again every {every:.0f}s, a full LIST each time instead of a "
            f"stream of changes: more load on the API server, and changes shown up to {every:.0f}s late.")


def unauthorized(auth_method: str, user: str) -> str:
    """A 401: what to renew, by how the kubeconfig user authenticates."""
    whose = f'user "{user}"' if user else "this context's user"
    method = auth_method.lower()
    if "exec plugin" in method:
        return (f"The credential plugin of {whose} returned a credential the server rejects, even after running "
                "it again: log in again with the tool behind the plugin (e.g. `gcloud auth login`, "
                "`aws sso login`, `az login`, `kubelogin`) and re-run.")
    if "oidc" in method:
        return f"The OIDC token of {whose} was rejected: log in to your identity provider again."
    if "token" in method:
        return (f"The token of {whose} has expired or was revoked: get a new one (re-run your provider's "
                "get-credentials or login command, or ask your cluster admin) and update the kubeconfig.")
    if "basic auth" in method:
        return ("The username/password was rejected (basic authentication is no longer supported by Kubernetes "
                "since 1.19): use a token, a client certificate or a credential plugin.")
    if "cert" in method or "cn=" in method:
        return (f"The client certificate of {whose} was rejected: it has expired or is not signed by a CA the "
                "cluster trusts. Get a new one from your cluster admin (kubeadm: `kubeadm kubeconfig user`).")
    return (f"The server rejected the credentials of {whose}: log in again, or check the user entry of this "
            "context in your kubeconfig.")
