"""Label and field selectors with the apiserver's grammar (apimachinery labels.Parse,
fields.ParseSelector): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Requirement = tuple[str, str, frozenset[str]]  # (key, op, values); op in = != in notin exists !exists

_TOKEN = re.compile(r"\s*(!=|==|=|!|,|\(|\)|[^\s!=,()]+)")


class SelectorError(ValueError):
    """An unparsable selector; the message is what the apiserver would put in its 400 Status."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise SelectorError(f"unable to parse requirement: found '{text[pos:]}', expected: identifier")
        out.append(match.group(1))
        pos = match.end()
    return out


def _is_word(token: str | None) -> bool:
    return token is not None and token not in ("!=", "==", "=", "!", ",", "(", ")")


def parse_labels(text: str) -> list[Requirement]:
    """Parse a labelSelector; the empty string selects everything."""
    toks = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def peek(offset: int = 0) -> str | None:
        return toks[i + offset] if i + offset < len(toks) else None

    while i < len(toks):
        if peek() == "!":
            key = peek(1)
            if not _is_word(key):
                raise SelectorError(f"unable to parse requirement: found '{key or ''}', expected: identifier")
            reqs.append((key, "!exists", frozenset()))
            i += 2
        else:
            key = peek()
            if not _is_word(key):
                raise SelectorError(f"unable to parse requirement: found '{key}', expected: identifier")
            op = peek(1)
            if op in (None, ","):
                reqs.append((key, "exists", frozenset()))
                i += 1
            elif op in ("=", "==", "!="):
                value = peek(2)
                if _is_word(value):
                    i += 3
                else:  # `a=` selects an empty value
                    value = ""
                    i += 2
                reqs.append((key, "!=" if op == "!=" else "=", frozenset([value])))
            elif op in ("in", "notin"):
                if peek(2) != "(":
                    raise SelectorError(f"unable to parse requirement: found '{peek(2) or ''}', expected: '('")
                i += 3
                values: set[str] = set()
                while peek() != ")":
                    tok = peek()
                    if tok is None:
                        raise SelectorError("unable to parse requirement: found '', expected: ')'")
                    if tok != ",":
                        values.add(tok)
                    i += 1
                i += 1
                reqs.append((key, op, frozenset(values)))
            else:
                raise SelectorError(
                    f"unable to parse requirement: found '{op}', expected: "
                    "in, notin, =, ==, !=, gt, lt"
                )
        if peek() not in (None, ","):
            raise SelectorError(f"unable to parse requirement: found '{peek()}', expected: ','")
        if peek() == "," and i + 1 == len(toks):
            raise SelectorError("unable to parse requirement: found '', expected: identifier")
        i += 1
    return reqs


def matches(reqs: list[Requirement], labels: Mapping[str, str]) -> bool:
    for key, op, values in reqs:
        present = key in labels
        if op == "=" or op == "in":
            if not present or labels[key] not in values:
                return False
        elif op == "!=" or op == "notin":
            if present and labels[key] in values:
                return False
        elif op == "exists":
            if not present:
                return False
        elif present:  # !exists
            return False
    return True


FieldReq = tuple[str, bool, str]  # (field, equal?, value)


def parse_fields(text: str, allowed: tuple[str, ...], unknown: Callable[[str], str]) -> list[FieldReq]:
    """Parse a fieldSelector restricted to `allowed` fields; `unknown(field)` words the 400."""
    reqs: list[FieldReq] = []
    for part in re.split(r"(?<!\\),", text.strip()) if text.strip() else []:
        match = re.fullmatch(r"([^=!]+)(!=|==|=)(.*)", part)
        if not match:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.groups()
        if field not in allowed:
            raise SelectorError(unknown(field))
        reqs.append((field, op != "!=", value.replace("\\,", ",")))
    return reqs


def fields_match(reqs: list[FieldReq], values: Mapping[str, str]) -> bool:
    return all((values.get(field, "") == value) == equal for field, equal, value in reqs)
