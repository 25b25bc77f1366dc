"""A simulated Kubernetes cluster served over HTTPS (see server.py for the interface)."""
