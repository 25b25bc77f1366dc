"""`--log FILE`: what happened, for a bug report, with every secret redacted.

Redaction happens in the file handler's formatter, so no code path
can write a secret by forgetting to scrub it: the kubeconfig's own secrets
are masked by value, and anything that looks like a credential (bearer
tokens, JWTs, private keys, secret-bearing JSON fields) by pattern.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

import yaml

from ktopui.kube import kubeconfig
from ktopui.safe_text import escape_controls

LOGGER = "ktopui"
MASK = "<redacted>"
SECRET_KEYS = (
    "token", "password", "client-key-data", "id-token", "refresh-token", "client-secret",
    "access-token", "clientKeyData", "access_token", "id_token", "refresh_token",
)  # fmt: skip

_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), MASK),
    # Keys in JSON/YAML-ish quotes or key=value: prose such as "token: the server" stays readable.
    (
        re.compile(r'((?:["\'](?:%s)["\']\s*:|\b(?:%s)=)\s*["\']?)[^"\'\s,}]+'
                   % (("|".join(map(re.escape, SECRET_KEYS)),) * 2)),
        rf"\1{MASK}",
    ),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts the finished line, exception text included, and escapes its control characters.

    Redacting the output rather than the LogRecord matters: records are
    shared by every handler, and one handler's partial scrubbing must not
    become what another handler writes.
    """

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = {s for s in secrets if s}

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Messages quote the cluster (names, Status messages): one record stays one
        # line, and `cat` of the file replays no escape sequence. Redacted first, so
        # the credential patterns see the text as it was.
        return escape_controls(redact(super().formatMessage(record), self.secrets))

    def format(self, record: logging.LogRecord) -> str:
        # (a traceback keeps its lines; anything else in it is escaped)
        return escape_controls(redact(super().format(record), self.secrets), keep_newlines=True)


def kubeconfig_secrets(paths: Iterable[str]) -> set[str]:
    """Every secret value stored in these kubeconfig files (users' tokens, passwords, keys).

    Files are parsed as the kubeconfig loader parses them (alias bombs refused),
    and each object is looked at once, however many aliases share it.
    """
    found: set[str] = set()
    for path in paths:
        try:
            pending = [kubeconfig.parse(Path(path).read_bytes())]
        except (OSError, yaml.YAMLError):
            continue
        seen: set[int] = set()
        while pending:
            node = pending.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in SECRET_KEYS and isinstance(value, str):
                        found.add(value)
                    else:
                        pending.append(value)
            elif isinstance(node, list):
                pending.extend(node)
    return found


def start_log(path: str, secrets: Iterable[str] = ()) -> logging.Logger:
    """Send ktopui's log (and httpx's request lines) to `path`, redacted, readable by its owner only."""
    # Created 0600, and an existing file narrowed to it: what is left after
    # redaction (servers, users, namespaces) is still nobody else's business.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    with contextlib.suppress(OSError):  # (not ours to change, or not a regular file)
        if stat.S_ISREG(os.stat(path).st_mode):
            os.chmod(path, 0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    for name in (LOGGER, "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    return logging.getLogger(LOGGER)


def log_session(log_path: str | None, conn) -> logging.Logger:
    """Start the log when asked; always return ktopui's logger (silent without --log)."""
    logger = logging.getLogger(LOGGER)
    if log_path:
        start_log(log_path, kubeconfig_secrets(conn.config_files))
        logger.info(
            "context %r, server %s, user %r, auth: %s, namespace %r (%s), files %s",
            conn.context, conn.server, conn.user, conn.auth_method, conn.namespace,
            conn.namespace_source, ", ".join(conn.config_files) or "-",
        )
        for warning in conn.warnings:
            logger.warning(warning)
    return logger
