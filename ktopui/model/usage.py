"""Usage of one or more ResourceLists summed exactly, rounded as kubectl rounds it (SPEC §2.3).

Simple spellings are summed as integers of nano units; anything else goes
through Quantity parsing and Go's Add. An invalid quantity leaves its
resource unset and says why in `problems`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ktopui.kube.objects import ResourceList
from ktopui.model.amounts import Usage
from ktopui.model.quantity import (
    MAX_MILLI_NANOS,
    Quantity,
    QuantityError,
    nanos_to_milli,
    nanos_to_value,
    parse_cached,
    simple_nanos,
    sum_quantities,
)


def _sum(texts: Iterable[str], label: str, problems: dict[str, str], key: str) -> Quantity | None:
    texts = list(texts)
    try:
        return sum_quantities(texts)
    except QuantityError as err:
        bad = next((t for t in texts if not _valid(t)), "?")
        problems[key] = f"invalid {label} quantity {bad!r}: {err}"
        return None


def _valid(text: str) -> bool:
    try:
        parse_cached(text)
    except QuantityError:
        return False
    return True


def _fast_totals(lists: Iterable[ResourceList]) -> tuple[int, int] | None:
    """(CPU, memory) sums in nano units when every quantity has a simple shape.

    None when some quantity needs the exact parser, or a sum is too large for
    the plain ceilings of nanos_to_milli/nanos_to_value to be Go's answer.
    """
    totals = [0, 0]  # cpu, memory
    for rl in lists:
        for i, name in enumerate(("cpu", "memory")):
            text = rl.get(name)
            if text is not None:
                n = simple_nanos(text)
                if n is None:
                    return None
                totals[i] += n
    cpu, mem = totals
    if cpu > MAX_MILLI_NANOS or mem > MAX_MILLI_NANOS:
        return None
    return cpu, mem


def usage_of(lists: list[ResourceList], problems: dict[str, str]) -> Usage:
    """Exact sum of usage lists, rounded the way kubectl rounds (SPEC §2.3)."""
    totals = _fast_totals(lists)
    if totals is not None:
        cpu_n, mem_n = totals
        return Usage(nanos_to_milli(cpu_n), nanos_to_value(mem_n), nanos_to_milli(mem_n))
    return exact_usage_of(lists, problems)


def exact_usage_of(lists: list[ResourceList], problems: dict[str, str]) -> Usage:
    """usage_of on the exact path only: Quantity parsing and Go's Add, for any spelling."""
    usage = Usage()
    cpu = _sum((rl["cpu"] for rl in lists if "cpu" in rl), "CPU", problems, "cpu")
    if cpu is not None:
        usage.cpu_milli = cpu.milli_value()
    mem = _sum((rl["memory"] for rl in lists if "memory" in rl), "memory", problems, "memory")
    if mem is not None:
        usage.mem_bytes = mem.value()
        usage.mem_milli = mem.milli_value()
    return usage
