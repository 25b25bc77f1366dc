"""metav1.Status error bodies worded as the apiserver words them
(apimachinery pkg/api/errors, apiserver endpoints/handlers/responsewriters)."""

from __future__ import annotations

import msgspec

_encode = msgspec.json.Encoder().encode


def status(code: int, reason: str, message: str, details: dict | None = None,
           metadata: dict | None = None) -> bytes:
    doc: dict = {"kind": "Status", "apiVersion": "v1", "metadata": metadata or {}, "status": "Failure",
                 "message": message, "reason": reason}
    if details is not None:
        doc["details"] = details
    doc["code"] = code
    return _encode(doc)


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str) -> dict:
    doc: dict = {}
    if name:
        doc["name"] = name
    if group:
        doc["group"] = group
    doc["kind"] = kind
    return doc


def not_found(resource: str, name: str, group: str = "") -> bytes:
    """errors.NewNotFound: `pods "x" not found`, `nodemetrics.metrics.k8s.io "x" not found`."""
    return status(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                  _details(name, group, resource))


def no_such_route() -> bytes:
    """A path under a served group version that names no resource."""
    return status(404, "NotFound", "the server could not find the requested resource", {})


def forbidden(user: str, verb: str, resource: str, group: str, namespace: str, name: str,
              subresource: str = "") -> bytes:
    """responsewriters.Forbidden wrapping forbiddenMessage in errors.NewForbidden."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    rbac = f"{resource}/{subresource}" if subresource else resource
    why = f'User "{user}" cannot {verb} resource "{rbac}" in API group "{group}" {scope}'
    what = _qualified(resource, group) + (f' "{name}"' if name else "")
    return status(403, "Forbidden", f"{what} is forbidden: {why}", _details(name, group, resource))


def unauthorized() -> bytes:
    return status(401, "Unauthorized", "Unauthorized")


def bad_request(message: str) -> bytes:
    return status(400, "BadRequest", message)


def expired(message: str, continue_token: str | None = None) -> bytes:
    meta = {"continue": continue_token} if continue_token else None
    return status(410, "Expired", message, metadata=meta)


def too_many_requests(retry_after: int) -> bytes:
    """The max-in-flight / priority-and-fairness rejection."""
    return status(429, "TooManyRequests", "Too many requests, please try again later.",
                  {"retryAfterSeconds": retry_after})


def internal_error(message: str) -> bytes:
    return status(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def gateway_timeout() -> bytes:
    return status(504, "Timeout", "Timeout: request did not complete within requested timeout - "
                                  "context deadline exceeded", {})


def method_not_allowed() -> bytes:
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def invalid(kind: str, group: str, name: str, field_name: str, why: str) -> bytes:
    """errors.NewInvalid: 422 with the field causes."""
    qualified = f"{kind}.{group}" if group else kind
    return status(422, "Invalid", f'{qualified} "{name}" is invalid: {field_name}: {why}',
                  {"group": group, "kind": kind,
                   "causes": [{"reason": "FieldValueInvalid", "message": why, "field": field_name}]})
