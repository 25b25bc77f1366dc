"""The theme picked in the app, remembered across runs in `$XDG_STATE_HOME/ktopui/state.json`.

Not written into config.toml: that file is the user's own, comments and
layout included (and may be read-only, kept with their dotfiles); ktopui
only reads it. The picked theme wins over the config file's `theme` until
that value is changed: a later edit of the file is the newer wish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

import msgspec

log = logging.getLogger("ktopui.ui")


class RememberedTheme(msgspec.Struct):
    theme: str
    config_theme: str  # the config file's theme when this one was picked


def state_path(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return Path(base) / "ktopui" / "state.json"


def recall(path: Path, config_theme: str, themes: Collection[str]) -> str:
    """The theme to start with: the one picked last, unless the config file's theme changed since."""
    try:
        remembered = msgspec.json.decode(path.read_bytes(), type=RememberedTheme)
    except FileNotFoundError:
        return config_theme
    except (OSError, msgspec.DecodeError) as err:
        log.warning("ignoring the remembered theme in %s: %s", path, err)
        return config_theme
    if remembered.config_theme != config_theme or remembered.theme not in themes:
        return config_theme
    return remembered.theme


def remember(path: Path, theme: str, config_theme: str) -> None:
    """Store the picked theme; a state directory that cannot be written costs only the memory."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.json.encode(RememberedTheme(theme, config_theme)))
        os.replace(temporary, path)  # whole or not at all, even if two ktopui runs write at once
    except OSError as err:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        log.warning("could not remember the theme in %s: %s", path, err)
