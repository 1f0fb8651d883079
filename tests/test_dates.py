"""Dates: one explicit pattern per language, never seconds, numeric in letters and exports, and in
Kyrgyz never a suffix on a date (it stands after a colon). Every message that carries a date is
rendered in each language and checked."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.i18n import (
    _,
    catalog_files,
    format_day,
    format_month,
    format_when,
    in_locale,
    numeric_date,
    weekday_names,
)
from bot.services import issue_exports
from bot.views.digests import day_label
from bot.views.legal import calendar
from tests.test_i18n import catalog, messages

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("ky", "ru", "en")
# 23 November 2026, 14:05:07 in Bishkek; and a single-digit day.
MOMENTS = [datetime(2026, 11, 23, 8, 5, 7, tzinfo=UTC),
           datetime(2027, 3, 1, 18, 59, 59, tzinfo=UTC)]
WHEN = {
    "ky": re.compile(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d"),
    "ru": re.compile(r"\d{1,2} [а-я]+ \d{4} г\., \d\d:\d\d"),
    "en": re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d"),
}
DAY = {
    "ky": re.compile(r"\d\d\.\d\d\.\d{4}"),
    "ru": re.compile(r"\d{1,2} [а-я]+ \d{4} г\."),
    "en": re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}"),
}
SHORT_DAY = {
    "ky": re.compile(r"\d{1,2}-[а-яөүң]+"),
    "ru": re.compile(r"\d{1,2} [а-я]+"),
    "en": re.compile(r"\d{1,2} [A-Z][a-z]+"),
}
SECONDS = re.compile(r"\d:\d\d:\d\d")
# Placeholders that stand for a date (or a date and time) in a message.
DATE_PLACEHOLDER = re.compile(r"\{(date|when)\}")


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_has_its_pattern_and_never_seconds(lang: str) -> None:
    for moment in MOMENTS:
        when = format_when(moment, lang)
        assert WHEN[lang].fullmatch(when), when
        assert not SECONDS.search(when), when
        assert DAY[lang].fullmatch(format_day(moment, lang)), format_day(moment, lang)
        assert SHORT_DAY[lang].fullmatch(day_label(moment, lang)), day_label(moment, lang)
        assert DAY[lang].fullmatch(day_label(moment, lang, year=True))
    assert format_when(MOMENTS[0], "ky") == "23.11.2026, 14:05"
    assert format_when(MOMENTS[0], "ru") == "23 ноября 2026 г., 14:05"
    assert format_when(MOMENTS[0], "en") == "23 November 2026, 14:05"


def test_letters_and_exports_use_numeric_dates() -> None:
    assert numeric_date(MOMENTS[0]) == "23.11.2026"
    assert numeric_date(date(2027, 3, 1)) == "01.03.2027"
    for lang in LANGS:
        assert issue_exports._date(MOMENTS[0], lang) == "23.11.2026"


@pytest.mark.parametrize("lang", LANGS)
def test_the_calendar_shows_short_weekday_names_not_one_letter(lang: str) -> None:
    names = weekday_names(lang)
    assert len(set(names)) == 7, names  # one letter repeats (В, С, Ш, Ж …)
    with in_locale(lang):
        rows = calendar(2026, 11, lang, date(2026, 11, 2))
    header = [b.text for row in rows for b in row if b.text in names]
    assert header == names
    assert format_month(date(2026, 11, 1), lang).lower().startswith(
        {"ky": "ноябрь", "ru": "ноябрь", "en": "november"}[lang])


def _dated_messages() -> list[tuple[str, str]]:
    """(msgid, placeholder) for every message in every catalog that carries a date."""
    found = []
    for msgid, _strs in messages(catalog("en")):
        for name in DATE_PLACEHOLDER.findall(msgid):
            found.append((msgid, name))
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_that_carries_a_date_renders_the_pattern(lang: str) -> None:
    dated = _dated_messages()
    assert len(dated) >= 15, dated
    for msgid, name in dated:
        with in_locale(lang):
            template = _(msgid)
        values = {p: "X" for p in re.findall(r"\{([a-z_]+)\}", template)}
        values[name] = format_when(MOMENTS[0], lang)
        text = template.format(**values)
        assert WHEN[lang].search(text), (msgid, text)
        assert not SECONDS.search(text), (msgid, text)


def test_a_kyrgyz_date_takes_no_suffix_and_stands_after_a_colon() -> None:
    for msgid, strs in messages(catalog("ky")):
        for s in strs:
            for found in DATE_PLACEHOLDER.finditer(s):
                before, after = s[:found.start()], s[found.end():]
                assert before.endswith((": ", "(")) or before == "", (msgid, s)
                assert not re.match(r"-?[а-яөүңА-ЯӨҮҢ]", after), (msgid, s)


def test_no_placeholder_takes_a_suffix_in_kyrgyz() -> None:
    """«{low}дон», «{page}-бети»: a number or name cannot be declined by the template."""
    for msgid, strs in messages(catalog("ky")):
        for s in strs:
            assert not re.search(r"\}[-’']?[а-яөүңА-ЯӨҮҢ]", s), (msgid, s)


def test_dates_are_formatted_in_one_place() -> None:
    """Babel's "medium" patterns carry seconds; strftime with %S too. Only bot/i18n.py formats."""
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        if path.name == "i18n.py" and path.parent.name == "bot":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in ("format_datetime", "format_date", "format_time"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "%S" in node.value:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} %S")
    assert not offenders, offenders
    assert catalog_files("ky")
