"""Kubernetes JSON for nodes, pods, namespaces and metrics, in Go's field order.

Go encodes struct fields in declaration order and map keys sorted; list items carry no
kind/apiVersion, single objects and watch events do. Items are returned as bytes so
the cluster can cache them and assemble lists with a join.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import msgspec

from ktopui.sim import quantities as q
from ktopui.sim.world import ContainerSpec, Node, Pod, PodResources

encode = msgspec.json.Encoder().encode

# (kind, name, namespace, resource) -> replacement string; set by the invalid-quantity fault.
Overrides = dict[tuple[str, str, str, str], str]


def with_kind(item: bytes, kind: str, api_version: str = "v1") -> bytes:
    return b'{"kind":"%s","apiVersion":"%s",%s' % (kind.encode(), api_version.encode(), item[1:])


class _Metadata(msgspec.Struct):
    metadata: msgspec.Raw


class _EventMetadata(msgspec.Struct):
    type: str
    object: _Metadata


_metadata = msgspec.json.Decoder(_Metadata).decode
_event_metadata = msgspec.json.Decoder(_EventMetadata).decode


def partial_meta(item: bytes) -> bytes:
    """An encoded object's `metadata`, as it stands (what PartialObjectMetadata keeps)."""
    return bytes(_metadata(item).metadata)


def partial_item(meta: bytes, api_version: str) -> bytes:
    """A PartialObjectMetadata of `api_version` (meta.k8s.io/v1 or v1beta1): kind, apiVersion,
    metadata and nothing else, in list items too (apiserver handlers asPartialObjectMetadataList)."""
    return b'{"kind":"PartialObjectMetadata","apiVersion":"%s","metadata":%s}' % (api_version.encode(), meta)


def partial_event(line: bytes, api_version: str = "meta.k8s.io/v1") -> bytes:
    """A watch event line with its object cut down to PartialObjectMetadata."""
    event = _event_metadata(line)
    return b'{"type":"%s","object":%s}\n' % (event.type.encode(),
                                             partial_item(bytes(event.object.metadata), api_version))


def list_doc(kind: str, api_version: str, meta: dict, items: Iterable[bytes]) -> bytes:
    head = b'{"kind":"%s","apiVersion":"%s","metadata":%s,"items":[' % (kind.encode(), api_version.encode(),
                                                                        encode(meta))
    return head + b",".join(items) + b"]}"


def _hex(*parts: object, n: int = 64) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:n]


class Formats:
    """How quantities are spelled: canonical, or (quirky) odd-but-valid per object."""

    def __init__(self, quirky: bool) -> None:
        self.quirky = quirky

    def milli(self, value: int, variant: int) -> str:
        return q.quirky_millicores(value, variant) if self.quirky else q.millicores(value)

    def nbytes(self, value: int, variant: int) -> str:
        if self.quirky:
            return q.quirky_bytes(value, variant)
        for unit, suffix in ((1 << 30, "Gi"), (1 << 20, "Mi"), (10**9, "G"), (10**6, "M"), (1 << 10, "Ki")):
            if value % unit == 0 and value >= unit:  # as a manifest author would write it
                return f"{value // unit}{suffix}"
        return str(value)

    def usage_cpu(self, nanocores: int, variant: int) -> str:
        return q.quirky_cpu(nanocores, variant) if self.quirky else q.cpu(nanocores)

    def usage_memory(self, nbytes: int, variant: int) -> str:
        return q.quirky_memory(nbytes, variant) if self.quirky else q.memory(nbytes)


# ---- nodes -------------------------------------------------------------------------

