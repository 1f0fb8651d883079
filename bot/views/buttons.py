"""Inline keyboard builders shared by flows and notices: short rows for small screens.

Every list of choices is paged (`page_rows`): nothing a member may choose is ever left out, and a
keyboard stays short on a phone. A label that must be shortened is cut at a word with "…"
(`short`), never in the middle of a word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from bot.views.callbacks import Nav

Row = list[InlineKeyboardButton]


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def grid(buttons: Sequence[InlineKeyboardButton], columns: int = 2) -> list[Row]:
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


def nav_row(back: bool = True, cancel: bool = True) -> Row:
    row: Row = []
    if back:
        row.append(button("⬅️ " + _("Back"), Nav(action="back")))
    if cancel:
        row.append(button("✖️ " + _("Cancel"), Nav(action="cancel")))
    return row


def markup(rows: Sequence[Row]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


def short(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word and ended with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,.;:-–—(") + "…"


PAGE_SIZE = 8


def page_rows(buttons: Sequence[InlineKeyboardButton], page: int,
              to_page: Callable[[int], CallbackData], columns: int = 1,
              size: int = PAGE_SIZE) -> list[Row]:
    """One page of a list of choices (`page` is clamped) and, when there are several, a row
    "⬅️ 2/3 ➡️" whose arrows carry `to_page(n)`."""
    pages = max(1, -(-len(buttons) // size))
    page = min(max(page, 0), pages - 1)
    rows = grid(buttons[page * size: (page + 1) * size], columns)
    if pages > 1:
        nav: Row = []
        if page > 0:
            nav.append(button("⬅️", to_page(page - 1)))
        nav.append(button(f"{page + 1}/{pages}", to_page(page)))
        if page < pages - 1:
            nav.append(button("➡️", to_page(page + 1)))
        rows.append(nav)
    return rows


def page_number(raw: str) -> int:
    """A page carried in a button ("2"); anything else is the first page."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0


def rating_row(data: Callable[[int], CallbackData]) -> Row:
    """The one style of a rating everywhere (events, lessons, legal help): "1⭐" … "5⭐";
    `data(n)` is the button for n stars."""
    return [button(f"{n}⭐", data(n)) for n in range(1, 6)]
