"""Kubeconfig files: which are read, how they merge, which entries a context selects.

Mirrors client-go tools/clientcmd: loader.go (file selection, first-wins
merge, ResolveLocalPaths), client_config.go (context/cluster/user lookup) and
validation.go (ConfirmUsable). Entries stay the plain dicts written in the
file (kubeconfig v1 field names), with relative file paths made absolute.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from ktopui.kube.errors import ConfigError

# client-go's text ends "try setting KUBERNETES_MASTER environment variable",
# which ktopui (like kubectl) ignores: the advice is ours.
NO_CONFIGURATION = "invalid configuration: no configuration has been provided"
TRY_DEMO = (
    "Point --kubeconfig or $KUBECONFIG at your cluster's kubeconfig (your provider's "
    "get-credentials command writes one), or run `ktopui --demo` to try ktopui on a simulated cluster."
)

# (list key, entry body key) for the three named lists of a kubeconfig.
_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))

# Paths resolved against the directory of the file that holds them
# (GetClusterFileReferences / GetAuthInfoFileReferences).
_CLUSTER_PATHS = ("certificate-authority",)
_USER_PATHS = ("client-certificate", "client-key", "tokenFile")

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when available


class KubeconfigLoader(_BASE_LOADER):
    """The safe loader, refusing documents that owe most of their size to aliases.

    Aliases share one parsed node, so a 740-byte "billion laughs" file parses
    at once; whoever walks the result (merging, collecting secrets for the log)
    visits it a billion times. kubectl refuses such files ("yaml: document
    contains excessive aliasing"); so does this, with go-yaml's rule.
    """

    def construct_document(self, node: yaml.Node):
        _check_aliasing(node)
        return super().construct_document(node)


def _allowed_alias_ratio(decodes: int) -> float:
    """go-yaml decode.go allowedAliasRatio: 99 % of a small document's nodes may come from
    aliases, 10 % of a huge one's, scaling between 400,000 and 4,000,000 nodes."""
    low, high = 400_000, 4_000_000
    if decodes <= low:
        return 0.99
    if decodes >= high:
        return 0.10
    return 0.99 - 0.89 * (decodes - low) / (high - low)


def _check_aliasing(root: yaml.Node) -> None:
    """Walk the document as a decoder expanding aliases would, counting nodes reached
    through an alias (a node met again), and stop as soon as go-yaml would."""
    decodes = aliased = 0
    seen: set[int] = set()
    open_nodes: set[int] = set()  # ids of the collections being walked: meeting one again is a cycle
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, via_alias = stack.pop()
        if isinstance(node, int):  # the walk leaves the collection with this id
            open_nodes.discard(node)
            continue
        key = id(node)
        if key in open_nodes:
            raise yaml.YAMLError("yaml: anchor value contains itself")
        via_alias = via_alias or key in seen
        seen.add(key)
        decodes += 1
        aliased += via_alias
        if aliased > 100 and decodes > 1000 and aliased / decodes > _allowed_alias_ratio(decodes):
            raise yaml.YAMLError("yaml: document contains excessive aliasing")
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            continue
        open_nodes.add(key)
        stack.append((key, via_alias))
        stack.extend((child, via_alias) for child in reversed(children))


def parse(raw: bytes) -> object:
    """One YAML document, loaded safely; raises yaml.YAMLError (alias bombs and nesting
    too deep included)."""
    try:
        return yaml.load(raw, Loader=KubeconfigLoader)
    except RecursionError:
        raise yaml.YAMLError("yaml: document nested too deeply") from None


@dataclass
class Kubeconfig:
    """The merged view of every file read."""

    files: list[str] = field(default_factory=list)  # files read, highest precedence first
    looked_for: list[str] = field(default_factory=list)  # every file tried, read or missing
    from_env: bool = False  # looked_for came from $KUBECONFIG
    current_context: str = ""
    clusters: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict, repr=False)  # credentials
    contexts: dict[str, dict] = field(default_factory=dict)
    user_origin: dict[str, str] = field(default_factory=dict)  # user name -> file defining it
    warnings: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        # clientcmdapi.IsConfigEmpty (preferences and extensions are ignored here)
        return not (self.current_context or self.clusters or self.users or self.contexts)


