"""ktopui: live Kubernetes resource usage in the terminal."""

import logging

__version__ = "0.1.0"

# Silent unless --log adds a handler: never let logging's last-resort handler
# write over the dashboard.
logging.getLogger(__name__).addHandler(logging.NullHandler())
