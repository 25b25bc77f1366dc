"""Random and mutated API bodies through decoding and the model: no exception escapes to the user.

Decoding may refuse a body (MalformedResponse, which the UI shows as a failed
refresh); everything it accepts must join into rows without raising, with
bad quantities reduced to `?` cells.
"""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference.tables import pod_table

from ktopui.batch.nodes import node_table
from ktopui.batch.pods import pod_usage_table
from ktopui.kube.errors import MalformedResponse
from ktopui.kube.objects import (
    NodeList,
    NodeMetricsList,
    PodList,
    PodMetricsList,
    decode,
)
from ktopui.model.nodes import node_rows
from ktopui.model.pods import pod_rows
from ktopui.model.quantity import QuantityError, parse_quantity, simple_nanos
from ktopui.model.top_lines import pod_usage_lines
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

PATHS = {
    NodeList: "/api/v1/nodes",
    PodList: "/api/v1/pods",
    NodeMetricsList: "/apis/metrics.k8s.io/v1beta1/nodes",
    PodMetricsList: "/apis/metrics.k8s.io/v1beta1/pods",
}


@pytest.fixture(scope="module")
def bodies():
    with SimServer(SimOptions(nodes=2, pods_per_node=3, seed=81, frozen=True, quirky=True)) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(verify=trust, headers={"Authorization": f"Bearer {server.token}"}) as c:
            return {kind: c.get(server.url + path).content for kind, path in PATHS.items()}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def decoded_or_refused(body: bytes, kind):
    try:
        return decode(body, kind)
    except MalformedResponse:
        return None


def rows_and_tables(nodes, pods, node_metrics, pod_metrics):
    nrows = node_rows(nodes, node_metrics, pods)
    prows = pod_rows(pods, pod_metrics)
    node_table(nrows, sort_by="cpu")
    pod_usage_table(pod_usage_lines(pod_metrics or []), all_namespaces=True, containers=True, sort_by="memory")
    pod_table(prows, all_namespaces=True, containers=True, sort_by="memory")  # the rows' containers too
    return nrows, prows


def mutate(doc, data):
    """Replace one randomly chosen value somewhere in the document with random JSON."""
    node = doc
    for _ in range(data.draw(st.integers(0, 6))):
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
            if not isinstance(node[key], (dict, list)) or data.draw(st.booleans()):
                node[key] = data.draw(JSON)
                return doc
            node = node[key]
        elif isinstance(node, list) and node:
            i = data.draw(st.integers(0, len(node) - 1))
            if not isinstance(node[i], (dict, list)) or data.draw(st.booleans()):
                node[i] = data.draw(JSON)
                return doc
            node = node[i]
        else:
            break
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bodies_decode_or_are_refused_and_never_break_the_model(bodies, data):
    decoded = {}
    for kind, body in bodies.items():
        doc = json.loads(body)
        if data.draw(st.booleans()):
            doc = mutate(doc, data)
        decoded[kind] = decoded_or_refused(json.dumps(doc).encode(), kind)
    items = {k: (v.items if v is not None else None) for k, v in decoded.items()}
    rows_and_tables(items[NodeList], items[PodList], items[NodeMetricsList], items[PodMetricsList])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), junk=st.binary(max_size=20), kind=st.sampled_from(sorted(PATHS, key=str)))
def test_truncated_and_corrupted_bodies_are_refused_cleanly(bodies, cut, junk, kind):
    body = bodies[kind]
    for broken in (body[: cut % max(1, len(body))], body[:cut] + junk + body[cut:], junk):
        decoded_or_refused(broken, kind)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=30))
def test_any_quantity_string_parses_or_fails_with_a_quantity_error(text):
    simple_nanos(text)  # an int or None, never an exception
    try:
        q = parse_quantity(text)
    except QuantityError:
        return
    q.milli_value(), q.value()  # what `kubectl top` prints of CPU and memory


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cpu=st.text(max_size=12), mem=st.text(max_size=12), alloc=st.text(max_size=12))
def test_any_quantity_in_any_object_spoils_at_most_its_cells(bodies, cpu, mem, alloc):
    metrics = json.loads(bodies[NodeMetricsList])
    nodes = json.loads(bodies[NodeList])
    pods = json.loads(bodies[PodMetricsList])
    metrics["items"][0]["usage"] = {"cpu": cpu, "memory": mem}
    nodes["items"][0]["status"]["allocatable"]["cpu"] = alloc
    pods["items"][0]["containers"][0]["usage"]["cpu"] = cpu
    nrows, prows = rows_and_tables(
        decode(json.dumps(nodes).encode(), NodeList).items,
        None,
        decode(json.dumps(metrics).encode(), NodeMetricsList).items,
        decode(json.dumps(pods).encode(), PodMetricsList).items,
    )
    healthy = [r for r in nrows if r.name != metrics["items"][0]["metadata"]["name"] and r.has_metrics]
    assert healthy and all(r.usage.cpu_milli is not None for r in healthy)
