"""Workloads and namespaces followed from refresh to refresh (watch events, new metrics lists,
owner maps that change) equal those made afresh from the same pods, every step of the way."""

from __future__ import annotations

import random
from types import MappingProxyType

from test_rollups import HEALTH, controller, metrics, pod

from ktopui.live.feed import Inputs, Scope, Undecoded
from ktopui.live.joiner import Joiner, new_history
from ktopui.model.owners import OwnerLink
from ktopui.model.pod_info import PodChanges, SpecMemo, pod_info

NAMESPACES = ("web", "batch", "data")
SIDECAR = [{"name": "app", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m", "memory": "1Gi"}}},
           {"name": "proxy", "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}]
BOUNDED = [{"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"},
                                         "limits": {"cpu": "500m", "memory": "256Mi"}}}]


class World:
    """Pods of every kind of owner, changed at random as a cluster's watch would tell it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.memo = SpecMemo()
        self.pods: dict = {}
        self.unlisted: set = set()  # pods known only from their metrics
        self.maps: dict = {"replicasets": {}, "jobs": {}}
        self.serial = 0
        for _ in range(120):
            self.add()

    def owner(self, namespace: str) -> tuple[list[dict], dict]:
        rng = self.rng
        kind = rng.choice(("rs", "rs", "job", "StatefulSet", "DaemonSet", "Rollout", "bare"))
        if kind == "rs":
            deployment, hash_ = f"deploy-{rng.randrange(6)}", f"h{rng.randrange(3)}"
            name = f"{deployment}-{hash_}"
            if rng.random() < 0.8 and self.maps["replicasets"] is not None:
                self.maps["replicasets"][(namespace, name)] = OwnerLink("Deployment", deployment)
            return controller("ReplicaSet", name), {"pod-template-hash": hash_}
        if kind == "job":
            name = f"nightly-{29419200 + rng.randrange(4)}"
            if rng.random() < 0.7 and self.maps["jobs"] is not None:
                self.maps["jobs"][(namespace, name)] = OwnerLink("CronJob", "nightly")
            return controller("Job", name), {}
        if kind == "bare":
            return [], {}
        return controller(kind, f"{kind.lower()}-{rng.randrange(3)}"), {}

    def add(self) -> tuple:
        rng = self.rng
        self.serial += 1
        namespace = rng.choice(NAMESPACES)
        key = (namespace, f"p-{self.serial:04d}")
        owners, labels = self.owner(namespace)
        self.pods[key] = self.info(key, owners, labels)
        return key

    def info(self, key: tuple, owners: list[dict], labels: dict, phase: str | None = None):
        rng = self.rng
        containers = rng.choice((None, SIDECAR, BOUNDED))
        phase = phase or rng.choice(("Running", "Running", "Running", "Pending", "Succeeded"))
        return pod_info(pod(*key, owners=owners, labels=labels, phase=phase, containers=containers), self.memo)

    def events(self) -> set:
        """Some pods come, go and change; returns the keys touched."""
        rng, touched = self.rng, set()
        for _ in range(rng.randrange(1, 8)):
            action = rng.random()
            if action < 0.35:
                touched.add(self.add())
            elif action < 0.6 and self.pods:
                key = rng.choice(sorted(self.pods))
                del self.pods[key]
                touched.add(key)
            elif self.pods:
                key = rng.choice(sorted(self.pods))
                owners, labels = self.owner(key[0])
                self.pods[key] = self.info(key, owners, labels)
                touched.add(key)
        return touched

    def change_maps(self) -> None:
        rng = self.rng
        source = rng.choice(("replicasets", "jobs"))
        if rng.random() < 0.15:
            self.maps[source] = None if self.maps[source] is not None else {}
            return
        entries = dict(self.maps[source] or {})
        if entries and rng.random() < 0.5:
            del entries[rng.choice(sorted(entries))]
        else:
            namespace = rng.choice(NAMESPACES)
            if source == "jobs":
                entries[(namespace, f"nightly-{29419200 + rng.randrange(4)}")] = OwnerLink(
                    "CronJob", rng.choice(("nightly", "hourly")))
            else:
                name = f"deploy-{rng.randrange(6)}"
                entries[(namespace, f"{name}-h{rng.randrange(3)}")] = OwnerLink(
                    rng.choice(("Deployment", "Rollout")), name)
        self.maps[source] = entries

    def metrics(self) -> list:
        rng, raws = self.rng, []
        self.unlisted = {(rng.choice(NAMESPACES), f"gone-{i}") for i in range(rng.randrange(3))}
        for key in sorted(self.pods) + sorted(self.unlisted):
            if rng.random() < 0.15:
                continue  # no metrics for this one
            app = {"cpu": f"{rng.randrange(1, 900_000_000)}n", "memory": f"{rng.randrange(1, 1 << 20)}Ki"}
            if self.pods.get(key) is not None and len(self.pods[key].spec.containers) == 2:
                raws.append(metrics(*key, app=app, proxy={"cpu": f"{rng.randrange(1, 10**7)}n", "memory": "1Mi"}))
            else:
                raws.append(metrics(*key, app=app))
        return raws

    def owner_maps(self):
        return MappingProxyType({source: (None if entries is None else dict(entries))
                                 for source, entries in self.maps.items()})


def inputs(pods: dict, changes: PodChanges | None, raws: list | None, owners) -> Inputs:
    return Inputs(scope=Scope(), nodes=None, pods=pods, pod_changes=changes, node_metrics=None,
                  pod_metrics=None if raws is None else Undecoded(list(raws)), pod_metrics_kept=True,
                  health=HEALTH, loading=(), owners=owners)


def same_rollups(followed, afresh) -> None:
    assert followed.workloads == afresh.workloads
    assert [w.inferred for w in followed.workloads] == [w.inferred for w in afresh.workloads]
    assert followed.namespaces == afresh.namespaces
    assert followed.members.of_pod.tolist() == afresh.members.of_pod.tolist()
    for row in followed.workloads:
        assert list(followed.workload_pods(row.key).keys) == list(afresh.workload_pods(row.key).keys)


def test_rollups_followed_through_watch_events_equal_rollups_made_afresh():
    for seed in range(6):
        world = World(seed)
        joiner = Joiner(new_history())
        raws = world.metrics()
        pods, owners = dict(world.pods), world.owner_maps()
        snapshot = joiner.step(inputs(pods, None, raws, owners))
        for step in range(40):
            touched = world.events()
            if world.rng.random() < 0.3:
                world.change_maps()
                owners = world.owner_maps()
            new_raws = world.metrics() if world.rng.random() < 0.3 else None
            raws = new_raws or raws
            before, pods = pods, dict(world.pods)
            snapshot = joiner.step(inputs(pods, PodChanges(before, pods, touched), new_raws, owners))
            afresh = Joiner(new_history()).step(inputs(pods, None, raws, owners))
            same_rollups(snapshot, afresh)
        # The view was patched and the rollup followed it, not made afresh each time.
        assert joiner._pods.rebuilt == 1 and joiner._workload_rollup.started == 1, seed


def test_a_replicaset_adopted_by_its_deployment_moves_its_pods_without_a_rebuild():
    joiner = Joiner(new_history())
    pods = {("web", "api-h1-a"): pod_info(pod("web", "api-h1-a", owners=controller("ReplicaSet", "api-h1"),
                                              labels={"pod-template-hash": "zz"}), SpecMemo())}
    raws = [metrics("web", "api-h1-a", app={"cpu": "1m", "memory": "1Mi"})]
    first = joiner.step(inputs(pods, None, raws, MappingProxyType({"replicasets": None, "jobs": None})))
    assert [(w.kind, w.name, w.inferred) for w in first.workloads] == [("ReplicaSet", "api-h1", True)]
    owners = MappingProxyType({"replicasets": {("web", "api-h1"): OwnerLink("Deployment", "api")}, "jobs": None})
    later = joiner.step(inputs(pods, PodChanges(pods, pods, ()), None, owners))
    assert [(w.kind, w.name, w.inferred) for w in later.workloads] == [("Deployment", "api", False)]
    assert later.workloads[0].usage.cpu_milli == 1 and joiner._workload_rollup.started == 1


def test_reclaimable_figures_reach_the_rows_kept_from_refresh_to_refresh_and_never_rows_already_shown():
    from ktopui.model.reclaim import Figures

    world = World(3)
    joiner = Joiner(new_history())
    pods, owners = dict(world.pods), world.owner_maps()
    shown = joiner.step(inputs(pods, None, world.metrics(), owners))
    keys = shown.members.history_keys
    figures = Figures(dict.fromkeys(keys, 7), dict.fromkeys(keys, 9 << 20), {}, {})
    joiner._reclaim.update(figures, "2026-12-06T20:00:00Z", 0.0)  # (as made from the history when due)
    snapshots = []
    for _ in range(3):
        touched = world.events()
        before, pods = pods, dict(world.pods)
        snapshots.append(joiner.step(inputs(pods, PodChanges(before, pods, touched), None, owners)))
    for snapshot in snapshots:
        assert all(w.reclaim_cpu_milli == 7 and w.reclaim_mem_bytes == 9 << 20 for w in snapshot.workloads
                   if w.key in {k[1:] for k in keys})
    # Rows whose pods did not change are the same objects from one refresh to the next...
    assert {id(w) for w in snapshots[1].workloads} & {id(w) for w in snapshots[2].workloads}
    # ... and the rows a snapshot showed before the figures came were not changed under it.
    assert all(w.reclaim_cpu_milli is None for w in shown.workloads)
