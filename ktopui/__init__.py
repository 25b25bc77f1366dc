"""ktopui: live Kubernetes resource usage in the terminal."""

import logging
import sys

__version__ = "0.1.0"

# Silent unless --log adds a handler: never let logging's last-resort handler
# write over the dashboard.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# httpx's package __init__ imports its command-line client (`httpx._main`,
# which loads rich and click) whenever those happen to be installed; ktopui
# never uses it. Marked absent here, before any module of ktopui imports
# httpx (the doctor and the app import it directly), httpx falls back to a
# stub: 50 ms of imports off every start.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
