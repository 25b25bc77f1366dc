"""Kubernetes access: kubeconfig, credentials, TLS, the HTTP client, typed API objects and errors."""
