"""`ktopui top` tables from decoded objects, against SPEC §2.9's byte-exact examples."""

import itertools

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.tables import pod_table
from reference.tabwriter import render_reference

from ktopui.batch.nodes import node_table, node_usage_rows, nodes_json
from ktopui.batch.pods import pod_usage_table
from ktopui.batch.tabwriter import render
from ktopui.kube.objects import (
    Node,
    NodeList,
    NodeMetrics,
    NodeMetricsList,
    PodMetrics,
    PodMetricsList,
    PodUsageList,
    decode,
)
from ktopui.model.nodes import node_rows
from ktopui.model.pods import pod_rows
from ktopui.model.top_lines import pod_usage_lines
from ktopui.model.usage import usage_of


def node(name, cpu="3920m", memory="7548764Ki"):
    return msgspec.convert(
        {"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "memory": memory}}}, Node
    )


def node_metrics(name, cpu, memory):
    return msgspec.convert({"metadata": {"name": name}, "usage": {"cpu": cpu, "memory": memory}}, NodeMetrics)


def pod_metrics(ns, name, *containers):
    return msgspec.convert(
        {
            "metadata": {"name": name, "namespace": ns},
            "containers": [{"name": c, "usage": {"cpu": cpu, "memory": mem}} for c, cpu, mem in containers],
        },
        PodMetrics,
    )


A, B, C = "ip-10-0-1-12.ec2.internal", "ip-10-0-2-7.ec2.internal", "ip-10-0-3-99.ec2.internal"
NODES = [node(A), node(B), node(C)]
NODE_METRICS = [node_metrics(A, "1594123456n", "3952456Ki"), node_metrics(B, "98765432n", "1234567Ki")]
PODS = [
    pod_metrics("default", "web-7d4b9c6f5-abcde", ("nginx", "1500000n", "10012Ki"), ("sidecar", "1500000n", "2048Ki")),
    pod_metrics("kube-system", "coredns-5d78c9869d-xyz12", ("coredns", "2345678n", "15360Ki")),
]


def dots(text):
    return text.replace(" ", "·")


def test_node_table_matches_kubectl_with_unknown_rows_last():
    assert dots(node_table(node_rows(NODES, NODE_METRICS))) == (
        "NAME························CPU(cores)···CPU(%)······MEMORY(bytes)···MEMORY(%)···\n"
        "ip-10-0-1-12.ec2.internal···1595m········40%·········3859Mi··········52%·········\n"
        "ip-10-0-2-7.ec2.internal····99m··········2%··········1205Mi··········16%·········\n"
        "ip-10-0-3-99.ec2.internal···<unknown>····<unknown>···<unknown>·······<unknown>···\n"
    )


def test_node_table_without_headers_sorted_by_cpu_has_narrower_columns():
    assert dots(node_table(node_rows(NODES, NODE_METRICS), sort_by="cpu", no_headers=True)) == (
        "ip-10-0-1-12.ec2.internal···1595m·······40%·········3859Mi······52%·········\n"
        "ip-10-0-2-7.ec2.internal····99m·········2%··········1205Mi······16%·········\n"
        "ip-10-0-3-99.ec2.internal···<unknown>···<unknown>···<unknown>···<unknown>···\n"
    )


def test_node_missing_from_node_list_gets_dash_percentages_not_a_ragged_row():
    table = node_table(node_rows([node(A)], NODE_METRICS))
    assert dots(table).splitlines()[2] == "ip-10-0-2-7.ec2.internal····99m··········-········1205Mi··········-···········"


def test_zero_allocatable_gives_no_percentage():
    table = node_table(node_rows([node(A, cpu="0", memory="0")], NODE_METRICS[:1]))
    assert dots(table).splitlines()[1] == "ip-10-0-1-12.ec2.internal···1595m········-········3859Mi··········-···········"


def test_invalid_quantity_spoils_only_its_cell():
    bad = [node_metrics(A, "1594123456n", "6GiB"), NODE_METRICS[1]]
    lines = node_table(node_rows(NODES[:2], bad)).splitlines()
    assert lines[1].split() == [A, "1595m", "40%", "?", "?"]
    assert lines[2].split() == [B, "99m", "2%", "1205Mi", "16%"]


def top_pods(metrics, **flags):
    """The table `ktopui top pods` prints for these pod metrics (the row-based reference prints the same)."""
    table = pod_usage_table(pod_usage_lines(metrics), **flags)
    assert table == pod_table(pod_rows(None, metrics), **flags)
    return table


def test_pod_table_in_one_namespace():
    assert dots(top_pods(PODS[:1])) == (
        "NAME··················CPU(cores)···MEMORY(bytes)···\n"
        "web-7d4b9c6f5-abcde···3m···········11Mi············\n"
    )


def test_pod_table_all_namespaces():
    assert dots(top_pods(PODS, all_namespaces=True)) == (
        "NAMESPACE·····NAME·······················CPU(cores)···MEMORY(bytes)···\n"
        "default·······web-7d4b9c6f5-abcde········3m···········11Mi············\n"
        "kube-system···coredns-5d78c9869d-xyz12···3m···········15Mi············\n"
    )


def _total(metrics):
    problems = {}
    return usage_of([c.usage for m in metrics for c in m.containers], problems), problems


def test_containers_are_rounded_one_by_one_and_the_sum_once():
    table = top_pods(PODS, all_namespaces=True, containers=True, total=_total(PODS))
    assert dots(table) == (
        "NAMESPACE·····POD························NAME······CPU(cores)···MEMORY(bytes)···\n"
        "default·······web-7d4b9c6f5-abcde········nginx·····2m···········9Mi·············\n"
        "default·······web-7d4b9c6f5-abcde········sidecar···2m···········2Mi·············\n"
        "kube-system···coredns-5d78c9869d-xyz12···coredns···3m···········15Mi············\n"
        "···················································________·····________········\n"
        "···················································6m···········26Mi············\n"
    )


def test_sum_without_headers_reproduces_kubectl_misalignment():
    table = top_pods(PODS, all_namespaces=True, no_headers=True, total=_total(PODS))
    assert dots(table) == (
        "default·······web-7d4b9c6f5-abcde········3m·········11Mi···\n"
        "kube-system···coredns-5d78c9869d-xyz12···3m·········15Mi···\n"
        "··············________···················________···\n"
        "··············6m·························26Mi·······\n"
    )


def test_cpu_sort_breaks_ties_by_name():
    pods = [pod_metrics("ns", n, ("c", "5m", "1Mi")) for n in ("b", "c", "a")]
    names = [line.split()[0] for line in top_pods(pods, sort_by="cpu").splitlines()[1:]]
    assert names == ["a", "b", "c"]


def test_no_metrics_prints_nothing():
    assert top_pods([]) == "" and node_table(node_rows(NODES, [])) == ""


# -- The fast table path against the reference path -----------------------------

CELLS = st.text(st.sampled_from("ab_-é漢 "), max_size=14)


@settings(max_examples=500)
@given(st.lists(st.lists(CELLS, max_size=6), max_size=12))
def test_render_equals_the_line_by_line_port_on_ragged_tables(rows):
    assert render(rows) == render_reference(rows)


def test_render_of_a_rectangle_is_the_width_formula():
    rows = [["NAME", "CPU(cores)"], ["a", "1m"], ["bbbbbbbbbbbb", "100m"]]
    widths = [max(6, 3 + max(len(r[k]) for r in rows)) for k in range(2)]
    assert render(rows) == "".join(f"{r[0]:<{widths[0]}}{r[1]:<{widths[1]}}\n" for r in rows)


QUANTITY = st.sampled_from(
    ["243381306n", "1500000n", "0", "250m", "3096552Ki", "12345678", "1Gi", "1.5Gi", "15e-1", "125u",
     "8e9", "6GiB", "9223372036854775807", "99999999999999999999n", "-5m", "", "1k"]
) | st.builds(lambda n: f"{n}n", st.integers(0, 4 * 10**9)) | st.builds(lambda n: f"{n}Ki", st.integers(0, 10**8))


@st.composite
def pod_metrics_bodies(draw):
    items = []
    names = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "kube-system"]), st.sampled_from("pqrstu")),
                          min_size=1, max_size=8, unique=True))
    for ns, name in names:
        containers = []
        for c in draw(st.lists(st.sampled_from(["app", "db", "side"]), max_size=3, unique=True)):
            usage = draw(st.fixed_dictionaries({}, optional={"cpu": QUANTITY, "memory": QUANTITY}))
            containers.append({"name": c, "usage": usage})
        items.append({"metadata": {"name": name, "namespace": ns, "labels": {"x": "y"}},
                      "timestamp": "2026-01-01T00:00:00Z", "window": "15s", "containers": containers})
    return msgspec.json.encode({"kind": "PodMetricsList", "items": items})


