"""Names Kubernetes accepts, and why a name is not one (for a person typing it)."""

from __future__ import annotations

import re

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MAX = 63
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_SUBDOMAIN_MAX = 253
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


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


def label_key_problem(key: str) -> str | None:
    """Why `key` cannot be a label key (`[prefix/]name`, as Kubernetes validates one), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "the prefix before '/' is empty"
    if prefix and (len(prefix) > DNS1123_SUBDOMAIN_MAX or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return (f"its prefix must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most "
                f"{DNS1123_SUBDOMAIN_MAX} characters)")
    if not name:
        return "the name is empty"
    if len(name) > DNS1123_LABEL_MAX or not _QUALIFIED_NAME.fullmatch(name):
        return (f"its name must be at most {DNS1123_LABEL_MAX} letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit")
    return None