@dataclass
class Selection:
    """What one context points at."""

    context: str
    cluster_name: str
    user_name: str
    context_entry: dict
    cluster: dict
    user: dict = field(repr=False)  # credentials
    user_origin: str | None  # where refreshed auth-provider tokens are written back


def candidate_files(explicit: str | None, environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """The files to try, in precedence order, and whether they came from KUBECONFIG.

    --kubeconfig is used alone and must exist; else KUBECONFIG if non-empty
    (split, de-duplicated, empty elements dropped); else ~/.kube/config.
    """
    if explicit:
        if not os.path.exists(explicit):
            raise ConfigError(f"stat {explicit}: no such file or directory")
        return [explicit], False
    env = environ.get("KUBECONFIG", "")
    if env:
        return list(dict.fromkeys(p for p in env.split(os.pathsep) if p)), True
    home = environ.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], False


def load(explicit: str | None, environ: Mapping[str, str]) -> Kubeconfig:
    """Read and merge the kubeconfig files kubectl would read."""
    paths, from_env = candidate_files(explicit, environ)
    merged = Kubeconfig(looked_for=paths, from_env=from_env)
    missing: list[str] = []
    errors: list[str] = []
    for path in paths:
        if not explicit and not os.path.exists(path):
            missing.append(path)  # silently skipped, like client-go
            continue
        try:
            _merge(merged, path, _read(path))
        except _LoadError as e:
            errors.append(f'error loading config file "{path}": {e}')
    if errors:
        # utilerrors.NewAggregate formatting
        raise ConfigError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    if from_env and missing and not merged.files:
        merged.warnings.append("Config not found: " + ", ".join(missing))
    return merged


class _LoadError(Exception):
    pass


def _read(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise _LoadError(go_os_error("open", path, e)) from None
    if not raw.strip():
        return {}
    try:
        doc = parse(raw)
    except yaml.MarkedYAMLError as e:
        # Never str(e): PyYAML quotes the offending line, which may hold a secret.
        line = e.problem_mark.line + 1 if e.problem_mark else "?"
        raise _LoadError(f"yaml: line {line}: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        message = str(e) if str(e).startswith("yaml: ") else "yaml: invalid document"  # (ours hold no text)
        raise _LoadError(message) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise _LoadError("expected a kubeconfig object at the top level")
    return doc


def _merge(merged: Kubeconfig, path: str, doc: dict) -> None:
    base = os.path.dirname(os.path.abspath(path))
    merged.files.append(path)
    current = doc.get("current-context") or ""
    if not isinstance(current, str):
        raise _LoadError("current-context must be a string")
    if not merged.current_context:
        merged.current_context = current  # first non-empty value wins
    for list_key, body_key in _SECTIONS:
        seen: set[str] = set()
        for name, body in _named_entries(doc, list_key, body_key):
            if name in seen:
                raise _LoadError(
                    f"error converting *[]Named{body_key.title()} into *map[string]*api.{_API_TYPE[body_key]}: "
                    f'duplicate name "{name}" in list'
                )
            seen.add(name)
            target: dict[str, dict] = getattr(merged, list_key)
            if name in target:
                continue  # the first file defining a name wins, as a whole entry
            _resolve_paths(body_key, body, base)
            target[name] = body
            if body_key == "user":
                merged.user_origin[name] = path


_API_TYPE = {"cluster": "Cluster", "user": "AuthInfo", "context": "Context"}


def _named_entries(doc: dict, list_key: str, body_key: str):
    entries = doc.get(list_key) or []
    if not isinstance(entries, list):
        raise _LoadError(f"{list_key} must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name", ""), str):
            raise _LoadError(f"{list_key}: each entry needs a string name")
        body = entry.get(body_key) or {}
        if not isinstance(body, dict):
            raise _LoadError(f'{list_key}: "{entry.get("name", "")}": {body_key} must be an object')
        yield entry.get("name", ""), dict(body)


def _resolve_paths(kind: str, body: dict, base: str) -> None:
    keys = {"cluster": _CLUSTER_PATHS, "user": _USER_PATHS}.get(kind, ())
    for key in keys:
        if key in body:
            body[key] = _absolute(body[key], base)
    exec_cfg = body.get("exec") if kind == "user" else None
    if isinstance(exec_cfg, dict):
        command = exec_cfg.get("command")
        # Only a command with a path separator is relative to the file; a bare
        # name is looked up in PATH.
        if isinstance(command, str) and os.sep in command:
            body["exec"] = {**exec_cfg, "command": _absolute(command, base)}


def _absolute(value, base: str):
    if isinstance(value, str) and value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base, value))  # filepath.Join cleans
    return value


