"""The key footer: the keys that fit, the most needed kept longest; rebuilt only
when the keys it shows change.

Textual's Footer recomposes (unmounts and mounts a widget per key) on every
bindings update, and focus moving between tables is one: that cost tens of
milliseconds on every view switch although the keys shown stay the same.
At 80 columns not every key fits: the sort keys go first, `q Quit` and
`? Help` last.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

# Actions in the order they stay as the terminal narrows; others go before all of them.
KEPT_LONGEST = (
    "quit", "app.help", "pause", "view('nodes')", "view('pods')", "view('workloads')", "view('namespaces')",
    "filter", "namespace",
    "sort('cpu')", "sort('mem')", "sort('req_pct')", "sort('lim_pct')", "sort('pct')",
)
KEY_GAP = 1  # cells between two keys (compact footer)


class KeysFooter(Footer):
    _shown: tuple = ()
    _width = 0

    def bindings_changed(self, screen: Screen) -> None:
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        self._width = width = self.app.size.width

        def cells(key) -> int:
            description = getattr(key, "description", "")
            return len(getattr(key, "key_display", "")) + (len(description) + 1 if description else 0) + KEY_GAP

        def rank(at: int) -> int:
            action = getattr(keys[at], "action", "")
            return KEPT_LONGEST.index(action) if action in KEPT_LONGEST else len(KEPT_LONGEST)

        while len(keys) > 1 and sum(map(cells, keys)) - KEY_GAP > width:
            del keys[max(reversed(range(len(keys))), key=rank)]
        yield from keys

    def on_resize(self) -> None:
        if self._bindings_ready and self.app.size.width != self._width:
            self.call_after_refresh(self.recompose)