_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def node_item(node: Node, fmt: Formats, heartbeat: float, overrides: Overrides) -> bytes:
    v = node.quirk
    capacity = {
        "cpu": fmt.milli(node.cpu_cap, v),
        "ephemeral-storage": "104845292Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": fmt.nbytes(node.mem_cap, v) if fmt.quirky else f"{node.mem_cap // 1024}Ki",
        "pods": str(node.max_pods),
    }
    allocatable = {
        "cpu": fmt.milli(node.cpu_alloc, v + 1),
        "ephemeral-storage": "95551679124",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": fmt.nbytes(node.mem_alloc, v + 1) if fmt.quirky else f"{node.mem_alloc // 1024}Ki",
        "pods": str(node.max_pods),
    }
    for resource in ("cpu", "memory"):
        bad = overrides.get(("node", node.name, "", resource))
        if bad is not None:
            capacity[resource] = allocatable[resource] = bad
    beat = q.rfc3339(heartbeat)
    born = q.rfc3339(node.created + 30)
    conditions = [{"type": t, "status": "False", "lastHeartbeatTime": beat, "lastTransitionTime": born,
                   "reason": r, "message": m} for t, r, m in _CONDITIONS]
    if node.ready:
        conditions.append({"type": "Ready", "status": "True", "lastHeartbeatTime": beat,
                           "lastTransitionTime": born, "reason": "KubeletReady",
                           "message": "kubelet is posting ready status"})
    else:
        for c in conditions:
            c.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
        conditions.append({"type": "Ready", "status": "Unknown", "lastHeartbeatTime": beat,
                           "lastTransitionTime": beat, "reason": "NodeStatusUnknown",
                           "message": "Kubelet stopped posting node status."})
    taints = []
    if node.cp_taint:
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    if node.unschedulable:
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                       "timeAdded": q.rfc3339(heartbeat - 3600)})
    if not node.ready:
        taints += [{"key": "node.kubernetes.io/unreachable", "effect": e, "timeAdded": beat}
                   for e in ("NoSchedule", "NoExecute")]
    spec: dict = {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr], "providerID": node.provider_id}
    if node.unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    doc = {
        "metadata": {
            "name": node.name,
            "uid": node.uid,
            "resourceVersion": str(node.rv),
            "creationTimestamp": q.rfc3339(node.created),
            "labels": node.labels,
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": node.ip,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": node.ip},
                {"type": "InternalDNS", "address": node.name},
                {"type": "Hostname", "address": node.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": _hex("machine", node.uid, n=32),
                "systemUUID": "ec2" + _hex("sys", node.uid, n=5) + "-" + node.uid[9:],
                "bootID": _uuid_like("boot" + node.uid),
                "kernelVersion": "6.1.134-152.225.amzn2023.x86_64",
                "osImage": "Amazon Linux 2023.7.20250527",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kubeletVersion": node.kubelet_version,
                "kubeProxyVersion": node.kubelet_version,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }
    return encode(doc)


# ---- pods --------------------------------------------------------------------------

def resources_doc(spec: ContainerSpec | PodResources, fmt: Formats, variant: int, bad: dict[str, str]) -> dict:
    limits, requests = {}, {}
    if spec.cpu_lim is not None:
        limits["cpu"] = fmt.milli(spec.cpu_lim, variant)
    if spec.mem_lim is not None:
        limits["memory"] = fmt.nbytes(spec.mem_lim, variant)
    if spec.cpu_req is not None:
        requests["cpu"] = fmt.milli(spec.cpu_req, variant + 1)
    if spec.mem_req is not None:
        requests["memory"] = fmt.nbytes(spec.mem_req, variant + 1)
    for resource, value in bad.items():
        requests[resource] = value
        if resource in limits:
            limits[resource] = value
    out = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def container_doc(spec: ContainerSpec, fmt: Formats, variant: int, bad: dict[str, str], init: bool) -> dict:
    doc: dict = {"name": spec.name, "image": spec.image, "resources": resources_doc(spec, fmt, variant, bad)}
    if init and spec.restartable:
        doc["restartPolicy"] = "Always"
    doc["terminationMessagePath"] = "/dev/termination-log"
    doc["terminationMessagePolicy"] = "File"
    doc["imagePullPolicy"] = "IfNotPresent"
    return doc


def qos_class(pod: Pod) -> str:
    """core/v1 helper GetPodQOS: no requests or limits anywhere -> BestEffort; every
    container with cpu and memory limits equal to requests -> Guaranteed. Pod-level
    resources, where set, decide alone."""
    level = pod.workload.template.pod_resources
    if level is not None:
        specs: tuple = (level,)
    else:
        specs = pod.workload.template.containers + pod.workload.template.init
    if all(c.cpu_req is None and c.mem_req is None and c.cpu_lim is None and c.mem_lim is None for c in specs):
        return "BestEffort"
    for c in specs:
        if c.cpu_lim is None or c.mem_lim is None:
            return "Burstable"
        if (c.cpu_req is not None and c.cpu_req != c.cpu_lim) or (c.mem_req is not None and c.mem_req != c.mem_lim):
            return "Burstable"
    return "Guaranteed"


def container_id(pod_uid: str, container: str) -> str:
    """The runtime's id of a pod's container (its current run), without the `containerd://`."""
    return _hex(pod_uid, container)


def _image_id(image: str) -> str:
    return f"{image.rsplit(':', 1)[0]}@sha256:{_hex('img', image)}"


def _status_for(pod: Pod, spec: ContainerSpec, i: int, running_index: int | None) -> dict:
    """containerStatuses[] entry; running_index points into the pod's per-container restart data."""
    doc: dict = {"name": spec.name}
    runs = pod.run_started if running_index is not None else None
    began = (runs[running_index] if runs else None) or pod.started or pod.created
    started = q.rfc3339(began)
    cid = "containerd://" + container_id(pod.uid, spec.name)
    restarts = pod.restarts[running_index] if running_index is not None else 0
    if pod.phase == "Pending":
        doc["state"] = {"waiting": {"reason": "PodInitializing" if running_index is None else "ContainerCreating"}}
        doc.update(lastState={}, ready=False, restartCount=0, image=spec.image, imageID="", started=False)
        return doc
    if pod.phase == "Succeeded" or running_index is None:
        started = q.rfc3339(pod.started or pod.created)
        finished = q.rfc3339((pod.finished if pod.phase == "Succeeded" else None) or (pod.started or pod.created) + 1)
        doc["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
                                       "finishedAt": finished, "containerID": cid}}
        doc.update(lastState={}, ready=False, restartCount=0, image=spec.image, imageID=_image_id(spec.image),
                   containerID=cid, started=False)
        return doc
    if restarts:
        reason = pod.last_reason[running_index] or "Error"
        ran_from, ran_to = (pod.last_run[running_index] if pod.last_run else None) or (began, began)
        last = {"terminated": {"exitCode": 137 if reason == "OOMKilled" else 1, "reason": reason,
                               "startedAt": q.rfc3339(ran_from), "finishedAt": q.rfc3339(ran_to),
                               "containerID": "containerd://" + _hex(pod.uid, spec.name, restarts)}}
    else:
        last = {}
    if pod.waiting and running_index == 0:
        doc["state"] = {"waiting": {"reason": pod.waiting, "message": f"back-off restarting {spec.name}"}}
        ready = False
    else:
        doc["state"] = {"running": {"startedAt": started}}
        ready = True
    doc.update(lastState=last, ready=ready, restartCount=restarts, image=spec.image,
               imageID=_image_id(spec.image), containerID=cid, started=ready)
    # What the containers run with: the kubelet reports it for every container, the simulator
    # only for the pods resized in place, where it differs from the spec.
    if pod.resize is not None:
        actual = pod.resize.actual if spec.name == pod.resize.spec.name else spec
        doc["resources"] = resources_doc(actual, Formats(False), 0, {})
    return doc


