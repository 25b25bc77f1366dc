"""A strict reader of Prometheus's text exposition format (version 0.0.4), for checking what the
simulated kubelet serves: every sample's family announced by `# HELP` and `# TYPE` first, label
values unescaped (\\\\, \\", \\n), values and millisecond timestamps as written."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)', re.DOTALL)
_SAMPLE = re.compile(rf"({_NAME})(\{{.*\}})? (\S+) (-?\d+)$", re.DOTALL)


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: str
    timestamp_ms: int


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], value)


def parse(text: str) -> tuple[dict[str, str], list[Sample]]:
    """(family name -> type, samples); raises ValueError on anything malformed."""
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples = []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split(" ", 3)[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise ValueError(f"not a sample line: {line!r}")
        name, label_text, value, stamp = match.groups()
        if name not in types or name not in helped:
            raise ValueError(f"{name} sampled before its # HELP and # TYPE")
        labels = {}
        if label_text:
            inner = label_text[1:-1]
            position = 0
            for label in _LABEL.finditer(inner):
                if label.start() != position:
                    raise ValueError(f"bad labels: {label_text!r}")
                labels[label.group(1)] = unescape(label.group(2))
                position = label.end()
            if position != len(inner):
                raise ValueError(f"bad labels: {label_text!r}")
        float(value)
        samples.append(Sample(name, labels, value, int(stamp)))
    return types, samples