class NothingConfigured(ConfigError):
    """No kubeconfig file exists, or those that do define nothing; the hint says what to do."""


def nothing_configured(config: Kubeconfig) -> NothingConfigured:
    """The error for an empty merged config: which files were looked for, and what to do."""
    if not config.files:
        source = " (from $KUBECONFIG)" if config.from_env else ""
        return NothingConfigured(
            f"no kubeconfig found: looked for {', '.join(config.looked_for)}{source}, and none exists",
            hint=TRY_DEMO,
        )
    return NothingConfigured(
        f"{NO_CONFIGURATION}: {', '.join(config.files)} defines no context, cluster or user", hint=TRY_DEMO
    )


def select(config: Kubeconfig, context: str | None) -> Selection:
    """Look up the context (override, else current-context), its cluster and user."""
    name = context or config.current_context
    if not name:
        raise ConfigError(
            f"{NO_CONFIGURATION}: no current-context is set", hint=f"Pass --context. {_known('contexts', config.contexts)}"
        )
    if name not in config.contexts:
        raise ConfigError(f'context "{name}" does not exist', hint=_known("contexts", config.contexts))
    entry = config.contexts[name]
    cluster_name = string_field(entry, "cluster", f'context "{name}"')
    user_name = string_field(entry, "user", f'context "{name}"')
    if not cluster_name:
        raise ConfigError(f'{NO_CONFIGURATION}: context "{name}" names no cluster',
                          hint=f"Set the cluster of context \"{name}\" in the kubeconfig.")
    if cluster_name not in config.clusters:
        raise ConfigError(f'cluster "{cluster_name}" does not exist', hint=_known("clusters", config.clusters))
    if user_name and user_name not in config.users:
        raise ConfigError(f'auth info "{user_name}" does not exist', hint=_known("users", config.users))
    return Selection(
        context=name,
        cluster_name=cluster_name,
        user_name=user_name,
        context_entry=entry,
        cluster=config.clusters[cluster_name],
        user=config.users.get(user_name, {}),
        user_origin=config.user_origin.get(user_name),
    )


def _known(what: str, names) -> str:
    return f"Known {what}: {', '.join(sorted(names))}." if names else f"The kubeconfig defines no {what}."


def string_field(entry: dict, key: str, where: str) -> str:
    """A string field of an entry ("" when absent)."""
    value = entry.get(key) or ""
    if not isinstance(value, str):
        raise ConfigError(f"invalid configuration: {key} of {where} must be a string")
    return value


def bool_field(entry: dict, key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"invalid configuration: {key} of {where} must be true or false")
    return value


def data_field(entry: dict, key: str, where: str) -> bytes | None:
    """A base64 *-data field, decoded (None when absent)."""
    value = string_field(entry, key, where)
    if not value:
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"invalid configuration: {key} of {where} is not valid base64") from None


def go_os_error(op: str, path: str, e: OSError) -> str:
    """Go's *PathError text ("open /x: no such file or directory"), as kubectl prints it."""
    reason = e.strerror or str(e)
    return f"{op} {path}: {reason[:1].lower()}{reason[1:]}"
