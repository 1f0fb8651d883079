"""Questions and answers at the service level: who hears of what, who may do what, and what the
knowledge base finds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery.question_notices import forum_question
from bot.delivery.render import Recipient
from bot.services import groups, questions, search
from bot.services.errors import InvalidInput, InvalidState, PermissionDenied
from bot.services.questions import QuestionDraft
from storage.db import Database
from storage.enums import Position, QuestionStatus
from storage.models import Outbox, Question
from storage.types import utcnow
from tests import factories as f

BUDGET_Q = ("Как правильно внести изменения в местный бюджет в середине года, если "
            "трансферт из республиканского бюджета пришёл позже?")
BUDGET_A = ("Изменения в бюджет вносит айыл окмоту, кенеш утверждает их постановлением; "
            "трансферт отражается в доходной части.")


async def outbox(db: Database, kind: str) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).where(Outbox.kind == kind)
                                  .order_by(Outbox.id))).all())


@pytest.fixture
async def people(db: Database) -> dict[str, int]:
    budget = await f.group_id(db, "budget")
    asel = await f.member(db, "Асель Маматова", district="leylek", position=Position.FINANCE,
                          communities=("finance",), language="ru")
    nurlan = await f.member(db, "Нурлан Абдылдаев", district="leylek", communities=("heads",),
                           language="ky")
    follower = await f.member(db, "Бакыт Осмонов", district="talas", communities=("heads",))
    await groups.join_group(db, follower.id, budget)
    await groups.join_group(db, nurlan.id, budget)
    mod = await f.moderator(db, "Гүлнара Токтосунова", "budget", district="talas",
                            communities=("finance",))
    return {"asel": asel.id, "nurlan": nurlan.id, "follower": follower.id, "mod": mod.id,
            "budget": budget, "staff": await f.staff(db, name="Union Staff")}


async def test_a_finance_officer_asks_and_the_moderators_and_followers_hear_of_it(
        db: Database, people: dict[str, int]) -> None:
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                         BUDGET_Q))
    notified = {row.member_id for row in await outbox(db, "question_new")}
    assert notified == {people["nurlan"], people["follower"], people["mod"]}
    card = await questions.question_card(db, people["asel"], qid, "ru")
    assert card.asker == "Асель Маматова" and card.status == QuestionStatus.OPEN
    # Asking made her a follower of the group.
    lines = await groups.list_groups(db, people["asel"], "ru")
    assert next(g for g in lines if g.id == people["budget"]).joined


async def test_an_answer_reaches_the_asker_who_accepts_it_and_the_knowledge_base_finds_it(
        db: Database, people: dict[str, int]) -> None:
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                         BUDGET_Q))
    answer_id = await questions.answer_question(db, people["mod"], qid, BUDGET_A)
    [notice] = await outbox(db, "question_answered")
    assert notice.member_id == people["asel"]
    # Someone else pressing a forged "accept" is refused; the asker's works.
    with pytest.raises(PermissionDenied):
        await questions.accept_answer(db, people["nurlan"], answer_id)
    await questions.accept_answer(db, people["asel"], answer_id)
    card = await questions.question_card(db, people["nurlan"], qid, "ky")
    assert card.status == QuestionStatus.RESOLVED and card.answers[0].accepted
    readable = await groups.readable_groups(db, people["nurlan"])
    # Found by a word only the accepted answer has ("постановлением" → "постановлен").
    page = await search.search(db, "постановление кенеша", readable)
    assert [h.question_id for h in page.hits] == [qid]
    assert await questions.mark_useful(db, people["nurlan"], answer_id) is True
    assert await questions.mark_useful(db, people["nurlan"], answer_id) is False


async def test_an_anonymous_asker_is_hidden_from_peers_and_the_forum_not_from_moderators(
        db: Database, people: dict[str, int]) -> None:
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(
        people["budget"], BUDGET_Q, anonymous=True), forum_chat_id=-100123)
    assert (await questions.question_card(db, people["nurlan"], qid, "ky")).asker is None
    assert (await questions.question_card(db, people["mod"], qid, "ky")).asker == \
        "Асель Маматова"
    async with db.transaction() as s:
        group = await s.get(__import__("storage.models", fromlist=["TopicGroup"]).TopicGroup,
                            people["budget"])
        assert group is not None
        group.forum_topic_id = 7
    qid2 = await questions.ask_question(db, people["asel"], QuestionDraft(
        people["budget"], BUDGET_Q + " Второй вопрос.", anonymous=True), forum_chat_id=-100123)
    [post] = await outbox(db, "forum_question")
    assert post.chat_id == -100123 and post.payload["question_id"] == qid2
    rendered = await forum_question(db, Recipient(0, -100123, "ky"), post.payload)
    assert rendered is not None and "Асель" not in rendered.text and rendered.thread_id == 7


async def test_a_community_group_is_closed_to_other_communities(
        db: Database, people: dict[str, int]) -> None:
    finance = await f.group_id(db, "community-finance")
    with pytest.raises(PermissionDenied):
        await groups.join_group(db, people["nurlan"], finance)  # a head, not a finance officer
    with pytest.raises(PermissionDenied):
        await questions.ask_question(db, people["nurlan"], QuestionDraft(finance, BUDGET_Q))
    assert await groups.join_group(db, people["asel"], finance) is True
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(finance, BUDGET_Q))
    with pytest.raises(PermissionDenied):
        await questions.question_card(db, people["nurlan"], qid, "ky")
    assert finance not in await groups.readable_groups(db, people["nurlan"])


async def test_moderators_hide_and_close_duplicates_and_hidden_content_leaves_search(
        db: Database, people: dict[str, int]) -> None:
    first = await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                           BUDGET_Q))
    second = await questions.ask_question(db, people["nurlan"], QuestionDraft(
        people["budget"], "Бюджетке өзгөртүү киргизүү тартиби кандай? Трансферт кечигип келди."))
    with pytest.raises(PermissionDenied):
        await questions.hide_question(db, people["follower"], first, "spam")
    await questions.close_as_duplicate(db, people["mod"], second, first)
    [pointer] = await outbox(db, "question_duplicate")
    assert pointer.member_id == people["nurlan"] and pointer.payload["original_id"] == first
    with pytest.raises(InvalidInput):
        await questions.close_as_duplicate(db, people["mod"], first, first)
    readable = await groups.readable_groups(db, people["follower"])
    assert [h.question_id for h in (await search.search(db, "трансферт", readable)).hits] == \
        [first]
    await questions.hide_question(db, people["mod"], first, "Личные данные в тексте")
    assert (await search.search(db, "трансферт", readable)).hits == []
    with pytest.raises(PermissionDenied):
        await questions.question_card(db, people["follower"], first, "ru")
    # The asker still sees their own hidden question, with the reason.
    card = await questions.question_card(db, people["asel"], first, "ru")
    assert card.status == QuestionStatus.HIDDEN and card.hidden_reason
    with pytest.raises(InvalidState):
        await questions.answer_question(db, people["mod"], first, "Ответ")


async def test_unanswered_questions_remind_moderators_then_staff_once_each(
        db: Database, people: dict[str, int]) -> None:
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                         BUDGET_Q))
    asked = utcnow()
    assert await questions.escalate_unanswered(db, asked + timedelta(hours=23), 24, 72) == (0, 0)
    assert await questions.escalate_unanswered(db, asked + timedelta(hours=25), 24, 72) == (1, 0)
    assert await questions.escalate_unanswered(db, asked + timedelta(hours=26), 24, 72) == (0, 0)
    assert [r.member_id for r in await outbox(db, "question_unanswered")] == [people["mod"]]
    assert await questions.escalate_unanswered(db, asked + timedelta(hours=73), 24, 72) == (0, 1)
    assert await questions.escalate_unanswered(db, asked + timedelta(hours=99), 24, 72) == (0, 0)
    staff = {r.member_id for r in await outbox(db, "question_escalated")}
    assert people["staff"] in staff
    async with db.read() as s:
        question = await s.get(Question, qid)
        assert question is not None and question.staff_escalated_at is not None


async def test_an_answered_question_is_not_escalated(db: Database,
                                                     people: dict[str, int]) -> None:
    qid = await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                         BUDGET_Q))
    await questions.answer_question(db, people["nurlan"], qid, "Смотрите статью 12.")
    later = utcnow() + timedelta(hours=100)
    assert await questions.escalate_unanswered(db, later, 24, 72) == (0, 0)


@pytest.mark.parametrize("query", [
    '"', '""', "NEAR(бюджет трансферт)", "бюджет*", "-бюджет", "(бюджет OR", ")", "*", "!",
    "бюджет AND NOT", "'; DROP TABLE question; --", "^бюджет", "бюджет:трансферт",
    "x" * 2000, "ж" * 2000, "🙂" * 50, "  ", "a b c", "{бюджет}",
])
async def test_no_query_ever_errors(db: Database, people: dict[str, int], query: str) -> None:
    await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"], BUDGET_Q))
    readable = await groups.readable_groups(db, people["asel"])
    page = await search.search(db, query, readable, page=3)
    assert page.total >= 0
    await search.similar(db, query, readable)


async def test_kyrgyz_and_russian_forms_find_each_other(db: Database,
                                                        people: dict[str, int]) -> None:
    ky = await questions.ask_question(db, people["nurlan"], QuestionDraft(
        people["budget"], "Бюджеттик комиссиянын отчетун кенешке качан тапшыруу керек?"))
    ru = await questions.ask_question(db, people["asel"], QuestionDraft(
        people["budget"], "Когда сдавать отчёт бюджетной комиссии в кенеш?"))
    readable = await groups.readable_groups(db, people["asel"])
    for query in ("бюджет", "бюджеттик", "бюджетке", "бюджета", "бюджетный"):
        found = {h.question_id for h in (await search.search(db, query, readable)).hits}
        assert {ky, ru} <= found, query
    assert search.terms("бюджеттик") == ["бюджет"]


async def test_similar_questions_are_answered_ones(db: Database, people: dict[str, int]) -> None:
    open_q = await questions.ask_question(db, people["asel"], QuestionDraft(
        people["budget"], BUDGET_Q))
    answered = await questions.ask_question(db, people["nurlan"], QuestionDraft(
        people["budget"], "Трансферт из республиканского бюджета пришёл позже — что делать?"))
    await questions.answer_question(db, people["mod"], answered, BUDGET_A)
    readable = await groups.readable_groups(db, people["asel"])
    hits = await search.similar(db, BUDGET_Q, readable)
    assert [h.question_id for h in hits] == [answered]
    assert open_q not in [h.question_id for h in hits]


async def test_files_are_limited_with_the_limit_named(db: Database,
                                                      people: dict[str, int]) -> None:
    big = {"file_id": "x", "kind": "document", "name": "big.pdf", "size": 30 * 1024 * 1024,
           "mime": "application/pdf"}
    with pytest.raises(InvalidInput) as exc:
        await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                       BUDGET_Q, [big]))
    assert exc.value.code == "file_size" and exc.value.params["limit"] == 20
    exe = {**big, "size": 10, "name": "virus.exe", "mime": "application/x-msdownload"}
    with pytest.raises(InvalidInput):
        await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                       BUDGET_Q, [exe]))
    six = [{**big, "size": 10}] * 6
    with pytest.raises(InvalidInput):
        await questions.ask_question(db, people["asel"], QuestionDraft(people["budget"],
                                                                       BUDGET_Q, six))
    async with db.read() as s:
        assert (await s.exec(select(Question))).all() == []  # nothing half-written


async def test_staff_manage_groups_and_members_cannot(db: Database,
                                                      people: dict[str, int]) -> None:
    names = {"ky": "Айыл чарба", "ru": "Сельское хозяйство", "en": None}
    with pytest.raises(PermissionDenied):
        await groups.create_group(db, people["asel"], names)
    gid = await groups.create_group(db, people["staff"], names, "Жайыт, суу")
    await groups.rename_group(db, people["staff"], gid, {"ky": "Айыл чарбасы",
                                                         "ru": "Сельское хозяйство"})
    assert await groups.appoint_moderator(db, people["staff"], gid, people["nurlan"])
    card = await groups.group_card(db, people["asel"], gid, "ky")
    assert card.name == "Айыл чарбасы" and card.moderators == [(people["nurlan"],
                                                                "Нурлан Абдылдаев")]
    assert await groups.archive_group(db, people["staff"], gid)
    with pytest.raises(InvalidState):
        await questions.ask_question(db, people["asel"], QuestionDraft(gid, BUDGET_Q))
    assert gid not in {g.id for g in await groups.list_groups(db, people["asel"], "ky")}
