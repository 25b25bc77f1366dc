"""Kubernetes access: kubeconfig, credentials, TLS, the HTTP client, typed API objects and errors."""

import sys

# httpx's package __init__ imports its command-line client (`httpx._main`,
# which loads rich and click) whenever those happen to be installed; ktopui
# never uses it. Marked absent here, before any module of this package imports
# httpx, httpx falls back to a stub: 50 ms of imports off every `ktopui top`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
