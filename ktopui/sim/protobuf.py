"""Just enough of the Kubernetes protobuf encoding to read the review requests kubectl
sends (`kubectl auth can-i`, `kubectl auth whoami` POST protobuf bodies).

A body is the magic `k8s\\x00` followed by a runtime.Unknown message
(k8s.io/apimachinery pkg/runtime/generated.proto: typeMeta = 1 {apiVersion = 1,
kind = 2}, raw = 2); `raw` is the object's own message (k8s.io/api
authorization/v1/generated.proto for SelfSubjectAccessReview).
"""

from __future__ import annotations

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Field number -> values (bytes for length-delimited fields, ints for the rest)."""
    out: dict[int, list[bytes | int]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        value: bytes | int
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise ProtobufError("truncated field")
            value, i = data[i:i + size], i + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, i = int.from_bytes(data[i:i + width], "little"), i + width
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _message(data: dict[int, list[bytes | int]], number: int) -> dict[int, list[bytes | int]] | None:
    values = data.get(number)
    return fields(values[-1]) if values and isinstance(values[-1], bytes) else None


def _strings(data: dict[int, list[bytes | int]], names: dict[int, str]) -> dict[str, str]:
    out = {}
    for number, name in names.items():
        values = data.get(number)
        if values and isinstance(values[-1], bytes) and values[-1]:
            out[name] = values[-1].decode("utf-8", "replace")
    return out


_RESOURCE_ATTRIBUTES = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource",
                        7: "name"}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def decode_review(body: bytes) -> dict:
    """A protobuf SelfSubjectAccessReview or SelfSubjectReview as the JSON document it stands for."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf prefix")
    unknown = fields(body[len(MAGIC):])
    type_meta = _strings(_message(unknown, 1) or {}, {1: "apiVersion", 2: "kind"})
    raw = unknown.get(2)
    obj = fields(raw[-1]) if raw and isinstance(raw[-1], bytes) else {}
    doc: dict = {**type_meta}
    if type_meta.get("kind") == "SelfSubjectAccessReview":
        spec: dict = {}
        source = _message(obj, 2) or {}
        if (attrs := _message(source, 1)) is not None:
            spec["resourceAttributes"] = _strings(attrs, _RESOURCE_ATTRIBUTES)
        if (attrs := _message(source, 2)) is not None:
            spec["nonResourceAttributes"] = _strings(attrs, _NON_RESOURCE_ATTRIBUTES)
        doc["spec"] = spec
    return doc
