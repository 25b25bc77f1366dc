"""Typed shapes of the Kubernetes objects ktopui reads, decoded once at the boundary.

Only the fields ktopui uses are declared; msgspec skips the rest without
building Python objects for them, which is what keeps a 150,000-pod list cheap.
Quantities stay strings here: they are parsed (and cached) in the model, so one
malformed quantity spoils one cell, not the whole list. The shapes hold only
strings, numbers and other shapes, never cycles, so they are kept out of the
garbage collector (gc=False): a 150,000-pod list then costs no collections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TypeVar

import msgspec

from ktopui.kube.errors import MalformedResponse

ResourceList = dict[str, str]


class OwnerReference(msgspec.Struct, omit_defaults=True, gc=False):
    """An object that owns this one; the one with `controller` set manages it."""

    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None


class ObjectMeta(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] = {}
    creationTimestamp: str | None = None
    resourceVersion: str = ""
    deletionTimestamp: str | None = None
    ownerReferences: list[OwnerReference] = []


class ListMeta(msgspec.Struct, omit_defaults=True, gc=False):
    resourceVersion: str = ""
    # "continue" is a Python keyword.
    continue_: str = msgspec.field(default="", name="continue")


# -- Nodes ------------------------------------------------------------------


class NodeCondition(msgspec.Struct, omit_defaults=True, gc=False):
    type: str = ""
    status: str = ""
    reason: str = ""


class Taint(msgspec.Struct, omit_defaults=True, gc=False):
    key: str = ""
    effect: str = ""


class NodeSystemInfo(msgspec.Struct, omit_defaults=True, gc=False):
    kubeletVersion: str = ""


class NodeSpec(msgspec.Struct, omit_defaults=True, gc=False):
    unschedulable: bool = False
    taints: list[Taint] = []


class NodeStatus(msgspec.Struct, omit_defaults=True, gc=False):
    capacity: ResourceList = {}
    allocatable: ResourceList = {}
    conditions: list[NodeCondition] = []
    nodeInfo: NodeSystemInfo | None = None


class Node(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)


class NodeList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Node] = []


# -- Pods -------------------------------------------------------------------


class ResourceRequirements(msgspec.Struct, omit_defaults=True, gc=False):
    requests: ResourceList = {}
    limits: ResourceList = {}


class Container(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)
    # "Always" on an init container makes it a sidecar (restartable init container).
    restartPolicy: str | None = None


class PodSpec(msgspec.Struct, omit_defaults=True, gc=False):
    nodeName: str = ""
    containers: list[Container] = []
    initContainers: list[Container] = []
    overhead: ResourceList = {}
    # Pod-level resources (KEP 2837): where set, they replace the containers' total.
    resources: ResourceRequirements | None = None


class ContainerStateWaiting(msgspec.Struct, omit_defaults=True, gc=False):
    reason: str = ""


class ContainerStateTerminated(msgspec.Struct, omit_defaults=True, gc=False):
    reason: str = ""
    exitCode: int = 0
    finishedAt: str | None = None


class ContainerState(msgspec.Struct, omit_defaults=True, gc=False):
    waiting: ContainerStateWaiting | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    ready: bool = False
    restartCount: int = 0
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    # How its previous run ended (reason, exit code, when): why a pod restarts.
    lastState: ContainerState = msgspec.field(default_factory=ContainerState)
    # In-place resize: what the container runs with, and what the kubelet allotted it.
    resources: ResourceRequirements | None = None
    allocatedResources: ResourceList = {}


class PodCondition(msgspec.Struct, omit_defaults=True, gc=False):
    type: str = ""
    reason: str = ""


class PodStatus(msgspec.Struct, omit_defaults=True, gc=False):
    phase: str = ""
    reason: str = ""
    # Read only for PodResizePending (whether a resize is Infeasible).
    conditions: list[PodCondition] = []
    containerStatuses: list[ContainerStatus] = []
    initContainerStatuses: list[ContainerStatus] = []


class Pod(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


class PodList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Pod] = []


class Namespace(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class NamespaceList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Namespace] = []


# -- What owns pods, and what limits a namespace -----------------------------


class PartialObjectMetadata(msgspec.Struct, omit_defaults=True, gc=False):
    """Any object as a metadata-only list or watch sends it (meta.k8s.io/v1): no spec, no status."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class PartialObjectMetadataList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[PartialObjectMetadata] = []


class ResourceQuotaStatus(msgspec.Struct, omit_defaults=True, gc=False):
    hard: ResourceList = {}
    used: ResourceList = {}


