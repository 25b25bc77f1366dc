"""Driving the dashboard in tests: build it on a kubeconfig, wait for refreshes."""

from __future__ import annotations

from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession
from ktopui.ui.app import KtopApp
from ktopui.ui.table import RowTable

APP_OPTIONS = ("settings", "theme", "remember_theme")


def make_app(kubeconfig, **kw) -> KtopApp:
    """The dashboard on this kubeconfig: KtopApp's options, and the session's (interval 60 s unless given)."""
    app_options = {name: kw.pop(name) for name in APP_OPTIONS if name in kw}
    session = ClusterSession(load_connection(kubeconfig=str(kubeconfig)), interval=kw.pop("interval", 60), **kw)
    return KtopApp(session, **app_options)


async def refreshed(app: KtopApp, pilot, count: int = 1, *, since: int | None = None) -> None:
    """Wait until the app has finished `count` more refreshes (counted from `since`)."""
    target = (app.refresh_count if since is None else since) + count
    for _ in range(400):
        if app.refresh_count >= target:
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("no refresh happened")


async def refresh(app: KtopApp, pilot) -> None:
    before = app.refresh_count
    app.session.wake()
    await refreshed(app, pilot, since=before)


def table(app: KtopApp, table_id: str | None = None) -> RowTable:
    screen = app.screen
    return screen.query_one(f"#{table_id}", RowTable) if table_id else screen.active_table()


def names(t: RowTable) -> list:
    return [t.kind.key(r) for r in t.rows]


def screen_lines(app: KtopApp) -> list[str]:
    """The terminal's lines as the user sees them (the screen composited, modals on top)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def cells_on_screen(app: KtopApp, t: RowTable, y: int) -> dict[str, str]:
    """The cells of line `y` of table `t` (0: its header) as they are on screen, by column id."""
    line = screen_lines(app)[t.region.y + y]
    cells, x = {}, t.region.x
    for column, width in t.layout().columns:
        cells[column.id] = line[x:x + width]
        x += width + 1
    return cells


async def select(pilot, t: RowTable, key) -> None:
    """Move the cursor of table `t` to the row with this key, as the user would."""
    keys = names(t)
    await pilot.press("home", *["down"] * keys.index(key))
    assert t.cursor_key == key
