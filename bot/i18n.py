"""Three languages through gettext catalogs in `i18n/`, with Babel for dates and numbers.

The `.po` files are the single source: `BirgeI18n` compiles them in memory at start-up with
Babel, so there is no build step and no compiled `.mo` file to forget. Use `_` for strings in a
handler, `__` (lazy) for strings defined at import time, and `in_locale` to render for someone other
than the member acting now (the delivery worker).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_date, format_datetime, get_day_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import LANGUAGES

CATALOGS = Path(__file__).resolve().parents[1] / "i18n"
DOMAIN = "birge"
TIMEZONE = ZoneInfo("Asia/Bishkek")

__all__ = ["LANGUAGES", "BirgeI18n", "_", "__", "format_day", "format_month", "format_when",
           "get_i18n", "in_locale", "language_name", "ngettext", "numeric_date", "pgettext",
           "pick_language", "weekday_names"]


def catalog_files(locale: str, root: Path = CATALOGS) -> list[Path]:
    """Every catalog of a language: `birge.po` first, then one file per feature (`surveys.po` …).

    Features keep their strings in their own file so that work on two features never edits the
    same catalog; `scripts/i18n.py` refreshes them all.
    """
    folder = root / locale / "LC_MESSAGES"
    main = folder / f"{DOMAIN}.po"
    rest = sorted(p for p in folder.glob("*.po") if p != main)
    return ([main] if main.exists() else []) + rest


def read_catalog(locale: str, root: Path = CATALOGS) -> Catalog:
    """All of a language's catalog files as one catalog (a later file never overrides)."""
    merged: Catalog | None = None
    for path in catalog_files(locale, root):
        with path.open("rb") as fh:
            part = read_po(fh, locale=locale, domain=DOMAIN)
        if merged is None:
            merged = part
            continue
        for msg in part:
            if msg.id and merged.get(msg.id, msg.context) is None:
                merged.add(msg.id, msg.string, flags=msg.flags, context=msg.context)
    return merged if merged is not None else Catalog(locale=locale, domain=DOMAIN)


def compile_catalog(locale: str, root: Path = CATALOGS) -> gettext.GNUTranslations:
    buf = io.BytesIO()
    write_mo(buf, read_catalog(locale, root), use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class BirgeI18n(I18n):
    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found: dict[str, gettext.GNUTranslations] = {}
        for locale in LANGUAGES:
            if catalog_files(locale, Path(self.path)):
                found[locale] = compile_catalog(locale, Path(self.path))
        return found


_instance: BirgeI18n | None = None


def get_i18n(default_locale: str = "ky") -> BirgeI18n:
    """The process-wide catalogs (loaded once) made current for `_`."""
    global _instance
    if _instance is None:
        _instance = BirgeI18n(path=CATALOGS, default_locale=default_locale, domain=DOMAIN)
    _instance.default_locale = default_locale
    I18n.set_current(_instance)
    return _instance


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    """Render strings in `locale`, e.g. for a notification to another member."""
    current = I18n.get_current(no_error=True)
    i18n = current if current is not None else get_i18n()
    with i18n.use_locale(locale if locale in LANGUAGES else i18n.default_locale):
        yield


def pgettext(context: str, message: str) -> str:
    """`_` for a word whose translation depends on what it describes: "new" is «новое» for a
    legal request and «новая» for a national issue. `context` names the thing."""
    i18n = I18n.get_current(no_error=True)
    if i18n is None:
        return message
    translations = i18n.locales.get(i18n.current_locale)
    return translations.pgettext(context, message) if translations is not None else message


def pick_language(telegram_code: str | None, default: str) -> str:
    """A newcomer starts in their Telegram language when Birge speaks it."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


LANGUAGE_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


# Dates: one explicit pattern per locale (GLOSSARY.md), never seconds. Every date Birge writes
# comes from these functions; tests/test_dates.py checks them and every message that carries one.
# A Kyrgyz date takes no suffix: the catalogs put it after a colon («мөөнөтү: {date}»).
WHEN_PATTERNS = {"ky": "dd.MM.y, HH:mm", "ru": "d MMMM y 'г.', HH:mm", "en": "d MMMM y, HH:mm"}
DAY_PATTERNS = {"ky": "dd.MM.y", "ru": "d MMMM y 'г.'", "en": "d MMMM y"}
SHORT_DAY_PATTERNS = {"ky": "d-MMMM", "ru": "d MMMM", "en": "d MMMM"}  # no year: digests, lists
MONTH_PATTERN = "LLLL y"
NUMERIC_DATE = "dd.MM.y"  # letters and exports, whatever the language: 23.11.2026


def _local(moment: datetime | date, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date() if isinstance(moment, datetime) else moment


def format_when(moment: datetime, locale: str, tz: ZoneInfo = TIMEZONE) -> str:
    """A date and time in the member's locale, in Bishkek time: «23 ноября 2026 г., 14:05»."""
    pattern = WHEN_PATTERNS.get(locale, WHEN_PATTERNS["en"])
    return format_datetime(moment.astimezone(tz), pattern, tzinfo=tz, locale=locale)


def format_day(moment: datetime | date, locale: str, *, year: bool = True,
               tz: ZoneInfo = TIMEZONE) -> str:
    """A calendar day (Bishkek's, for a moment): «23 ноября 2026 г.», or «23 ноября» without
    the year."""
    patterns = DAY_PATTERNS if year else SHORT_DAY_PATTERNS
    return _format_day(_local(moment, tz), locale, patterns.get(locale, patterns["en"]))


@lru_cache(maxsize=4096)
def _format_day(day: date, locale: str, pattern: str) -> str:
    return format_date(day, pattern, locale=locale)


def format_month(month: date, locale: str) -> str:
    """«ноябрь 2026»."""
    return format_date(month, MONTH_PATTERN, locale=locale)


def numeric_date(moment: datetime | date, tz: ZoneInfo = TIMEZONE) -> str:
    """23.11.2026: letters and exports."""
    return format_date(_local(moment, tz), NUMERIC_DATE, locale="en")


def weekday_names(locale: str) -> list[str]:
    """Monday first, short but readable (a calendar's header): «пн», «дш.», «Mo»."""
    names = get_day_names("short", locale=locale)
    return [str(names[i]) for i in range(7)]
