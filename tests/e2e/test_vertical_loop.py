"""The vertical loop through the real bot: a draft law's comments read whole and exported, the
Union's position signed off by district leaders and sent as a letter, the bill's stages reaching
commenters, a liaison answering for their own body, a question about a decision answered, and
the figures for staff."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta

from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from bot.sandbox.client import Person
from bot.services import (
    bill_stages,
    broadcasts,
    decision_questions,
    liaisons,
    national_issues,
    positions,
    roles,
    stats,
)
from bot.services.broadcasts import Audience, Draft
from bot.services.errors import InvalidState, PermissionDenied
from bot.views.callbacks import Bc
from bot.views.inbox import Qi
from bot.views.liaison import Li
from bot.views.positions import Lo, Lp, Lv, Lw
from storage.enums import BroadcastKind, IssueState, Position, Role
from storage.models import District, LawPosition, Outbox
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    JSON,
    PersonFactory,
    Running,
    buttons,
    press,
    said,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member


async def _download(person: object, tg: object, name: str) -> bytes:
    for message in reversed(await person.transcript()):  # type: ignore[attr-defined]
        document = message.get("document") or {}
        if document.get("file_name") == name:
            return bytes(await tg.file(document["file_id"]))  # type: ignore[attr-defined]
    raise AssertionError(f"no {name} was sent")


async def tap(person: object, data: str) -> None:
    """Press a button with `data` (a button staff reach from a screen the test skips, or a
    forged one) on the person's own answer to /help, not on their newest message: a notice Birge
    is still sending may be edited later (`settled`), and a screen opened on it with it."""
    before = max((int(m["message_id"]) for m in await person.transcript()),  # type: ignore[attr-defined]
                 default=0)
    await person.send("/help")  # type: ignore[attr-defined]
    heads = [t(lang, "What you can do in Birge:") for lang in ("ky", "ru", "en")]
    for _ in range(200):
        for message in await person.transcript():  # type: ignore[attr-defined]
            if int(message["message_id"]) > before and message.get("from_bot") and \
                    any(h in text_of(message) for h in heads):
                await person.press_data(int(message["message_id"]), data)  # type: ignore[attr-defined]
                return
        await asyncio.sleep(0.1)
    raise AssertionError("/help was never answered")


async def _draft_law(db, staff_id: int, districts: list[int]) -> int:  # type: ignore[no-untyped-def]
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Проект закона о МСУ", text_ky="Долбоор.",
        text_ru="Проект закона.", comments_until=utcnow() + timedelta(days=5),
        audience=Audience(districts=districts)))
    return sent.broadcast_id


async def shows_page(person: Person, page: int, total: int) -> JSON:
    """The comments edited into `page` (an earlier version of the list still unread, say the
    first page's, is passed over: the next page's button is only on the page before it)."""
    label = re.compile(rf"(?<!\d){page + 1}/{total}(?!\d)")
    for _ in range(20):
        message = await said(person, t("ru", "{count} comments", count=300))
        if label.search(str(buttons(message))):
            return message
    raise AssertionError(f"page {page + 1} of {total} was never shown")


async def test_300_comments_from_40_districts_are_read_whole_and_exported(
    birge: Running, people: PersonFactory, tg: object
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    async with db.read() as s:
        codes = [d.code for d in (await s.exec(select(District).order_by(District.id)
                                               .limit(40))).all()]
    assert len(codes) == 40
    letters = "абвгдежзиклмнопрстуфхцчшэюя"
    commenters = [await f.member(db, f"Участник {letters[i // 27].upper()}{letters[i % 27]}",
                                 district=codes[i % 40]) for i in range(300)]
    bid = await _draft_law(db, staff_id, [await f.district_id(db, c) for c in codes])
    texts = []
    for i, m in enumerate(commenters):
        text = f"Комментарий №{i}: статья {i % 7 + 1} <норма> & «бюджет» " + "слово " * (i % 40)
        await broadcasts.comment_on_draft(db, m.id, bid, text)
        texts.append(text.strip())

    await tap(boss, Bc(action="comments", broadcast_id=bid).pack())
    first = await said(boss, t("ru", "{count} comments", count=300))
    seen = [text_of(first)]
    total = int(re.search(r"1/(\d+)", str(buttons(first))).group(1))  # type: ignore[union-attr]
    assert total > 5
    for page in range(1, total):
        await press(boss, Lw(action="district", broadcast_id=bid, page=page).pack())
        seen.append(text_of(await shows_page(boss, page, total)))
    whole = "\n".join(seen)
    for text in texts:
        assert text in whole, text
    for page_text in seen:
        assert len(page_text) <= 4096

    await tap(boss, Lw(action="docx", broadcast_id=bid).pack())
    await tap(boss, Lw(action="xlsx", broadcast_id=bid).pack())

    async def arrived() -> bool:
        names = {(m.get("document") or {}).get("file_name") for m in await boss.transcript()}
        return {f"comments-B{bid}.docx", f"comments-B{bid}.xlsx"} <= names

    await wait_for(arrived, timeout=20)
    doc = Document(io.BytesIO(await _download(boss, tg, f"comments-B{bid}.docx")))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert all(text in body for text in texts)
    assert sum(1 for p in doc.paragraphs if p.style.name == "Heading 2") == 40
    sheet = load_workbook(io.BytesIO(await _download(boss, tg, f"comments-B{bid}.xlsx"))).active
    assert sheet is not None
    assert len(list(sheet.iter_rows(values_only=True))) == 301


async def test_a_position_is_signed_off_by_leaders_with_remarks_and_sent_as_a_letter(
    birge: Running, people: PersonFactory, tg: object
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    leader, leader_id = await member(people, birge, "Асель Лидер", "ru", "leylek")
    await roles.grant_role(db, None, leader_id, Role.DISTRICT_LEADER,
                           community_id=await f.community_id(db, "heads"),
                           district_id=await f.district_id(db, "leylek"))
    other = await f.leader(db, "Бакыт Лидер", "talas", "finance")
    plain, _plain_id = await member(people, birge, "Нурлан Участник", "ru", "leylek")
    commenter = await f.member(db, "Комментатор", district="leylek")
    bid = await _draft_law(db, staff_id, [await f.district_id(db, "leylek")])
    await broadcasts.comment_on_draft(db, commenter.id, bid, "Статья 5: оставить норму.")
    p = await positions.draft_position(db, staff_id, bid, "Комитет Жогорку Кенеша по МСУ",
                                       "Союз долбоорду колдойт.", "Союз поддерживает проект.")
    assert p.id is not None
    await tap(boss, Lp(action="open", position_id=p.id).pack())
    await said(boss, t("ru", "Who is asked to sign off L-{id}?", id=p.id))
    await press(boss, Lo(action="next", position_id=p.id).pack())
    await said(boss, t("ru", "Until when can the leaders answer?"))
    await press(boss, Lo(action="days", position_id=p.id, value=7).pack())
    await said(boss, t("ru", "Leaders to be asked: {count}", count=2))
    await press(boss, Lo(action="go", position_id=p.id).pack())
    notice = await said(leader, t("ru", "The Union asks you, as a district leader"))
    assert "Союз поддерживает проект." in text_of(notice)
    await leader.press(Lv(action="remarks", position_id=p.id).pack(), notice)
    await said(leader, t("ru", "Send your remarks."))
    await leader.send("x" * 20_000)
    await said(leader, t("ru", "Please write your remark or reason"))
    await leader.send("Уточнить статью 5 о местных налогах.")
    await said(leader, t("ru", "Thank you: your answer on L-{id} is recorded.", id=p.id))
    # Twice, and a member who is not a leader: refused, nothing written.
    await leader.press(Lv(action="agree", position_id=p.id).pack(), notice)
    assert t("ru", "You have already answered on this position.") in str(await leader.answer())
    await tap(plain, Lv(action="agree", position_id=p.id).pack())
    assert t("ru", "Only the district leaders asked") in str(await plain.answer())
    await positions.sign_off(db, other.id, p.id, "disagree", "Нет финансирования.")
    found = await positions.tally(db, staff_id, p.id, "ru")
    assert (found.counts["remarks"], found.counts["disagree"], found.answered) == (1, 1, 2)
    async with db.transaction() as s:  # the deadline passes
        row = await s.get(LawPosition, p.id)
        assert row is not None
        row.deadline = utcnow() - timedelta(minutes=1)
    try:
        await positions.sign_off(db, leader_id, p.id, "agree")
        raise AssertionError("signed after the deadline")
    except InvalidState as exc:
        assert exc.code in ("signoff_closed", "already_signed")

    await tap(boss, Lp(action="tally", position_id=p.id).pack())
    tally = text_of(await said(boss, t("ru", "By community:")))
    assert "Главы айыл окмоту: 1/1 · ✅ 0 · ✍️ 1 · ❌ 0" in tally
    assert "Финансисты: 1/1 · ✅ 0 · ✍️ 0 · ❌ 1" in tally
    await tap(boss, Lp(action="final", position_id=p.id).pack())
    await tap(boss, Lp(action="sent", position_id=p.id).pack())
    await said(boss, t("ru", "Send the letter's reference number."))
    await boss.send("01-12/345")
    await said(boss, t("ru", "Sent under № {number}", number="01-12/345"))
    await tap(boss, Lp(action="letter", position_id=p.id).pack())

    async def arrived() -> bool:
        names = {(m.get("document") or {}).get("file_name") for m in await boss.transcript()}
        return f"position-L{p.id}.docx" in names

    await wait_for(arrived, timeout=15)
    letter = Document(io.BytesIO(await _download(boss, tg, f"position-L{p.id}.docx")))
    text = "\n".join(par.text for par in letter.paragraphs)
    assert "Кому: Комитет Жогорку Кенеша по МСУ" in text
    assert "Союз поддерживает проект." in text and "№ 01-12/345" in text
    assert "согласны с замечаниями 1, не согласны 1" in text
    cells = [c.text for row in letter.tables[0].rows for c in row.cells]
    assert "Уточнить статью 5 о местных налогах." in cells
    assert "Нет финансирования." in cells


async def test_bill_stages_reach_everyone_who_commented(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    quiet, _ = await member(people, birge, "Бакыт Молчун", "ru", "leylek")
    bid = await _draft_law(db, staff_id, [await f.district_id(db, "leylek")])
    await said(asel, "Проект закона.")
    await broadcasts.comment_on_draft(db, asel_id, bid, "Просим сохранить норму.")
    await tap(boss, Lw(action="stages", broadcast_id=bid).pack())
    await said(boss, t("ru", "Bill stage: {stage}", stage="—"))
    from bot.views.positions import Bs

    await press(boss, Bs(stage="reading_1", broadcast_id=bid).pack())
    await said(asel, "прошёл первое чтение")
    assert await bill_stages.move(db, staff_id, bid, "adopted") == 1
    await said(asel, "принят")
    try:
        await bill_stages.move(db, staff_id, bid, "adopted")
        raise AssertionError("moved twice to the same stage")
    except InvalidState:
        pass
    texts = [text_of(m) for m in await quiet.transcript()]
    assert not any("чтение" in x for x in texts)


async def test_a_liaison_answers_an_issue_addressed_to_their_body_and_is_refused_on_anothers(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_id = await f.staff(db, None, "Сотрудник", language="ru")
    liaison, liaison_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                       position=Position.STATE_BODY, communities=())
    await roles.grant_role(db, None, liaison_id, Role.STATE_LIAISON)
    author, author_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    minfin = await f.state_body_id(db, "minfin")
    async with db.read() as s:
        from storage.models import StateBody

        other_body = (await s.exec(select(StateBody).where(StateBody.id != minfin))).first()
        assert other_body is not None and other_body.id is not None
    await liaisons.assign_body(db, staff_id, liaison_id, minfin)
    ours = await f.national_issue(db, author_id, "Земельный налог")
    theirs = await f.national_issue(db, author_id, "Вывоз мусора")
    secret = await f.national_issue(db, author_id, "Чувствительная тема", restricted=True)
    assert ours.id and theirs.id and secret.id
    await national_issues.forward(db, staff_id, ours.id, minfin)
    await national_issues.forward(db, staff_id, theirs.id, other_body.id)
    await national_issues.forward(db, staff_id, secret.id, minfin)

    await liaison.send("/liaison")
    listed = await said(liaison, t("ru", "Addressed to {body}:", body="Министерство финансов"))
    assert "Земельный налог" in str(buttons(listed))
    assert "Вывоз мусора" not in str(buttons(listed))
    assert "Чувствительная тема" not in str(buttons(listed))
    for forged in (theirs.id, secret.id):
        await liaison.press_data(int(listed["message_id"]),
                                 Li(action="respond", kind="issue", target_id=forged).pack())
        assert t("ru", "This is addressed to another state body.") in str(await liaison.answer())
    await liaison.press(Li(action="show", kind="issue", target_id=ours.id).pack(), listed)
    card = await said(liaison, f"P-{ours.id}")
    await liaison.press(Li(action="respond", kind="issue", target_id=ours.id).pack(), card)
    await said(liaison, t("ru", "Send the body's response."))
    await liaison.send("Минфин подготовит поправки к Налоговому кодексу.")
    await said(liaison, t("ru", "Send the response's reference number, or skip."))
    await liaison.send("12-3/4567")
    await said(liaison, t("ru", "Attach the response's documents, then press Done."))
    await liaison.upload("document", b"%PDF-1.4 answer", filename="otvet.pdf",
                         mime_type="application/pdf")
    await said(liaison, t("ru", "Added: {name}. More, or press Done.", name="otvet.pdf"))
    from tests.e2e.conftest import nav

    await press(liaison, nav("done"))
    await said(liaison, t("ru", "The response is recorded; everyone behind the issue hears it."))
    await said(author, "Минфин подготовит поправки")
    found = await national_issues.card(db, staff_id, ours.id, "ru")
    assert found.issue.state == IssueState.RESPONDED
    try:
        await liaisons.respond(db, liaison_id, "issue", theirs.id, "Не наше.")
        raise AssertionError("answered another body's issue")
    except PermissionDenied:
        pass
    still = await national_issues.card(db, staff_id, theirs.id, "ru")
    assert still.issue.state == IssueState.FORWARDED and not still.issue.response_text


async def test_a_question_about_a_decision_is_answered_and_followed_up_to_all(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    colleague_id = await f.staff(db, None, "Коллега", language="ru")
    asel, _asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan, _ = await member(people, birge, "Нурлан Абдылдаев", "ru", "leylek")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.GOVERNMENT, title="Постановление о тарифах", text_ky="Токтом.",
        text_ru="Постановление.", audience=Audience(districts=[await f.district_id(
            db, "leylek")])))
    got = await said(asel, "Постановление.")
    await said(nurlan, "Постановление.")
    await asel.press(Bc(action="ask", broadcast_id=sent.broadcast_id).pack(), got)
    await said(asel, t("ru", "Send your question; the Union staff will see it."))
    await asel.send("С какого числа действуют тарифы?")
    await said(asel, t("ru", "Your question was sent to the Union staff."))
    notice = await said(boss, "С какого числа действуют тарифы?")
    await boss.send("/inbox")
    await said(boss, t("ru", "Questions about decisions: {view} ({count})", view="Новые",
                       count=1))
    items, _total = await decision_questions.inbox(db, staff_id, "new")
    rid = items[0].response_id
    await boss.press(Qi(action="reply", item_id=rid).pack(), notice)
    await said(boss, t("ru", "Send your answer; the member gets it in the chat."))
    # A colleague answers first: the second reply is refused, nothing is overwritten.
    await decision_questions.answer(db, colleague_id, rid, "С 1 января.")
    await boss.send("С первого числа.")
    await said(boss, t("ru", "A colleague has already answered this question."))
    await said(asel, "С 1 января.")
    await tap(boss, Qi(action="followup", item_id=sent.broadcast_id).pack())
    await said(boss, f"B-{sent.broadcast_id}")
    await boss.send("Тарифы действуют с 1 января; льготы сохраняются.")
    await said(boss, t("ru", "The answer goes to {count} recipients.", count=2))
    await said(asel, "льготы сохраняются")
    await said(nurlan, "льготы сохраняются")
    answered, count = await decision_questions.inbox(db, staff_id, "answered")
    assert count == 1 and answered[0].answer == "С 1 января."


async def test_stats_figures_match_the_data_built_through_services(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    a = await f.member(db, "Асель", district="leylek")
    b = await f.member(db, "Бакыт", district="talas")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.NEWS, title="Новости", text_ky="Жаңылык.", text_ru="Новость.",
        audience=Audience(districts=[await f.district_id(db, "leylek"),
                                     await f.district_id(db, "talas")])))
    await broadcasts.acknowledge(db, a.id, sent.broadcast_id)
    await f.national_issue(db, b.id)

    async def delivered() -> bool:
        async with db.read() as s:
            rows = (await s.exec(select(Outbox).where(
                Outbox.broadcast_id == sent.broadcast_id))).all()
        return all(r.status != "pending" for r in rows)

    await wait_for(delivered, timeout=10)
    found = await stats.figures(db, staff_id)
    members = found.members
    recipients, _delivered, acked = found.reach
    assert recipients == 2 and acked == 1
    assert sum(found.issues_by_state.values()) == 1
    assert found.active >= 2  # the one who acknowledged and the one who raised an issue
    await boss.send("/stats")
    summary = await said(boss, t("ru", "Birge in figures"))
    assert t("ru", "Members: {members}; active in the last 30 days: {active}",
             members=members, active=found.active) in text_of(summary)

    async def sheet() -> bool:
        names = {(m.get("document") or {}).get("file_name") for m in await boss.transcript()}
        return "birge-stats.xlsx" in names

    await wait_for(sheet, timeout=30)
    plain, _ = await member(people, birge, "Нурлан", "ru", "leylek")
    await plain.send("/stats")
    await said(plain, t("ru", "The figures are for the Union staff."))