def _spec_of(pod: Pod, spec: ContainerSpec) -> ContainerSpec:
    """A container's spec as the pod has it: a resize changes the pod's, not its template's."""
    resize = pod.resize
    return resize.spec if resize is not None and resize.spec.name == spec.name else spec


def owner_reference(owner) -> dict:
    return {"apiVersion": owner.api_version, "kind": owner.kind, "name": owner.name, "uid": owner.uid,
            "controller": True, "blockOwnerDeletion": True}


def pod_item(pod: Pod, fmt: Formats, node_count: int, overrides: Overrides) -> bytes:
    wl = pod.workload
    t = wl.template
    created = q.rfc3339(pod.created)
    meta: dict = {"name": pod.name}
    if t.kind in ("Deployment", "DaemonSet", "Job", "Rollout", "ReplicationController"):
        meta["generateName"] = pod.name[: pod.name.rfind("-") + 1]
    meta.update(namespace=pod.namespace, uid=pod.uid, resourceVersion=str(pod.rv), creationTimestamp=created)
    meta["labels"] = pod.labels
    if t.kind == "Static":
        meta["annotations"] = {"kubernetes.io/config.source": "file",
                               "kubernetes.io/config.hash": _hex(t.name, pod.node.name if pod.node else "", n=32)}
        node_name, node_uid = (pod.node.name, pod.node.uid) if pod.node else ("", "")
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid,
                                    "controller": True, "blockOwnerDeletion": True}]
    else:
        if pod.annotations:
            meta["annotations"] = pod.annotations
        if pod.owner is not None:
            meta["ownerReferences"] = [owner_reference(pod.owner)]
    bad = {r: v for r in ("cpu", "memory") if (v := overrides.get(("pod", pod.name, pod.namespace, r)))}
    variant = pod.quirk
    spec: dict = {}
    if t.init:
        spec["initContainers"] = [container_doc(c, fmt, variant + i, {}, True) for i, c in enumerate(t.init)]
    spec["containers"] = [container_doc(_spec_of(pod, c), fmt, variant + i, bad if i == 0 else {}, False)
                          for i, c in enumerate(t.containers)]
    spec["restartPolicy"] = t.restart_policy
    spec["terminationGracePeriodSeconds"] = 30
    spec["dnsPolicy"] = "ClusterFirst"
    spec["serviceAccountName"] = "default"
    spec["serviceAccount"] = "default"
    if pod.node is not None:
        spec["nodeName"] = pod.node.name
    spec["securityContext"] = {}
    spec["schedulerName"] = "default-scheduler"
    spec["tolerations"] = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]
    if t.priority_class:
        spec["priorityClassName"] = t.priority_class
        spec["priority"] = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}.get(
            t.priority_class, 1000000)
    else:
        spec["priority"] = 0
    if t.runtime_class:
        spec["runtimeClassName"] = t.runtime_class
    spec["enableServiceLinks"] = True
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    if t.overhead:
        spec["overhead"] = {"cpu": fmt.milli(t.overhead[0], variant), "memory": fmt.nbytes(t.overhead[1], variant)}
    if t.pod_resources is not None:
        spec["resources"] = resources_doc(t.pod_resources, fmt, variant, {})
    return encode({"metadata": meta, "spec": spec, "status": _pod_status(pod, node_count)})


