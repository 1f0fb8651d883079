"""Inline keyboard builders shared by flows and notices: short rows for small screens."""

from __future__ import annotations

from collections.abc import Sequence

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
