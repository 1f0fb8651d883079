"""The legal help desk through the real bot: a finance officer in Leylek asks for help, a lawyer
takes, asks, answers and closes, she rates and may reopen; nobody else can open her case; the
reminders reach the lawyer and then the Union staff; staff read the month's figures and prepare
an anonymised Q&A for the knowledge base."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.legal import legal_reminders
from bot.jobs.registry import JobContext
from bot.sandbox.client import Person
from bot.services import files, groups, legal, questions, roles, search
from bot.services.legal import Doc, Intake
from bot.views.callbacks import Lc, Lq, Menu
from storage.enums import LegalCategory, LegalStatus, Position, QuestionStatus, Role
from storage.models import LegalCase
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
    text_of,
)
from tests.e2e.journeys import member


def lc(action: str, case_id: int, value: int = 0) -> str:
    return Lc(action=action, case_id=case_id, value=value).pack()



async def lawyer(people: PersonFactory, birge: Running, name: str = "Эркин Сыдыков",
                 lang: str = "ru") -> tuple[Person, int]:
    person = await people(name, lang)
    m = await f.lawyer(birge.db, name, telegram_id=person.user_id, language=lang)
    await said(person, t(lang, "Your application has been approved."))
    return person, m.id


async def a_case(birge: Running, requester_id: int, **kw: object) -> int:
    values: dict[str, object] = {
        "category": LegalCategory.BUDGET, "consent": True,
        "summary": "Районная налоговая требует вернуть земельный налог за прошлый год.",
    }
    values.update(kw)
    return await legal.open_case(birge.db, requester_id, Intake(**values))  # type: ignore[arg-type]


async def test_a_finance_officer_in_leylek_asks_for_legal_help_and_the_answer_reaches_her(
        birge: Running, people: PersonFactory) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", communities=("finance",),
                                 position=Position.FINANCE)
    erkin, _erkin_id = await lawyer(people, birge, "Эркин Сыдыков", "ky")

    await asel.send("/start")
    await said(asel, t("ru", "Hello, {name}!"))
    await press(asel, Menu(item="legal").pack())
    await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await press(asel, Lq(view="ask").pack())
    await said(asel, t("ru", "What is your legal question about?"))
    await press(asel, pick("lcat", "budget"))
    await said(asel, t("ru", "Describe what happened"))
    await asel.send("Районная налоговая требует вернуть земельный налог за прошлый год.")
    await said(asel, t("ru", "Which act or decision is in question?"))
    await asel.send("Письмо налоговой службы № 45 от 10.11.2026")
    await said(asel, t("ru", "Is there a deadline?"))
    today = utcnow().astimezone(legal.BISHKEK).date()
    year, month = today.year + (today.month == 12), today.month % 12 + 1
    await press(asel, pick("ldm", f"{year}-{month}"))  # the next month in the date picker
    await said(asel, t("ru", "Is there a deadline?"))
    await press(asel, pick("ldd", f"{year}-{month}-15"))
    await said(asel, t("ru", "Send documents if you have them"))
    await asel.upload("document", b"%PDF-1.4 letter", filename="pismo.pdf",
                      mime_type="application/pdf")
    await said(asel, t("ru", "Attached: {name}. Send more, or press Done.", name="pismo.pdf"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Do you agree that your request"))
    await press(asel, pick("lok", "yes"))
    check = await said(asel, t("ru", "Please check your request:"))
    assert "pismo.pdf" in text_of(check) and "15" in text_of(check)
    await press(asel, pick("lgo", "yes"))
    done = await said(asel, t("ru", "Your request {code} was sent"))
    case_id = int(text_of(done).split("L-")[1].split()[0])

    notice = await said(erkin, t("ky", "New legal request {code}"), "Асель Маматова")
    await erkin.press(lc("take", case_id), notice)
    await said(asel, t("ru", "Your request {code} is now handled by a lawyer"))
    await erkin.press(lc("answer", case_id))
    await said(erkin, t("ky", "Send your answer as text. You can attach documents next."))
    # The lawyer writes first, then attaches the PDF, then presses Send (as moderators do).
    await erkin.send("Требование незаконно: срок давности истёк. Приложен образец жалобы.")
    await said(erkin, t("ky", "Attach documents if you wish"))
    await erkin.upload("document", b"%PDF-1.4 zhaloba", filename="zhaloba.pdf",
                       mime_type="application/pdf")
    await said(erkin, t("ky", "Attached: {name}. Send more, or press Send.", name="zhaloba.pdf"))
    await silent(asel)  # nothing goes before Send
    await press(erkin, pick("cs", "send"))
    await said(erkin, t("ky", "Your answer was sent to the requester."))
    await said(asel, t("ru", "The lawyer answered your request {code}:"), "срок давности")
    transcript = await asel.transcript()
    assert any((m.get("document") or {}).get("file_name") == "zhaloba.pdf" for m in transcript)

    await erkin.press(lc("open", case_id))
    await said(erkin, f"L-{case_id}")
    await erkin.press(lc("close", case_id))
    closed = await said(asel, t("ru", "Your request {code} is closed."))
    await asel.press(lc("rate", case_id, 5), closed)
    await said(asel, t("ru", "Your rating is saved."))
    await press(asel, lc("comment", case_id))
    await said(asel, t("ru", "Send your comment on the lawyers' help."))
    await asel.send("Спасибо, очень помогло!")
    await said(asel, t("ru", "Your comment was recorded. Thank you."))
    # Rating twice, with the old button: a clear answer, and the first rating stays.
    await asel.press_data(int(closed["message_id"]), lc("rate", case_id, 1))
    assert t("ru", "You have already rated this case.") in str(await asel.answer())
    await press(asel, lc("open", case_id))
    card = await said(asel, f"L-{case_id}", "⭐⭐⭐⭐⭐")
    for fragment in ("Районная налоговая", "pismo.pdf", "срок давности", "zhaloba.pdf"):
        assert fragment in text_of(card)  # the whole timeline, in order
    async with birge.db.read() as s:
        case = await s.get(LegalCase, case_id)
    assert case is not None and case.rating == 5 and case.rating_comment
    assert case.deadline is not None and case.status == LegalStatus.CLOSED


async def test_the_lawyer_asks_for_more_and_the_requesters_reply_joins_the_case(
        birge: Running, people: PersonFactory) -> None:
    asel, asel_id = await member(people, birge, "Асель Маматова")
    erkin, _ = await lawyer(people, birge)
    case_id = await a_case(birge, asel_id)
    notice = await said(erkin, t("ru", "New legal request {code}"))
    await erkin.press(lc("open", case_id), notice)
    await said(erkin, f"L-{case_id}", t("ru", "not assigned yet"))
    await erkin.press(lc("info", case_id))
    await said(erkin, t("ru", "What information do you need from the requester?"))
    await erkin.send("Пришлите, пожалуйста, само письмо налоговой.")
    await said(erkin, t("ru", "Attach documents if you wish"))
    await press(erkin, pick("cs", "send"))
    await said(erkin, t("ru", "Your question was sent to the requester."))

    asked = await said(asel, t("ru", "The lawyer asks for more information"), "само письмо")
    await asel.press(lc("reply", case_id), asked)
    await said(asel, t("ru", "Send your message to the lawyer."))
    await asel.upload("sticker")
    await said(asel, t("ru", "Please send text, not a file, sticker or voice message."))
    await asel.send("х" * 10_000)
    await said(asel, t("ru", "That is too long: at most {limit} characters.", limit=3000))
    await asel.upload("photo")
    await said(asel, t("ru", "Attached: {name}. Send more documents, or your text.",
                       name="photo.jpg"))
    await asel.send("Вот фото письма.")
    await said(asel, t("ru", "Attach documents if you wish"), "photo.jpg")
    await press(asel, pick("cs", "send"))
    await said(asel, t("ru", "Your message was added to the case"))
    await said(erkin, t("ru", "{name} wrote on the case {code}:", name="Асель Маматова",
                        code=f"<b>L-{case_id}</b>").split("<b>")[0], "Вот фото письма.")
    async with birge.db.read() as s:
        case = await s.get(LegalCase, case_id)
    assert case is not None and case.status == LegalStatus.IN_PROGRESS
    assert case.first_response_at is not None


async def test_nobody_else_can_open_a_case_whatever_id_a_button_carries(
        birge: Running, people: PersonFactory) -> None:
    _asel, asel_id = await member(people, birge, "Асель Маматова")
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", district="talas")
    jyldyz, jyldyz_id = await member(people, birge, "Жылдыз Абдыкалыкова", district="chatkal")
    await roles.grant_role(birge.db, None, jyldyz_id, Role.MODERATOR)
    case_id = await a_case(birge, asel_id, documents=[Doc("secret-file", "secret.pdf")])
    for intruder in (bakyt, jyldyz):
        await intruder.send("/help")
        help_msg = await said(intruder, t("ru", "What you can do in Birge:"))
        for action in ("open", "take", "answer", "close", "docs", "reply", "reopen"):
            await intruder.press_data(int(help_msg["message_id"]), lc(action, case_id))
            assert t("ru", "You are not allowed to do that.") in str(await intruder.answer()), \
                action
        await intruder.press_data(int(help_msg["message_id"]), Lq(view="new").pack())
        assert t("ru", "You are not allowed to do that.") in str(await intruder.answer())
        await intruder.press_data(int(help_msg["message_id"]), f"l:open:{10**30}:0")
        assert t("ru", "This button is no longer active.") in str(await intruder.answer())
        await intruder.send("/legal")
        await said(intruder, t("ru", "The legal desk is for the Union's lawyers and staff."))
        await intruder.send("/help")
        assert "/legal" not in text_of(await said(intruder, "/lawyer"))
        await silent(intruder)
    async with birge.db.read() as s:
        case = await s.get(LegalCase, case_id)
    assert case is not None and case.status == LegalStatus.NEW and case.assignee_id is None


async def test_a_closed_case_reopens_within_14_days_and_not_after(
        birge: Running, people: PersonFactory) -> None:
    asel, asel_id = await member(people, birge, "Асель Маматова")
    erkin, erkin_id = await lawyer(people, birge)
    old = await a_case(birge, asel_id)
    recent = await a_case(birge, asel_id)
    for case_id in (old, recent):
        await legal.answer_case(birge.db, erkin_id, case_id, "Ответ юриста по делу.")
        await legal.close_case(birge.db, erkin_id, case_id)
    async with birge.db.transaction() as s:
        case = await s.get(LegalCase, old)
        assert case is not None and case.closed_at is not None
        case.closed_at = case.closed_at - timedelta(days=15)
    await asel.send("/lawyer")
    menu = await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await asel.press(lc("open", old), menu)
    await said(asel, f"L-{old}")
    await press(asel, lc("reopen", old))
    refused = str(await asel.answer())
    assert t("ru", "A case can be reopened only within {limit} days", limit=14) in refused
    # Answering a closed case gets a clear answer too.
    await erkin.send("/legal")
    desk = await said(erkin, t("ru", "Legal desk."))
    await erkin.press_data(int(desk["message_id"]), lc("answer", old))
    assert t("ru", "The case {case} is closed.", case=f"L-{old}") in str(await erkin.answer())

    await asel.send("/lawyer")
    menu = await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await asel.press(lc("open", recent), menu)
    await said(asel, f"L-{recent}")
    await press(asel, lc("reopen", recent))
    await said(erkin, t("ru", "{name} reopened the case {code}.", name="Асель Маматова",
                        code=f"<b>L-{recent}</b>").split("<b>")[0])
    async with birge.db.read() as s:
        statuses = [(await s.get(LegalCase, c)).status for c in (old, recent)]  # type: ignore[union-attr]
    assert statuses == [LegalStatus.CLOSED, LegalStatus.IN_PROGRESS]


async def test_documents_too_large_or_of_a_forbidden_type_are_refused_and_a_restart_loses_nothing(
        birge: Running, people: PersonFactory) -> None:
    asel, _ = await member(people, birge, "Асель Маматова")
    await asel.send("/lawyer")
    await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await press(asel, Lq(view="ask").pack())
    await said(asel, t("ru", "What is your legal question about?"))
    await press(asel, pick("lcat", "land"))
    await said(asel, t("ru", "Describe what happened"))
    await asel.upload("sticker")
    await said(asel, t("ru", "Please send text, not a file, sticker or voice message."))
    await asel.send("Сосед захватил часть муниципальной земли под огород.")
    await said(asel, t("ru", "Which act or decision is in question?"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Is there a deadline?"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Send documents if you have them"))
    await asel.upload("document", b"MZ", filename="virus.exe")
    await said(asel, t("ru", "This type of file is not accepted. Allowed: {types}.",
                       types=files.TYPES))
    await birge.restart_with(legal_document_max_mb=1)  # mid-flow: nothing is lost
    await asel.upload("document", b"%PDF" + b"0" * (1024 * 1024 + 10), filename="big.pdf")
    await said(asel, t("ru", "That file is larger than {limit} MB.", limit=1))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Do you agree that your request"))
    await press(asel, nav("back"))
    await said(asel, t("ru", "Send documents if you have them"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Do you agree that your request"))
    await press(asel, pick("lok", "yes"))
    check = await said(asel, t("ru", "Please check your request:"))
    assert "Сосед захватил" in text_of(check) and "big.pdf" not in text_of(check)
    await press(asel, nav("cancel"))
    await said(asel, t("ru", "Cancelled. Nothing was sent."))
    async with birge.db.read() as s:
        assert (await s.get(LegalCase, 1)) is None


async def test_the_lawyer_is_reminded_before_the_first_response_is_due_and_staff_after(
        birge: Running, people: PersonFactory) -> None:
    _asel, asel_id = await member(people, birge, "Асель Маматова")
    erkin, erkin_id = await lawyer(people, birge)
    boss = await people("Staff", "ru")  # joins after them: no newcomer notices
    await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    case_id = await a_case(birge, asel_id)
    await said(erkin, t("ru", "New legal request {code}"))
    await legal.take_case(birge.db, erkin_id, case_id)
    async with birge.db.read() as s:
        case = await s.get(LegalCase, case_id)
    assert case is not None

    async def job(hours: int) -> None:
        await legal_reminders(JobContext(birge.db, birge.settings,
                                         case.created_at + timedelta(hours=hours)))

    await job(20)
    await silent(erkin)
    await job(41)
    await said(erkin, "⏰", f"L-{case_id}")
    await job(45)  # a second run, as after a restart: nothing twice
    await silent(erkin)
    await silent(boss)
    await job(49)
    await said(boss, "🚨", f"L-{case_id}")
    await job(60)
    await silent(boss)
    await silent(erkin)


async def test_staff_read_the_months_figures_and_prepare_a_case_for_the_knowledge_base(
        birge: Running, people: PersonFactory) -> None:
    boss = await people("Staff", "ru")
    staff_id = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова")
    _erkin, erkin_id = await lawyer(people, birge)
    case_id = await a_case(birge, asel_id, summary="Асель Маматова спрашивает: как вернуть "
                                                    "земельный налог за прошлый год?")
    await legal.answer_case(birge.db, erkin_id, case_id, "Подайте заявление в налоговую.")
    await legal.close_case(birge.db, erkin_id, case_id)
    await legal.rate_case(birge.db, asel_id, case_id, 4)
    await said(asel, t("ru", "Your request {code} is closed."))
    await legal.set_publication_consent(birge.db, asel_id, case_id, True)

    await boss.send("/legal")
    desk = await said(boss, t("ru", "Legal desk."))
    assert any(data == Lq(view="fig").pack() for _, data in buttons(desk))
    await press(boss, Lq(view="fig").pack())
    figures = await said(boss, t("ru", "Cases: {count}", count=1))
    assert t("ru", "Local budget and taxes") in text_of(figures)
    assert "4.0" in text_of(figures)

    await boss.send("/legal")
    desk = await said(boss, t("ru", "Legal desk."))
    await boss.press(Lq(view="knowledge").pack(), desk)
    ready_list = await said(boss, t("ru", "For the knowledge base"))
    await boss.press(lc("open", case_id), ready_list)
    await said(boss, f"L-{case_id}")
    await press(boss, lc("publish", case_id))
    draft = await said(boss, t("ru", "The question for the knowledge base, without names:"))
    assert "Маматова" not in text_of(draft) and "земельный налог" in text_of(draft)
    await press(boss, lc("keep", 0))
    await said(boss, t("ru", "The answer for the knowledge base, without names:"))
    await boss.send("Подайте заявление в налоговую службу; срок — три года.")
    await said(boss, t("ru", "Published in the knowledge base as"))
    assert await legal.ready_publications(birge.db) == []  # published, not waiting any more
    # Any member now finds it in the knowledge base, without the requester's name.
    readable = await groups.readable_groups(birge.db, staff_id)
    [hit] = (await search.search(birge.db, "налоговую службу три года", readable)).hits
    card = await questions.question_card(birge.db, staff_id, hit.question_id, "ru")
    assert card.status == QuestionStatus.RESOLVED and card.answers[0].accepted
    assert "Маматова" not in card.text + card.answers[0].text
    assert "срок — три года." in card.answers[0].text


async def test_a_lawyer_hands_a_case_to_a_colleague_and_a_long_case_is_read_whole(
        birge: Running, people: PersonFactory) -> None:
    asel, asel_id = await member(people, birge, "Асель Маматова")
    erkin, _erkin_id = await lawyer(people, birge, "Эркин Сыдыков")
    aida, aida_id = await lawyer(people, birge, "Аида Бекова")
    await erkin.send("/start")  # a lawyer's menu leads to the desk; /help names both commands
    home = await said(erkin, t("ru", "Hello, {name}!"))
    assert Lq(view="desk").pack() in [data for _, data in buttons(home)]
    await erkin.send("/help")
    await said(erkin, "/lawyer", "/legal")
    case_id = await a_case(birge, asel_id)
    notice = await said(erkin, t("ru", "New legal request {code}"))
    await erkin.press(lc("open", case_id), notice)
    await said(erkin, f"L-{case_id}")
    await press(erkin, lc("assign", case_id))
    await said(erkin, t("ru", "Assign {code} to:", code=f"L-{case_id}"))
    await press(erkin, lc("to", case_id, aida_id))
    await said(erkin, f"L-{case_id}", "Аида Бекова")
    await said(aida, t("ru", "{name} assigned the case {code} to you.", name="Эркин Сыдыков",
                       code=f"<b>L-{case_id}</b>").split("<b>")[0])
    await said(asel, t("ru", "Your request {code} is now handled by a lawyer"))
    # Erkin no longer works on it: his card lost the buttons, and a stale one is refused.
    await erkin.press_data(int(notice["message_id"]), lc("answer", case_id))
    assert t("ru", "You are not allowed to do that.") in str(await erkin.answer())

    for n in range(3):
        await legal.add_requester_reply(birge.db, asel_id, case_id, f"Подробность {n}: "
                                        + "текст " * 400)
    await legal.answer_case(birge.db, aida_id, case_id, "Итоговый ответ юриста.")
    answered = await said(asel, t("ru", "The lawyer answered your request {code}:"))
    await asel.press(lc("open", case_id), answered)
    card = await said(asel, f"L-{case_id}", "Итоговый ответ юриста.")
    assert "Подробность 0" not in text_of(card) and "…" in text_of(card)
    await asel.press(lc("all", case_id), card)
    for n in range(3):
        await said(asel, f"Подробность {n}:")
