"""`/settings`: digest frequency, day and hour, quiet hours, and which notifications to get.

One screen of inline buttons; every press is one `update_settings` call and the screen is
redrawn in place. Values on buttons are re-checked by the service (a forged one is refused).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from babel.dates import get_day_names

from bot.config import Settings
from bot.flows.ui import Event, show
from bot.i18n import _
from bot.services import settings as prefs_service
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.settings import Change, Prefs
from bot.views.buttons import button, grid, markup
from bot.views.callbacks import Menu, Pref, parse_id
from bot.views.labels import refusal
from bot.views.people import Pe
from storage.db import Database
from storage.enums import DigestFrequency, NoticeCategory

router = Router(name="settings")
router.message.filter(F.chat.type == "private")


def category_label(category: NoticeCategory) -> str:
    return {
        NoticeCategory.QUESTIONS: _("New questions in my groups"),
        NoticeCategory.ANSWERS: _("Answers to my questions"),
        NoticeCategory.BROADCASTS: _("Broadcasts (urgent ones always come)"),
        NoticeCategory.NATIONAL: _("National issues"),
        NoticeCategory.LEGAL: _("Legal help"),
        NoticeCategory.EVENTS: _("Event invitations"),
    }[category]


def day_name(weekday: int, lang: str) -> str:
    return str(get_day_names("wide", locale=lang)[weekday]).capitalize()


def frequency_line(p: Prefs, lang: str) -> str:
    if p.frequency == DigestFrequency.OFF:
        return _("Digest: off")
    if p.frequency == DigestFrequency.DAILY:
        return _("Digest: every day at {hour}:00").format(hour=f"{p.hour:02d}")
    day = str(get_day_names("wide", locale=lang)[p.weekday])
    return _("Digest: weekly, {day}, {hour}:00").format(day=day, hour=f"{p.hour:02d}")


def settings_text(p: Prefs, lang: str, config: Settings) -> str:
    quiet = _("on") if p.quiet_hours else _("off")
    lines = ["⚙️ <b>" + _("Settings") + "</b>", "", "📰 " + frequency_line(p, lang)]
    if quiet_hours_exist(config):
        lines.append("🌙 " + _("Quiet hours {start}:00–{end}:00: {state}").format(
            start=f"{config.quiet_hours_start:02d}", end=f"{config.quiet_hours_end:02d}",
            state=quiet))
    lines += ["", _("Notifications you get (tap to switch):")]
    return "\n".join(lines)


def quiet_hours_exist(config: Settings) -> bool:
    return config.quiet_hours_start != config.quiet_hours_end


def settings_keyboard(p: Prefs, lang: str,
                      config: Settings) -> list[list[InlineKeyboardButton]]:
    def mark(on: bool, text: str) -> str:
        return ("✅ " if on else "▫️ ") + text

    rows = [[button(mark(p.frequency == f, label), Pref(action="freq", value=f))
             for f, label in ((DigestFrequency.WEEKLY, _("Weekly")),
                              (DigestFrequency.DAILY, _("Daily")),
                              (DigestFrequency.OFF, _("Off")))]]
    when = []
    if p.frequency == DigestFrequency.WEEKLY:
        when.append(button("📅 " + day_name(p.weekday, lang), Pref(action="pick", value="day")))
    if p.frequency != DigestFrequency.OFF:
        when.append(button("🕘 " + f"{p.hour:02d}:00", Pref(action="pick", value="hour")))
    rows.append(when)
    if quiet_hours_exist(config):
        rows.append([button(mark(p.quiet_hours, _("Quiet hours")),
                            Pref(action="quiet", value="0" if p.quiet_hours else "1"))])
    for category in NoticeCategory:
        on = p.wants(category)
        rows.append([button(mark(on, category_label(category)),
                            Pref(action="kind", value=f"{category.value}={0 if on else 1}"))])
    rows.append([button("👥 " + _("Directory and contacts"), Pe(action="ls"))])
    rows.append([button("🏠 " + _("Menu"), Menu(item="home"))])
    return rows


async def show_settings(event: Event, db: Database, member: MemberView,
                        config: Settings) -> None:
    p = await prefs_service.get_settings(db, member.id)
    await show(event, settings_text(p, member.language, config),
               markup(settings_keyboard(p, member.language, config)))


@router.message(Command("settings"))
async def on_settings(message: Message, db: Database, member: MemberView | None,
                      settings: Settings) -> None:
    if member is None or not member.active:
        await message.answer(_("Settings are for approved members. Send /start to join."))
        return
    await show_settings(message, db, member, settings)


@router.callback_query(Menu.filter(F.item == "settings"))
async def on_settings_button(query: CallbackQuery, db: Database, member: MemberView | None,
                             settings: Settings) -> None:
    if member is None or not member.active:
        await query.answer(_("Settings are for approved members. Send /start to join."))
        return
    await query.answer()
    await show_settings(query, db, member, settings)


def _change(action: str, value: str) -> Change:
    """The change a button asks for; ValueError when the button is not one Birge made."""
    if action == "freq":
        return Change(frequency=value)
    if action == "day":
        return Change(weekday=_small(value, 6))
    if action == "hour":
        return Change(hour=_small(value, 23))
    if action == "quiet" and value in ("0", "1"):
        return Change(quiet_hours=value == "1")
    if action == "kind":
        category, _sep, on = value.partition("=")
        if on in ("0", "1"):
            return Change(category=category, wanted=on == "1")
    raise ValueError(action)


def _small(value: str, most: int) -> int:
    number = parse_id(value)
    if number is None or number > most:
        raise ValueError(value)
    return number


@router.callback_query(Pref.filter())
async def on_pref(query: CallbackQuery, callback_data: Pref, db: Database,
                  member: MemberView | None, settings: Settings) -> None:
    if member is None or not member.active:
        await query.answer(_("Settings are for approved members. Send /start to join."))
        return
    action, value = callback_data.action, callback_data.value
    if action == "open":
        await query.answer()
        await show_settings(query, db, member, settings)
        return
    if action == "pick" and value == "day":
        await query.answer()
        days = [button(day_name(d, member.language), Pref(action="day", value=str(d)))
                for d in range(7)]
        await show(query, _("On which day should the weekly digest come?"),
                   markup([*grid(days, 2), [button("⬅️ " + _("Back"), Pref(action="open"))]]))
        return
    if action == "pick" and value == "hour":
        await query.answer()
        hours = [button(f"{h:02d}:00", Pref(action="hour", value=str(h))) for h in range(24)]
        await show(query, _("At what time should the digest come (Bishkek time)?"),
                   markup([*grid(hours, 4), [button("⬅️ " + _("Back"), Pref(action="open"))]]))
        return
    try:
        change = _change(action, value)
        await prefs_service.update_settings(db, member.id, change)
    except ValueError:
        await query.answer(_("That choice is not available. Please try again."))
        return
    except ServiceError as exc:
        await query.answer(refusal(exc))
        return
    await query.answer(_("Saved."))
    await show_settings(query, db, member, settings)
