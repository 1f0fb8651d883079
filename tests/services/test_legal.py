"""The legal help desk at the service level: every state change, who may see and do what, the
reminders job, monthly figures and the anonymised Q&A for the knowledge base."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.jobs.legal import legal_reminders
from bot.jobs.registry import JobContext
from bot.services import legal, roles
from bot.services.errors import InvalidInput, InvalidState, PermissionDenied
from bot.services.legal import Doc, Intake
from storage.db import Database
from storage.enums import LegalCategory, LegalEventKind, LegalStatus, Role
from storage.models import LegalCase, LegalCaseEvent, LegalDocument, Outbox, RoleAssignment
from storage.types import utcnow
from tests import factories as f


def intake(**kw: object) -> Intake:
    values: dict[str, object] = {
        "category": LegalCategory.LAND,
        "summary": "Айыл өкмөтү жер участогун мыйзамсыз бөлүп берди деп арыз келди.",
        "act": "Решение айылного кенеша №12 от 01.10.2026",
        "documents": [Doc("file-1", "reshenie.pdf", "application/pdf", 1000)],
        "consent": True,
    }
    values.update(kw)
    return Intake(**values)  # type: ignore[arg-type]


@pytest.fixture
async def desk(db: Database) -> dict[str, int]:
    """A finance officer in Leylek, two lawyers, a moderator, another member and staff."""
    asel = await f.member(db, "Асель Маматова", district="leylek", municipality="katran",
                          communities=("finance",))
    moderator = await f.member(db, "Жылдыз Абдыкалыкова", district="chatkal")
    await roles.grant_role(db, None, moderator.id, Role.MODERATOR)
    other = await f.member(db, "Бакыт Осмонов", district="talas")
    erkin = await f.lawyer(db, "Эркин Сыдыков")
    aida = await f.lawyer(db, "Аида Бекова")
    staff = await f.staff(db, name="Айгерим Касымова")
    return {"asel": asel.id, "moderator": moderator.id, "other": other.id, "erkin": erkin.id,
            "aida": aida.id, "staff": staff}


async def outbox(db: Database, kind: str) -> list[int]:
    async with db.read() as s:
        rows = (await s.exec(select(Outbox.member_id).where(Outbox.kind == kind)
                             .order_by(Outbox.id))).all()
    return [r for r in rows if r is not None]


async def get(db: Database, case_id: int) -> LegalCase:
    async with db.read() as s:
        case = await s.get(LegalCase, case_id)
    assert case is not None
    return case


async def test_a_request_reaches_every_lawyer_and_keeps_its_documents(
        db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake())
    case = await get(db, case_id)
    assert case.status == LegalStatus.NEW and case.requester_id == desk["asel"]
    assert sorted(await outbox(db, "legal_new")) == sorted([desk["erkin"], desk["aida"]])
    async with db.read() as s:
        docs = (await s.exec(select(LegalDocument))).all()
    assert [(d.name, d.size) for d in docs] == [("reshenie.pdf", 1000)]


async def test_intake_refuses_no_consent_short_text_and_too_many_documents(
        db: Database, desk: dict[str, int]) -> None:
    with pytest.raises(InvalidInput) as err:
        await legal.open_case(db, desk["asel"], intake(consent=False))
    assert err.value.code == "legal_consent"
    with pytest.raises(InvalidInput):
        await legal.open_case(db, desk["asel"], intake(summary="жер"))
    with pytest.raises(InvalidInput) as err:
        await legal.open_case(db, desk["asel"], intake(
            documents=[Doc(f"f{i}", f"{i}.pdf") for i in range(11)]))
    assert err.value.params["limit"] == 10
    async with db.read() as s:
        assert (await s.exec(select(LegalCase))).all() == []


def test_documents_too_large_or_of_a_forbidden_type_are_refused_with_the_limit() -> None:
    assert legal.check_document("x", "akt.docx", None, 5_000).name == "akt.docx"
    assert legal.check_document("x", None, "image/jpeg", 5_000).name == "photo.jpg"
    with pytest.raises(InvalidInput) as err:
        legal.check_document("x", "big.pdf", "application/pdf", 21 * 1024 * 1024)
    assert err.value.code == "file_size" and err.value.params["limit"] == 20
    with pytest.raises(InvalidInput) as err:
        legal.check_document("x", "virus.exe", "application/octet-stream", 100)
    assert err.value.code == "file_type" and "PDF" in str(err.value.params["types"])


async def test_the_whole_life_of_a_case(db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake())
    await legal.take_case(db, desk["erkin"], case_id)
    assert (await get(db, case_id)).status == LegalStatus.IN_PROGRESS
    assert await outbox(db, "legal_taken") == [desk["asel"]]
    with pytest.raises(InvalidState):
        await legal.take_case(db, desk["aida"], case_id)  # already Erkin's

    await legal.request_info(db, desk["erkin"], case_id, "Пришлите протокол сессии.")
    case = await get(db, case_id)
    assert case.status == LegalStatus.NEEDS_INFO and case.first_response_at is not None
    assert await outbox(db, "legal_info") == [desk["asel"]]

    await legal.add_requester_reply(db, desk["asel"], case_id, "Протокол прилагаю.",
                                    [Doc("file-2", "protokol.pdf")])
    assert (await get(db, case_id)).status == LegalStatus.IN_PROGRESS
    assert await outbox(db, "legal_reply") == [desk["erkin"]]

    await legal.assign_case(db, desk["erkin"], case_id, desk["aida"])
    assert (await get(db, case_id)).assignee_id == desk["aida"]
    assert await outbox(db, "legal_assigned") == [desk["aida"]]
    with pytest.raises(PermissionDenied):  # no longer his case
        await legal.answer_case(db, desk["erkin"], case_id, "Ответ")

    await legal.answer_case(db, desk["aida"], case_id, "Решение можно обжаловать в суде.",
                            [Doc("file-3", "zhaloba.docx")])
    assert (await get(db, case_id)).status == LegalStatus.ANSWERED
    await legal.close_case(db, desk["aida"], case_id)
    assert (await get(db, case_id)).status == LegalStatus.CLOSED
    assert await outbox(db, "legal_closed") == [desk["asel"]]

    with pytest.raises(InvalidState) as err:
        await legal.answer_case(db, desk["aida"], case_id, "Ещё ответ")
    assert err.value.code == "legal_case_closed"
    with pytest.raises(InvalidState):
        await legal.add_requester_reply(db, desk["asel"], case_id, "Ещё вопрос")

    await legal.reopen_case(db, desk["asel"], case_id)
    case = await get(db, case_id)
    assert case.status == LegalStatus.IN_PROGRESS and case.closed_at is None
    assert await outbox(db, "legal_reopened") == [desk["aida"]]
    await legal.close_case(db, desk["staff"], case_id)  # staff may close any case

    await legal.rate_case(db, desk["asel"], case_id, 5)
    with pytest.raises(InvalidState) as err:
        await legal.rate_case(db, desk["asel"], case_id, 4)
    assert err.value.code == "legal_rated"
    await legal.comment_rating(db, desk["asel"], case_id, "Спасибо, помогло.")
    view = await legal.case_view(db, desk["asel"], case_id)
    assert [e.event.kind for e in view.entries] == [
        LegalEventKind.OPENED, LegalEventKind.TAKEN, LegalEventKind.INFO_REQUESTED,
        LegalEventKind.REPLY, LegalEventKind.ASSIGNED, LegalEventKind.ANSWER,
        LegalEventKind.CLOSED, LegalEventKind.REOPENED, LegalEventKind.CLOSED,
        LegalEventKind.RATED, LegalEventKind.FEEDBACK]
    assert view.entries[-1].event.text == "Спасибо, помогло."
    assert [d.name for d in view.documents] == ["reshenie.pdf", "protokol.pdf", "zhaloba.docx"]


async def test_a_case_can_be_reopened_only_within_14_days_and_rated_only_when_closed(
        db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake())
    with pytest.raises(InvalidState) as err:
        await legal.rate_case(db, desk["asel"], case_id, 5)
    assert err.value.code == "legal_not_closed"
    with pytest.raises(InvalidState):
        await legal.reopen_case(db, desk["asel"], case_id)
    await legal.answer_case(db, desk["erkin"], case_id, "Ответ юриста.")
    await legal.close_case(db, desk["erkin"], case_id)
    closed_at = (await get(db, case_id)).closed_at
    assert closed_at is not None
    with pytest.raises(InvalidState) as err:
        await legal.reopen_case(db, desk["asel"], case_id, now=closed_at + timedelta(days=15))
    assert err.value.code == "legal_reopen_late" and err.value.params["limit"] == 14
    await legal.reopen_case(db, desk["asel"], case_id, now=closed_at + timedelta(days=13))


async def test_nobody_else_can_see_or_touch_a_case(db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake())
    for intruder in ("other", "moderator"):
        with pytest.raises(PermissionDenied):
            await legal.case_view(db, desk[intruder], case_id)
        with pytest.raises(PermissionDenied):
            await legal.answer_case(db, desk[intruder], case_id, "Мой ответ")
        with pytest.raises(PermissionDenied):
            await legal.add_requester_reply(db, desk[intruder], case_id, "Подделка")
        with pytest.raises(PermissionDenied):
            await legal.queue(db, desk[intruder], "new")
    with pytest.raises(PermissionDenied):  # a case that does not exist looks the same
        await legal.case_view(db, desk["other"], case_id + 100)
    with pytest.raises(PermissionDenied):  # the requester is not a lawyer of her own case
        await legal.answer_case(db, desk["asel"], case_id, "Сама себе отвечу")
    with pytest.raises(PermissionDenied):  # a lawyer cannot rate for the requester
        await legal.rate_case(db, desk["erkin"], case_id, 1)
    with pytest.raises(InvalidInput):  # only a lawyer can be assigned
        await legal.assign_case(db, desk["erkin"], case_id, desk["other"])
    for allowed in ("asel", "erkin", "aida", "staff"):
        assert (await legal.case_view(db, desk[allowed], case_id)).case.id == case_id


async def test_near_deadlines_come_first_in_the_queue(db: Database,
                                                      desk: dict[str, int]) -> None:
    later = await legal.open_case(db, desk["asel"], intake(deadline=utcnow() + timedelta(days=20)))
    none = await legal.open_case(db, desk["asel"], intake())
    soon = await legal.open_case(db, desk["asel"], intake(deadline=utcnow() + timedelta(days=2)))
    assert [c.id for c in await legal.queue(db, desk["erkin"], "new")] == [soon, later, none]
    await legal.take_case(db, desk["erkin"], none)
    assert [c.id for c in await legal.queue(db, desk["erkin"], "mine")] == [none]
    await legal.request_info(db, desk["erkin"], none, "Уточните, пожалуйста.")
    assert [c.id for c in await legal.queue(db, desk["aida"], "waiting")] == [none]
    overdue = await legal.queue(db, desk["erkin"], "overdue", now=utcnow() + timedelta(days=3))
    assert [c.id for c in overdue] == [soon, later]  # soon's deadline passed; later is unanswered
    counts = await legal.queue_counts(db, desk["erkin"], now=utcnow() + timedelta(days=3))
    assert counts == {"new": 2, "mine": 1, "waiting": 1, "overdue": 2}
    with pytest.raises(PermissionDenied):  # cases ready for the knowledge base: staff only
        await legal.queue(db, desk["erkin"], "knowledge")
    await legal.close_case(db, desk["erkin"], none)
    await legal.set_publication_consent(db, desk["asel"], none, True)
    assert [c.id for c in await legal.queue(db, desk["staff"], "knowledge")] == [none]


async def test_reminder_before_and_escalation_after_the_first_response_is_due(
        db: Database, desk: dict[str, int]) -> None:
    taken = await legal.open_case(db, desk["asel"], intake())
    await legal.take_case(db, desk["erkin"], taken)
    free = await legal.open_case(db, desk["asel"], intake())
    answered = await legal.open_case(db, desk["asel"], intake())
    await legal.answer_case(db, desk["aida"], answered, "Быстрый ответ.")
    opened = (await get(db, taken)).created_at
    settings = Settings(_env_file=None, database_url=db.url)  # type: ignore[call-arg]

    async def run(hours: float) -> None:
        await legal_reminders(JobContext(db, settings, opened + timedelta(hours=hours)))

    await run(30)
    assert await outbox(db, "legal_reminder") == []
    await run(41)  # 48 - 8 = 40 hours: remind
    assert sorted(await outbox(db, "legal_reminder")) == sorted(
        [desk["erkin"], desk["erkin"], desk["aida"]])  # Erkin's case; every lawyer for free
    await run(42)  # again: nothing new
    assert len(await outbox(db, "legal_reminder")) == 3
    assert await outbox(db, "legal_escalated") == []
    await run(49)
    await run(50)
    async with db.read() as s:
        staff = set((await s.exec(select(RoleAssignment.member_id).where(
            RoleAssignment.role == Role.UNION_STAFF))).all())
    escalated = await outbox(db, "legal_escalated")
    assert desk["staff"] in staff and set(escalated) == staff
    assert len(escalated) == 2 * len(staff)  # two cases, each once
    assert (await get(db, free)).escalated_at is not None
    assert (await get(db, answered)).reminded_at is None


async def test_the_job_respects_configured_hours(db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake())
    opened = (await get(db, case_id)).created_at
    reminded, escalated = await legal.remind_and_escalate(
        db, opened + timedelta(hours=13), first_response_hours=12, reminder_before_hours=2)
    assert (reminded, escalated) == (0, 1)  # already late: staff, no reminder
    assert await legal.remind_and_escalate(db, opened + timedelta(hours=14),
                                           first_response_hours=12) == (0, 0)


async def test_monthly_figures(db: Database, desk: dict[str, int]) -> None:
    start = datetime(2026, 10, 5, 4, 0, tzinfo=UTC)
    rows = [  # category, hours to first response, hours to close, rating
        (LegalCategory.LAND, 2, 10, 5), (LegalCategory.LAND, 4, 30, 3),
        (LegalCategory.BUDGET, 10, None, None), (LegalCategory.KENESH, None, None, None)]
    for category, first, close, rating in rows:
        case_id = await legal.open_case(db, desk["asel"], intake(category=category))
        async with db.transaction() as s:
            case = await s.get(LegalCase, case_id)
            assert case is not None
            case.created_at = start
            case.first_response_at = start + timedelta(hours=first) if first else None
            case.closed_at = start + timedelta(hours=close) if close else None
            case.rating = rating
    outside = await legal.open_case(db, desk["asel"], intake())  # November: not counted
    assert outside
    figures = await legal.monthly_figures(db, desk["staff"], 2026, 10)
    assert figures.total == 4
    assert figures.by_category == {"land": 2, "budget": 1, "kenesh": 1}
    assert figures.median_first_response_hours == 4
    assert figures.median_close_hours == 20
    assert figures.mean_rating == 4
    with pytest.raises(PermissionDenied):
        await legal.monthly_figures(db, desk["erkin"], 2026, 10)


async def test_staff_prepare_an_anonymised_question_and_answer_with_consent(
        db: Database, desk: dict[str, int]) -> None:
    case_id = await legal.open_case(db, desk["asel"], intake(
        summary="Я, Асель Маматова из Катранского АА, спрашиваю: можно ли отменить решение "
                "о земле? Звоните +996 555 123 456."))
    await legal.answer_case(db, desk["erkin"], case_id, "Асель, решение можно обжаловать.")
    await legal.close_case(db, desk["erkin"], case_id)
    with pytest.raises(InvalidState) as err:
        await legal.publication_draft(db, desk["staff"], case_id)
    assert err.value.code == "legal_no_consent"
    await legal.set_publication_consent(db, desk["asel"], case_id, True)
    with pytest.raises(PermissionDenied):
        await legal.publication_draft(db, desk["erkin"], case_id)
    question, answer = await legal.publication_draft(db, desk["staff"], case_id)
    for secret in ("Асель", "Маматова", "Катран", "555"):
        assert secret not in question + answer
    assert "обжаловать" in answer
    assert legal.publication_for(await get(db, case_id)) is None
    await legal.prepare_publication(db, desk["staff"], case_id, question,
                                    answer + " Срок — месяц.")
    ready = legal.publication_for(await get(db, case_id))
    assert ready is not None and ready[0] == LegalCategory.LAND
    assert ready[2].endswith("Срок — месяц.")
    assert [c.id for c in await legal.ready_publications(db)] == [case_id]
    await legal.set_publication_consent(db, desk["asel"], case_id, False)
    assert legal.publication_for(await get(db, case_id)) is None
    async with db.read() as s:
        kinds = (await s.exec(select(LegalCaseEvent.kind).where(
            LegalCaseEvent.case_id == case_id))).all()
    assert LegalEventKind.PREPARED in kinds


def test_the_reminders_job_is_on_the_scheduler() -> None:
    import bot.jobs  # noqa: F401
    from bot.jobs.registry import REGISTRY

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    spec = REGISTRY["legal.reminders"]
    assert spec.body is legal_reminders
    assert "0:10:00" in str(spec.trigger(settings))


async def test_the_reminders_job_is_scheduled_and_kept_across_restarts(db: Database) -> None:
    from bot.scheduler import Scheduler

    settings = Settings(_env_file=None, database_url=db.url)  # type: ignore[call-arg]
    first = Scheduler(db, settings)
    await first.start()
    planned = await first.next_run("legal.reminders")
    await first.stop()
    assert planned is not None and planned - utcnow() <= timedelta(minutes=10)
    second = Scheduler(db, settings)
    await second.start()
    try:
        assert await second.next_run("legal.reminders") == planned  # the stored run time is kept
    finally:
        await second.stop()
