"""`ktopui top` against `kubectl top` (1.33), side by side, on one big simulated cluster.

    python bench/top_vs_kubectl.py [--nodes 5000] [--pods-per-node 30] [--runs 5]
                                   [--kubectl PATH] [--ktopui "COMMAND"] [--only nodes|pods]
    BASELINE_PYTHONPATH=/path/to/other/checkout python bench/top_vs_kubectl.py

Starts `ktopui sim` with a frozen clock (no churn, no usage changes) in a
subprocess, runs `kubectl top pods -A`, `ktopui top pods -A`, `kubectl top
nodes` and `ktopui top nodes` alternately, --runs times each after one
unmeasured warm-up round, with the same kubeconfig. Measures each child's wall
time, CPU time and peak resident memory (its own rusage from wait4), checks that both
clients printed the same bytes, and prints medians and the ktopui/kubectl
ratios next to the targets (pods: <= 0.5x time and <= 1.0x memory; nodes:
<= 1.0x time). Timing is informational: nothing here fails on a slow run.

With BASELINE_PYTHONPATH set to a checkout of another version (`git worktree
add` or `git archive`), that version's `ktopui top` runs too, in the same
rounds right after this one's, so a machine whose speed drifts shows both
versions the same drift; its ratios to kubectl are printed beside these.
`--only` measures one of the two commands.
"""

from __future__ import annotations

import argparse
import os
import queue
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

TARGETS = {  # command -> (max time ratio, max memory ratio or None)
    "top pods -A": (0.5, 1.0),
    "top nodes": (1.0, None),
}


def find_kubectl() -> str | None:
    """kubectl.1.33 beside the `kubectl` dispatcher (the gcloud SDK layout), else KUBECTL."""
    if env := os.environ.get("KUBECTL"):
        return env
    candidates = [Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")]
    if dispatcher := shutil.which("kubectl"):
        candidates.insert(0, Path(os.path.realpath(dispatcher)).parent / "kubectl.1.33")
    return next((str(c) for c in candidates if c.exists()), None)


def ktopui_command() -> list[str]:
    """The installed `ktopui` script beside this Python, else `python -m ktopui`."""
    script = Path(sys.executable).parent / "ktopui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ktopui"]


@dataclass
class Measured:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the child's own user + system seconds
    rss_kib: list[int] = field(default_factory=list)
    outputs: set[bytes] = field(default_factory=set)


def run_child(argv: list[str], out_path: Path, env: dict[str, str]) -> tuple[float, float, int, bytes]:
    """(wall seconds, CPU seconds, peak RSS in KiB, stdout) of one child process."""
    err_path = out_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
        wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        message = err_path.read_text(errors="replace")
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{message}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out_path.read_bytes()


