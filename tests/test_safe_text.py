"""The one sanitiser for cluster text: what it escapes, what it leaves alone."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ktopui.kube.errors import CredentialError, KubeError, MetricsUnavailable
from ktopui.safe_text import escape_controls, escape_controls_in_json

# What must never reach a terminal raw: C0 controls (ESC, BEL, CR, LF, TAB...), DEL,
# C1 controls (the 8-bit CSI U+009B), bidi controls, zero-width and other format characters.
UNSAFE = (
    [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029", "\u00ad"]
)


def test_every_control_and_bidi_character_is_spelled_out():
    for char in UNSAFE:
        shown = escape_controls(f"a{char}b")
        assert char not in shown, repr(char)
        assert shown.isprintable(), repr(char)


def test_escapes_read_like_python_string_escapes():
    assert escape_controls("\x1b]0;title\x07") == "\\x1b]0;title\\x07"
    assert escape_controls("a\rb\tc\nd") == "a\\rb\\tc\\nd"
    assert escape_controls("\u202egnp.exe") == "\\u202egnp.exe"
    assert escape_controls("\x9b31m") == "\\x9b31m"
    assert escape_controls("tag\U000e0041") == "tag\\U000e0041"


def test_printable_text_is_left_exactly_as_it_is():
    for text in ("frontend-7d4b9c6f5-abcde", "ümlaut-日本-ß", "C:\\path\\x1b", "[bold]not markup[/]", ""):
        assert escape_controls(text) == text


def test_an_ordinary_name_is_returned_without_a_copy():
    name = "ip-10-0-1-12.eu-west-1.compute.internal"
    assert escape_controls(name) is name


def test_newlines_can_be_kept_for_text_shown_as_several_lines():
    assert escape_controls("line 1\nline 2\r\x1b[K", keep_newlines=True) == "line 1\nline 2\\r\\x1b[K"


@given(st.text())
def test_escaping_leaves_nothing_unprintable_and_is_idempotent(text):
    shown = escape_controls(text)
    assert shown.isprintable()
    assert escape_controls(shown) == shown


@given(st.text())
def test_json_escaping_keeps_the_data_and_leaves_nothing_raw(text):
    document = json.dumps({"name": text}, ensure_ascii=False, indent=2)
    safe = escape_controls_in_json(document)
    assert json.loads(safe) == {"name": text}
    assert all(char.isprintable() or char == "\n" for char in safe)


def test_error_messages_from_the_server_are_escaped_once_for_every_display():
    err = KubeError('pods "\x1b]0;owned\x07" is forbidden\r', hint="Plugin stderr:\nline\x1b[2J")
    assert err.message == 'pods "\\x1b]0;owned\\x07" is forbidden\\r'
    assert err.hint == "Plugin stderr:\nline\\x1b[2J"
    assert "\x1b" not in str(err)
    assert "\x07" not in CredentialError("\x07").message
    assert MetricsUnavailable("down", cause="backend-down", detail="\u202eevil").detail == "\\u202eevil"
