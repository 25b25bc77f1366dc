"""Effective pod requests and limits follow Kubernetes' PodRequests rule: sidecars, init
containers, pod-level resources, in-place resizes and overhead."""

import msgspec
import pytest

from ktopui.kube.objects import Pod
from ktopui.model.pods import pod_rows
from ktopui.model.pod_resources import InvalidResource, pod_limits, pod_shape
from ktopui.model.pod_resources import pod_requests as shape_requests


def resources(cpu=None, mem=None, lim_cpu=None, lim_mem=None):
    return {"requests": {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v},
            "limits": {k: v for k, v in (("cpu", lim_cpu), ("memory", lim_mem)) if v}}


def container(name, cpu=None, mem=None, *, lim_cpu=None, lim_mem=None, sidecar=False):
    c = {"name": name, "resources": resources(cpu, mem, lim_cpu, lim_mem)}
    if sidecar:
        c["restartPolicy"] = "Always"
    return c


def pod(containers, init=(), overhead=None, name="p", level=None, statuses=(), conditions=()):
    spec = {"containers": list(containers), "initContainers": list(init)}
    if overhead:
        spec["overhead"] = overhead
    if level:
        spec["resources"] = level
    status = {"containerStatuses": list(statuses), "conditions": list(conditions)}
    return msgspec.convert({"metadata": {"name": name, "namespace": "ns"}, "spec": spec, "status": status}, Pod)


def running(name, cpu=None, mem=None, *, lim_cpu=None, lim_mem=None, allocated=None):
    """A containerStatuses entry saying what the container runs with."""
    status = {"name": name, "ready": True, "state": {"running": {}}, "resources": resources(cpu, mem, lim_cpu, lim_mem)}
    if allocated:
        status["allocatedResources"] = allocated
    return status


def pod_requests(p):
    return shape_requests(pod_shape(p))


def limits_of(p):
    return pod_limits(pod_shape(p))


def millis(resources):
    return {k: q.milli_value() for k, q in resources.items()}


def test_app_containers_add_up():
    p = pod([container("a", "100m", "64Mi"), container("b", "250m", "128Mi")])
    assert millis(pod_requests(p)) == {"cpu": 350, "memory": 192 * 1024 * 1024 * 1000}


def test_an_init_container_bigger_than_the_app_sets_the_floor():
    p = pod([container("app", "100m")], init=[container("migrate", "500m")])
    assert millis(pod_requests(p)) == {"cpu": 500}


def test_sidecars_add_to_the_app_and_to_later_init_containers():
    # sidecar 200m runs alongside the app (100m): 300m; the init container
    # after the sidecar needs 250m + 200m = 450m while it runs.
    p = pod(
        [container("app", "100m")],
        init=[container("proxy", "200m", sidecar=True), container("setup", "250m")],
    )
    assert millis(pod_requests(p)) == {"cpu": 450}


def test_init_container_before_the_sidecar_runs_alone():
    p = pod(
        [container("app", "100m")],
        init=[container("setup", "250m"), container("proxy", "200m", sidecar=True)],
    )
    assert millis(pod_requests(p)) == {"cpu": 300}


def test_overhead_comes_on_top():
    p = pod([container("app", "100m")], overhead={"cpu": "50m"})
    assert millis(pod_requests(p)) == {"cpu": 150}


def test_limits_follow_the_same_rule():
    p = pod([container("app", lim_cpu="1"), container("b", lim_cpu="500m")])
    assert millis(limits_of(p)) == {"cpu": 1500}


def test_overhead_is_added_only_to_limits_that_are_set():
    p = pod([container("app", "100m", "64Mi", lim_mem="128Mi")], overhead={"cpu": "50m", "memory": "16Mi"})
    assert millis(pod_requests(p)) == {"cpu": 150, "memory": 80 * 2**20 * 1000}
    assert millis(limits_of(p)) == {"memory": 144 * 2**20 * 1000}  # no cpu limit: none made of the overhead


def test_a_pod_level_request_replaces_the_containers_total():
    # The StatefulSet of the issue: 1 CPU asked for by the pod, 20m by its exporter.
    p = pod([container("qdrant"), container("exporter", "20m", "32Mi")],
            level=resources("1", "2Gi", "2", "4Gi"), overhead={"cpu": "10m"})
    assert millis(pod_requests(p)) == {"cpu": 1010, "memory": 2 * 2**30 * 1000}
    assert millis(limits_of(p)) == {"cpu": 2010, "memory": 4 * 2**30 * 1000}


def test_a_pod_level_request_of_one_resource_leaves_the_other_to_the_containers():
    p = pod([container("app", "100m", "64Mi"), container("log", "50m", "16Mi")], level=resources(mem="1Gi"))
    assert millis(pod_requests(p)) == {"cpu": 150, "memory": 2**30 * 1000}


def test_a_resized_container_counts_the_larger_of_what_it_asks_and_what_it_runs_with():
    # Asked to grow to 500m (spec), still running with 250m: the node keeps 500m for it.
    grown = pod([container("web", "500m", "384Mi", lim_cpu="1")], statuses=[running("web", "250m", "256Mi", lim_cpu="1")],
                conditions=[{"type": "PodResizeInProgress", "status": "True"}])
    assert millis(pod_requests(grown)) == {"cpu": 500, "memory": 384 * 2**20 * 1000}
    # Asked to shrink, still running with more: the more it runs with.
    shrunk = pod([container("web", "100m", lim_cpu="1")], statuses=[running("web", "250m", lim_cpu="2")])
    assert millis(pod_requests(shrunk)) == {"cpu": 250}
    assert millis(limits_of(shrunk)) == {"cpu": 2000}


