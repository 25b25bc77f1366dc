"""What a check found, for a person: one small value per check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ktopui.safe_text import escape_controls

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
STATUSES = (OK, WARN, FAIL, SKIP)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # short title: "metrics API", "permission: list pods"
    status: str  # ok | warn | fail | skip
    detail: str  # what was found, in words
    next_step: str = ""  # what to do about it ("" when nothing is needed)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        # Findings quote the server (whoami, versions, reasons, Status messages) and the
        # kubeconfig: escaped here, every report (text, JSON, the dashboard, the log) is safe.
        for field in fields(self):
            object.__setattr__(self, field.name, escape_controls(getattr(self, field.name)))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def exit_code(findings: list[Finding]) -> int:
    """0 when nothing failed (warnings are things ktopui can do without), else 1."""
    return 1 if any(f.status == FAIL for f in findings) else 0
