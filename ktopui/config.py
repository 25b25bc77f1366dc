"""The config file: `$XDG_CONFIG_HOME/ktopui/config.toml` (or `--config PATH`).

Read with tomllib and decoded into typed Settings with msgspec. Every error
names the file and the line of the key at fault. What keys may name (column
ids, binding ids, themes) is the UI's to say: it hands a Vocabulary in, so
this module imports no Textual.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ktopui.kube.prometheus_settings import PromSettings, url_problem
from ktopui.model.names import label_key_problem
from ktopui.model.status import POOL_LABELS

MIN_INTERVAL = 1.0
VIEWS = ("nodes", "pods", "workloads", "namespaces")
DEFAULT_THEME = "textual-dark"


class Thresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Percentages from which a cell is marked `!` (warning) and `!!` (critical)."""

    warning: int = 70
    critical: int = 90


class ViewSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A view's section. Each key left out keeps its default: the section's other keys never
    change what it means (a section with only `columns` keeps the view's sort)."""

    columns: list[str] | None = None  # column ids in the order shown; None: all, built-in order
    sort: str = "cpu"  # a column id; not written and not among `columns`: name order (KtopApp.sort_for)
    descending: bool | None = None  # None: as the sort keys sort, names A to Z and numbers from the highest


class NodeViewSettings(ViewSettings, forbid_unknown_fields=True, frozen=True):
    sort: str = "name"
    # The node labels that name a node's pool (the first one a node carries), for `p`.
    pool_labels: tuple[str, ...] = POOL_LABELS


class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    view: str = "nodes"
    interval: float = 2.0
    theme: str = DEFAULT_THEME
    thresholds: Thresholds = msgspec.field(default_factory=Thresholds)
    nodes: NodeViewSettings = msgspec.field(default_factory=NodeViewSettings)
    pods: ViewSettings = msgspec.field(default_factory=ViewSettings)
    workloads: ViewSettings = msgspec.field(default_factory=ViewSettings)
    namespaces: ViewSettings = msgspec.field(default_factory=ViewSettings)
    keys: dict[str, str] = msgspec.field(default_factory=dict)  # binding id -> keys, for App.set_keymap
    prometheus: PromSettings = msgspec.field(default_factory=PromSettings)

    def view_settings(self, view: str) -> ViewSettings:
        """The section of one of VIEWS."""
        return getattr(self, view)


@dataclass(frozen=True)
class Binding:
    """What a binding id stands for, for validation and the commented default."""

    keys: str
    does: str


@dataclass(frozen=True)
class Vocabulary:
    """The names a config file may use, as the UI defines them."""

    columns: Mapping[str, Sequence[str]]  # view -> column ids, in the built-in order
    bindings: Mapping[str, Binding]  # binding id -> its default keys and what it does
    themes: Sequence[str]


class ConfigFileError(Exception):
    """A config file that cannot be used: printed as `PATH, line N: message`."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {message}")


def default_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "ktopui" / "config.toml"


def load(path: str | os.PathLike | None, vocabulary: Vocabulary, *,
         environ: Mapping[str, str] = os.environ) -> Settings:
    """Settings from `path` (--config), else from the default path when that file exists."""
    found = _read(path, environ)
    return parse(found[1], found[0], vocabulary) if found else Settings()


def load_prometheus(path: str | os.PathLike | None, *, environ: Mapping[str, str] = os.environ) -> PromSettings:
    """The [prometheus] section alone, checked as load() checks it, for commands without the UI's
    vocabulary (the doctor): the rest of the file is not judged."""
    found = _read(path, environ)
    if not found:
        return PromSettings()
    path, text = found
    try:
        settings = msgspec.convert(_toml(text, path), _PrometheusOnly).prometheus
    except msgspec.ValidationError as err:
        keys, message = _explain(str(err))
        raise ConfigFileError(path, message, key_line(text, keys)) from None
    for keys, message in _prometheus_problems(settings):
        raise ConfigFileError(path, message, key_line(text, keys))
    return settings


class _PrometheusOnly(msgspec.Struct):
    """A config file as load_prometheus() reads it: the other sections are left unjudged."""

    prometheus: PromSettings = msgspec.field(default_factory=PromSettings)


def _read(path: str | os.PathLike | None, environ: Mapping[str, str]) -> tuple[str | os.PathLike, str] | None:
    """(path, text) of --config's file, else of the default one when it exists (else None)."""
    if path is None:
        path = default_path(environ)
        if not path.exists():
            return None
    try:
        return path, Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConfigFileError(path, f"cannot read it: {reason}") from None


def parse(text: str, path: str | os.PathLike, vocabulary: Vocabulary) -> Settings:
    doc = _toml(text, path)
    try:
        settings = msgspec.convert(doc, Settings)
    except msgspec.ValidationError as err:
        keys, message = _explain(str(err))
        raise ConfigFileError(path, message, key_line(text, keys)) from None
    for keys, message in _problems(settings, vocabulary, doc):
        raise ConfigFileError(path, message, key_line(text, keys))
    return settings


def _toml(text: str, path: str | os.PathLike) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"\s*\(at line (\d+), column \d+\)$", str(err))
        if found:
            raise ConfigFileError(path, str(err)[: found.start()], int(found.group(1))) from None
        raise ConfigFileError(path, str(err)) from None


