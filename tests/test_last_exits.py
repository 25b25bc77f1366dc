"""Why pods die: each container's last exit and a pod's most recent one, read from the pods'
statuses as the API sends them, odd values included."""

from __future__ import annotations

import json

import pytest

from ktopui.kube.objects import PodList, decode
from ktopui.model.exits import ago, exit_text, finished_at
from ktopui.model.pod_info import pod_info
from ktopui.model.pods import pod_row

NOW = finished_at("2026-11-18T12:00:00Z")


def status(name: str, *, restarts: int = 0, last=None, state=None) -> dict:
    doc = {"name": name, "ready": True, "restartCount": restarts, "state": state or {"running": {}}}
    if last is not None:
        doc["lastState"] = last
    return doc


def pod_list(*statuses: dict, init: tuple[dict, ...] = ()) -> bytes:
    names = [s["name"] for s in statuses]
    spec = {"containers": [{"name": n} for n in names]}
    status_doc = {"phase": "Running", "containerStatuses": list(statuses)}
    if init:
        spec["initContainers"] = [{"name": s["name"], "restartPolicy": "Always"} for s in init]
        status_doc["initContainerStatuses"] = list(init)
    item = {"metadata": {"name": "p", "namespace": "ns"}, "spec": spec, "status": status_doc}
    return json.dumps({"items": [item]}).encode()


def info_of(body: bytes):
    (pod,) = decode(body, PodList).items
    return pod_info(pod)


def terminated(reason=None, code=None, finished=None) -> dict:
    doc = {}
    if reason is not None:
        doc["reason"] = reason
    if code is not None:
        doc["exitCode"] = code
    if finished is not None:
        doc["finishedAt"] = finished
    return {"terminated": doc}


def test_a_pods_last_exit_is_the_most_recent_of_its_containers_and_its_oom_kills_are_counted():
    info = info_of(pod_list(
        status("app", restarts=3, last=terminated("OOMKilled", 137, "2026-11-18T11:48:00Z")),
        status("worker", restarts=1, last=terminated("Error", 1, "2026-11-18T11:58:30Z")),
        status("quiet"),
        init=(status("proxy", restarts=2, last=terminated("OOMKilled", 137, "2026-11-18T09:00:00Z")),),
    ))
    assert info.oom_kills == 2
    assert (info.last_exit.container, info.last_exit.reason, info.last_exit.exit_code) == ("worker", "Error", 1)
    assert exit_text(info.last_exit, NOW) == "Error (1) 90s ago"
    runs = {spec.name: run for spec, run in zip(info.spec.containers, info.states)}
    assert exit_text(runs["app"].last_exit, NOW) == "OOMKilled 12m ago"
    assert exit_text(runs["proxy"].last_exit, NOW) == "OOMKilled 3h ago"
    assert runs["quiet"].last_exit is None and runs["app"].restarts == 3
    row = pod_row(info.key, info, None)
    assert row.last_exit is info.last_exit and row.last_exit_at == finished_at("2026-11-18T11:58:30Z")
    assert [c.last_exit for c in row.containers] == [runs[n].last_exit for n in ("proxy", "app", "worker", "quiet")]


def test_a_pod_that_never_restarted_has_no_last_exit():
    info = info_of(pod_list(status("app"), status("sidecar", last={})))
    assert info.last_exit is None and info.oom_kills == 0
    assert exit_text(info.last_exit, NOW) == "-" and pod_row(info.key, info, None).last_exit_at is None


@pytest.mark.parametrize(("last", "shown"), [
    (terminated(), "Terminated (0)"),  # a terminated state that says nothing
    (terminated("Error", -1, "2026-11-18T10:00:00Z"), "Error (-1) 2h ago"),  # a negative exit code
    (terminated("Error", 2**31 - 1, "2026-11-17T12:00:00Z"), "Error (2147483647) 24h ago"),
    (terminated("OOMKilled", 137, "yesterday"), "OOMKilled"),  # a time that is not one: no age
    (terminated("Completed", 0, "2026-11-18T12:00:07Z"), "Completed 0s ago"),  # dated after the server's now
    (terminated("Error", 1, "2026-11-18T11:59:59.123456+00:00"), "Error (1) 1s ago"),  # to the second
    (terminated("Error", 1, "2026-11-18T11:59:00"), "Error (1) 60s ago"),  # no zone: UTC, as the API means
    (terminated("ContainerCannotRun", 128, "2026-10-01T12:00:00Z"), "ContainerCannotRun (128) 48d ago"),
])
def test_odd_last_states_decode_and_say_what_they_can(last, shown):
    info = info_of(pod_list(status("app", restarts=2**31 - 1, last=last)))
    assert exit_text(info.last_exit, NOW) == shown
    assert info.restarts == 2**31 - 1


def test_a_last_exit_without_a_time_sorts_after_those_with_one():
    info = info_of(pod_list(
        status("a", restarts=1, last=terminated("Error", 2)),
        status("b", restarts=1, last=terminated("Error", 3, "2026-11-18T11:00:00Z")),
    ))
    assert info.last_exit.container == "b"
    undated = info_of(pod_list(status("a", restarts=1, last=terminated("Error", 2))))
    assert undated.last_exit.container == "a" and undated.last_exit.finished is None


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (119, "119s"), (120, "2m"), (7199, "119m"),
                                               (7200, "2h"), (48 * 3600 - 1, "47h"), (48 * 3600, "2d"), (-5, "0s")])
def test_ages_change_unit_at_two_of_the_next(seconds, text):
    assert ago(seconds) == text
