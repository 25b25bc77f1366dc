"""ktopui: live Kubernetes resource usage in the terminal."""

__version__ = "0.1.0"