# -- what is wrong, in words ----------------------------------------------------

# The tables of the file, for the keys each may hold.
_STRUCTS: dict[tuple[str, ...], type[msgspec.Struct]] = {
    (): Settings,
    **{(f.name,): f.type for f in msgspec.structs.fields(Settings)
       if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct)},
}


def _explain(error: str) -> tuple[tuple[str, ...], str]:
    """msgspec's `Expected int, got str - at $.a.b` as the key path and a sentence."""
    message, _, at = error.partition(" - at `$")
    keys = tuple(k for k in re.split(r"[.\[]", at.rstrip("`")) if k and not k.endswith("]"))
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", message)
    if unknown:
        keys += (unknown.group(1),)
        struct = _STRUCTS.get(keys[:-1])
        known = f"; known keys: {', '.join(struct.__struct_fields__)}" if struct else ""
        return keys, f'unknown key "{".".join(keys)}"{known}'
    message = message.replace("Expected", "expected").replace(" | null", "")  # (TOML has no null)
    return keys, f"{'.'.join(keys)}: {message}" if keys else message


def _problems(settings: Settings, vocabulary: Vocabulary, doc: Mapping):
    """(key path, message) for each value of the right type that is still wrong (`doc`: as written)."""
    if settings.view not in VIEWS:
        yield ("view",), f'view: "{settings.view}" is not a view; use {_either(VIEWS)}'
    if not math.isfinite(settings.interval) or settings.interval < MIN_INTERVAL:
        yield ("interval",), f"interval: {settings.interval:g} is too short; at least {MIN_INTERVAL:g} second"
    if settings.theme not in vocabulary.themes:
        yield ("theme",), f'theme: no theme "{settings.theme}"; themes: {", ".join(sorted(vocabulary.themes))}'
    t = settings.thresholds
    if not 0 < t.warning < t.critical:
        yield ("thresholds", "warning"), (f"thresholds: warning ({t.warning}) must be above 0 and below critical "
                                f"({t.critical})")
    for view in VIEWS:
        yield from _view_problems(view, settings.view_settings(view), vocabulary.columns[view],
                                  sort_written="sort" in doc.get(view, {}))
    yield from _pool_label_problems(settings.nodes.pool_labels)
    yield from _prometheus_problems(settings.prometheus)
    for binding_id, keys in settings.keys.items():
        if binding_id not in vocabulary.bindings:
            yield ("keys", binding_id), (f'keys: no binding "{binding_id}"; bindings: '
                                         f"{', '.join(sorted(vocabulary.bindings))}")
        elif not keys.strip() or any(not k.strip() for k in keys.split(",")):
            yield ("keys", binding_id), f'keys.{binding_id}: "{keys}" names no key'


def _either(words: Sequence[str]) -> str:
    """`"a", "b" or "c"`"""
    quoted = [f'"{w}"' for w in words]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _view_problems(view: str, chosen: ViewSettings, valid: Sequence[str], *, sort_written: bool):
    columns = valid if chosen.columns is None else chosen.columns
    for column_id in columns:
        if column_id not in valid:
            yield (view, "columns"), f'{view}.columns: no column "{column_id}"; {view} columns: {", ".join(valid)}'
    if not columns:
        yield (view, "columns"), f"{view}.columns: name at least one column"
    twice = sorted({c for c in columns if list(columns).count(c) > 1})
    if twice:
        yield (view, "columns"), f"{view}.columns: {', '.join(twice)} listed twice"
    if chosen.sort not in columns and sort_written:
        yield (view, "sort"), (f'{view}.sort: "{chosen.sort}" is not one of the {view} columns shown '
                               f"({', '.join(columns)})")


def _pool_label_problems(labels: Sequence[str]):
    if not labels:
        yield ("nodes", "pool_labels"), "nodes.pool_labels: name at least one label"
    for label in labels:
        problem = label_key_problem(label)
        if problem:
            yield ("nodes", "pool_labels"), f'nodes.pool_labels: "{label}" is not a label key: {problem}'
    twice = sorted({label for label in labels if list(labels).count(label) > 1})
    if twice:
        yield ("nodes", "pool_labels"), f"nodes.pool_labels: {', '.join(twice)} listed twice"


