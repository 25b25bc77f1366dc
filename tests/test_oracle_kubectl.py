"""`ktopui top` against the machine's real `kubectl top`, same simulated cluster, same state.

The cluster clock is frozen so both clients read identical bytes. Outputs
must be identical except for SPEC Part A §3's deliberate differences: rows
whose sort keys tie may be ordered differently (kubectl's sort is unstable
past 12 rows; ours breaks ties by name), and the `<unknown>` rows of nodes
without metrics come in random order from kubectl.
"""

from __future__ import annotations

import itertools

import pytest
from helpers.kubectl import KUBECTL, kubectl

from ktopui.cli import main
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

pytestmark = pytest.mark.kubectl


if KUBECTL is None:
    pytest.skip("kubectl.1.33 is not installed beside the kubectl dispatcher", allow_module_level=True)


CLUSTERS = {
    "small": SimOptions(nodes=3, pods_per_node=4, seed=11),
    "medium": SimOptions(nodes=24, pods_per_node=9, seed=12),
    "quirky": SimOptions(nodes=6, pods_per_node=6, seed=13, quirky=True),
}


@pytest.fixture(scope="module", params=sorted(CLUSTERS))
def cluster(request, tmp_path_factory):
    server = SimServer(CLUSTERS[request.param]).start()
    server.cluster.freeze()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("kc") / "config")
    yield server, str(kubeconfig)
    server.stop()


