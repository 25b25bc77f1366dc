"""ResourceQuotas in the namespace rows, read from the simulated cluster: what the quotas say is
used of their hard limits; listed once a minute; where they may not be read, said once and not
asked for on every refresh."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from helpers.owners import PATHS, read

from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession

_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1, "k": 10**3, "M": 10**6,
           "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def amount(text: str, resource: str) -> int:
    """A quota value as the row keeps it: millicores (CPU, rounded up), bytes (memory, rounded up)."""
    number, suffix = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", text).groups()
    value = Fraction(number) * _SUFFIX[suffix] * (1000 if resource.endswith("cpu") else 1)
    return -(-value.numerator // value.denominator)


@pytest.fixture
def cluster(make_sim_server):
    return make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)


async def refreshed(server, tmp_path, times: int):
    session = ClusterSession(load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config"))))
    try:
        for _ in range(times):
            snapshot = await session.refresh()
        return snapshot, session.feed.quota_lists
    finally:
        await session.close()


async def test_namespace_rows_show_each_quotas_use_of_its_hard_limit(cluster, sim_api, tmp_path):
    quotas = read(sim_api(cluster))["ResourceQuota"]
    snapshot, lists = await refreshed(cluster, tmp_path, 3)
    assert lists == 1  # once a minute, not once a refresh
    rows = {row.namespace: row for row in snapshot.namespaces}
    checked = 0
    for namespace, row in rows.items():
        mine = [q for q in quotas if q["metadata"]["namespace"] == namespace]
        for resource in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
            setting = [q["status"] for q in mine if resource in q["status"]["hard"]]
            use = None if row.quota is None else getattr(row.quota, resource.replace(".", "_"))
            if not setting:
                assert use is None
                continue
            tightest = min(setting, key=lambda status: amount(status["hard"][resource], resource))
            assert (use.used, use.hard) == (amount(tightest["used"].get(resource, "0"), resource),
                                            amount(tightest["hard"][resource], resource))
            checked += 1
    assert checked >= 4
    assert snapshot.notices == ()


async def test_forbidden_quotas_are_said_once_and_not_asked_for_again_each_refresh(cluster, tmp_path):
    cluster.faults.forbid_resourcequotas()
    snapshot, lists = await refreshed(cluster, tmp_path, 5)
    assert snapshot.notices == ("quotas not shown: resourcequotas may not be listed",)
    assert all(row.quota is None for row in snapshot.namespaces) and snapshot.namespaces
    assert lists == 1 and sum(r.path == PATHS["ResourceQuota"] for r in cluster.requests) == 1