def test_an_infeasible_resize_counts_what_the_container_runs_with_not_what_it_asks():
    p = pod([container("cart", "48", "256Mi", lim_cpu="500m")], statuses=[running("cart", "200m", "256Mi", lim_cpu="500m")],
            conditions=[{"type": "Ready", "status": "True"},
                        {"type": "PodResizePending", "status": "True", "reason": "Infeasible"}])
    assert millis(pod_requests(p)) == {"cpu": 200, "memory": 256 * 2**20 * 1000}


def test_what_the_kubelet_allotted_counts_when_it_is_more():
    p = pod([container("web", "100m")], statuses=[running("web", "100m", allocated={"cpu": "300m"})])
    assert millis(pod_requests(p)) == {"cpu": 300}


def test_status_resources_equal_to_the_spec_share_the_spec_summary():
    from ktopui.model.pod_info import SpecMemo, pod_info

    memo = SpecMemo()
    spec = [container("app", "100m", "1Gi", lim_cpu="1")]
    reported = pod_info(pod(spec, name="web-1", statuses=[running("app", "100m", "1Gi", lim_cpu="1")]), memo)
    silent = pod_info(pod(spec, name="web-2"), memo)
    assert reported.spec is silent.spec and len(memo) == 1


def test_an_ordinary_init_container_counts_its_spec_whatever_its_status_says():
    p = pod([container("app", "100m")], init=[container("setup", "300m")],
            statuses=[{"name": "setup", "resources": resources("900m")}])
    assert millis(pod_requests(p)) == {"cpu": 300}


def test_invalid_request_names_the_container():
    with pytest.raises(InvalidResource, match="container app requests memory"):
        pod_requests(pod([container("app", mem="1g")]))


def _metrics(name, **usage):
    from ktopui.kube.objects import PodMetrics

    return msgspec.convert(
        {
            "metadata": {"name": name, "namespace": "ns"},
            "containers": [{"name": c, "usage": {"cpu": u, "memory": "10Mi"}} for c, u in usage.items()],
        },
        PodMetrics,
    )


def test_limit_percent_counts_only_containers_with_a_limit_and_says_so():
    # k9s would divide 300m (whole pod) by 200m and show 150%.
    p = pod([container("app", "100m", lim_cpu="200m"), container("log", "50m")])
    (row,) = pod_rows([p], [_metrics("p", app="100m", log="200m")])
    assert row.cpu_lim_pct == 50
    assert row.cpu_limit_share.partial is True
    assert row.cpu_req_pct == 200  # 300m used of 150m requested


def test_limit_percent_is_absent_when_no_container_sets_a_limit():
    (row,) = pod_rows([pod([container("app", "100m")])], [_metrics("p", app="100m")])
    assert row.cpu_lim_pct is None and row.cpu_limit_share.partial is False


def test_pod_without_metrics_still_has_requests():
    (row,) = pod_rows([pod([container("app", "100m", "1Gi")])], [])
    assert row.has_metrics is False
    assert row.requests.cpu_milli == 100 and row.requests.mem_bytes == 1 << 30


def test_a_pod_level_limit_bounds_the_whole_pod():
    p = pod([container("qdrant"), container("exporter", "20m", lim_cpu="100m")], level=resources("1", lim_cpu="2"))
    (row,) = pod_rows([p], [_metrics("p", qdrant="1411m", exporter="20m")])
    assert (row.cpu_req_pct, row.cpu_lim_pct, row.cpu_limit_share.partial) == (143, 71, False)
    # Of the pod's usage as its CPU column has it (1418.9m: 1419m), not of its containers'
    # rounded one by one (1419m + 1m: 71 %).
    (row,) = pod_rows([p], [_metrics("p", qdrant="1418500000n", exporter="400000n")])
    assert (row.usage.cpu_milli, row.cpu_lim_pct) == (1419, 70)
    assert [c.requests.cpu_milli for c in row.containers] == [None, 20]  # each container's own


def test_replicas_share_one_spec_summary():
    from ktopui.model.pod_info import SpecMemo, pod_info

    memo = SpecMemo()
    spec = [container("app", "100m", "1Gi", lim_cpu="1")]
    a, b = pod_info(pod(spec, name="web-1"), memo), pod_info(pod(spec, name="web-2"), memo)
    other = pod_info(pod([container("app", "200m")], name="db-0"), memo)
    assert a.spec is b.spec and other.spec is not a.spec and len(memo) == 2
    assert a.spec.requests.cpu_milli == 100 and a.spec.limits.cpu_milli == 1000
    assert (a.spec.cpu_bounded, a.spec.cpu_limit_milli, a.spec.cpu_partial) == (("app",), 1000, False)


def test_container_rows_come_from_the_summaries_on_demand():
    p = pod([container("app", "100m", lim_cpu="200m"), container("log", "50m")], init=[container("setup", "1")])
    (row,) = pod_rows([p], [_metrics("p", app="100m", log="1500000n")])
    assert [(c.name, c.role, c.has_metrics) for c in row.containers] == [
        ("setup", "init", False), ("app", "app", True), ("log", "app", True),
    ]
    assert [c.usage.cpu_milli for c in row.containers[1:]] == [100, 2]  # each rounded up on its own
    assert row.containers[1].cpu_lim_pct == 50


def test_a_single_container_keeps_its_history_under_the_pod():
    from ktopui.model import history_keys

    (one,) = pod_rows([pod([container("app", "100m")], name="one")], [_metrics("one", app="100m")])
    (two,) = pod_rows([pod([container("a"), container("b")], name="two")], [_metrics("two", a="1m", b="2m")])
    assert history_keys.of_container("ns", "one", "app", one.sample.container_names()) == history_keys.pod("ns", "one")
    assert history_keys.of_container("ns", "two", "a", two.sample.container_names()) == ("container", "ns", "two", "a")
