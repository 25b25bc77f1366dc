"""`ktopui doctor`: what stands between this kubeconfig and live metrics, and what to do about it.

    from ktopui.doctor import Finding, diagnose, exit_code

    findings = await diagnose(conn, namespace="web")   # "" = all namespaces
    for f in findings:
        f.check, f.status, f.detail, f.next_step       # status: ok | warn | fail | skip

UI-agnostic: report.py renders findings for a terminal or as JSON; the
dashboard can show the same list on a screen of its own.
"""

from ktopui.doctor.findings import FAIL, OK, SKIP, WARN, Finding, exit_code

__all__ = ["FAIL", "OK", "SKIP", "WARN", "Finding", "diagnose", "exit_code"]


def __getattr__(name: str):
    # The checks import the HTTP stack; `ktopui top` imports this package only
    # for its command-line flags and must not pay for that.
    if name == "diagnose":
        from ktopui.doctor.checks import diagnose

        return diagnose
    raise AttributeError(name)
