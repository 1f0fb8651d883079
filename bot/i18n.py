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
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import LANGUAGES

CATALOGS = Path(__file__).resolve().parents[1] / "i18n"
DOMAIN = "birge"
TIMEZONE = ZoneInfo("Asia/Bishkek")

__all__ = ["LANGUAGES", "BirgeI18n", "_", "__", "format_when", "get_i18n", "in_locale",
           "language_name", "ngettext", "pick_language"]


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


def pick_language(telegram_code: str | None, default: str) -> str:
    """A newcomer starts in their Telegram language when Birge speaks it."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


LANGUAGE_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def format_when(moment: datetime, locale: str, tz: ZoneInfo = TIMEZONE) -> str:
    """A date and time in the member's locale, in Bishkek time."""
    return format_datetime(moment.astimezone(tz), "medium", tzinfo=tz, locale=locale)
