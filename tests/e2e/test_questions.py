"""Topic groups, questions and the knowledge base through the real bot: a finance officer in
Leylek asks about the budget, the moderator answers, she accepts, and the next member who asks
the same finds the answer before posting; anonymity, forged buttons, the forum and escalation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.sandbox.client import EmulatorClient, Person
from bot.services import files, groups, questions
from bot.services.questions import QuestionDraft
from bot.views.callbacks import An, Gr, Kb, Menu, Qn
from storage.enums import Position, QuestionStatus
from storage.models import Question
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    nav,
    pick,
    press,
    said,
    silent,
    t,
    tc,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member

# The anonymity step of /ask (its start is shared by an older catalog entry).
NAME_STEP = ("Show your name with the question? If you ask anonymously, only the group's "
             "moderators and")

BUDGET_Q = ("Трансферт из республиканского бюджета пришёл в сентябре. Как внести изменения "
            "в местный бюджет в середине года?")
BUDGET_A = ("Айыл окмоту готовит проект изменений, кенеш утверждает их постановлением на "
            "сессии; трансферт отражается в доходах.")


def qn(action: str, question_id: int) -> str:
    return Qn(action=action, question_id=question_id).pack()


def an(action: str, answer_id: int) -> str:
    return An(action=action, answer_id=answer_id).pack()



async def ask(person: Person, lang: str, group: int, text: str, *, anonymous: bool = False,
              similar: bool = False) -> None:
    await person.send("/ask")
    await said(person, t(lang, "In which group do you want to ask?"))
    await press(person, pick("qg", group))
    await said(person, t(lang, "Write your question"))
    await person.send(text)
    await said(person, t(lang, "You may attach up to"))
    await press(person, nav("skip"))
    await said(person, t(lang, NAME_STEP))
    await press(person, pick("qa", "yes" if anonymous else "no"))
    if similar:
        return
    await said(person, t(lang, "Check your question:"))
    await press(person, pick("qc", "yes"))
    await said(person, t(lang, "Your question is posted as"))


async def latest_question(birge: Running) -> int:
    async with birge.db.read() as s:
        from sqlmodel import col, select

        return int((await s.exec(select(Question.id).order_by(col(Question.id).desc()))).first()
                   or 0)


async def test_a_finance_officer_asks_and_the_moderators_answer_reaches_her(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    budget = await f.group_id(db, "budget")
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "leylek",
                           position=Position.FINANCE, communities=("finance",))
    gulnara, gulnara_id = await member(people, birge, "Гүлнара Токтосунова", "ky", "talas")
    await groups.appoint_moderator(db, await f.staff(db), budget, gulnara_id)

    await asel.send("/ask")
    await said(asel, t("ru", "In which group do you want to ask?"))
    await press(asel, pick("qg", budget))
    await said(asel, t("ru", "Write your question"))
    await asel.send("Бюджет?")  # too short
    await said(asel, t("ru", "The question must be {minimum} to {limit} characters; yours"))
    await asel.upload("sticker")
    await said(asel, t("ru", "Please send your question as text."))
    await asel.send(BUDGET_Q)
    await said(asel, t("ru", "You may attach up to"))
    await asel.upload("document", b"%PDF-1.4 budget", filename="budget.pdf",
                      mime_type="application/pdf")
    await said(asel, t("ru", "Attached: {name}. Send more, or press Next.", name="budget.pdf"))
    await asel.upload("document", b"MZ", filename="tool.exe",
                      mime_type="application/x-msdownload")
    await said(asel, t("ru", "This type of file is not accepted. Allowed: {types}.",
                       types=files.TYPES))
    await press(asel, nav("skip"))
    await said(asel, t("ru", NAME_STEP))
    await press(asel, pick("qa", "no"))
    await said(asel, t("ru", "Check your question:"), "budget.pdf")
    await press(asel, pick("qc", "yes"))
    await said(asel, t("ru", "Your question is posted as"))
    qid = await latest_question(birge)

    # The moderator hears of it in Kyrgyz, with the asker's name, and answers from the notice.
    notice = await said(gulnara, f"Q-{qid}", "Асель Маматова")
    assert t("ky", "New question {label} from {name}:").split("{")[0].strip()[:10] in \
        text_of(notice) or "❓" in text_of(notice)
    await press(gulnara, qn("answer", qid))
    await said(gulnara, t("ky", "Write your answer to {label}", label=f"Q-{qid}", minimum=2,
                          limit=3500))
    await gulnara.send(BUDGET_A)
    await said(gulnara, t("ky", "Attach up to"))
    await press(gulnara, pick("rs", "send"))
    await said(gulnara, t("ky", "Your answer is posted."))

    got = await said(asel, "Гүлнара Токтосунова", f"Q-{qid}")
    assert "постановлением" in text_of(got)
    await press(asel, qn("open", qid))
    card = await said(asel, BUDGET_Q[:40])
    accept = [data for label, data in buttons(card) if data.startswith("a:accept:")]
    assert accept, buttons(card)
    await press(asel, accept[0])
    await said(asel, tc("ru", "question", "resolved"))
    await said(gulnara, "✅", f"Q-{qid}")
    async with db.read() as s:
        question = await s.get(Question, qid)
        assert question is not None and question.status == QuestionStatus.RESOLVED

    # "My questions" lists it with its state.
    await asel.send("/myquestions")
    await said(asel, t("ru", "My questions"), f"Q-{qid}", tc("ru", "question", "resolved"))

    # The next member with the same trouble finds the answer before posting.
    nurlan, _ = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek")
    await ask(nurlan, "ky", budget, "Республикалык бюджеттен трансферт кечигип келди, "
              "бюджетке өзгөртүүнү кантип киргизем?", similar=True)
    offer = await said(nurlan, t("ky", "These answered questions look similar."), f"Q-{qid}")
    assert pick("qs", qid) in [data for _, data in buttons(offer)]
    await press(nurlan, pick("qs", qid))
    await said(nurlan, t("ky", "Glad it helped."))
    await said(nurlan, BUDGET_Q[:40])
    assert await latest_question(birge) == qid  # nothing new was posted


async def test_an_anonymous_question_hides_the_name_from_peers_but_not_the_moderator(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    land = await f.group_id(db, "land")
    aibek, _ = await member(people, birge, "Айбек Асанов", "ru", "leylek")
    peer, peer_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    mod, mod_id = await member(people, birge, "Жылдыз Бекова", "ru", "batken")
    await groups.join_group(db, peer_id, land)
    await groups.appoint_moderator(db, await f.staff(db), land, mod_id)

    await ask(aibek, "ru", land, "Сосед захватил часть муниципальной земли, что нам делать?",
              anonymous=True)
    qid = await latest_question(birge)
    peer_notice = await said(peer, f"Q-{qid}")
    assert "Айбек" not in text_of(peer_notice) and t("ru", "anonymous") in text_of(peer_notice)
    # The moderator sees the name, marked so that nobody reveals it by accident.
    mark = t("ru", "anonymous; only moderators and staff see the name")
    await said(mod, f"Q-{qid}", "Айбек Асанов", mark)
    await press(mod, qn("open", qid))
    await said(mod, "Сосед захватил", "Айбек Асанов", mark)
    await press(peer, qn("open", qid))
    card = await said(peer, "Сосед захватил")
    assert "Айбек" not in text_of(card) and mark not in text_of(card)


async def test_the_ask_flow_says_who_sees_an_anonymous_askers_name(
    birge: Running, people: PersonFactory
) -> None:
    land = await f.group_id(birge.db, "land")
    aibek, _ = await member(people, birge, "Айбек Асанов", "ru", "leylek")
    await aibek.send("/ask")
    await said(aibek, t("ru", "In which group do you want to ask?"))
    await press(aibek, pick("qg", land))
    await said(aibek, t("ru", "Write your question"))
    await aibek.send("Сосед захватил часть муниципальной земли, что нам делать?")
    await said(aibek, t("ru", "You may attach up to"))
    await press(aibek, nav("skip"))
    await said(aibek, t("ru", "Show your name with the question? If you ask anonymously, only "
                              "the group's moderators and the Union staff see your name."))


async def test_forged_buttons_cannot_accept_hide_or_close_what_is_not_yours(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    db = birge.db
    budget = await f.group_id(db, "budget")
    _asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    rogue, rogue_id = await member(people, birge, "Рогов Иван", "ru", "talas")
    qid = await questions.ask_question(db, asel_id, QuestionDraft(budget, BUDGET_Q))
    helper = await f.member(db, "Helper Person", district="batken")
    answer_id = await questions.answer_question(db, helper.id, qid, BUDGET_A)
    await rogue.send("/help")
    msg = await said(rogue, t("ru", "What you can do in Birge:"))
    for data in (an("accept", answer_id), qn("resolve", qid), an("hide", answer_id),
                 qn("hide", qid), qn("dup", qid), Gr(action="archive", group_id=budget).pack(),
                 Gr(action="rename", group_id=budget).pack(), qn("open", 99999),
                 an("accept", 99999)):
        await rogue.press_data(msg["message_id"], data)
        answer = await rogue.answer()
        assert answer is not None and answer.get("text"), data
    async with db.read() as s:
        question = await s.get(Question, qid)
        assert question is not None and question.status == QuestionStatus.ANSWERED
        assert question.accepted_answer_id is None
    card = await groups.group_card(db, rogue_id, budget, "ru")
    assert not card.archived


async def test_search_finds_kyrgyz_and_russian_forms_and_survives_any_query(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    budget = await f.group_id(db, "budget")
    asel, _asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan = await f.member(db, "Нурлан Абдылдаев", district="leylek", language="ky")
    ky_q = await questions.ask_question(db, nurlan.id, QuestionDraft(
        budget, "Бюджеттик комиссиянын отчетун кенешке качан тапшыруу керек?"))
    for i in range(7):
        await questions.ask_question(db, nurlan.id, QuestionDraft(
            budget, f"Бюджет боюнча суроо номер {i}: кирешелер жана чыгашалар"))
    await asel.send("/search бюджетный отчёт")
    found = await said(asel, t("ru", "Found: {total}.").split(":")[0], f"Q-{ky_q}")
    assert f"Q-{ky_q}" in text_of(found)
    await asel.send("/search бюджет")
    pages = await said(asel, t("ru", "Found: {total}.").split(":")[0])
    assert Kb(page=1).pack() in [d for _, d in buttons(pages)]
    await press(asel, Kb(page=1).pack())
    await said(asel, "2")
    for query in ['"', "NEAR(бюджет", "*", "-", "()", "!", "x" * 2000, "'; DROP TABLE--"]:
        await asel.send(query)
        reply = await said(asel, "")
        assert t("ru", "Nothing found for") in text_of(reply) or \
            t("ru", "Found: {total}.").split(":")[0] in text_of(reply), query
    await asel.upload("sticker")
    await said(asel, t("ru", "Please send words to search for."))
    await press(asel, nav("cancel"))
    await said(asel, t("ru", "Search closed."))


async def test_members_browse_join_and_leave_groups_and_staff_make_one(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    asel, asel_id = await member(people, birge, "Асель Маматова", "ky", "leylek",
                                 position=Position.FINANCE, communities=("finance",))
    await asel.send("/start")
    home = await said(asel, t("ky", "Hello, {name}!", name="Асель Маматова")[:10])
    await press(asel, Menu(item="groups").pack())
    listing = await said(asel, t("ky", "Topic groups."))
    datas = [d for _, d in buttons(listing)]
    finance = await f.group_id(db, "community-finance")
    heads = await f.group_id(db, "community-heads")
    assert Gr(action="open", group_id=finance).pack() in datas
    assert Gr(action="open", group_id=heads).pack() not in datas  # not her community
    await press(asel, Gr(action="open", group_id=finance).pack())
    await said(asel, t("ky", "No moderators yet."))
    await press(asel, Gr(action="join", group_id=finance).pack())
    joined = await said(asel, t("ky", "No moderators yet."))
    assert (await asel.answer() or {}).get("text") == t(
        "ky", "You joined the group: its new questions will reach you.")
    assert Gr(action="leave", group_id=finance).pack() in [d for _, d in buttons(joined)]
    await press(asel, Gr(action="leave", group_id=finance).pack())
    left = await said(asel, t("ky", "No moderators yet."))
    assert Gr(action="join", group_id=finance).pack() in [d for _, d in buttons(left)]
    del home

    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/groups")
    await said(boss, t("ru", "Topic groups."))
    await press(boss, Gr(action="new", group_id=0).pack())
    await said(boss, t("ru", "Send the group's name in Kyrgyz"))
    await boss.send("Айыл чарба")
    await said(boss, t("ru", "Now the name in Russian."))
    await boss.send("Сельское хозяйство")
    await said(boss, t("ru", "Now the name in English, or skip."))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send a short description"))
    await boss.send("Пастбища, вода для полива, ветеринария.")
    await said(boss, t("ru", "Who may join the group?"))
    await press(boss, pick("gc", "all"))
    card = await said(boss, "Сельское хозяйство", t("ru", "No moderators yet."))
    gid = int(next(d for _, d in buttons(card) if d.startswith("g:mods:")).split(":")[2])
    await press(boss, Gr(action="mods", group_id=gid).pack())
    await said(boss, t("ru", "Moderators of"))
    await press(boss, Gr(action="addmod", group_id=gid).pack())
    await said(boss, t("ru", "Send the new moderator's Telegram"))
    await boss.send(str(asel.user_id))
    mods = await said(boss, t("ru", "Moderators of"), "Сельское хозяйство")
    assert any("Асель Маматова" in label for label, _ in buttons(mods))
    assert (await groups.group_card(db, staff_id, gid, "ru")).moderators == [
        (asel_id, "Асель Маматова")]


async def test_a_reply_in_the_forum_thread_is_recorded_as_an_answer(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    forum_id = -1001234
    asel, _asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    bakyt, _bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    await tg.add_chat(forum_id, "ЖӨБ форуму", is_forum=True,
                      members=[asel.user_id, bakyt.user_id])
    await birge.restart_with(forum_chat_id=forum_id)
    db = birge.db
    budget = await f.group_id(db, "budget")
    topic = (await groups.forum_topic(db, budget))
    assert topic is not None
    thread_id = topic[0]

    await ask(asel, "ru", budget, BUDGET_Q, anonymous=True)
    qid = await latest_question(birge)

    async def posted() -> bool:
        async with db.read() as s:
            q = await s.get(Question, qid)
            return q is not None and q.forum_message_id is not None
    await wait_for(posted)
    thread = await tg.transcript(forum_id, thread_id)
    post = next(m for m in thread if f"Q-{qid}" in text_of(m))
    assert "Асель" not in text_of(post)  # anonymous in the forum too

    await bakyt.in_chat(forum_id, thread_id).send(BUDGET_A, reply_to=post["message_id"])
    got = await said(asel, "Бакыт Осмонов", f"Q-{qid}")
    assert "постановлением" in text_of(got)
    async with db.read() as s:
        q = await s.get(Question, qid)
        assert q is not None and q.status == QuestionStatus.ANSWERED
    # Chatter in the forum that replies to nothing of ours is ignored.
    await bakyt.in_chat(forum_id, thread_id).send("Всем привет!")
    await asyncio.sleep(0.5)
    await silent(asel)


async def test_an_unanswered_question_reminds_the_moderator_then_staff_on_the_scheduler(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    budget = await f.group_id(db, "budget")
    _asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    mod, mod_id = await member(people, birge, "Гүлнара Токтосунова", "ky", "talas")
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await groups.appoint_moderator(db, await f.staff(db), budget, mod_id)
    qid = await questions.ask_question(db, asel_id, QuestionDraft(budget, BUDGET_Q))
    await said(mod, f"Q-{qid}")
    app = birge.app
    assert app is not None
    assert await app.scheduler.next_run("questions.escalate") is not None
    # The scheduler's job body, at a moment 25 hours on.
    assert await app.scheduler.run_job("questions.escalate", utcnow() + timedelta(hours=25))
    await said(mod, f"Q-{qid}", "24")
    await silent(boss, 0.3)
    # A restart in between changes nothing: the reminder is not repeated, staff are told once.
    await birge.restart()
    app = birge.app
    assert app is not None
    await app.scheduler.run_job("questions.escalate", utcnow() + timedelta(hours=26))
    await app.scheduler.run_job("questions.escalate", utcnow() + timedelta(hours=73))
    await said(boss, f"Q-{qid}", "72")
    await silent(mod, 0.5)


async def test_long_texts_stickers_and_stale_buttons_get_a_short_answer(
    birge: Running, people: PersonFactory
) -> None:

    db = birge.db
    budget = await f.group_id(db, "budget")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    mod, mod_id = await member(people, birge, "Гүлнара Токтосунова", "ru", "talas")
    await groups.appoint_moderator(db, await f.staff(db), budget, mod_id)
    await asel.send("/ask")
    await said(asel, t("ru", "In which group do you want to ask?"))
    await press(asel, pick("qg", budget))
    await said(asel, t("ru", "Write your question"))
    await asel.send("б" * 5000)
    await said(asel, t("ru", "The question must be {minimum} to {limit} characters; yours",
                       minimum=10, limit=3500, count=5000)[:40], "5000")
    await press(asel, nav("cancel"))
    await said(asel, t("ru", "Cancelled. Your question was not posted."))

    qid = await questions.ask_question(db, asel_id, QuestionDraft(budget, BUDGET_Q))
    await said(mod, f"Q-{qid}")
    await press(mod, qn("answer", qid))
    await said(mod, t("ru", "Write your answer to {label}", label=f"Q-{qid}", minimum=2,
                      limit=3500))
    await mod.upload("sticker")
    await said(mod, t("ru", "Please send text, not a file, sticker or voice message."))
    await mod.send("о" * 5000)
    await said(mod, t("ru", "Please write {minimum} to {limit} characters.", minimum=2,
                      limit=3500))
    async with db.read() as s:
        question = await s.get(Question, qid)
        assert question is not None and question.answered_at is None  # nothing half-written
    await press(mod, nav("cancel"))
    await said(mod, t("ru", "Cancelled. Nothing was posted."))
    # The search pager after the search was closed, and a step button after the flow ended.
    await asel.send("/help")
    msg = await said(asel, t("ru", "What you can do in Birge:"))
    for data in (Kb(page=2).pack(), pick("qc", "yes"), pick("rs", "send")):
        await asel.press_data(msg["message_id"], data)
        answer = await asel.answer()
        assert answer is not None and answer.get("text"), data
