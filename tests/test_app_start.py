"""A dashboard that cannot start says why once: teardown adds no second error."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap


def test_a_failed_start_reports_its_cause_and_nothing_from_teardown(sim_server, tmp_path):
    kubeconfig = sim_server.write_kubeconfig(tmp_path / "kubeconfig")
    script = textwrap.dedent(f"""
        from ktopui.live.session import ClusterSession
        from ktopui.ui.app import KtopApp

        class Unstyled(KtopApp):
            CSS_PATH = {str(tmp_path / "missing.tcss")!r}  # as when the stylesheet was left out of the wheel

        app = Unstyled(ClusterSession.from_kubeconfig(kubeconfig={str(kubeconfig)!r}))
        app.run(headless=True)
        raise SystemExit(app.return_code)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "StylesheetError: unable to read CSS file" in out
    raised = re.findall(r"^(\w+): ", out, re.M)  # the closing line of each traceback
    assert raised == ["StylesheetError"], out
