"""Errors raised at the Kubernetes boundary.

Each carries a message written for a person (what happened, and where useful,
what to do next). They are raised where the failure is detected and caught
once, where they are displayed: stderr for `ktopui top`, the header for the
dashboard.

A message quotes what the server or a plugin said, and is only ever shown:
its control characters are escaped here, once, for every place it appears.
"""

from __future__ import annotations

from ktopui.safe_text import escape_controls


class KubeError(Exception):
    """Base class: anything that stops ktopui from getting data from the cluster."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        message = escape_controls(message)
        super().__init__(message)
        self.message = message
        self.hint = escape_controls(hint, keep_newlines=True)  # (a plugin's stderr: several lines)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class ConfigError(KubeError):
    """The kubeconfig (or in-cluster config) cannot be used."""


class CredentialError(KubeError):
    """Credentials could not be obtained (exec plugin failed, token file unreadable...)."""


class TransportError(KubeError):
    """The request never got an HTTP answer."""


class Unreachable(TransportError):
    """Connection refused, DNS failure, network down."""


class TLSError(TransportError):
    """The TLS handshake failed (unknown CA, name mismatch...)."""


class RequestTimeout(TransportError):
    """No answer within the timeout."""


class StreamSilent(TransportError):
    """A stream (a watch) sent no byte for longer than it may."""


class APIError(KubeError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        hint: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class Unauthorized(APIError):
    """401: the credentials were rejected (expired token, wrong certificate)."""


class Forbidden(APIError):
    """403: authenticated, but RBAC does not allow this verb on this resource."""

    def __init__(self, message: str, *, verb: str, resource: str, **kw) -> None:
        super().__init__(message, **kw)
        self.verb = verb
        self.resource = resource


class NotFound(APIError):
    """404 for a named object or a path the server does not serve."""

    def __init__(self, message: str, *, object_missing: bool = False, **kw) -> None:
        super().__init__(message, **kw)
        # The API server answered with a Status: the path is served, the object is not there
        # (a plain-text 404 comes from a path nothing serves).
        self.object_missing = object_missing


class TooManyRequests(APIError):
    """429: the API server asks us to slow down (see retry_after)."""


class ServerError(APIError):
    """5xx other than the metrics backend being down."""


class MetricsUnavailable(KubeError):
    """The metrics.k8s.io API cannot be used.

    `cause` is "not-registered" (no APIService, discovery lacks the group or
    the path is a 404) or "backend-down" (APIService registered, backend not
    answering: 503 with a plain-text body, or a stale discovery entry).
    """

    def __init__(self, message: str, *, cause: str, detail: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.cause = cause
        self.detail = escape_controls(detail)


class MalformedResponse(KubeError):
    """The body could not be decoded (truncated, not JSON, wrong shape, nested too deeply)."""


class ResponseTooLarge(KubeError):
    """The body outgrew what the request can legitimately return (see kube/limits.py)."""


class Redirected(APIError):
    """3xx: something in front of the API server sends us elsewhere (ktopui does not follow)."""
