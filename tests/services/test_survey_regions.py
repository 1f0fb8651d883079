"""Staff see a survey's response rate by region as well as by district; an anonymous survey's
region keeps no figure that would give away a district hidden under the threshold."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.handlers.survey_results import results_text
from bot.i18n import in_locale
from bot.services import surveys
from bot.views.survey_exports import summary_xlsx
from bot.views.surveys import RegionRate, region_rates
from storage.db import Database
from tests import factories as f
from tests.survey_helpers import answer_all, create

FULL = {"budget": "no", "gap": 250000, "trust": 7, "problems": ["water", "roads"],
        "priority": ["water", "waste", "roads"]}


async def test_the_card_sums_districts_by_region_and_hides_what_would_reveal_a_small_one(
        db: Database) -> None:
    staff = await f.staff(db)
    leylek = [await f.member(db, "Лейлек " + "абвгд"[i], district="leylek") for i in range(5)]
    kadamjay = await f.member(db, "Кадамжай", district="kadamjay")
    talas = await f.member(db, "Талас", district="talas")
    waiting = await f.member(db, "Ждёт", district="kadamjay")  # invited, never answers
    anonymous = await create(db, staff, anonymous=True)
    named = await create(db, staff)
    for m in [*leylek, kadamjay, talas]:
        for sid in (anonymous, named):
            await answer_all(db, m.id, sid, FULL)
    assert waiting.id

    open_figures = {r.region: r for r in region_rates(await surveys.results(db, staff, named))}
    assert open_figures["Баткенская область"] == RegionRate("Баткенская область", 7, 6)
    assert open_figures["Таласская область"].responded == 1

    found = await surveys.results(db, staff, anonymous)
    hidden = {r.region: r for r in region_rates(found)}
    # Six answered in Batken, but one of them alone in Kadamjay: Batken's total would show it.
    assert hidden["Баткенская область"].hidden and hidden["Таласская область"].hidden
    with in_locale("ru"):
        card = results_text(found, "ru")
    assert "<b>Баткенская область: &lt;5/7</b>" in card
    assert "Лейлекский район (Баткенская область): 5/5" in card
    assert "Кадамжайский район (Баткенская область): &lt;5/2" in card
    # The summary sheet of the export and of the results sent to members says the same.
    with in_locale("ru"):
        book = load_workbook(io.BytesIO(summary_xlsx(found, "ru")))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert ("Баткенская область", 7, "< 5") in [row[:3] for row in rows]
    assert ("Баткенская область", "Лейлекский район", 5, 5) in rows
