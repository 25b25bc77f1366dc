"""The fault switches that deny reading the owners and quotas (as RBAC that grants pods but not
ReplicaSets, Jobs or ResourceQuotas): 403s worded as the API server words them, on lists
and watches, with access reviews and the real kubectl agreeing."""

from __future__ import annotations

import pytest
from helpers.kubectl import KUBECTL, kubectl
from helpers.owners import METADATA_LIST

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SWITCHES = {  # switch -> (list path, namespaced list path, resource, group)
    "forbid_replicasets": ("/apis/apps/v1/replicasets", "/apis/apps/v1/namespaces/web/replicasets",
                           "replicasets", "apps"),
    "forbid_jobs": ("/apis/batch/v1/jobs", "/apis/batch/v1/namespaces/batch/jobs", "jobs", "batch"),
    "forbid_resourcequotas": ("/api/v1/resourcequotas", "/api/v1/namespaces/web/resourcequotas",
                              "resourcequotas", ""),
}


def can_i(api, verb: str, resource: str, group: str) -> bool:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group}}}
    return api.post(SSAR, json=review).json()["status"]["allowed"]


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_a_forbidden_owner_kind_is_403_on_lists_and_watches(sim_server, sim_api, switch):
    api = sim_api(sim_server)
    everywhere, namespaced, resource, group = SWITCHES[switch]
    assert api.get(everywhere).status_code == 200 and can_i(api, "list", resource, group)
    getattr(sim_server.faults, switch)()
    qualified = f"{resource}.{group}" if group else resource
    in_namespace = f'in the namespace "{namespaced.split("/")[-2]}"'
    for path, scope in ((everywhere, "at the cluster scope"), (namespaced, in_namespace)):
        for params, verb in (({}, "list"), ({"watch": "1"}, "watch")):
            response = api.get(path, params=params, headers={"Accept": METADATA_LIST})
            assert response.status_code == 403
            details = {"group": group, "kind": resource} if group else {"kind": resource}
            assert response.json() == {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": f'{qualified} is forbidden: User "sim-admin" cannot {verb} resource "{resource}" '
                           f'in API group "{group}" {scope}',
                "reason": "Forbidden", "details": details, "code": 403}
    assert not can_i(api, "list", resource, group) and not can_i(api, "watch", resource, group)
    assert api.get("/api/v1/pods").status_code == 200 and can_i(api, "list", "pods", "")
    sim_server.faults.reset()
    assert api.get(everywhere).status_code == 200


@pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")
def test_kubectl_reports_the_denial_and_can_i_agrees(sim_server, tmp_path):
    config = str(sim_server.write_kubeconfig(tmp_path / "config"))
    sim_server.faults.forbid_replicasets()
    result = kubectl(config, "get", "rs", "-A")
    assert result.returncode == 1
    assert result.stderr.strip() == ('Error from server (Forbidden): replicasets.apps is forbidden: User "sim-admin" '
                                     'cannot list resource "replicasets" in API group "apps" at the cluster scope')
    assert kubectl(config, "auth", "can-i", "list", "replicasets.apps").stdout.strip() == "no"
    assert kubectl(config, "auth", "can-i", "list", "deployments.apps").stdout.strip() == "yes"