def _condition(kind: str, ok: bool, when: str, reason: str | None = None, message: str | None = None) -> dict:
    doc: dict = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": when}
    if reason:
        doc["reason"] = reason
    if message:
        doc["message"] = message
    return doc


def _pod_status(pod: Pod, node_count: int) -> dict:
    t = pod.workload.template
    created = q.rfc3339(pod.created)
    qos = qos_class(pod)
    if pod.node is None:
        return {"phase": "Pending", "conditions": [_condition(
            "PodScheduled", False, created, "Unschedulable",
            f"0/{node_count} nodes are available: {node_count} Insufficient cpu, {node_count} Insufficient memory. "
            f"preemption: 0/{node_count} nodes are available: {node_count} No preemption victims found for "
            "incoming pod.")], "qosClass": qos}
    started = q.rfc3339(pod.started or pod.created)
    running = pod.phase == "Running"
    names = " ".join(c.name for c in pod.running_specs)
    if running:
        conditions = [_condition("PodReadyToStartContainers", True, started),
                      _condition("Initialized", True, started), _condition("Ready", True, started),
                      _condition("ContainersReady", True, started), _condition("PodScheduled", True, created)]
    elif pod.phase == "Succeeded":
        done = q.rfc3339(pod.finished or pod.created)
        conditions = [_condition("PodReadyToStartContainers", False, done),
                      _condition("Initialized", True, started, "PodCompleted"),
                      _condition("Ready", False, done, "PodCompleted"),
                      _condition("ContainersReady", False, done, "PodCompleted"),
                      _condition("PodScheduled", True, created)]
    else:
        conditions = [_condition("PodReadyToStartContainers", False, created),
                      _condition("Initialized", not t.init, created,
                                 None if not t.init else "ContainersNotInitialized",
                                 None if not t.init else "containers with incomplete status: "
                                 f"[{' '.join(c.name for c in t.init)}]"),
                      _condition("Ready", False, created, "ContainersNotReady",
                                 f"containers with unready status: [{names}]"),
                      _condition("ContainersReady", False, created, "ContainersNotReady",
                                 f"containers with unready status: [{names}]"),
                      _condition("PodScheduled", True, created)]
    resize = pod.resize
    if resize is not None and running:  # 1.33's resize conditions (status.resize is gone)
        when = q.rfc3339(resize.since)
        if resize.reason == "InProgress":
            conditions.append(_condition("PodResizeInProgress", True, when))
        else:
            conditions.append(_condition("PodResizePending", True, when, resize.reason, resize.message))
    status: dict = {"phase": pod.phase, "conditions": conditions, "hostIP": pod.node.ip,
                    "hostIPs": [{"ip": pod.node.ip}]}
    if pod.ip:
        status["podIP"] = pod.ip
        status["podIPs"] = [{"ip": pod.ip}]
    status["startTime"] = created
    running_names = [c.name for c in pod.running_specs]
    if t.init:
        status["initContainerStatuses"] = [
            _status_for(pod, c, i, running_names.index(c.name) if c.restartable else None)
            for i, c in enumerate(t.init)]
    status["containerStatuses"] = [_status_for(pod, c, i, running_names.index(c.name))
                                   for i, c in enumerate(t.containers)]
    status["qosClass"] = qos
    return status


