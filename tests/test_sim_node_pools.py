"""Node pools as provisioners label them: Karpenter, an EKS managed node group, a GKE node
pool and an AKS agent pool on different node families, the control plane in none."""

from __future__ import annotations

POOLS = ("karpenter.sh/nodepool", "eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool", "agentpool")


def test_each_node_family_is_in_one_kind_of_pool_and_every_node_has_an_instance_type(make_sim_server, sim_api):
    api = sim_api(make_sim_server(nodes=30, pods_per_node=1))
    families: dict[str, set[tuple[str, str]]] = {}
    for node in api.get("/api/v1/nodes").json()["items"]:
        labels = node["metadata"]["labels"]
        instance_type = labels["node.kubernetes.io/instance-type"]
        pools = [(key, labels[key]) for key in POOLS if key in labels]
        if "node-role.kubernetes.io/control-plane" in labels:
            assert pools == []  # grouped by instance type
            continue
        assert len(pools) == 1, labels
        family, size = instance_type.split(".")
        families.setdefault(f"{family}.{'large' if size in ('4xlarge', '8xlarge') else 'small'}", set()).add(pools[0])
    assert {key for pools in families.values() for key, _ in pools} == set(POOLS)
    assert all(len(pools) == 1 for pools in families.values()), families


def test_node_metrics_carry_the_pool_labels(make_sim_server, sim_api):
    api = sim_api(make_sim_server(nodes=30, pods_per_node=1))
    nodes = {n["metadata"]["name"]: n["metadata"]["labels"] for n in api.get("/api/v1/nodes").json()["items"]}
    for item in api.get("/apis/metrics.k8s.io/v1beta1/nodes").json()["items"]:
        assert item["metadata"]["labels"] == nodes[item["metadata"]["name"]]
