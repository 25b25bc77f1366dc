"""The simulator's building blocks: quantity spelling, Go durations, selectors."""

from __future__ import annotations

import re

import pytest

from ktopui.sim import quantities as q
from ktopui.sim.selectors import SelectorError, fields_match, matches, parse_fields, parse_labels

# The accepted language of resource.Quantity (SPEC B §1.1), enough to check what the sim emits.
QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[numkMGTPE]|Ki|Mi|Gi|Ti|Pi|Ei)?$")


@pytest.mark.parametrize("nanocores, text", [
    (243381306, "243381306n"), (250_000_000, "250m"), (2_000_000_000, "2"), (1_500_000_000, "1500m"),
    (12_000, "12u"), (0, "0"), (1, "1n"), (10, "10n"), (100_000, "100u"),
])
def test_cpu_like_metrics_server(nanocores, text):
    assert q.cpu(nanocores) == text


@pytest.mark.parametrize("nbytes, text", [
    (3096552 * 1024, "3096552Ki"), (12345678, "12345678"), (1000, "1k"), (512, "512"), (1024, "1Ki"),
    (1 << 30, "1Gi"), (1536, "1536"), (0, "0"), (1025 * 1024, "1025Ki"),
])
def test_memory_like_metrics_server(nbytes, text):
    assert q.memory(nbytes) == text


@pytest.mark.parametrize("seconds, text", [
    (15.032, "15.032s"), (15.0, "15s"), (60.5, "1m0.5s"), (0.5, "500ms"), (3600, "1h0m0s"), (75.25, "1m15.25s"),
    (0.0000015, "1.5µs"), (0, "0s"),
])
def test_go_duration(seconds, text):
    assert q.go_duration(seconds) == text


def test_rfc3339():
    assert q.rfc3339(1_767_225_600.9) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("variant", range(12))
def test_quirky_spellings_are_valid_quantities(variant):
    for value in (1, 999, 125_000, 1_500_000_000, 31_999_999_999):
        assert QUANTITY.match(q.quirky_cpu(value, variant)), q.quirky_cpu(value, variant)
    for value in (4096, 3_000_000, 1_610_612_736, 8_000_000_000):
        assert QUANTITY.match(q.quirky_memory(value, variant)), q.quirky_memory(value, variant)
    for milli in (100, 500, 1500, 3920):
        assert QUANTITY.match(q.quirky_millicores(milli, variant))
    for nbytes in (512 << 20, 3 << 29, 10**9, 123456789):
        assert QUANTITY.match(q.quirky_bytes(nbytes, variant))


def test_quirky_spellings_cover_the_odd_forms():
    cpus = {q.quirky_cpu(1_500_000_000, v) for v in range(5)}
    assert {"15e-1", "1500000u", "1500m", "1.5"} <= cpus
    mems = {q.quirky_memory(3 << 29, v) for v in range(6)}
    assert {"1.5Gi", "1536Mi", "1611M", str(3 << 29)} <= mems
    assert {q.quirky_bytes(2 << 30, v) for v in range(6)} >= {"2Gi", "2048Mi"}
    assert {q.quirky_bytes(10**9, v) for v in range(6)} >= {"1G", "1e9", "1000M"}


LABELS = {"app": "web", "tier": "frontend", "pod-template-hash": "abc"}


@pytest.mark.parametrize("selector, expected", [
    ("", True), ("app=web", True), ("app==web", True), ("app!=web", False), ("app=api", False),
    ("app in (api, web)", True), ("app notin (web)", False), ("tier", True), ("!tier", False),
    ("!missing", True), ("missing", False), ("app=web,tier=frontend", True), ("app=web,tier=backend", False),
    ("missing!=x", True), ("app in (web),!missing,tier", True), ("env notin (prod)", True),
])
def test_label_selectors(selector, expected):
    assert matches(parse_labels(selector), LABELS) is expected


@pytest.mark.parametrize("selector", ["app=web,", "app in web", "=web", "app in (web", "app >< x"])
def test_bad_label_selectors(selector):
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        parse_labels(selector)


def test_field_selectors():
    allowed = ("metadata.name", "spec.nodeName")
    reqs = parse_fields("spec.nodeName=n1,metadata.name!=x", allowed, str)
    assert fields_match(reqs, {"metadata.name": "y", "spec.nodeName": "n1"})
    assert not fields_match(reqs, {"metadata.name": "x", "spec.nodeName": "n1"})
    assert fields_match(parse_fields("spec.nodeName==n1", allowed, str), {"spec.nodeName": "n1"})
    with pytest.raises(SelectorError, match="field label not supported: status.phase"):
        parse_fields("status.phase=Running", allowed, lambda f: f"field label not supported: {f}")