FLAGS = list(itertools.product([False, True], [False, True], ["", "cpu", "memory"], [False, True]))


@settings(max_examples=40)
@given(pod_metrics_bodies())
@pytest.mark.parametrize("all_namespaces, containers, sort_by, no_headers", FLAGS)
def test_lean_pod_table_equals_the_row_based_table(all_namespaces, containers, sort_by, no_headers, body):
    full = decode(body, PodMetricsList).items
    lean = decode(body, PodUsageList).items
    flags = {"all_namespaces": all_namespaces, "containers": containers, "sort_by": sort_by, "no_headers": no_headers}
    expected = pod_table(pod_rows(None, full), **flags, total=_total(full))
    assert pod_usage_table(pod_usage_lines(lean, containers=containers), **flags, total=_total(lean)) == expected
    assert pod_usage_table(pod_usage_lines(full), **flags, total=_total(full)) == expected


@settings(max_examples=300)
@given(pod_metrics_bodies())
def test_pod_usage_lines_have_pod_rows_numbers(body):
    full = decode(body, PodMetricsList).items
    rows = {(r.namespace, r.name): r for r in pod_rows(None, full)}
    for ns, name, cpu, mem, _ in pod_usage_lines(decode(body, PodUsageList).items):
        row = rows[(ns, name)]
        assert cpu == (None if "cpu" in row.problems else row.usage.cpu_milli)
        assert mem == (None if "memory" in row.problems else row.usage.mem_bytes)


