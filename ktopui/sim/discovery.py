"""Version and legacy discovery documents, plus the APIService objects that register
the groups. Only groups the simulator serves are listed, since kubectl fetches the
resource list of every advertised group version."""

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


# group -> (version, resources); listed in /apis in this order (aggregated groups last).
GROUPS: dict[str, tuple[str, list[dict]]] = {
    "apiregistration.k8s.io": ("v1", [
        {"name": "apiservices", "singularName": "apiservice", "namespaced": False, "kind": "APIService",
         "verbs": _RW, "categories": ["api-extensions"], "storageVersionHash": "InPBPD7+PqM="},
        {"name": "apiservices/status", "singularName": "", "namespaced": False, "kind": "APIService",
         "verbs": ["get", "patch", "update"]},
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
]


def version() -> bytes:
    return encode(VERSION)


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


def apiservice(name: str, created: float, rv: int, *, available: bool = True) -> dict:
    """An APIService object: local ones for built-in groups, a service-backed one for metrics."""
    version, _, group_name = name.partition(".")
    spec: dict
    if group_name == METRICS_GROUP:
        spec = {"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
                "group": group_name, "version": version, "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100, "versionPriority": 100}
        url = "https://10.128.1.7:10250/apis/metrics.k8s.io/v1beta1"
        condition = ({"type": "Available", "status": "True", "lastTransitionTime": q.rfc3339(created),
                      "reason": "Passed", "message": "all checks passed"} if available else
                     {"type": "Available", "status": "False", "lastTransitionTime": q.rfc3339(created),
                      "reason": "FailedDiscoveryCheck",
                      "message": f'failing or missing response from {url}: Get "{url}": '
                                 "dial tcp 10.128.1.7:10250: connect: connection refused"})
        labels = {"k8s-app": "metrics-server"}
    else:
        spec = {"group": group_name, "version": version, "groupPriorityMinimum": 17800 if group_name else 18000,
                "versionPriority": 15 if group_name else 1}
        if not group_name:
            del spec["group"]
        condition = {"type": "Available", "status": "True", "lastTransitionTime": q.rfc3339(created),
                     "reason": "Local", "message": "Local APIServices are always available"}
        labels = {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    return {"metadata": {"name": name, "uid": _uid(name), "resourceVersion": str(rv),
                         "creationTimestamp": q.rfc3339(created), "labels": labels},
            "spec": spec, "status": {"conditions": [condition]}}


def apiservice_names(with_metrics: bool) -> list[str]:
    names = ["v1.", "v1.apiregistration.k8s.io", "v1.authorization.k8s.io"]
    return names + (["v1beta1.metrics.k8s.io"] if with_metrics else [])


def _uid(name: str) -> str:
    h = hashlib.sha256(name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