def _prometheus_problems(prom: PromSettings):
    if prom.url and (problem := url_problem(prom.url)):
        yield ("prometheus", "url"), f"prometheus.url: {problem}"
    if prom.bearer_token_file and (prom.username or "@" in prom.url):
        yield ("prometheus", "bearer_token_file"), ("prometheus: a bearer_token_file and a user and password "
                                                    "both; give one of them")
    if prom.password_file and not prom.username:
        yield ("prometheus", "password_file"), "prometheus.password_file: give the username it goes with"
    if prom.ca_file and prom.insecure_skip_tls_verify:
        yield ("prometheus", "insecure_skip_tls_verify"), ("prometheus: ca_file and insecure_skip_tls_verify "
                                                           "both; give one of them")


# -- where a key is written -------------------------------------------------------

_BARE_OR_QUOTED = r'[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\''
_DOTTED = rf"(?:{_BARE_OR_QUOTED})(?:\s*\.\s*(?:{_BARE_OR_QUOTED}))*"
_HEADER = re.compile(rf"\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGNMENT = re.compile(rf"\s*({_DOTTED})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_BARE_OR_QUOTED, dotted)
    return tuple(json.loads(p) if p.startswith('"') else p.strip("'") for p in parts)


def key_line(text: str, keys: Sequence[str]) -> int | None:
    """The 1-based line where the key path is written (or its nearest enclosing table or inline table).

    tomllib reports no positions for values, so the key is found in the text:
    table headers and `key =` lines, dotted and quoted keys included.
    """
    keys = tuple(keys)
    table: tuple[str, ...] = ()
    best: tuple[int, int] | None = None  # (how many keys match, line)
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.match(line):
            table, found = _key_parts(header.group(1)), _key_parts(header.group(1))
        elif assignment := _ASSIGNMENT.match(line):
            found = table + _key_parts(assignment.group(1))
        else:
            continue
        if found and keys[: len(found)] == found and (best is None or len(found) > best[0]):
            best = (len(found), number)
    return best[1] if best else None


# -- the commented default ----------------------------------------------------------


def default_text(vocabulary: Vocabulary) -> str:
    """A commented config file whose values are the defaults (`ktopui config --print-default`)."""
    d = Settings()

    def toml(value) -> str:
        return json.dumps(value)  # a TOML basic string, array or number for these values

    lines = [
        "# ktopui configuration. Flags given on the command line win over this file.",
        "",
        f"# The view the dashboard opens with: {_either(VIEWS)}.",
        f"view = {toml(d.view)}",
        "",
        f"# Seconds between refreshes (at least {MIN_INTERVAL:g}); --interval overrides it.",
        f"interval = {d.interval!r}",
        "",
        "# The colour theme. A theme picked with the command palette (Ctrl+P) is remembered",
        "# and wins, until this value is changed.",
        *textwrap.wrap("Themes: " + ", ".join(sorted(vocabulary.themes)) + ".", 88,
                       initial_indent="# ", subsequent_indent="# "),
        f"theme = {toml(d.theme)}",
        "",
        "# Percentages from which a cell is marked `!` (warning) and `!!` (critical).",
        "[thresholds]",
        f"warning = {d.thresholds.warning}",
        f"critical = {d.thresholds.critical}",
    ]
    for view in VIEWS:
        chosen = d.view_settings(view)
        ids = list(vocabulary.columns[view])
        lines += [
            "",
            f"# The {view} view: which columns to show, in this order (all of them by default,",
            "# narrow terminals drop the less important ones first), and the column to sort by:",
            "# names A to Z, numbers from the highest, unless `descending` (true, false) says.",
            f"[{view}]",
            f"# columns = {toml(ids)}",
            f"sort = {toml(chosen.sort)}",
        ]
        if view == "nodes":
            lines += [
                "# Which node label names a node's pool (`p` groups the nodes by pool): the first",
                "# of these a node carries; nodes with none are in the pool \"-\".",
                f"pool_labels = {toml(list(d.nodes.pool_labels))}",
            ]
    p = d.prometheus
    lines += [
        "",
        "# History from Prometheus (or Thanos, VictoriaMetrics). By default it is looked for in the",
        "# cluster and reached through the API server's service proxy with your kubeconfig's",
        "# credentials; `url` names one instead (flags --prometheus, --no-prometheus win).",
        "[prometheus]",
        f"enabled = {toml(p.enabled)}",
        '# url = "https://prometheus.example:9090"  # user:password@ allowed, or username + password_file',
        '# bearer_token_file = "/var/run/secrets/prometheus/token"  # re-read when it changes',
        '# username = ""',
        '# password_file = ""',
        '# ca_file = "/etc/ssl/prometheus-ca.pem"',
        f"insecure_skip_tls_verify = {toml(p.insecure_skip_tls_verify)}",
    ]
    lines += [
        "",
        '# Keys, by binding id: "id" = "key" or "key1,key2" (Textual key names: "ctrl+x", "f5",',
        '# "slash", "question_mark"...). The defaults:',
        "[keys]",
    ]
    for binding_id, binding in sorted(vocabulary.bindings.items()):
        lines.append(f"# {toml(binding_id)} = {toml(binding.keys)}  # {binding.does}")
    return "\n".join(lines) + "\n"
