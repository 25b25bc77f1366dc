"""What `kubectl top pod` prints, straight from the metrics: no rows, no pod list.

`ktopui top pods` at 150,000 pods needs only each pod's name and usage, so
it neither summarises pods nor builds a PodRow per pod; the rounding is
the same as the dashboard's (pods.py), which a test compares.
"""

from __future__ import annotations

from collections.abc import Iterable

from ktopui.model.quantity import MAX_MILLI_NANOS, simple_nanos
from ktopui.model.usage import usage_of

# What a `kubectl top pod` table needs of one pod, without building a PodRow:
# (namespace, name, CPU millicores, memory bytes, the metrics' containers or
# None); a usage is None when an invalid quantity spoils it (the cell shows `?`).
PodUsageLine = tuple[str, str, int | None, int | None, list | None]
# One container of it: (name, CPU millicores, memory bytes).
ContainerUsageLine = tuple[str, int | None, int | None]

_MILLI = 1_000_000  # nano units per milli
_UNIT = 1_000_000_000  # nano units per unit
_KI_NANOS = 1024 * _UNIT


def pod_usage_lines(metrics: Iterable, *, containers: bool = True) -> list[PodUsageLine]:
    """The numbers of `kubectl top pod`, one tuple per pod, same rounding as pods.pod_rows.

    Takes PodMetrics or any shape with metadata.namespace/name and containers
    of name and usage (a ResourceList). Metrics-server's spellings (nanocores
    "243381306n", kibibytes "3096552Ki") are summed as integers here; other
    simple shapes through simple_nanos; a pod with any other spelling goes
    through usage_of and so the exact path. With containers=False the lines
    carry None instead of the metrics' containers, so those can be freed.
    """
    out: list[PodUsageLine] = []
    append = out.append
    limit = MAX_MILLI_NANOS
    for m in metrics:
        kept = m.containers if containers else None
        cpu = mem = 0  # nano units
        for c in m.containers:
            rl = c.usage
            text = rl.get("cpu")
            if text is not None:
                digits = text[:-1]
                if text[-1:] == "n" and digits.isdigit() and digits.isascii() and len(digits) < 19:
                    cpu += int(digits)
                else:
                    n = simple_nanos(text)
                    if n is None:
                        break
                    cpu += n
            text = rl.get("memory")
            if text is not None:
                digits = text[:-2]
                if text[-2:] == "Ki" and digits.isdigit() and digits.isascii() and len(digits) < 19:
                    mem += int(digits) * _KI_NANOS
                else:
                    n = simple_nanos(text)
                    if n is None:
                        break
                    mem += n
        else:
            if cpu <= limit and mem <= limit:
                meta = m.metadata
                append((meta.namespace, meta.name, -(-cpu // _MILLI), -(-mem // _UNIT), kept))
                continue
        usage = usage_of([c.usage for c in m.containers], {})
        meta = m.metadata
        append((meta.namespace, meta.name, usage.cpu_milli, usage.mem_bytes, kept))
    return out


def container_usage_lines(containers: Iterable) -> list[ContainerUsageLine]:
    """(name, CPU millicores, memory bytes) of each container, rounded one by one."""
    out: list[ContainerUsageLine] = []
    for c in containers:
        usage = usage_of([c.usage], {})
        out.append((c.name, usage.cpu_milli, usage.mem_bytes))
    return out