# -- `ktopui top nodes`' own rows against the dashboard's -------------------------

NODE_NAMES = st.sampled_from(["n1", "n2", "n3"])
# Valid, invalid ("6GiB", ""), zero, and too large for int64 millis.
NODE_QUANTITY = st.sampled_from(["1594123456n", "3952456Ki", "250m", "1.5Gi", "0", "6GiB", "", "9223372036854775807"])


@st.composite
def node_bodies(draw):
    """A node list and a node metrics list over a few names, each name possibly in either, or twice."""
    resources = st.fixed_dictionaries({}, optional={"cpu": NODE_QUANTITY, "memory": NODE_QUANTITY})
    nodes = [{"metadata": {"name": name, "labels": {"node-role.kubernetes.io/worker": ""}},
              "status": {"allocatable": draw(resources), "capacity": draw(resources),
                         "conditions": [{"type": "Ready", "status": draw(st.sampled_from(["True", "False"]))}]}}
             for name in draw(st.lists(NODE_NAMES, max_size=4))]
    metrics = [{"metadata": {"name": name}, "timestamp": draw(st.sampled_from(["2026-01-01T00:00:00Z", ""])),
                "window": "10.5s", "usage": draw(resources)}
               for name in draw(st.lists(NODE_NAMES, max_size=4))]
    return (msgspec.json.encode({"kind": "NodeList", "items": nodes}),
            msgspec.json.encode({"kind": "NodeMetricsList", "items": metrics}))


def _printed(row):
    """What `ktopui top nodes` prints of a row, in either form."""
    return (row.name, row.has_metrics, row.in_node_list, row.usage, row.available, row.problems,
            row.timestamp, row.window, row.cpu_pct, row.mem_pct)


@settings(max_examples=300)
@given(node_bodies(), st.booleans())
def test_top_nodes_own_rows_print_like_the_dashboards_rows(bodies, use_capacity):
    nodes, metrics = decode(bodies[0], NodeList).items, decode(bodies[1], NodeMetricsList).items
    ours = node_usage_rows(nodes, metrics, use_capacity=use_capacity)
    dashboards = node_rows(nodes, metrics, use_capacity=use_capacity)
    assert list(map(_printed, ours)) == list(map(_printed, dashboards))
    for sort_by, no_headers in itertools.product(["", "cpu", "memory"], [False, True]):
        assert node_table(ours, sort_by=sort_by, no_headers=no_headers) == node_table(
            dashboards, sort_by=sort_by, no_headers=no_headers)
    assert nodes_json(ours) == nodes_json(dashboards)
