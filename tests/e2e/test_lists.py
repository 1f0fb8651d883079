"""Every choice is reachable and no label is cut in the middle of a word (issue 13, item 7)."""

from __future__ import annotations

from bot.sandbox.client import Person
from bot.services import reference
from bot.views.buttons import short
from bot.views.callbacks import Iss
from tests import factories as f
from tests.e2e.conftest import (
    JSON,
    PersonFactory,
    Running,
    buttons,
    nav,
    press,
    said,
    t,
)
from tests.e2e.journeys import member


def cut_at_a_word(label: str, full: str) -> bool:
    """The label is the whole name, or whole words of it followed by "…"."""
    if label == full:
        return True
    if not label.endswith("…"):
        return False
    head = label[:-1]
    words = full.split()
    return full.startswith(head) and (len(head) == len(full) or full[len(head)] in " ,"
                                      or head.split() == words[:len(head.split())])


async def every_page(person: Person, first: JSON, marker: str) -> list[str]:
    """Labels of the buttons starting with `marker` on every page, following "➡️"."""
    labels: list[str] = []
    message = first
    for _ in range(10):
        labels += [label for label, _ in buttons(message) if label.startswith(marker)]
        forward = [data for label, data in buttons(message) if label == "➡️"]
        if not forward:
            return labels
        await person.press_data(int(message["message_id"]), forward[0])
        message = await next_page(person, message)
    raise AssertionError("the pages never end")


async def next_page(person: Person, page: JSON) -> JSON:
    """The same message edited into its next page (anything else the bot says meanwhile, or a
    repeat of the page just left, is passed over)."""
    for _ in range(20):
        message = await said(person, "")
        if message["message_id"] == page["message_id"] and buttons(message) != buttons(page):
            return message
    raise AssertionError("the page never turned")


async def test_add_to_dossier_offers_every_state_body_by_pages(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Boss", "ru")
    await f.staff(db, boss.user_id, "Union Staff", language="ru")
    author = await f.member(db, "Бакыт Осмонов")
    issue = await f.national_issue(db, author.id, "Налог на землю пастбищ")
    bodies = await reference.state_bodies(db, "ru")
    assert len(bodies) == 14

    await boss.send("/issues")
    await said(boss, t("ru", "National issues"))
    await press(boss, Iss(action="o", issue_id=issue.id or 0).pack())
    await said(boss, f"P-{issue.id}")
    await press(boss, Iss(action="ds", issue_id=issue.id or 0).pack())
    first = await said(boss, t("ru", "Add {id} to which dossier?", id=f"P-{issue.id}"))
    offered = [label.removeprefix("➕ ") for label in await every_page(boss, first, "➕")]
    assert len(offered) == 14
    for body in bodies:
        assert any(cut_at_a_word(label, body.name) and body.name.startswith(label.rstrip("…"))
                   for label in offered), body.name


async def test_the_raise_flow_pages_the_state_bodies_with_whole_words(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ru")
    bodies = {p.name for p in await reference.state_bodies(db, "ru")}
    await bakyt.send("/raise")
    await said(bakyt, t("ru", "Raise a problem to the national level."))
    await bakyt.send("Налог на землю пастбищ")
    await said(bakyt, t("ru", "Which topic is it?"))
    await press(bakyt, "p:it:land")
    await said(bakyt, t("ru", "What is the problem?"))
    await bakyt.send("Земельный налог поступает в районный бюджет, айыл окмоту не получает его.")
    await said(bakyt, t("ru", "Which law, rule or practice causes it?"))
    await press(bakyt, nav("skip"))
    await said(bakyt, t("ru", "What do you propose?"))
    await bakyt.send("Зачислять земельный налог в местный бюджет полностью.")
    first = await said(bakyt, t("ru", "Which state body should act?"))
    seen = await every_page(bakyt, first, "")
    named = [label for label in seen
             if any(b.startswith(label.rstrip("…")) for b in bodies) and label not in
             ("⬅️", "➡️")]
    assert len(named) == 14
    for label in named:
        assert any(cut_at_a_word(label, b) for b in bodies), label


def test_a_long_name_is_cut_after_a_word() -> None:
    name = ("Министерство сельского хозяйства и перерабатывающей промышленности Кыргызской "
            "Республики")
    cut = short(name, 50)
    assert cut == "Министерство сельского хозяйства и…"
    assert len(cut) <= 50
    assert short("Короткое имя", 50) == "Короткое имя"
