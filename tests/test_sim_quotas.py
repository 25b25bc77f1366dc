"""ResourceQuotas: where they are, what they limit, and `used` equal to what the quota
evaluator counts for the namespace's pods, read from the pods as served, as pods come and go."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from helpers.kubectl import KUBECTL, kubectl

COMPUTE = {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1, "k": 10**3,
           "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def nanos(text: str) -> int:
    """A quantity as the simulator spells it (no exponents), in nanos."""
    number, suffix = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", text).groups()
    return int(Fraction(number) * _SUFFIX[suffix] * 10**9)


def _sum(containers: list[dict], field: str, status: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Per resource, what the containers ask for in the spec and what they run with (the status
    resources while a resize is pending), in nanos."""
    out: dict[str, dict[str, int]] = {"spec": {}, "actual": {}}
    for c in containers:
        spec = c.get("resources", {}).get(field, {})
        actual = status.get(c["name"], {}).get(field, spec) if c["name"] in status else spec
        for which, values in (("spec", spec), ("actual", actual)):
            for resource, text in values.items():
                out[which][resource] = out[which].get(resource, 0) + nanos(text)
    return out


def pod_usage(pod: dict) -> dict[str, int]:
    """k8s.io/component-helpers PodRequests/PodLimits as the quota evaluator calls them, written
    from its documentation: sidecars added to the containers and to later init containers' peaks,
    the larger of spec and status resources (status alone while a resize is Infeasible), pod-level
    resources replacing the sum, overhead added (to limits only where set)."""
    spec = pod["spec"]
    status = {s["name"]: s["resources"] for s in pod["status"].get("containerStatuses", []) if "resources" in s}
    infeasible = any(c["type"] == "PodResizePending" and c.get("reason") == "Infeasible"
                     for c in pod["status"].get("conditions", []))
    result = {}
    for field in ("requests", "limits"):
        which = ["actual"] if infeasible else ["spec", "actual"]
        totals: dict[str, int] = {}
        for w in which:
            regular = _sum(spec["containers"], field, status)[w]
            sidecars: dict[str, int] = {}
            peak: dict[str, int] = {}
            for init in spec.get("initContainers", []):
                mine = _sum([init], field, status)[w]
                if init.get("restartPolicy") == "Always":
                    for r, v in mine.items():
                        regular[r] = regular.get(r, 0) + v
                        sidecars[r] = sidecars.get(r, 0) + v
                    current = dict(sidecars)
                else:
                    current = {r: mine.get(r, 0) + sidecars.get(r, 0) for r in set(mine) | set(sidecars)}
                for r, v in current.items():
                    peak[r] = max(peak.get(r, 0), v)
            for r in set(regular) | set(peak):
                totals[r] = max(totals.get(r, 0), regular.get(r, 0), peak.get(r, 0))
        for r, text in spec.get("resources", {}).get(field, {}).items():
            totals[r] = nanos(text)
        for r, text in spec.get("overhead", {}).items():
            if field == "requests" or totals.get(r):
                totals[r] = totals.get(r, 0) + nanos(text)
        for r in ("cpu", "memory"):
            result[f"{field}.{r}"] = totals.get(r, 0)
    result["pods"] = 10**9
    return result


def expected_use(pods: list[dict]) -> dict[str, int]:
    used: dict[str, int] = {}
    for pod in pods:
        if pod["status"]["phase"] in ("Succeeded", "Failed"):
            continue
        for key, value in pod_usage(pod).items():
            used[key] = used.get(key, 0) + value
    return used


def check_quotas(api) -> list[dict]:
    quotas = api.get("/api/v1/resourcequotas").json()["items"]
    for quota in quotas:
        namespace = quota["metadata"]["namespace"]
        pods = api.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
        want = expected_use(pods)
        assert quota["status"]["hard"] == quota["spec"]["hard"]
        assert set(quota["status"]["used"]) == set(quota["spec"]["hard"])
        for key, text in quota["status"]["used"].items():
            assert nanos(text) == want.get(key, 0), (namespace, quota["metadata"]["name"], key, text)
    return quotas


def test_quotas_limit_some_namespaces_and_count_their_pods(make_sim_server, sim_api):
    api = sim_api(make_sim_server(nodes=12, pods_per_node=9))
    quotas = check_quotas(api)
    where = {(q["metadata"]["namespace"], q["metadata"]["name"]) for q in quotas}
    assert {("payments", "compute-resources"), ("payments", "object-counts"), ("web", "compute-resources"),
            ("shop", "shop-quota"), ("team-0001", "team-quota")} <= where
    namespaces = {n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]}
    assert {"kube-system", "monitoring", "default"} & {ns for ns, _ in where} == set()
    assert len(namespaces) > len({ns for ns, _ in where})
    for quota in quotas:
        hard = quota["spec"]["hard"]
        assert set(hard) in (COMPUTE, COMPUTE | {"pods"}, {"pods"})
        for key, text in hard.items():
            assert nanos(quota["status"]["used"][key]) <= nanos(text), (quota["metadata"]["name"], key)


def test_quota_use_counts_pod_level_resources_and_resizes(make_sim_server, sim_api):
    api = sim_api(make_sim_server(nodes=12, pods_per_node=9))
    pods = {p["metadata"]["name"]: p for p in api.get("/api/v1/namespaces/shop/pods").json()["items"]}
    assert pod_usage(pods["vector-db-0"])["requests.cpu"] == 10**9  # not the exporter's 20m
    infeasible = next(p for name, p in pods.items() if name.startswith("cart-")
                      and p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "48")
    assert pod_usage(infeasible)["requests.cpu"] == 200 * 10**6  # what it runs with
    in_progress = next(p for name, p in pods.items() if name.startswith("storefront-")
                       and p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "500m")
    assert pod_usage(in_progress)["requests.cpu"] == 500 * 10**6  # the larger, the spec's
    check_quotas(api)


def test_quota_use_follows_the_pods_as_they_come_and_go(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=30)
    api = sim_api(server)
    rv = api.get("/api/v1/resourcequotas").json()["metadata"]["resourceVersion"]
    for _ in range(6):
        server.cluster.advance(300)
        check_quotas(api)
    with api.stream("GET", "/api/v1/resourcequotas", params={"watch": "1", "resourceVersion": rv,
                                                            "timeoutSeconds": "1"}) as response:
        changed = [line for line in response.iter_lines() if line]
    assert changed, "no quota changed in half an hour of churn"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")
def test_kubectl_describes_a_quota_use_against_its_limits(make_sim_server, sim_api, tmp_path):
    server = make_sim_server(nodes=12, pods_per_node=9)
    quota = sim_api(server).get("/api/v1/namespaces/shop/resourcequotas/shop-quota").json()
    result = kubectl(str(server.write_kubeconfig(tmp_path / "config")), "describe", "quota", "-n", "shop")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[4:] if line.strip()}
    assert rows == {key: [quota["status"]["used"][key], hard] for key, hard in quota["spec"]["hard"].items()}