def ktopui(kubeconfig: str, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["top", "--kubeconfig", kubeconfig, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _key_column(args: tuple[str, ...]) -> int | None:
    """Which column holds the sort key, counting from the right of a row."""
    if "--sort-by=cpu" in args:
        return -2 if "pods" in args else -4
    if "--sort-by=memory" in args:
        return -1 if "pods" in args else -2
    return None


def _runs(lines: list[str], key) -> list[list[str]]:
    """Consecutive lines with equal sort keys, each run in a canonical order."""
    return [sorted(group) for _, group in itertools.groupby(lines, key=key)]


def assert_same_modulo_ties(
    ours: str, theirs: str, args: tuple[str, ...], pod_totals: dict[tuple[str, str], str] | None = None
) -> None:
    if ours == theirs:
        return
    ours_lines, their_lines = ours.splitlines(), theirs.splitlines()
    assert sorted(ours_lines) == sorted(their_lines), "different rows"
    # Same rows: the order may differ only inside runs of equal sort keys,
    # or among the `<unknown>` rows.
    col = _key_column(args)

    def key(line):
        cells = line.split()
        if "<unknown>" in cells:
            return "<unknown>"
        return cells[col] if col is not None and len(cells) >= 3 else line

    def canonical(lines):
        if pod_totals is None:
            return _runs(lines, key)
        # --containers: pods are sorted by their total, containers inside a
        # pod by their own value; ties may permute at both levels.
        def pod_of(line):
            cells = line.split()
            return (cells[0], cells[1]) if (cells[0], cells[1]) in pod_totals else line

        blocks = [
            (pod, tuple(map(tuple, _runs(list(group), key))))
            for pod, group in itertools.groupby(lines, key=pod_of)
        ]
        return _runs(blocks, key=lambda block: pod_totals.get(block[0], block[0]))

    assert canonical(ours_lines) == canonical(their_lines), f"\n--- ours\n{ours}\n--- kubectl\n{theirs}"


NODE_CASES = [
    (),
    ("--no-headers",),
    ("--sort-by=cpu",),
    ("--sort-by=memory",),
    ("--show-capacity",),
    ("--sort-by=cpu", "--no-headers", "--show-capacity"),
    ("-l", "node-role.kubernetes.io/worker"),
]

POD_CASES = [
    ("-A",),
    ("-n", "kube-system"),
    (),  # the context's namespace
    ("-A", "--containers"),
    ("-A", "--sum"),
    ("-A", "--containers", "--sum"),
    ("-A", "--sort-by=cpu"),
    ("-A", "--sort-by=memory"),
    ("-A", "--sort-by=cpu", "--containers"),
    ("-n", "kube-system", "--no-headers", "--sum"),
    ("-A", "--no-headers", "--sum"),
    ("-A", "--containers", "--no-headers", "--sum"),
    ("-A", "-l", "app=web"),
    ("-A", "--field-selector", "metadata.namespace=kube-system"),
]


@pytest.mark.parametrize("args", NODE_CASES, ids=lambda a: " ".join(a) or "plain")
def test_top_nodes_matches_kubectl(cluster, capsys, args):
    server, kubeconfig = cluster
    theirs = kubectl(kubeconfig, "top", "nodes", *args)
    code, out, err = ktopui(kubeconfig, capsys, "nodes", *args)
    assert theirs.returncode == 0, theirs.stderr
    assert code == 0, err
    assert_same_modulo_ties(out, theirs.stdout, ("nodes", *args))


@pytest.mark.parametrize("args", POD_CASES, ids=lambda a: " ".join(a) or "context-namespace")
def test_top_pods_matches_kubectl(cluster, capsys, args):
    server, kubeconfig = cluster
    theirs = kubectl(kubeconfig, "top", "pods", *args)
    code, out, err = ktopui(kubeconfig, capsys, "pods", *args)
    assert code == theirs.returncode, (err, theirs.stderr)
    totals = None
    if "--containers" in args and _key_column(("pods", *args)) is not None:
        # Pod totals, to recognise pods whose order is a tie.
        _, listing, _ = ktopui(kubeconfig, capsys, "pods", "-A", "--no-headers")
        col = _key_column(("pods", *args))
        totals = {(c[0], c[1]): c[col] for c in (line.split() for line in listing.splitlines())}
    assert_same_modulo_ties(out, theirs.stdout, ("pods", *args), totals)
    assert err.strip() == theirs.stderr.strip()


def _first(server, text_lines: str, ns_col: bool) -> tuple[str, str]:
    cells = text_lines.splitlines()[1].split()
    return (cells[0], cells[1]) if ns_col else ("", cells[0])


def test_top_node_by_name_matches_kubectl(cluster, capsys):
    server, kubeconfig = cluster
    listing = kubectl(kubeconfig, "top", "nodes").stdout
    _, name = _first(server, listing, ns_col=False)
    theirs = kubectl(kubeconfig, "top", "node", name)
    code, out, _ = ktopui(kubeconfig, capsys, "node", name)
    assert (code, out) == (theirs.returncode, theirs.stdout)


def test_top_pod_by_name_matches_kubectl(cluster, capsys):
    server, kubeconfig = cluster
    listing = kubectl(kubeconfig, "top", "pods", "-A").stdout
    ns, name = _first(server, listing, ns_col=True)
    for extra in ((), ("--containers",)):
        theirs = kubectl(kubeconfig, "top", "pod", name, "-n", ns, *extra)
        code, out, _ = ktopui(kubeconfig, capsys, "pod", name, "-n", ns, *extra)
        assert (code, out) == (theirs.returncode, theirs.stdout)


def test_unknown_node_fails_like_kubectl(cluster, capsys):
    server, kubeconfig = cluster
    theirs = kubectl(kubeconfig, "top", "node", "no-such-node")
    code, out, err = ktopui(kubeconfig, capsys, "node", "no-such-node")
    assert theirs.returncode == code == 1
    assert out == theirs.stdout == ""
    assert err.splitlines()[0] == theirs.stderr.strip()


def test_empty_namespace_says_no_resources_like_kubectl(cluster, capsys):
    server, kubeconfig = cluster
    theirs = kubectl(kubeconfig, "top", "pods", "-n", "no-such-namespace")
    code, out, err = ktopui(kubeconfig, capsys, "pods", "-n", "no-such-namespace")
    assert (code, out, err) == (theirs.returncode, theirs.stdout, theirs.stderr)
