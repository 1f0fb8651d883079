"""How a member's profile looks: the card of `/profile` with a button per field to edit.

Shown by the `/profile` handler and by the onboarding flow after a field is edited (or the edit
is cancelled), so both show the same card.
"""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, language_name
from bot.services.members import ProfileCard
from bot.views.buttons import button, grid, markup
from bot.views.callbacks import Menu
from bot.views.labels import position_label, role_label, status_label
from storage.enums import Role


def profile_view(card: ProfileCard, saved: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """The card's text and buttons, in the current locale."""
    m = card.member
    place = ", ".join(p for p in (card.municipality, card.district, card.region) if p)
    roles = [role_label(r) for r in sorted(m.roles, key=str) if r != Role.MEMBER]
    lines = [
        ("✅ " + _("Saved.") + "\n\n") if saved else "",
        "👤 <b>" + html.escape(m.full_name) + "</b>",
        _("Position: {value}").format(value=position_label(m.position)),
        _("Place: {value}").format(value=html.escape(place) if place else "—"),
        _("Communities: {value}").format(value=", ".join(card.communities) or "—"),
        _("Language: {value}").format(value=language_name(m.language)),
        _("Status: {value}").format(value=status_label(m.status)),
    ]
    if roles:
        lines.append(_("Roles: {value}").format(value=", ".join(roles)))
    buttons = [
        button("✏️ " + _("Name"), Menu(item="edit_name")),
        button("✏️ " + _("Position"), Menu(item="edit_position")),
        button("✏️ " + _("Place"), Menu(item="edit_place")),
        button("✏️ " + _("Communities"), Menu(item="edit_communities")),
        button("🌐 " + _("Language"), Menu(item="language")),
    ]
    if m.active:
        buttons.append(button("⚙️ " + _("Settings"), Menu(item="settings")))
    buttons.append(button("🏠 " + _("Menu"), Menu(item="home")))
    return "\n".join(line for line in lines if line), markup(grid(buttons, 2))