def namespace_item(name: str, created: float, rv: int) -> bytes:
    return encode({"metadata": {"name": name, "uid": _uuid_like("ns" + name), "resourceVersion": str(rv),
                                "creationTimestamp": q.rfc3339(created),
                                "labels": {"kubernetes.io/metadata.name": name}},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})


def _uuid_like(seed: str) -> str:
    h = _hex(seed, n=32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# ---- metrics -----------------------------------------------------------------------

def metrics_head(name: str, namespace: str | None) -> bytes:
    """An item's bytes up to the creationTimestamp value, which is the request time."""
    meta = b'{"metadata":{"name":' + encode(name)
    if namespace is not None:
        meta += b',"namespace":' + encode(namespace)
    return meta + b',"creationTimestamp":"'


def metrics_labels(labels: dict[str, str]) -> bytes:
    """The static part of an item between the creationTimestamp value and the timestamp value."""
    return b'"' + (b',"labels":' + encode(labels) if labels else b"") + b'},"timestamp":"'


def metrics_tail(labels_part: bytes, timestamp: str, window: str, body: bytes) -> bytes:
    """The rest of an item after the creationTimestamp value; `body` is `"usage":{...}` or `"containers":[...]`."""
    return labels_part + timestamp.encode() + b'","window":"' + window.encode() + b'",' + body + b"}"


def usage_doc(cpu: str, memory: str) -> bytes:
    return b'{"cpu":"' + cpu.encode() + b'","memory":"' + memory.encode() + b'"}'


_NAME_PARTS: dict[str, bytes] = {}


def containers_doc(entries: Iterable[tuple[str, str, str]]) -> bytes:
    parts = []
    for name, cpu, mem in entries:
        head = _NAME_PARTS.get(name)
        if head is None:
            head = _NAME_PARTS[name] = b'{"name":' + encode(name) + b',"usage":{"cpu":"'
        parts.append(head + cpu.encode() + b'","memory":"' + mem.encode() + b'"}}')
    return b'"containers":[' + b",".join(parts) + b"]"
