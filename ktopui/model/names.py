"""Names Kubernetes accepts, and why a name is not one (for a person typing it)."""

from __future__ import annotations

import re

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MAX = 63


def namespace_name_problem(name: str) -> str | None:
    """Why `name` cannot be a namespace (an RFC 1123 DNS label), or None when it can."""
    if not name:
        return "it is empty"
    if len(name) > DNS1123_LABEL_MAX:
        return f"it is {len(name)} characters long; at most {DNS1123_LABEL_MAX}"
    if _DNS1123_LABEL.fullmatch(name):
        return None
    if name != name.lower():
        return "it has capital letters; namespace names are lowercase"
    return "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"
