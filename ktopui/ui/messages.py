"""What a ClusterSession tells the app, as Textual messages (the session runs no UI code)."""

from __future__ import annotations

from textual.message import Message

from ktopui.live.session import ClusterSession
from ktopui.model.snapshot import Snapshot


class SnapshotReady(Message):
    """A refresh is done: screens showing this session show its snapshot."""

    def __init__(self, session: ClusterSession, snapshot: Snapshot) -> None:
        super().__init__()
        self.session = session
        self.snapshot = snapshot


class RefreshFailed(Message):
    """A refresh failed on a bug of ktopui's own; `text` says what it was."""

    def __init__(self, session: ClusterSession, text: str) -> None:
        super().__init__()
        self.session = session
        self.text = text


class NamespaceMissing(Message):
    """The namespace in scope does not exist."""

    def __init__(self, session: ClusterSession, namespace: str) -> None:
        super().__init__()
        self.session = session
        self.namespace = namespace


class PrometheusChanged(Message):
    """What the session says of Prometheus changed, or history came from it."""

    def __init__(self, session: ClusterSession) -> None:
        super().__init__()
        self.session = session


class RefreshScheduled(Message):
    """The session's next refresh has a time (or none: paused)."""

    def __init__(self, session: ClusterSession) -> None:
        super().__init__()
        self.session = session
