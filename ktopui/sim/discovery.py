"""Version and legacy discovery documents, plus the APIService objects that register
the groups. Only groups and resources the simulator serves are listed, since kubectl
fetches the resource list of every advertised group version.

The metrics APIService's `Available` condition is worded as kube-aggregator's
availability controller words it (kubernetes/kube-aggregator
pkg/controllers/status/remote/remote_available_controller.go, 1.33 texts)."""

from __future__ import annotations

import hashlib

import msgspec

from ktopui.sim import quantities as q

encode = msgspec.json.Encoder().encode

VERSION = {
    "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
    "gitVersion": "v1.33.1", "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828", "gitTreeState": "clean",
    "buildDate": "2025-05-15T08:19:08Z", "goVersion": "go1.24.2", "compiler": "gc", "platform": "linux/amd64",
}

METRICS_GROUP = "metrics.k8s.io"
_RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _gv(group: str, version: str) -> dict:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _group(name: str, version: str) -> dict:
    return {"name": name, "versions": [_gv(name, version)], "preferredVersion": _gv(name, version)}


def _served(name: str, kind: str, short: str | None, version_hash: str, all_category: bool = True) -> dict:
    """A built-in resource's discovery entry (its subresources are not served, so not listed)."""
    doc: dict = {"name": name, "singularName": name[:-1], "namespaced": True, "kind": kind, "verbs": _RW}
    if short:
        doc["shortNames"] = [short]
    if all_category:
        doc["categories"] = ["all"]
    doc["storageVersionHash"] = version_hash
    return doc


# The Argo Rollouts CRD: its group is served by the apiextensions server, with a CRD's verbs.
ROLLOUTS_GROUP = "argoproj.io"

# group -> (version, resources); listed in /apis in this order (CRD groups, then aggregated ones, last).
GROUPS: dict[str, tuple[str, list[dict]]] = {
    "apiregistration.k8s.io": ("v1", [
        {"name": "apiservices", "singularName": "apiservice", "namespaced": False, "kind": "APIService",
         "verbs": _RW, "categories": ["api-extensions"], "storageVersionHash": "InPBPD7+PqM="},
        {"name": "apiservices/status", "singularName": "", "namespaced": False, "kind": "APIService",
         "verbs": ["get", "patch", "update"]},
    ]),
    "apps": ("v1", [
        _served("daemonsets", "DaemonSet", "ds", "dd7pWHUlMKQ="),
        _served("deployments", "Deployment", "deploy", "8aSe+NMegvE="),
        _served("replicasets", "ReplicaSet", "rs", "P1RzHs8/mWQ="),
        _served("statefulsets", "StatefulSet", "sts", "H+vl74LkKdo="),
    ]),
    "authentication.k8s.io": ("v1", [
        {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": False,
         "kind": "SelfSubjectReview", "verbs": ["create"]},
        {"name": "tokenreviews", "singularName": "tokenreview", "namespaced": False, "kind": "TokenReview",
         "verbs": ["create"]},
    ]),
    "authorization.k8s.io": ("v1", [
        {"name": "localsubjectaccessreviews", "singularName": "localsubjectaccessreview", "namespaced": True,
         "kind": "LocalSubjectAccessReview", "verbs": ["create"]},
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
        {"name": "selfsubjectrulesreviews", "singularName": "selfsubjectrulesreview", "namespaced": False,
         "kind": "SelfSubjectRulesReview", "verbs": ["create"]},
        {"name": "subjectaccessreviews", "singularName": "subjectaccessreview", "namespaced": False,
         "kind": "SubjectAccessReview", "verbs": ["create"]},
    ]),
    "batch": ("v1", [
        _served("cronjobs", "CronJob", "cj", "sd5LIXh4Fjs="),
        _served("jobs", "Job", None, "mudhfqk/qZY="),
    ]),
    ROLLOUTS_GROUP: ("v1alpha1", [
        {"name": "rollouts", "singularName": "rollout", "namespaced": True, "kind": "Rollout",
         "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
         "shortNames": ["ro"], "storageVersionHash": "xS8GYh6AdT8="},
    ]),
    # metrics-server's own document: no singular names, get and list only.
    METRICS_GROUP: ("v1beta1", [
        {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
    ]),
}

CORE_RESOURCES = [
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"],
     "storageVersionHash": "Q3oi5N2YM8M="},
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "verbs": _RW,
     "shortNames": ["no"], "storageVersionHash": "XwShjMxG9Fs="},
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": _RW,
     "shortNames": ["po"], "categories": ["all"], "storageVersionHash": "xPOwRZ+Yhw8="},
    _served("replicationcontrollers", "ReplicationController", "rc", "Jond2If31h0="),
    _served("resourcequotas", "ResourceQuota", "quota", "8uhSgffRX6w=", all_category=False),
    # Served for reading only (what is exposed is added by tests and the demo, see services.py).
    {"name": "services", "singularName": "service", "namespaced": True, "kind": "Service", "verbs": ["get", "list"],
     "shortNames": ["svc"], "categories": ["all"], "storageVersionHash": "0/CO1lhkEBI="},
    {"name": "services/proxy", "singularName": "", "namespaced": True, "kind": "ServiceProxyOptions",
     "verbs": ["create", "delete", "get", "patch", "update"]},
    {"name": "nodes/proxy", "singularName": "", "namespaced": False, "kind": "NodeProxyOptions",
     "verbs": ["create", "delete", "get", "patch", "update"]},
]


