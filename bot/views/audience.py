"""The audience picker shared by the compose flows (broadcast, event, survey): the menu of
dimensions, the regions whose districts to choose from, and one dimension's choices, paged.

A flow passes its `prefix` (one letter: "b", "e", "s"); the `Pick` steps are then
- `<p>a` (the menu: a dimension, "everyone", "done", "menu" …),
- `<p>dr` (the districts of a region),
- `<p>t_<dim>[_<region>]` (a tap on a choice), `<p>g_<dim>[_<region>]` (a page of the choices).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.views.buttons import Row, button, grid, markup, nav_row, page_rows, short
from bot.views.callbacks import Pick

DIMENSIONS = ("roles", "communities", "regions", "districts", "languages")
PAGE_SIZE = 10  # choices on one page (two columns: five rows)


def dimension_label(dimension: str) -> str:
    return {
        "roles": _("Roles"), "communities": _("Communities"), "regions": _("Regions"),
        "districts": _("Districts"), "languages": _("Languages"),
    }[dimension]


def list_key(dimension: str, region_id: int | None) -> str:
    """What names one list of choices inside a `Pick` step: "comm", "dist_12"."""
    return dimension[:4] + (f"_{region_id}" if region_id else "")


def menu_rows(prefix: str, dims: Sequence[str], everyone: bool = True, paste: bool = False,
              done: str | None = None) -> list[Row]:
    """The audience menu: Everyone, one button per dimension (and Paste a list), then Next."""
    rows: list[Row] = []
    if everyone:
        rows.append([button("🌍 " + _("Everyone"), Pick(step=prefix + "a", value="everyone"))])
    buttons = [button(dimension_label(d), Pick(step=prefix + "a", value=d)) for d in dims]
    if paste:
        buttons.append(button(_("Paste a list"), Pick(step=prefix + "a", value="paste")))
    rows += grid(buttons, 3)
    rows.append([button((done or _("Next")) + " ➡️", Pick(step=prefix + "a", value="done"))])
    rows.append(nav_row())
    return rows


def back_to_menu(prefix: str) -> Row:
    return [button("⬅️ " + _("Back"), Pick(step=prefix + "a", value="menu"))]


def regions_keyboard(prefix: str, regions: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    buttons = [button(short(name, 40), Pick(step=prefix + "dr", value=str(rid)))
               for rid, name in regions]
    return markup([*grid(buttons, 2), back_to_menu(prefix)])


def page_of(options: Sequence[tuple[str, str]], value: str) -> int:
    """The page on which `value` is listed (0 when it is not)."""
    index = next((i for i, (v, _label) in enumerate(options) if v == value), 0)
    return index // PAGE_SIZE


def pages(options: Sequence[tuple[str, str]]) -> int:
    return max(1, -(-len(options) // PAGE_SIZE))


def choices_keyboard(prefix: str, dimension: str, region_id: int | None,
                     options: Sequence[tuple[str, str]], chosen: set[str],
                     page: int) -> InlineKeyboardMarkup:
    """One page of a dimension's choices (✅ chosen, ▫️ not), "⬅️ 2/3 ➡️" and Back to the menu."""
    key = list_key(dimension, region_id)
    buttons = [button(("✅ " if value in chosen else "▫️ ") + short(label, 40),
                      Pick(step=f"{prefix}t_{key}", value=value)) for value, label in options]
    rows = page_rows(buttons, page, lambda n: Pick(step=f"{prefix}g_{key}", value=str(n)),
                     columns=2, size=PAGE_SIZE)
    return markup([*rows, back_to_menu(prefix)])