class Sim:
    """`ktopui sim` (by default `--frozen`) in a subprocess; its kubeconfig path once it is ready."""

    def __init__(self, nodes: int, pods_per_node: int, workdir: Path, timeout: float = 120.0,
                 frozen: bool = True) -> None:
        self.kubeconfig = workdir / "kubeconfig"
        argv = [*ktopui_command(), "sim", "--nodes", str(nodes), "--pods-per-node", str(pods_per_node),
                *(["--frozen", "--churn", "0"] if frozen else []), "--kubeconfig", str(self.kubeconfig)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner = self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # A thread reads (a pipe's readline buffers ahead of what select sees).
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line == "":
                break  # the sim exited
            seen.append(line.rstrip())
            if line.startswith("Ctrl-C to stop"):
                return seen[0]
        self.stop()
        raise SystemExit("the simulated cluster did not start:\n" + "\n".join(seen))

    def _pump(self, lines: queue.Queue[str]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put(line)
        lines.put("")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()



def on_live_sim(nodes: int, pods_per_node: int, work: Callable[[str], T]) -> T:
    """Start `ktopui sim` with its clock running, print its banner, return work(its kubeconfig), stop it."""
    with tempfile.TemporaryDirectory() as workdir:
        sim = Sim(nodes, pods_per_node, Path(workdir), frozen=False)
        try:
            print(sim.banner)
            return work(str(sim.kubeconfig))
        finally:
            sim.stop()

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each command (default 5)")
    parser.add_argument("--kubectl", default=find_kubectl(), help="kubectl binary (default: kubectl.1.33)")
    parser.add_argument("--ktopui", type=shlex.split, default=ktopui_command(),
                        help="command that runs the ktopui to measure (default: this environment's)")
    parser.add_argument("--only", choices=("nodes", "pods"), help="measure only `top nodes` or `top pods -A`")
    args = parser.parse_args(argv)
    baseline = os.environ.get("BASELINE_PYTHONPATH")
    if not args.kubectl:
        print("kubectl.1.33 not found beside the kubectl dispatcher (set KUBECTL=...)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="ktopui-bench-") as tmp:
        workdir = Path(tmp)
        sim = Sim(args.nodes, args.pods_per_node, workdir)
        try:
            kc = str(sim.kubeconfig)
            # Same environment for all; kubectl's discovery cache goes to the
            # temporary HOME, not ~/.kube.
            env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "BASELINE_PYTHONPATH")}
            env["HOME"] = tmp
            # (client, command) -> (argv, environment)
            commands: dict[tuple[str, str], tuple[list[str], dict[str, str]]] = {}
            for command, words in (("top pods -A", ["pods", "-A"]), ("top nodes", ["nodes"])):
                if args.only and not command.startswith(f"top {args.only}"):
                    continue
                commands[("kubectl", command)] = ([args.kubectl, "--kubeconfig", kc, "top", *words], env)
                commands[("ktopui", command)] = ([*args.ktopui, "top", "--kubeconfig", kc, *words], env)
                if baseline:
                    commands[("baseline", command)] = (
                        [sys.executable, "-P", "-m", "ktopui", "top", "--kubeconfig", kc, *words],
                        {**env, "PYTHONPATH": baseline},
                    )
            results = {key: Measured() for key in commands}
            print(sim.banner)
            print(f"kubectl: {args.kubectl}")
            print(f"ktopui:  {shlex.join(args.ktopui)}")
            if baseline:
                print(f"baseline: PYTHONPATH={baseline} {sys.executable} -P -m ktopui")
            print(f"runs: 1 warm-up + {args.runs} measured, alternating\n", flush=True)
            for round_no in range(args.runs + 1):
                for key, (command, command_env) in commands.items():
                    wall, cpu, rss, out = run_child(command, workdir / "out", command_env)
                    if round_no == 0:
                        continue  # warm-up: discovery caches, first responses
                    m = results[key]
                    m.wall.append(wall)
                    m.cpu.append(cpu)
                    m.rss_kib.append(rss)
                    m.outputs.add(out)
                print(f"  round {round_no}/{args.runs}{' (warm-up)' if round_no == 0 else ''} done", flush=True)
        finally:
            sim.stop()

    print()
    print(f"{'command':<14}{'client':<9}{'wall s (median)':>16}{'min':>8}{'max':>8}{'CPU s (median)':>16}"
          f"{'peak RSS MiB':>14}")
    for (client, command), m in results.items():
        print(f"{command:<14}{client:<9}{statistics.median(m.wall):>16.3f}{min(m.wall):>8.3f}"
              f"{max(m.wall):>8.3f}{statistics.median(m.cpu):>16.3f}{statistics.median(m.rss_kib) / 1024:>14.1f}")
    print()
    all_identical = True
    for command, (time_target, mem_target) in TARGETS.items():
        if ("kubectl", command) not in results:
            continue
        theirs = results[("kubectl", command)]
        lines = len(next(iter(theirs.outputs)).splitlines())
        for client in ("ktopui", "baseline"):
            if (client, command) not in results:
                continue
            ours = results[(client, command)]
            time_ratio = statistics.median(ours.wall) / statistics.median(theirs.wall)
            mem_ratio = statistics.median(ours.rss_kib) / statistics.median(theirs.rss_kib)
            identical = len(ours.outputs) == 1 and ours.outputs == theirs.outputs
            all_identical &= identical
            name = "ktopui" if client == "ktopui" else "baseline ktopui"
            verdict = "ok" if time_ratio <= time_target else "MISSED"
            print(f"{command}: time ratio {name}/kubectl {time_ratio:.2f} (target <= {time_target}: {verdict})")
            if mem_target is None:
                print(f"{command}: memory ratio {name}/kubectl {mem_ratio:.2f}")
            else:
                verdict = "ok" if mem_ratio <= mem_target else "MISSED"
                print(f"{command}: memory ratio {name}/kubectl {mem_ratio:.2f} (target <= {mem_target}: {verdict})")
            print(f"{command}: {name} output {'identical' if identical else 'DIFFERENT'} ({lines} lines)")
        if ("baseline", command) in results:
            ours, before = results[("ktopui", command)], results[("baseline", command)]
            print(f"{command}: time ratio ktopui/baseline "
                  f"{statistics.median(ours.wall) / statistics.median(before.wall):.2f}, CPU ratio "
                  f"{statistics.median(ours.cpu) / statistics.median(before.cpu):.2f}")
    return 0 if all_identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
