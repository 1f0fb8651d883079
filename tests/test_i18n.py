"""Every string Birge shows exists in Kyrgyz, Russian and English, and ky/ru carry no English."""

from __future__ import annotations

import ast
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


# --- one term per concept (i18n/GLOSSARY.md) ------------------------------------------------------

GLOSSARY = ROOT / "i18n" / "GLOSSARY.md"
# For a glossary term, the words a translator reaches for instead (synonyms, the other language's
# spelling, abbreviations). Each key must be a term of the glossary's ky or ru column.
FORBIDDEN: dict[str, dict[str, list[str]]] = {
    "ky": {
        "айыл өкмөтү": [r"айыл окмоту", r"айылдык өкмөт", r"\bАӨ\b"],
        "жергиликтүү кеңеш": [r"жергиликтүү кенеш", r"айылдык кенеш"],
        "ЖӨБ": [r"\bМСУ\b"],
        "ЖӨБ союзу": [r"ЖӨБ Союз", r"ЖӨБ бирлиг", r"Союз МСУ"],
        "айыл аймагы": [r"айылдык аймак", r"айылный аймак"],
        "муниципалдык кызматчы": [r"муниципалдык кызматкер"],
        "жергиликтүү коомдоштук": [r"жергиликтүү коомчулук"],
        "практика жамааты": [r"практика коомчулу", r"тажрыйба жамааты"],
        "катышуучу": [r"\bмүчө"],
        "укуктук кайрылуу": [r"юридикалык кайрылуу", r"укуктук суроо-талап"],
        "улуттук маселе": [r"улуттук көйгөй"],
        "Министрлер Кабинети": [r"\bӨкмөт"],
        "Жогорку Кеңеш": [r"Жогорку Кенеш"],
        "мыйзам долбоору": [r"мыйзамдын долбоору"],
        "таратма": [r"[Рр]ассылка"],
        "чектелген": [r"\b[Жж]абык\b"],
        "облус": [r"\b[Оо]бласт", r"\b[Рр]егион"],
        "белги": [r"\b[Сс]имвол"],
        "чыгыш номери": [r"чыгуучу номер"],
        "сурамжылоо": [r"сурамжылык", r"\b[Аа]нкета"],
        "ченемдик укуктук акт": [r"нормативдик укуктук акт"],
        "үлгү": [r"\b[Шш]аблон"],
        "иш-чара": [r"иш чара"],
    },
    "ru": {
        "айыл окмоту": [r"айыл өкмөт", r"\bАО\b", r"[Аа]ильн"],
        "местный кенеш": [r"местн\w+ совет", r"кеңеш"],
        "МСУ": [r"ЖӨБ"],
        "айылный аймак": [r"айыл аймаг"],
        "муниципальный служащий": [r"муниципальн\w+ (работник|сотрудник)"],
        "местное сообщество": [r"местн\w+ общин"],
        "сообщество практиков": [r"сообществ\w* практики\b", r"практическ\w+ сообществ"],
        "участник": [r"\b[Чч]лен(ы|ов|ам|ами|а|у)?\b"],
        "правовое обращение": [r"юридическ\w+ (обращени|запрос)", r"правов\w+ запрос"],
        "национальная проблема": [r"национальн\w+ вопрос"],
        "Кабинет Министров": [r"[Пп]равительств", r"Кабинет\w* министров"],
        "Жогорку Кенеш": [r"Жогорку Кеңеш"],
        "законопроект": [r"проект\w* закона"],
        "уведомление": [r"[Оо]повещени", r"[Нн]отификаци"],
        "область": [r"\b[Рр]егион"],
        "символ": [r"\bзнак(ов|а)?\b"],
        "исходящий номер": [r"номер\w* исходящ"],
        "опрос": [r"\b[Аа]нкет"],
        "мероприятие": [r"\b[Ии]вент"],
    },
}
# Not glossary terms: a misspelling the reviewer found, and the polite forms written in lower case
# (the glossary's "How to write": Сиз, «Вы/Ваш» capitalised).
NEVER = {"ky": [r"\bсурау\b", r"\b(сиз|сизге|сизди|сиздин|сизден|сизде)\b"],
         "ru": [r"\b(вы|вас|вам|вами|ваш|ваша|ваше|ваши|вашего|вашей|вашему|вашим|вашу)\b"]}


