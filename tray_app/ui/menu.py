"""ViewModel menu rows -> pystray menu items. No wording here: every text comes from core.view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tray_app.core.viewmodel import Action, MenuRow


def menu_items(rows: tuple[MenuRow, ...], on_action: Callable[[Action], None]) -> list[Any]:
    """pystray.MenuItem objects for the rows; information rows are disabled, separators kept, a row with
    children opens a submenu."""
    import pystray

    items: list[Any] = []
    for row in rows:
        if row.is_separator:
            items.append(pystray.Menu.SEPARATOR)
        elif row.children:
            items.append(pystray.MenuItem(row.text, pystray.Menu(*menu_items(row.children, on_action))))
        elif row.action is None:
            items.append(pystray.MenuItem(row.text, None, enabled=False))
        else:
            items.append(
                pystray.MenuItem(
                    row.text,
                    _callback(row.action, on_action),
                    checked=None if row.checked is None else _constant(row.checked),
                    default=row.default,
                )
            )
    return items


def _callback(action: Action, on_action: Callable[[Action], None]) -> Callable[[Any, Any], None]:
    # pystray inspects the arity of callbacks; (icon, item) is the form it passes both to.
    def clicked(_icon: Any, _item: Any) -> None:
        on_action(action)

    return clicked


def _constant(value: bool) -> Callable[[Any], bool]:
    def checked(_item: Any) -> bool:
        return value

    return checked


def menu_text(menu: Any, indent: str = "") -> str:
    """A pystray.Menu as text, one line per visible item: '[x]' checked, '(...)' disabled, '---' separator,
    a submenu's items under its row, indented by four spaces."""
    lines = []
    for item in menu.items:
        if item is getattr(type(menu), "SEPARATOR", None) or item.text == "- - - -":
            lines.append(f"{indent}---")
            continue
        if not item.visible:
            continue
        text = str(item.text)
        if item.checked is not None:
            text = f"[{'x' if item.checked else ' '}] {text}"
        if not item.enabled:
            text = f"({text})"
        if item.default:
            text = f"*{text}"
        lines.append(f"{indent}{text}")
        if item.submenu:
            lines.append(menu_text(item.submenu, indent + "    "))
    return "\n".join(lines)
