"""The pods' reservation per node: how many pods each node runs, and their requests and
limits summed as `kubectl describe node` sums them (a pod that has terminated reserves
nothing).

Node rows are made from these sums (nodes.py). At a 2 s refresh few pods
changed since the last one: a ReservationCache keeps the sums of the pods
before, so only a node whose pods changed gets a new Reservation; the
others keep theirs, and with them their rows, while node and metrics hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ktopui.kube.objects import Pod
from ktopui.model.pod_info import PodChanges, PodInfo, infos_of

TERMINATED_PHASES = ("Succeeded", "Failed")

PodItems = Iterable[Pod] | Iterable[PodInfo] | Mapping[tuple[str, str], PodInfo]


class Reservation:
    """The pods on one node, and their requests and limits summed (exact nanos).

    A node's Reservation is a new object exactly when its pods changed (and
    then usually compares equal: churn replaces a pod with one like it).
    """

    __slots__ = ("pods", "requests", "limits", "problem", "setting")

    def __init__(self, pods: int = 0, requests: dict | None = None, limits: dict | None = None, problem: str = "",
                 setting: dict | None = None) -> None:
        self.pods = pods
        self.requests: dict[str, int] = requests if requests is not None else {}
        self.limits: dict[str, int] = limits if limits is not None else {}
        self.problem = problem  # the last pod whose spec could not be read
        self.setting: dict[tuple[str, str], int] = setting if setting is not None else {}  # pods setting each

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reservation):
            return NotImplemented
        return (self.pods, self.requests, self.limits, self.problem, self.setting) == (
            other.pods, other.requests, other.limits, other.problem, other.setting)

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> Reservation:
        return Reservation(self.pods, dict(self.requests), dict(self.limits), self.problem, dict(self.setting))

    def add(self, key: tuple[str, str], info: PodInfo, sign: int) -> None:
        """Add (sign 1) or take away (sign -1) one pod's share."""
        self.pods += sign
        spec = info.spec
        if spec.problem:
            self.problem = f"pod {key[0]}/{key[1]}: {spec.problem}"
            return
        setting = self.setting
        for kind, into, amounts in (("requests", self.requests, spec.requests_nanos),
                                    ("limits", self.limits, spec.limits_nanos)):
            for name, n in amounts.items():
                # A resource no pod sets any more is absent, as in a fresh sum (not 0).
                pods = setting[kind, name] = setting.get((kind, name), 0) + sign
                if pods:
                    into[name] = into.get(name, 0) + sign * n
                else:
                    del into[name]


class ReservationCache:
    """The sums per node of the last call of `reservations`, and the pods they were summed from."""

    def __init__(self) -> None:
        self.pods: object = None
        self.per_node: dict[str, Reservation] = {}


def reservations(pods: PodItems, cache: ReservationCache | None, changes: PodChanges | None) -> dict[str, Reservation]:
    """Pod counts and summed requests/limits per node, like `kubectl describe node`.

    Sums are exact integers of nanounits, rounded once per node. They depend
    only on the pods, so with a cache they are summed again only when the pod
    collection is a new object, and then only for the pods that changed.
    """
    if cache is not None and cache.pods is pods:
        return cache.per_node
    if cache is not None:
        per_node = _reservations_changed(cache.pods, pods, cache.per_node, changes)
        if per_node is not None:
            cache.pods, cache.per_node = pods, per_node
            return per_node
    per_node: dict[str, Reservation] = {}
    for key, info in infos_of(pods):
        _reserve(per_node, key, info, 1)
    if cache is not None:
        cache.pods, cache.per_node = pods, per_node
    return per_node


def _reserve(per_node: dict[str, Reservation], key: tuple[str, str], info: PodInfo, sign: int) -> None:
    if info.phase in TERMINATED_PHASES:
        return
    reservation = per_node.get(info.node)
    if reservation is None:
        reservation = per_node[info.node] = Reservation()
    reservation.add(key, info, sign)


def _reservations_changed(old: object, new: PodItems, per_node: dict[str, Reservation],
                          changes: PodChanges | None) -> dict[str, Reservation] | None:
    """The per-node sums moved by what changed between two pod mappings; None to sum afresh.

    Sums of integers can be taken back exactly; a pod with an invalid spec
    cannot (its message would stick), so then everything is summed again.
    """
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return None
    if changes is not None and changes.before is old and changes.after is new:
        get = old.get
        changed = [key for key in changes.touched if key in new and get(key) is not new[key]]
        gone = [key for key in changes.touched if key in old and key not in new]
    else:
        get = old.get
        changed = [key for key, value in new.items() if get(key) is not value]
        gone = list(old.keys() - new.keys())
    if len(changed) + len(gone) > len(new) // 4:
        return None
    before = [(key, old[key]) for key in changed if key in old] + [(key, old[key]) for key in gone]
    after = [(key, new[key]) for key in changed]
    if any(info.spec.problem for _, info in before + after):
        return None
    # The previous sums stay as they were: copied are only the nodes touched.
    per_node = dict(per_node)
    for name in {info.node for _, info in before + after} & per_node.keys():
        per_node[name] = per_node[name].copy()
    for key, info in before:
        _reserve(per_node, key, info, -1)
    for key, info in after:
        _reserve(per_node, key, info, 1)
    return per_node
