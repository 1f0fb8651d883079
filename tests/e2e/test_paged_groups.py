"""Topic groups are created by staff without limit, so every list of them is paged (issue 13,
item 7): /groups, the library's shelves, the group a practice is proposed for and the group a
search is narrowed to."""

from __future__ import annotations

from bot.services import groups
from bot.views.library import LibMenu, Srf
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, press, said, t
from tests.e2e.test_paged_lists import FORWARD, arrow, turn, walk

MARKER = "Группа по теме"


async def test_a_member_pages_through_twenty_topic_groups_wherever_she_picks_one(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_id = await f.staff(db, language="ru")
    made = [await groups.create_group(db, staff_id, {"ky": f"Топ {i:02d}",
                                                     "ru": f"{MARKER} {i:02d}"})
            for i in range(1, 21)]
    aida = await people("Aida", "ru")
    await f.member(db, "Аида Токтосунова", telegram_id=aida.user_id, language="ru",
                   district="leylek")
    expected = {f"{MARKER} {i:02d}" for i in range(1, 21)}

    async def every_group(command: str | None, prompt: str) -> dict:  # type: ignore[type-arg]
        if command is not None:
            await aida.send(command)
        first = await said(aida, prompt)
        pages = await walk(aida, first, prompt, MARKER)
        shown = " ".join(label for page in pages for label in page)
        assert len(pages) >= 3 and all(name in shown for name in expected), pages
        return first

    await every_group("/groups", t("ru", "Topic groups. ⭐️"))
    await every_group("/library", t("ru", "The library: practices"))
    await press(aida, LibMenu(item="propose").pack())
    prompt = t("ru", "Which topic group is it for?")
    last = await every_group(None, prompt)
    # The last page's last group is taken: the flow goes on to the languages.
    while arrow(last, FORWARD) is not None:
        last = await turn(aida, last, FORWARD, prompt)
    await press(aida, next(data for label, data in _buttons(last) if MARKER + " 20" in label))
    await said(aida, t("ru", "In which languages will you write?"))
    await aida.send("/cancel")
    await aida.send("/search бюджет")
    await said(aida, t("ru", "Nothing found for"))
    await press(aida, Srf(choose="group").pack())
    await every_group(None, t("ru", "Search in which group?"))
    assert made


def _buttons(message: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    from tests.e2e.conftest import buttons

    return buttons(message)
