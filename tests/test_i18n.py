"""Every string Birge shows exists in Kyrgyz, Russian and English, and ky/ru carry no English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import format_when, get_i18n, in_locale, ngettext, read_catalog

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("ky", "ru", "en")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Latin words a Kyrgyz or Russian text may carry: proper names and placeholders.
ALLOWED_LATIN = {"Birge", "Telegram", "BotFather", "XLSForm", "xlsx"}


def catalog(lang: str) -> Catalog:
    return read_catalog(lang)


def messages(cat: Catalog) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for msg in cat:
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strs = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        found.append((ids[0], tuple(strs)))
    return found


def code_msgids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "__", "-k", "ngettext:1,2", "-k", "pgettext:1c,2",
         "-k", "npgettext:1c,2,3", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m[0] for m in messages(read_po(fh))}


def test_the_catalogs_cover_every_string_in_the_code(tmp_path: Path) -> None:
    in_code = code_msgids(tmp_path)
    assert in_code, "no strings extracted"
    for lang in LANGS:
        have = {msgid for msgid, _ in messages(catalog(lang))}
        missing = in_code - have
        assert not missing, f"{lang} catalog lacks (run scripts/i18n.py): {sorted(missing)[:5]}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    for msgid, strs in messages(catalog(lang)):
        for s in strs:
            assert s.strip(), f"{lang}: untranslated: {msgid!r}"
            assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(msgid)), (
                f"{lang}: placeholders differ in {msgid!r}: {s!r}"
            )


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_no_english_is_left_in_kyrgyz_or_russian(lang: str) -> None:
    for msgid, strs in messages(catalog(lang)):
        for s in strs:
            text = PLACEHOLDER.sub("", s)
            text = re.sub(r"<code>.*?</code>", "", text)  # literal technical tokens
            text = re.sub(r"</?[a-z]+>", "", text)  # HTML tags
            text = re.sub(r"/[a-z_]+", "", text)  # commands
            words = set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_LATIN
            assert not words, f"{lang}: English left in {s!r} (for {msgid!r}): {words}"
            if re.search(r"[A-Za-z]{3,}", msgid) and s == msgid:
                pytest.fail(f"{lang}: copied from English: {msgid!r}")


def test_plural_forms_and_dates_follow_the_members_locale() -> None:
    from datetime import UTC, datetime

    get_i18n("ky")
    moment = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 09:30 in Bishkek
    assert "09:30" in format_when(moment, "ru") or "9:30" in format_when(moment, "ru")
    assert "ноя" in format_when(moment, "ru")
    assert "Nov" in format_when(moment, "en")
    one, few, many = (
        "{count} newcomer is waiting for your decision.",
        "{count} newcomers are waiting for your decision.",
        0,
    )
    with in_locale("ru"):
        forms = {ngettext(one, few, n) for n in (1, 3, 5)}
    assert len(forms) == 3, "Russian needs three plural forms"
    with in_locale("en"):
        assert ngettext(one, few, 1) != ngettext(one, few, 2)
    del many