class ResourceQuota(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: ResourceQuotaStatus = msgspec.field(default_factory=ResourceQuotaStatus)


class ResourceQuotaList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[ResourceQuota] = []


# -- metrics.k8s.io ---------------------------------------------------------


class NodeMetrics(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    timestamp: str = ""
    window: str = ""
    usage: ResourceList = {}


class NodeMetricsList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[NodeMetrics] = []


class ContainerMetrics(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    usage: ResourceList = {}


class PodMetrics(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    timestamp: str = ""
    window: str = ""
    containers: list[ContainerMetrics] = []


class PodMetricsList(msgspec.Struct, omit_defaults=True, gc=False):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[PodMetrics] = []


# Lean shapes of the same metrics lists, for `ktopui top` tables: only what a
# table prints. Not tracked by the garbage collector (they hold no cycles), so
# decoding 150,000 pods does not trigger collections that walk them all.


class MetricsMeta(msgspec.Struct, gc=False):
    name: str = ""
    namespace: str = ""


class ContainerUsage(msgspec.Struct, gc=False):
    name: str = ""
    usage: ResourceList = {}


class PodUsage(msgspec.Struct, gc=False):
    metadata: MetricsMeta = msgspec.field(default_factory=MetricsMeta)
    containers: list[ContainerUsage] = []


class PodUsageList(msgspec.Struct, gc=False):
    items: list[PodUsage] = []


# What the dashboard needs of pod metrics: usage and when it was measured.


class SampleUsage(msgspec.Struct, gc=False):
    """cpu and memory of a usage ResourceList (a dict costs five times the memory)."""

    cpu: str | None = None
    memory: str | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.cpu if name == "cpu" else self.memory if name == "memory" else None
        return default if value is None else value


class SampleContainer(msgspec.Struct, gc=False):
    name: str = ""
    usage: SampleUsage = msgspec.field(default_factory=SampleUsage)


class PodSampleMetrics(msgspec.Struct, gc=False):
    metadata: MetricsMeta = msgspec.field(default_factory=MetricsMeta)
    timestamp: str = ""
    window: str = ""
    containers: list[SampleContainer] = []


class NodeSampleMetrics(msgspec.Struct, gc=False):
    """A node's metrics without its labels (metrics-server copies them in: most of the 4 MB
    a 5,000-node list weighs, decoded on every refresh for nothing)."""

    metadata: MetricsMeta = msgspec.field(default_factory=MetricsMeta)
    timestamp: str = ""
    window: str = ""
    usage: ResourceList = {}


class NodeSampleMetricsList(msgspec.Struct, gc=False):
    items: list[NodeSampleMetrics] = []


class RawList(msgspec.Struct, gc=False):
    """A list whose items are left undecoded (see decoded_batches)."""

    items: list[msgspec.Raw] = []


# -- API machinery ----------------------------------------------------------


class StatusDetails(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    group: str = ""
    kind: str = ""


class Status(msgspec.Struct, omit_defaults=True, gc=False):
    kind: str = ""
    status: str = ""
    message: str = ""
    reason: str = ""
    code: int = 0
    details: StatusDetails | None = None


class GroupVersion(msgspec.Struct, omit_defaults=True, gc=False):
    groupVersion: str = ""
    version: str = ""


class APIGroup(msgspec.Struct, omit_defaults=True, gc=False):
    name: str = ""
    versions: list[GroupVersion] = []
    preferredVersion: GroupVersion | None = None


class APIGroupList(msgspec.Struct, omit_defaults=True, gc=False):
    groups: list[APIGroup] = []


class VersionInfo(msgspec.Struct, omit_defaults=True, gc=False):
    gitVersion: str = ""
    major: str = ""
    minor: str = ""
    platform: str = ""


T = TypeVar("T")

_decoders: dict[type, msgspec.json.Decoder] = {}


def _decoder(kind: type) -> msgspec.json.Decoder:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    return decoder


def decoded_batches(raws: list[msgspec.Raw], kind: type[T], *, batch: int = 5000, what: str = "") -> Iterator[list[T]]:
    """Decode a RawList's items a batch at a time, so only one batch of objects is alive at once.

    A 150,000-pod metrics list decodes to well over 100 MB of small objects
    at once; a consumer that keeps only a summary per item needs a few MB.
    """
    one = _decoder(kind)
    for start in range(0, len(raws), batch):
        some = raws[start : start + batch]
        try:
            # Item by item: no joined copy of the batch (~15% faster at 150,000 pods).
            yield list(map(one.decode, some))
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            # decode() has the slow path for odd shapes, and the errors' messages.
            yield decode(b"[" + b",".join(some) + b"]", list[kind], what=what)


def _stringify_numbers(body: bytes) -> object:
    # Kubernetes parses an unquoted JSON number quantity from its literal text
    # (Quantity.UnmarshalJSON), so keep the text instead of going through float.
    return json.loads(body, parse_float=str, parse_int=str)


def decode(body: bytes, kind: type[T], *, what: str = "") -> T:
    """Decode an API response body into `kind`, or raise MalformedResponse."""
    try:
        return _decoder(kind).decode(body)
    except msgspec.ValidationError as fast_err:
        # Rare: numbers where strings are expected (quantities written as
        # bare JSON numbers, or integers as strings). Retry on the slow path
        # that keeps numbers' literal text, then convert leniently.
        try:
            return msgspec.convert(_stringify_numbers(body), kind, strict=False)
        except (ValueError, msgspec.ValidationError, RecursionError):
            raise MalformedResponse(
                f"unexpected response shape{f' for {what}' if what else ''}: {fast_err}"
            ) from None
    except RecursionError:
        # Arrays or objects nested thousands deep, even in a field ktopui skips:
        # no Kubernetes object is shaped so.
        raise MalformedResponse(
            f"malformed JSON{f' for {what}' if what else ''} ({len(body)} bytes received): nested too deeply"
        ) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as err:  # invalid UTF-8 raises the latter
        size = len(body)
        raise MalformedResponse(
            f"malformed JSON{f' for {what}' if what else ''} ({size} bytes received): {err}"
        ) from None
