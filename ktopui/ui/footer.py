"""The key footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes (unmounts and mounts a widget per key) on every
bindings update, and focus moving between tables is one: that cost tens of
milliseconds on every view switch although the keys shown stay the same.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    _shown: tuple = ()

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