def version(git_version: str | None = None) -> bytes:
    return encode({**VERSION, "gitVersion": git_version} if git_version else VERSION)


def api_versions(server_address: str) -> bytes:
    return encode({"kind": "APIVersions", "versions": ["v1"],
                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})


def group_list(with_metrics: bool) -> bytes:
    groups = [_group(name, version) for name, (version, _) in GROUPS.items()
              if with_metrics or name != METRICS_GROUP]
    return encode({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})


def group(name: str) -> bytes:
    return encode({"kind": "APIGroup", "apiVersion": "v1", **_group(name, GROUPS[name][0])})


def resource_list(group_version: str, resources: list[dict]) -> bytes:
    return encode({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                   "resources": resources})


# Where metrics-server is registered (manifests/base/apiservice.yaml) and what the
# aggregator probes: the Service's cluster IP and port (no --enable-aggregator-routing).
METRICS_SERVICE = ("kube-system", "metrics-server", 443, "https")  # namespace, name, port, port name
METRICS_SERVICE_IP = "10.96.152.64"
METRICS_DISCOVERY_URL = f"https://{METRICS_SERVICE_IP}:443/apis/metrics.k8s.io/v1beta1"
# What the aggregator's proxy answers (503, text/plain) when the APIService is still
# Available but the proxied connection fails (handler_proxy.go responder.Error).
METRICS_PROXY_ERROR = f"dial tcp {METRICS_SERVICE_IP}:443: connect: connection refused"

# Reasons of a False `Available` condition, and "Passed" (True: all checks passed).
APISERVICE_REASONS = ("Passed", "ServiceNotFound", "ServiceAccessError", "ServicePortError", "EndpointsNotFound",
                      "EndpointsAccessError", "MissingEndpoints", "FailedDiscoveryCheck")