def glossary_terms() -> dict[str, set[str]]:
    """Each language's terms in the glossary's table ("a / b" and "a vs b" are two terms; a
    parenthesis gives another)."""
    terms: dict[str, set[str]] = {"ky": set(), "ru": set(), "en": set()}
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    for row in rows[1:]:
        cells = dict(zip(header, (c.strip() for c in row.strip("|").split("|")), strict=False))
        for lang in terms:
            for part in re.split(r" / | vs ", cells.get(lang, "")):
                for term in re.split(r"\s*\(|\)\s*", part):
                    if term.strip():
                        terms[lang].add(term.strip())
    return terms


def test_the_forbidden_variants_follow_the_glossary() -> None:
    terms = glossary_terms()
    assert len(terms["ky"]) > 30 and "Министрлер Кабинети" in terms["ky"]
    for lang, table in FORBIDDEN.items():
        unknown = set(table) - terms[lang]
        assert not unknown, f"{lang}: not a term of i18n/GLOSSARY.md: {sorted(unknown)}"


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_each_concept_has_one_term(lang: str) -> None:
    found = []
    for _msgid, strs in messages(catalog(lang)):
        for s in strs:
            for term, variants in FORBIDDEN[lang].items():
                for variant in variants:
                    if re.search(variant, s):
                        found.append(f"{variant!r} where the glossary says {term!r}: {s!r}")
            for never in NEVER[lang]:
                if re.search(never, s):
                    found.append(f"{never!r} in {s!r}")
    assert not found, f"{lang}: " + "\n".join(found)


# --- buttons ----------------------------------------------------------------------------------

BUTTON_LIMIT = 24  # characters, without the emoji the code adds and without placeholders


def button_msgids() -> dict[str | tuple[str, str], str]:
    """The messages the code puts on a button: `button(_("…"))`, `button("📅 " + _("…"))`."""
    found: dict[str | tuple[str, str], str] = {}
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and getattr(
                    node.func, "id", getattr(node.func, "attr", None)) == "button"):
                continue
            for sub in ast.walk(node.args[0]):
                if not isinstance(sub, ast.Call) or not all(
                        isinstance(a, ast.Constant) for a in sub.args):
                    continue
                name = getattr(sub.func, "id", None)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if name in ("_", "__") and len(sub.args) == 1:
                    found[sub.args[0].value] = where
                elif name == "pgettext" and len(sub.args) == 2:
                    found[(sub.args[0].value, sub.args[1].value)] = where
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_button_labels_are_short(lang: str) -> None:
    labels = button_msgids()
    assert len(labels) > 100
    cat = catalog(lang)
    long = []
    for msgid, where in labels.items():
        msg = cat.get(msgid) if isinstance(msgid, str) else cat.get(msgid[1], msgid[0])
        if msg is None:
            continue
        text = msg.string if isinstance(msg.string, str) else msg.string[0]
        if len(PLACEHOLDER.sub("", text)) > BUTTON_LIMIT:
            long.append(f"{where}: {text!r} ({len(text)})")
    assert not long, f"{lang}: buttons over {BUTTON_LIMIT} characters:\n" + "\n".join(long)


def test_a_word_that_agrees_with_its_noun_has_a_context() -> None:
    """"new", "resolved", "closed" … agree in gender with what they describe in Russian: each
    use names its noun (pgettext), so a legal request is «новое» and a national issue «новая»."""
    cat = catalog("ru")
    for word in ("new", "resolved", "closed", "declined", "answered", "cancelled"):
        assert cat.get(word) is None, f"{word!r} is used without a context"
    assert cat.get("new", "legal request").string == "новое"
    assert cat.get("new", "national issue").string == "новая"
    assert cat.get("resolved", "question").string != cat.get("resolved", "national issue").string
    assert cat.get("closed", "survey").string != cat.get("closed", "legal request").string
