"""Pods named in history, listed or gone, attributed to their workloads (batch/pod_workloads.py)."""

from __future__ import annotations

from ktopui.batch.pod_workloads import PodWorkloads
from ktopui.model.owners import OwnerLink, PodOwner, WorkloadId

LIVE = {
    ("shop", "web-7d4b9c8f6-abcde"): PodOwner("shop", "ReplicaSet", "web-7d4b9c8f6", OwnerLink("Deployment", "web")),
    ("shop", "web-api-5f6g7h8j9-qwert"): PodOwner("shop", "ReplicaSet", "web-api-5f6g7h8j9",
                                                  OwnerLink("Deployment", "web-api")),
    ("shop", "db-0"): PodOwner("shop", "StatefulSet", "db"),
    ("kube-system", "agent-x7k2p"): PodOwner("kube-system", "DaemonSet", "agent"),
    ("shop", "report-29012345-zzzzz"): PodOwner("shop", "Job", "report-29012345", OwnerLink("CronJob", "report")),
    ("shop", "debug"): PodOwner("shop", "Pod", "debug"),
}
MAPS = {
    "replicasets": {("shop", "web-7d4b9c8f6"): OwnerLink("Deployment", "web"),
                    ("shop", "web-6c5b4a392"): OwnerLink("Deployment", "web"),  # the old one, scaled to 0
                    ("shop", "web-api-5f6g7h8j9"): OwnerLink("Deployment", "web-api")},
    "jobs": {("shop", "report-29012345"): OwnerLink("CronJob", "report")},
}


def test_a_listed_pod_is_resolved_through_its_owners_as_top_workloads_does():
    pods = PodWorkloads(LIVE, MAPS)
    assert pods.of("shop", "web-7d4b9c8f6-abcde") == WorkloadId("Deployment", "shop", "web")
    assert pods.of("shop", "db-0") == WorkloadId("StatefulSet", "shop", "db")
    assert pods.of("shop", "debug") == WorkloadId("Pod", "shop", "debug")


def test_a_gone_pod_of_a_listed_old_replicaset_follows_it_to_its_deployment_exactly():
    assert PodWorkloads(LIVE, MAPS).of("shop", "web-6c5b4a392-k9v2m") == WorkloadId("Deployment", "shop", "web")


def test_gone_pods_are_attributed_by_their_controllers_name_patterns():
    pods = PodWorkloads(LIVE, MAPS)
    assert pods.of("shop", "web-55555555-m2n3b") == WorkloadId("Deployment", "shop", "web", inferred=True)
    assert pods.of("shop", "db-3") == WorkloadId("StatefulSet", "shop", "db", inferred=True)
    assert pods.of("kube-system", "agent-q8w9e") == WorkloadId("DaemonSet", "kube-system", "agent", inferred=True)
    assert pods.of("shop", "report-29012400-aaaaa") == WorkloadId("CronJob", "shop", "report", inferred=True)


def test_the_longest_workload_name_wins_so_web_api_pods_are_not_webs():
    pods = PodWorkloads(LIVE, {"replicasets": None, "jobs": None})
    assert pods.of("shop", "web-api-1a2b3c4d-xyz12") == WorkloadId("Deployment", "shop", "web-api", inferred=True)


def test_patterns_stay_in_their_namespace_and_an_unmatched_pod_is_its_own_workload():
    pods = PodWorkloads(LIVE, MAPS)
    assert pods.of("other", "db-1") == WorkloadId("Pod", "other", "db-1")
    assert pods.of("shop", "db-backup") == WorkloadId("Pod", "shop", "db-backup")
    assert pods.of("shop", "web") == WorkloadId("Pod", "shop", "web")
