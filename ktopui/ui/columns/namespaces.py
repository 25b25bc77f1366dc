"""The namespaces table's columns (model/namespaces.py has its rows and the values they sort by)."""

from __future__ import annotations

from operator import attrgetter

from ktopui.model.namespaces import NamespaceRow
from ktopui.ui.cells import level, pct_text
from ktopui.ui.columns import Column, amount, pods_width, reclaimable, text_column
from ktopui.ui.columns.workloads import summed_usage


def quota(resource: str, title: str, priority: int) -> Column:
    """The share of the namespace's quota on `resource` (requests.cpu, ...) in use; blank where no quota sets it."""
    cid = f"quota_{resource.replace('.', '_')}_pct"

    def get(row: NamespaceRow) -> int | None:
        return row.quota_pct(resource)

    return Column(cid, title, 8, cid, lambda r, _h: "" if (v := get(r)) is None else pct_text(v),
                  tone=lambda r: level(get(r)), priority=priority, choice=("quota", resource))


NAMESPACE = text_column("namespace", "NAMESPACE", 16, attrgetter("namespace"), 100, flex=True, grow=65, cap=40,
                        middle=True)
PODS = Column("pods", "PODS", 7, "pods", lambda r, _h: r.pods_text,
              tone=lambda r: "warn" if r.running < r.pods else "", priority=55, choice=("pods", ""),
              fit=pods_width)
CPU_REQ = amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 70)
CPU_LIM = amount("cpu_lim", "CPU LIM", 9, attrgetter("limits.cpu_milli"), "cpu", "limits", 50)
MEM_REQ = amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 70)
MEM_LIM = amount("mem_lim", "MEM LIM", 9, attrgetter("limits.mem_bytes"), "mem", "limits", 50)
QUOTAS = [
    quota("requests.cpu", "Q CPU/R", 60),
    quota("requests.memory", "Q MEM/R", 60),
    quota("limits.cpu", "Q CPU/L", 45),
    quota("limits.memory", "Q MEM/L", 45),
]

COLUMNS = [NAMESPACE, PODS, summed_usage("cpu"), summed_usage("mem"), CPU_REQ, CPU_LIM, MEM_REQ, MEM_LIM, *QUOTAS,
           reclaimable("cpu"), reclaimable("mem")]
# Without the metrics API: no usage, the rest as it is.
RESERVED = [NAMESPACE, PODS, CPU_REQ, CPU_LIM, MEM_REQ, MEM_LIM, *QUOTAS]

