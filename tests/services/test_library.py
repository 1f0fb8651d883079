"""The library at the service level: the bad input the issue lists, who may review what, the
history of edits, and what search and the /ask similar step find."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.services import library, roles, search
from bot.services.errors import InvalidInput, InvalidState, PermissionDenied
from bot.services.library import ItemDraft
from storage.db import Database
from storage.enums import ItemStatus, Role
from storage.models import LibraryItem, LibraryRevision, Outbox
from tests import factories as f

TODAY = date(2026, 11, 30)


def practice(group_id: int, **texts: str) -> ItemDraft:
    fields = {"title": "Открытые слушания по бюджету",
              "problem": "Жители не знали, куда уходят деньги бюджета.",
              "actions": "Провели слушания в каждом селе.",
              "results": "Сбор налогов вырос на 18 процентов."}
    fields.update(texts)
    return ItemDraft(kind="practice", group_id=group_id, texts={"ru": fields})


def act(group_id: int, number: str = "45-р", adopted: date = date(2024, 3, 12)) -> ItemDraft:
    return ItemDraft(kind="legal_act", group_id=group_id, number=number, adopted_on=adopted,
                     texts={"ru": {"title": "О местном бюджете", "issuer": "Жогорку Кенеш"}},
                     files=[{"file_id": "F1", "name": "zakon.pdf", "size": 1000}])


async def items(db: Database) -> list[LibraryItem]:
    async with db.read() as s:
        return list((await s.exec(select(LibraryItem))).all())


async def test_bad_input_gets_a_refusal_and_writes_nothing(db: Database) -> None:
    budget = await f.group_id(db, "budget")
    boss = await f.staff(db)
    asel = await f.member(db, "Асель Маматова", language="ru")
    for draft, code in (
        (practice(budget, problem="", actions="", results=""), "library_missing"),
        (practice(budget, problem="Б" * 20_000), "library_text"),
        (ItemDraft(kind="practice", group_id=budget, texts={}), "library_missing"),
    ):
        with pytest.raises(InvalidInput) as err:
            await library.submit(db, asel.id, draft, TODAY)
        assert err.value.code == code
    too_big = practice(budget)
    too_big.files = [{"file_id": "X", "name": "big.pdf", "size": 30 * 1024 * 1024}]
    wrong = practice(budget)
    wrong.files = [{"file_id": "X", "name": "run.exe", "size": 10}]
    for draft, code in ((too_big, "file_size"), (wrong, "file_type"),
                        (act(budget, adopted=TODAY + timedelta(days=1)), "library_date_future")):
        with pytest.raises(InvalidInput) as err:
            await library.submit(db, boss, draft, TODAY)
        assert err.value.code == code
    await library.submit(db, boss, act(budget), TODAY)
    with pytest.raises(InvalidInput) as err:
        await library.submit(db, boss, act(budget, number="№ 45-Р"), TODAY)
    assert err.value.code == "library_number_taken"
    assert len(await items(db)) == 1


async def test_moderators_review_their_groups_practices_and_staff_the_partners_products(
    db: Database
) -> None:
    budget = await f.group_id(db, "budget")
    mod = await f.moderator(db, "Бермет Алиева", "budget", language="ru")
    other_mod = await f.moderator(db, "Канат Асанов", "land", language="ru")
    asel = await f.member(db, "Асель Маматова", language="ru")
    partner = await f.member(db, "GIZ", language="ru")
    await roles.grant_role(db, None, partner.id, Role.PARTNER)
    done = await library.submit(db, asel.id, practice(budget), TODAY)
    assert done.status == ItemStatus.REVIEW
    with pytest.raises(PermissionDenied):
        await library.review(db, other_mod.id, done.item_id, "approve")
    with pytest.raises(PermissionDenied):
        await library.review(db, asel.id, done.item_id, "approve")
    with pytest.raises(InvalidInput):
        await library.review(db, mod.id, done.item_id, "return", "")
    with pytest.raises(PermissionDenied):  # a member adds a legal act directly: no
        await library.submit(db, asel.id, act(budget), TODAY)

    product = await library.submit(db, partner.id, ItemDraft(
        kind="partner", group_id=budget, texts={"ru": {
            "title": "Калькулятор местного бюджета", "body": "Таблица для расчёта бюджета.",
            "partner": "GIZ"}}), TODAY)
    assert product.status == ItemStatus.REVIEW
    with pytest.raises(PermissionDenied):
        await library.review(db, mod.id, product.item_id, "approve")
    assert await library.review(db, await f.staff(db), product.item_id,
                                "approve") == ItemStatus.PUBLISHED
    async with db.read() as s:
        told = (await s.exec(select(Outbox).where(Outbox.kind == "library_proposed"))).all()
    assert {o.member_id for o in told} >= {mod.id}


async def test_editing_keeps_every_earlier_version(db: Database) -> None:
    budget = await f.group_id(db, "budget")
    boss = await f.staff(db)
    done = await library.submit(db, boss, practice(budget), TODAY)
    await library.edit(db, boss, done.item_id, practice(budget, results="Рост на 25%."), TODAY)
    await library.edit(db, boss, done.item_id, practice(budget, results="Рост на 30%."), TODAY)
    async with db.read() as s:
        history = (await s.exec(select(LibraryRevision).order_by(LibraryRevision.id))).all()
    assert [h.snapshot["texts"]["ru"]["results"] for h in history] == [
        "Сбор налогов вырос на 18 процентов.", "Рост на 25%."]
    card = await library.card(db, boss, done.item_id, "ky")
    assert card.texts["results"] == "Рост на 30%." and card.revisions == 2


async def test_search_ranks_an_exact_title_first_and_the_similar_step_offers_items(
    db: Database
) -> None:
    budget = await f.group_id(db, "budget")
    boss = await f.staff(db)
    asel = await f.member(db, "Асель Маматова", language="ru")
    await library.submit(db, boss, ItemDraft(kind="method", group_id=budget, texts={"ru": {
        "title": "Бюджет для начинающих", "body": "О местном бюджете: местный бюджет, "
        "бюджетный процесс, бюджетные слушания, бюджет айыл окмоту."}}), TODAY)
    exact = await library.submit(db, boss, ItemDraft(kind="method", group_id=budget, texts={
        "ru": {"title": "Местный бюджет", "body": "Руководство."}}), TODAY)
    scope = search.Scope(asel.id, [budget], False)
    found = await search.everything(db, "Местный бюджет", scope)
    assert (found.results[0].kind, found.results[0].id) == ("library", exact.item_id)
    assert (await search.everything(db, '"*', scope)).total == 0
    assert (await search.everything(db, "бюджет " * 300, scope)).total >= 1
    hits = await search.similar_items(db, "Как провести бюджетные слушания в айыл окмоту?",
                                      [budget])
    assert hits and hits[0].kind == "method"
    with pytest.raises(InvalidState):
        await library.adopt(db, boss, exact.item_id)  # one's own item


async def test_a_groups_shelf_counts_each_kind_and_pages_the_chosen_one(db: Database) -> None:
    budget = await f.group_id(db, "budget")
    boss = await f.staff(db)
    for n in range(3):
        await library.submit(db, boss, act(budget, number=f"{n + 1}-р"), TODAY)
    proposed = await library.submit(db, boss, practice(budget), TODAY)
    if proposed.status != ItemStatus.PUBLISHED:
        await library.review(db, boss, proposed.item_id, "approve")
    await library.submit(db, (await f.member(db, "Асель Маматова")).id,
                         practice(budget, title="Жаңы тажрыйба"), TODAY)  # waits for review
    reader = await f.member(db, "Бакыт Осмонов", district="talas")

    everything = await library.shelf(db, reader.id, budget, None, per_page=2)
    assert everything.counts == {"legal_act": 3, "practice": 1}
    assert everything.total == 4 and len(everything.items) == 2
    acts = await library.shelf(db, reader.id, budget, "legal_act", page=99, per_page=2)
    assert acts.total == 3 and [i.kind for i in acts.items] == ["legal_act"]  # the last page
    assert (await library.shelf(db, reader.id, budget, "template")).total == 0
    with pytest.raises(InvalidInput):
        await library.shelf(db, reader.id, budget, "'; DROP TABLE library_item; --")
    heads = await f.group_id(db, "community-heads")
    deputy = await f.member(db, "Канат Асанов", communities=("deputies",))
    with pytest.raises(PermissionDenied):
        await library.shelf(db, deputy.id, heads, None)
