"""The details window in Tk: cards with bars, the Console figures, the 24-hour chart, two buttons.

Everything it shows comes from a DetailsFeed; it asks the feed again when the database changes (a cheap
version number, checked twice a second) and rewords the ages every few seconds.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tray_app.details.model import Card, DetailsContent
from tray_app.details.theme import Palette
from tray_app.ui.icon import LEVEL_COLORS

logger = logging.getLogger(__name__)

TITLE = "Claude usage"
TICK_MS = 500
REWORD_TICKS = 10  # every 5 s: "updated 20 s ago" keeps its age honest without a database change
BAR_WIDTH, BAR_HEIGHT = 300, 12
TEXT_WIDTH = 330  # pixels before a line wraps in the left column


@dataclass(frozen=True)
class DetailsFeed:
    """What the window asks of the program; built by the `details` command."""

    content: Callable[[], DetailsContent]
    version: Callable[[], int]
    chart_png: Callable[[str], bytes | None]  # by chart theme; None: no chart can be drawn
    refresh: Callable[[], None]  # may take seconds: run off the Tk thread
    open_settings: Callable[[], None]


class NoDisplay(Exception):
    """Tk could not open a window (no display, or one that refuses us)."""


def show(
    feed: DetailsFeed, palette: Palette, dump: Path | None, opened: Callable[[DetailsWindow], None]
) -> None:
    """Open the window and run it until it is closed; opened() receives it once it exists."""
    try:
        root = tk.Tk(className="claude-usage-tray")
    except tk.TclError as exc:
        raise NoDisplay(str(exc)) from None
    window = DetailsWindow(root, feed, palette, dump)
    opened(window)
    root.focus_force()
    root.mainloop()


class DetailsWindow:
    def __init__(self, root: tk.Tk, feed: DetailsFeed, palette: Palette, dump: Path | None = None) -> None:
        self.root, self._feed, self._palette, self._dump = root, feed, palette, dump
        self._raise_asked = threading.Event()
        self._refreshed = threading.Event()
        self._version: int | None = None
        self._ticks = 0
        self._chart: tk.PhotoImage | None = None
        root.title(TITLE)
        root.configure(background=palette.background, padx=10, pady=10)
        root.bind("<Escape>", lambda _event: root.destroy())
        self._left = self._frame(root)
        self._left.grid(row=0, column=0, sticky="nw", padx=(0, 12))
        self._right = self._frame(root)
        self._right.grid(row=0, column=1, sticky="nw")
        self._chart_label = tk.Label(self._right, background=palette.background)
        self._console = self._frame(self._right)
        self._chart_label.pack(anchor="w")
        self._console.pack(anchor="w", fill="x", pady=(8, 0))
        self._refresh_button = self._buttons(root)
        self._tick()

    # -- called from other threads: only set a flag, the Tk thread acts on it --------------------------

    def ask_to_raise(self) -> None:
        self._raise_asked.set()

    # -- the Tk thread ----------------------------------------------------------------------------------

    def _frame(self, parent: tk.Misc) -> tk.Frame:
        return tk.Frame(parent, background=self._palette.background)

    def _buttons(self, root: tk.Tk) -> tk.Button:
        row = self._frame(root)
        row.grid(row=1, column=0, columnspan=2, sticky="e", pady=(10, 0))
        refresh = self._button(row, "Refresh", self._refresh)
        refresh.pack(side="left", padx=(0, 6))
        self._button(row, "Settings", self._feed.open_settings).pack(side="left")
        return refresh

    def _button(self, parent: tk.Misc, text: str, command: Callable[[], None]) -> tk.Button:
        p = self._palette
        return tk.Button(
            parent,
            text=text,
            command=command,
            background=p.card,
            foreground=p.text,
            activebackground=p.track,
            activeforeground=p.text,
            highlightthickness=0,
        )

    def _refresh(self) -> None:
        self._refresh_button.configure(state="disabled", text="Refreshing…")

        def work() -> None:
            try:
                self._feed.refresh()
            except Exception:  # the window stays; the log says what the poll met
                logger.exception("refresh from the details window failed")
            self._refreshed.set()

        threading.Thread(target=work, daemon=True, name="details-refresh").start()

    def _tick(self) -> None:
        if self._raise_asked.is_set():
            self._raise_asked.clear()
            self._bring_to_front()
        if self._refreshed.is_set():
            self._refreshed.clear()
            self._refresh_button.configure(state="normal", text="Refresh")
            # Our own connection's writes do not move data_version: redraw what the poll stored.
            self.redraw(chart=True)
        version = self._feed.version()
        if version != self._version:
            self._version = version
            self.redraw(chart=True)
        elif self._ticks % REWORD_TICKS == 0:
            self.redraw(chart=False)
        self._ticks += 1
        self.root.after(TICK_MS, self._tick)

    def _bring_to_front(self) -> None:
        root = self.root
        root.deiconify()
        root.lift()
        # Some window managers ignore a plain lift from a window that has no focus; topmost for a moment.
        root.attributes("-topmost", True)
        root.after(300, lambda: root.attributes("-topmost", False))
        root.focus_force()

    def redraw(self, *, chart: bool) -> None:
        content = self._feed.content()
        for frame in (self._left, self._console):
            for child in frame.winfo_children():
                child.destroy()
        self._draw_code(content)
        self._draw_console(content)
        if chart:
            self._draw_chart()
        if self._dump is not None:
            self._write_dump()

    def _label(
        self, parent: tk.Misc, text: str, *, muted: bool = False, bold: bool = False, width: int = 0
    ) -> tk.Label:
        p = self._palette
        label = tk.Label(
            parent,
            text=text,
            background=str(parent.cget("background")),
            foreground=p.muted if muted else p.text,
            justify="left",
            anchor="w",
            wraplength=width or TEXT_WIDTH,
            font=("TkDefaultFont", 10, "bold") if bold else ("TkDefaultFont", 9),
        )
        label.pack(anchor="w", fill="x")
        return label

    def _draw_code(self, content: DetailsContent) -> None:
        if content.code_heading is not None:
            self._label(self._left, content.code_heading, bold=True)
            self._label(self._left, content.code_status, muted=True)
        for card in content.cards:
            self._draw_card(card)
        for line in content.extras:
            self._label(self._left, line)

    def _draw_card(self, card: Card) -> None:
        p = self._palette
        frame = tk.Frame(self._left, background=p.card, padx=8, pady=6)
        frame.pack(anchor="w", fill="x", pady=(6, 0))
        self._label(frame, card.heading, bold=True)
        bar = tk.Canvas(frame, width=BAR_WIDTH, height=BAR_HEIGHT, background=p.track, highlightthickness=0)
        red, green, blue = LEVEL_COLORS[card.level]
        if card.fraction > 0:
            fill = max(2, round(BAR_WIDTH * card.fraction))
            bar.create_rectangle(0, 0, fill, BAR_HEIGHT, fill=f"#{red:02x}{green:02x}{blue:02x}", width=0)
        bar.pack(anchor="w", pady=(2, 2))
        for line in (card.reset, card.pace):
            self._label(frame, line)
        self._label(frame, card.source, muted=True)

    def _draw_console(self, content: DetailsContent) -> None:
        if content.console_heading is None:
            return
        self._label(self._console, content.console_heading, bold=True, width=600)
        for line in content.console_lines:
            self._label(self._console, line, width=600)

    def _draw_chart(self) -> None:
        png = self._feed.chart_png(self._palette.chart)
        if png is None:
            self._chart_label.configure(image="", text="")
            return
        # Tk 8.6 reads PNG itself: no Pillow ImageTk needed in this process.
        self._chart = tk.PhotoImage(data=base64.b64encode(png).decode("ascii"))
        self._chart_label.configure(image=self._chart)

    def texts(self) -> list[str]:
        """Every text the window shows, read from its widgets, top to bottom."""
        found: list[str] = []

        def walk(widget: tk.Misc) -> None:
            for child in widget.winfo_children():
                if isinstance(child, tk.Label | tk.Button) and str(child.cget("text")):
                    found.append(str(child.cget("text")))
                walk(child)

        walk(self.root)
        return found

    def _write_dump(self) -> None:
        assert self._dump is not None
        document = {"title": self.root.title(), "labels": self.texts()}
        temporary = self._dump.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=1), encoding="utf-8")
        temporary.replace(self._dump)  # a reader never sees half a file
