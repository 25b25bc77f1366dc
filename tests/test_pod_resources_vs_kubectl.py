"""Effective pod requests and limits in the dashboard against `kubectl.1.33 describe node`, on a
simulated cluster with pods resized in place, pod-level resources, sidecars, init containers
and pod overhead: each pod's numbers in its "Non-terminated Pods" table and each node's
"Allocated resources" equal ours.

kubectl 1.33 counts no pod-level resources (describe counts them from 1.36 on): for those
pods kubectl's numbers are their containers' alone, which is also checked.
"""

from __future__ import annotations

import msgspec
import pytest
from helpers.app import make_app, refresh, refreshed, table
from helpers.kubectl import KUBECTL, kubectl
from helpers.sims import frozen_sim

from ktopui.kube.objects import PodList, decode
from ktopui.model.pod_resources import pod_limits, pod_requests, pod_shape
from ktopui.model.quantity import parse_quantity
from ktopui.sim import zoo

pytestmark = pytest.mark.kubectl
if KUBECTL is None:
    pytest.skip("kubectl.1.33 is not installed beside the kubectl dispatcher", allow_module_level=True)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("describe"), nodes=12, pods_per_node=9, seed=7) as sim:
        yield sim


def cpu(text: str) -> int:
    return parse_quantity(text).milli_value()


def memory(text: str) -> int:
    return parse_quantity(text).value()


def described(kubeconfig) -> dict[str, tuple[dict, dict]]:
    """Per node: its pods' (cpu req, cpu lim, mem req, mem lim) by key, and its allocated totals."""
    result = kubectl(str(kubeconfig), "describe", "nodes", "--show-events=false")
    assert result.returncode == 0, result.stderr
    nodes: dict[str, tuple[dict, dict]] = {}
    section = ""
    for line in result.stdout.splitlines():
        words = line.split()
        if line.startswith("Name:"):
            name = words[1]
            pods, totals = nodes[name] = ({}, {})
        elif line and not line.startswith(" "):
            section = words[0] if words else ""
        elif section == "Non-terminated" and len(words) == 11 and words[0] not in ("Namespace", "---------"):
            ns, pod, cpu_req, _, cpu_lim, _, mem_req, _, mem_lim, _, _ = words
            pods[(ns, pod)] = (cpu(cpu_req), cpu(cpu_lim), memory(mem_req), memory(mem_lim))
        elif section == "Allocated" and words and words[0] in ("cpu", "memory"):
            convert = cpu if words[0] == "cpu" else memory
            totals[words[0]] = (convert(words[1]), convert(words[3]))
    return nodes


def containers_alone(pod) -> tuple[int, int, int, int]:
    """What kubectl 1.33 counts: the pod's numbers without its pod-level resources."""
    shape = msgspec.structs.replace(pod_shape(pod), requests=(), limits=())
    requests, limits = pod_requests(shape), pod_limits(shape)

    def of(resources, name, value):
        return value(resources[name]) if name in resources else 0

    return (of(requests, "cpu", lambda q: q.milli_value()), of(limits, "cpu", lambda q: q.milli_value()),
            of(requests, "memory", lambda q: q.value()), of(limits, "memory", lambda q: q.value()))


def numbers(amounts_pair) -> tuple[int, int, int, int]:
    requests, limits = amounts_pair
    return (requests.cpu_milli or 0, limits.cpu_milli or 0, requests.mem_bytes or 0, limits.mem_bytes or 0)


async def test_every_pods_requests_and_limits_and_every_nodes_totals_equal_kubectl_describe_node(sim, sim_api):
    server, kubeconfig = sim
    expected = described(kubeconfig)
    listed = decode(sim_api(server).get("/api/v1/pods").content, PodList).items
    pods = {(p.metadata.namespace, p.metadata.name): p for p in listed}
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        ours = {r.key: numbers((r.requests, r.limits)) for r in table(app, "pods").rows}
        node_totals = {r.name: numbers((r.requests, r.limits)) for r in table(app, "nodes").rows}

    pod_level = {key for key, p in pods.items() if p.spec.resources is not None}
    resized = {key for key, p in pods.items() if any(s.resources is not None for s in p.status.containerStatuses)}
    sidecars = {key for key, p in pods.items() if any(c.restartPolicy == "Always" for c in p.spec.initContainers)}
    overhead = {key for key, p in pods.items() if p.spec.overhead}
    compared = set()
    for node, (theirs, totals) in expected.items():
        shift = [0, 0, 0, 0]
        for key, numbers_kubectl in theirs.items():
            compared.add(key)
            if key in pod_level:
                assert numbers_kubectl == containers_alone(pods[key]), key
                shift = [s + o - k for s, o, k in zip(shift, ours[key], numbers_kubectl)]
            else:
                assert ours[key] == numbers_kubectl, key
        allocated = (totals["cpu"][0], totals["cpu"][1], totals["memory"][0], totals["memory"][1])
        assert node_totals[node] == tuple(a + s for a, s in zip(allocated, shift)), node
    # The cases this is about were all among them.
    assert {("shop", "vector-db-0"), ("shop", "vector-db-1")} <= pod_level <= compared
    assert len(resized & compared) == 2 and sidecars & compared and overhead & compared
    vector = pods["shop", "vector-db-0"]
    assert ours["shop", "vector-db-0"] == (1000, 2000, 2 << 30, 4 << 30), vector.spec.resources


async def test_cpu_of_requests_of_a_pod_with_pod_level_resources_is_its_usage_over_the_pod_level_request(sim):
    server, kubeconfig = sim
    usage = {}
    for line in kubectl(str(kubeconfig), "top", "pods", "-n", zoo.NAMESPACE, "--no-headers").stdout.splitlines():
        name, cpu_used, _ = line.split()
        usage[name] = cpu(cpu_used)
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        pods = table(app, "pods")
        for _ in range(20):  # (the first refresh may come before the first pod metrics list)
            vector = [r for r in pods.rows if r.name.startswith("vector-db-")]
            if all(r.has_metrics for r in vector):
                break
            await refresh(app, pilot)
        columns = {c.id: c for c in pods.columns}
        shown = {r.name: (columns["cpu_req_pct"].text(r, pods.history), columns["cpu_lim_pct"].text(r, pods.history))
                 for r in vector}
    assert len(shown) == 2
    for name, (of_requests, of_limits) in shown.items():
        # 1 CPU asked for and 2 allowed at pod level, not the exporter's 20m
        assert of_requests.rstrip("!") == f"{int(usage[name] / 1000 * 100)}%"
        assert of_limits.rstrip("!") == f"{int(usage[name] / 2000 * 100)}%"
