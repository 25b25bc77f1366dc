"""Quantity parsing throughput: ktopui against `kubernetes.utils.parse_quantity`.

    python bench/quantity_throughput.py [--count 200000] [--runs 7] [--seed 1]

One deterministic, realistic mix of strings, as a metrics API and pod specs
spell them: metrics-server CPU nanocores ("243381306n"), memory in Ki
("3096552Ki") and plain bytes ("12345678"), request/limit spellings ("250m",
"512Mi", "2Gi", "1") and a few odd but valid ones ("1.5Gi", "15e-1", "125u",
"8e9", "0.5"). Each contender parses the whole list once per run; the script
prints the median of --runs runs (and the fastest), nanoseconds per string
and the speed-up over the kubernetes client's parser. The two are not
equivalent (SPEC Part B §1.7): the kubernetes one returns a float-free Decimal
without Go's rounding, which is why ktopui never uses it for numbers it shows.

ktopui contenders:
  parse_quantity   full Go-exact Quantity object for every string (no cache)
  simple_nanos     the exact integer fast path `ktopui top` sums with
                   (None for the odd ones, which then take parse_quantity)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable

from ktopui.model.quantity import parse_quantity, simple_nanos

ODD = ["1.5Gi", "15e-1", "125u", "8e9", "0.5", "1e3", "2.5", "100.035k", "1E", ".5"]


def make_mix(count: int, seed: int) -> list[tuple[str, str]]:
    """(resource, text) pairs: 45% nanocores, 30% Ki, 8% plain bytes, 14% request shapes, 3% odd."""
    rnd = random.Random(seed)
    out: list[tuple[str, str]] = []
    for _ in range(count):
        r = rnd.random()
        if r < 0.45:
            out.append(("cpu", f"{rnd.randrange(10**5, 4 * 10**9)}n"))
        elif r < 0.75:
            out.append(("memory", f"{rnd.randrange(1024, 64 * 2**20)}Ki"))
        elif r < 0.83:
            out.append(("memory", str(rnd.randrange(10**5, 2**34))))
        elif r < 0.89:
            out.append(("cpu", f"{rnd.choice([50, 100, 250, 500, 750, 1500])}m"))
        elif r < 0.93:
            out.append(("memory", f"{rnd.choice([64, 128, 256, 512, 1024])}Mi"))
        elif r < 0.95:
            out.append(("memory", f"{rnd.choice([1, 2, 4, 8, 16])}Gi"))
        elif r < 0.97:
            out.append(("cpu", str(rnd.choice([1, 2, 4]))))
        else:
            out.append((rnd.choice(["cpu", "memory"]), rnd.choice(ODD)))
    return out


def time_runs(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="strings in the mix (default 200000)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each contender (default 7)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    try:
        from kubernetes.utils.quantity import parse_quantity as k8s_parse_quantity
    except ImportError:
        print("the kubernetes package is not installed", file=sys.stderr)
        return 2

    mix = make_mix(args.count, args.seed)
    texts = [t for _, t in mix]
    cpu_texts = [t for r, t in mix if r == "cpu"]
    mem_texts = [t for r, t in mix if r == "memory"]

    def k8s() -> None:
        for t in texts:
            k8s_parse_quantity(t)

    def ours_full() -> None:
        for t in texts:
            parse_quantity(t)

    def ours_nanos() -> None:
        for t in texts:
            if simple_nanos(t) is None:
                parse_quantity(t)

    contenders = {
        "kubernetes.utils.parse_quantity": k8s,
        "ktopui parse_quantity": ours_full,
        "ktopui simple_nanos (+exact)": ours_nanos,
    }
    # Interleave the contenders run by run so a busy machine hurts them alike.
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.runs):
        for name, fn in contenders.items():
            times[name].extend(time_runs(fn, 1))

    odd = sum(1 for t in texts if simple_nanos(t) is None)
    print(f"{len(texts)} strings ({len(cpu_texts)} CPU, {len(mem_texts)} memory, {odd} odd), "
          f"{args.runs} runs each, Python {sys.version.split()[0]}")
    print(f"{'contender':<34}{'median s':>10}{'min s':>9}{'ns/string':>11}{'M/s':>7}{'speed-up':>10}")
    base = statistics.median(times["kubernetes.utils.parse_quantity"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<34}{med:>10.4f}{min(ts):>9.4f}{med / len(texts) * 1e9:>11.0f}"
              f"{len(texts) / med / 1e6:>7.2f}{base / med:>9.2f}x")
    print("speed-up = median time of kubernetes.utils.parse_quantity / median time of the contender")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
