"""A pod's owner prefix: its name without the suffix its controller added.

Controllers name pods `<owner>-<suffix>`: the API server's generateName adds
five characters from apimachinery's `util/rand` alphabet (no vowels, no 0, 1
or 3) for ReplicaSets, DaemonSets and Jobs, a StatefulSet adds its ordinal.
So a Deployment's pod's prefix is its ReplicaSet's name, a DaemonSet's or a
StatefulSet's pod's is the workload's own. Prometheus groups by the same
regex (`label_replace` in `promql.by_owner`), so a big workload's history is
one series per prefix rather than one per pod.

What this misattributes: a pod whose name merely looks generated, e.g. a bare
pod someone named `web-x2x4z` beside a DaemonSet `web`, counts as that
workload's in the history read from Prometheus. A name with no such suffix is
its own prefix.
"""

from __future__ import annotations

import re

# apimachinery util/rand's alphabet (generateName's suffix) or a StatefulSet ordinal.
SUFFIX = "(?:[bcdfghjklmnpqrstvwxz2456789]{5}|[0-9]+)"
# Anchored as Prometheus anchors label_replace's regex; RE2 and Python read it alike.
OWNER_PREFIX = f"(.+?)(?:-{SUFFIX})?"
_OWNER_PREFIX = re.compile(OWNER_PREFIX)


def owner_prefix(pod: str) -> str:
    """The name the pod's controller gave it its name from (the pod's own name if none did)."""
    return _OWNER_PREFIX.fullmatch(pod).group(1) if pod else pod