def metrics_condition_message(reason: str, *, bad_status: int | None = None) -> str:
    """The availability controller's message for `reason` about metrics-server's Service.
    FailedDiscoveryCheck is a refused connection unless `bad_status` (the HTTP status the
    probe got, e.g. 403 when metrics-server cannot authenticate the aggregator) is given."""
    ns, name, port, port_name = METRICS_SERVICE
    url = METRICS_DISCOVERY_URL
    messages = {
        "Passed": "all checks passed",
        "ServiceNotFound": f'service/{name} in "{ns}" is not present',
        "ServiceAccessError": f'service/{name} in "{ns}" cannot be checked due to: '
                              f'services "{name}" is forbidden: User "system:apiserver" cannot get resource '
                              f'"services" in API group "" in the namespace "{ns}"',
        "ServicePortError": f'service/{name} in "{ns}" is not listening on port {port}',
        "EndpointsNotFound": f'cannot find endpoints for service/{name} in "{ns}"',
        "EndpointsAccessError": f'service/{name} in "{ns}" cannot be checked due to: '
                                f'endpoints "{name}" is forbidden: User "system:apiserver" cannot get resource '
                                f'"endpoints" in API group "" in the namespace "{ns}"',
        "MissingEndpoints": f'endpoints for service/{name} in "{ns}" have no addresses with port name "{port_name}"',
    }
    if reason == "FailedDiscoveryCheck":
        if bad_status is not None:
            return f"failing or missing response from {url}: bad status from {url}: {bad_status}"
        return (f'failing or missing response from {url}: Get "{url}": '
                f"dial tcp {METRICS_SERVICE_IP}:443: connect: connection refused")
    if reason not in messages:
        raise ValueError(f"unknown APIService condition reason {reason!r}; one of {', '.join(APISERVICE_REASONS)}")
    return messages[reason]


# (groupPriorityMinimum, versionPriority) of the local APIServices (kube-aggregator's apiVersionPriorities;
# a CRD's group gets 1000/100).
_PRIORITIES = {"": (18000, 1), "apps": (17800, 15), "authentication.k8s.io": (17700, 15),
               "authorization.k8s.io": (17600, 15), "batch": (17400, 15), "apiregistration.k8s.io": (17300, 15),
               ROLLOUTS_GROUP: (1000, 100)}


def apiservice(name: str, created: float, rv: int, *, available: bool = True, reason: str | None = None,
               message: str | None = None, since: float | None = None) -> dict:
    """An APIService object: local ones for built-in groups, a service-backed one for metrics.
    For metrics, `reason`/`message` set the Available condition (default: Passed when
    `available`, else FailedDiscoveryCheck with a refused connection) and `since` its
    lastTransitionTime (default: `created`)."""
    version, _, group_name = name.partition(".")
    spec: dict
    if group_name == METRICS_GROUP:
        ns, service, port, _ = METRICS_SERVICE
        spec = {"service": {"namespace": ns, "name": service, "port": port},
                "group": group_name, "version": version, "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100, "versionPriority": 100}
        reason = reason or ("Passed" if available else "FailedDiscoveryCheck")
        condition = {"type": "Available", "status": "True" if reason == "Passed" else "False",
                     "lastTransitionTime": q.rfc3339(created if since is None else since), "reason": reason,
                     "message": message or metrics_condition_message(reason)}
        labels = {"k8s-app": "metrics-server"}
    else:
        group_priority, version_priority = _PRIORITIES.get(group_name, (17800, 15))
        spec = {"group": group_name, "version": version, "groupPriorityMinimum": group_priority,
                "versionPriority": version_priority}
        if not group_name:
            del spec["group"]
        condition = {"type": "Available", "status": "True", "lastTransitionTime": q.rfc3339(created),
                     "reason": "Local", "message": "Local APIServices are always available"}
        # Built-in groups are registered at start; a CRD's group by the CRD registration controller.
        labels = {"kube-aggregator.kubernetes.io/automanaged": "true" if group_name == ROLLOUTS_GROUP else "onstart"}
    return {"metadata": {"name": name, "uid": _uid(name), "resourceVersion": str(rv),
                         "creationTimestamp": q.rfc3339(created), "labels": labels},
            "spec": spec, "status": {"conditions": [condition]}}


def apiservice_names(with_metrics: bool) -> list[str]:
    names = ["v1.", "v1.apiregistration.k8s.io", "v1.apps", "v1.authentication.k8s.io", "v1.authorization.k8s.io",
             "v1.batch", f"v1alpha1.{ROLLOUTS_GROUP}"]
    return names + (["v1beta1.metrics.k8s.io"] if with_metrics else [])


def _uid(name: str) -> str:
    h = hashlib.sha256(name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
