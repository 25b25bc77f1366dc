"""Metadata-only lists, gets and watches, as client-go's metadata informers ask for them
(`Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`): the objects'
metadata as it is, no spec, no status; what the API server cannot transform is 406."""

from __future__ import annotations

import json

import pytest
from helpers.owners import METADATA, METADATA_LIST, PATHS, events
from kubernetes.client import ApiClient

# client-go metadata.Client's List header: protobuf first, which the simulator answers in JSON.
CLIENT_GO_LIST = ("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")


@pytest.fixture
def api(make_sim_server, sim_api):
    return sim_api(make_sim_server(nodes=12, pods_per_node=9))  # every kind of owner (zoo.py)


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_a_metadata_only_list_holds_each_objects_metadata_and_nothing_else(api, kind):
    full = api.get(PATHS[kind]).json()
    response = api.get(PATHS[kind], headers={"Accept": METADATA_LIST})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    doc = response.json()
    assert list(doc) == ["kind", "apiVersion", "metadata", "items"]
    assert (doc["kind"], doc["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert doc["metadata"] == {"resourceVersion": full["metadata"]["resourceVersion"]}
    assert full["items"], f"no {kind} to list"
    assert [item for item in doc["items"]] == [
        {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": item["metadata"]}
        for item in full["items"]]


def test_metadata_decodes_as_object_meta_with_its_owner_references(api):
    decoder = ApiClient()
    items = api.get(PATHS["ReplicaSet"], headers={"Accept": METADATA_LIST}).json()["items"]
    items += api.get(PATHS["Job"], headers={"Accept": METADATA_LIST}).json()["items"]
    owners = set()
    for item in items:
        meta = decoder.deserialize(json.dumps(item["metadata"]), "V1ObjectMeta", "application/json")
        (ref,) = meta.owner_references or [None]
        if ref is not None:
            assert ref.controller and ref.uid and ref.name
            owners.add((ref.api_version, ref.kind))
    assert owners == {("apps/v1", "Deployment"), ("argoproj.io/v1alpha1", "Rollout"), ("batch/v1", "CronJob")}


def test_client_gos_accept_header_gets_the_metadata_in_json(api):
    response = api.get(PATHS["ReplicaSet"], headers={"Accept": CLIENT_GO_LIST})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["kind"] == "PartialObjectMetadataList"
    older = api.get(PATHS["Job"], headers={"Accept": METADATA_LIST.replace("v=v1", "v=v1beta1")}).json()
    assert older["apiVersion"] == "meta.k8s.io/v1beta1" and older["items"][0]["apiVersion"] == "meta.k8s.io/v1beta1"


def test_metadata_only_lists_page_like_full_ones(api):
    every = api.get(PATHS["ReplicaSet"], headers={"Accept": METADATA_LIST}).json()["items"]
    first = api.get(PATHS["ReplicaSet"], params={"limit": "4"}, headers={"Accept": METADATA_LIST}).json()
    assert first["metadata"]["remainingItemCount"] == len(every) - 4
    rest = api.get(PATHS["ReplicaSet"], params={"continue": first["metadata"]["continue"]},
                   headers={"Accept": METADATA_LIST}).json()
    assert first["items"] + rest["items"] == every


def test_one_object_reads_as_partial_object_metadata(api):
    path = "/apis/batch/v1/namespaces/shop/jobs/db-backfill"
    full = api.get(path).json()
    one = api.get(path, headers={"Accept": METADATA}).json()
    assert one == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": full["metadata"]}


def test_a_metadata_only_watch_sends_partial_objects(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=6)
    api = sim_api(server)
    path = "/apis/apps/v1/namespaces/web/replicasets"
    listed = api.get(path, headers={"Accept": METADATA_LIST}).json()
    with api.stream("GET", path, params={"watch": "1", "timeoutSeconds": "2"},
                    headers={"Accept": METADATA}) as response:
        initial = events(response, len(listed["items"]))
    assert initial == [{"type": "ADDED", "object": item} for item in listed["items"]]
    server.cluster.roll_out("web", "frontend")
    server.cluster.advance(60)
    with api.stream("GET", path, params={"watch": "1", "timeoutSeconds": "3", "allowWatchBookmarks": "true",
                                         "resourceVersion": listed["metadata"]["resourceVersion"]},
                    headers={"Accept": METADATA}) as response:
        changes = events(response)
    assert changes[0]["type"] == "ADDED" and changes[0]["object"]["metadata"]["name"].startswith("frontend-")
    assert {"ADDED", "MODIFIED", "BOOKMARK"} <= {e["type"] for e in changes}
    for event in changes:
        assert set(event["object"]) == {"kind", "apiVersion", "metadata"}
        assert event["object"]["kind"] == "PartialObjectMetadata"
    assert changes[-1]["object"]["metadata"] == {"resourceVersion": changes[-1]["object"]["metadata"]
                                                 ["resourceVersion"], "creationTimestamp": None}


def test_what_the_api_server_cannot_transform_is_not_acceptable(api):
    listed = api.get(PATHS["ReplicaSet"], headers={"Accept": METADATA})
    assert listed.status_code == 406
    assert listed.json()["reason"] == "NotAcceptable" and listed.json()["message"] == (
        "you requested PartialObjectMetadata, but the requested object is a list (*apps.ReplicaSetList)")
    one = api.get("/api/v1/namespaces/shop/pods/debug-shell", headers={"Accept": METADATA_LIST})
    assert one.status_code == 406 and one.json()["message"] == (
        "you requested PartialObjectMetadataList, but the requested object is not a list (*core.Pod)")
    html = api.get(PATHS["Deployment"], headers={"Accept": "text/html"})
    assert html.status_code == 406 and html.json()["message"] == (
        "only the following media types are accepted: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf")
    table_first = api.get(PATHS["Deployment"], headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    assert table_first.json()["kind"] == "DeploymentList"  # no Table here: the next range


def test_a_watch_asking_for_the_list_form_gets_whole_objects(api):
    # The apiserver's watch encoder cannot make a list of one object and sends it as it is.
    with api.stream("GET", PATHS["DaemonSet"], params={"watch": "1", "timeoutSeconds": "1"},
                    headers={"Accept": METADATA_LIST}) as response:
        added = events(response)
    assert added and all(e["object"]["kind"] == "DaemonSet" and "spec" in e["object"] for e in added)
