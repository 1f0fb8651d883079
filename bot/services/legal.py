"""The legal help desk: private requests for legal help, the lawyers' queue and a case's life.

A member opens a case (L-45) after a guided intake; lawyers (members with the expert role) take
it or hand it to a colleague, ask for more information, answer and close; the requester may reply,
reopen within 14 days, rate the help and allow an anonymised question and answer to be published.
Every change is one function here, checked against `policy`, written with its timeline entry and
its notifications (outbox) in one transaction. A case is private: whatever id a button carries,
only its requester, the lawyers and Union staff get past `_viewable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.services import audit, files, notify, policy, roles
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.legal_figures import (  # re-exported: callers use `legal.monthly_figures`
    Figures,  # noqa: F401
    month_bounds,  # noqa: F401
    monthly_figures,  # noqa: F401
)
from storage.db import Database
from storage.enums import (
    OPEN_LEGAL_STATUSES,
    LegalCategory,
    LegalEventKind,
    LegalStatus,
    MemberStatus,
    PublicationStatus,
    Role,
)
from storage.models import (
    District,
    LegalCase,
    LegalCaseEvent,
    LegalDocument,
    Member,
    Municipality,
    RoleAssignment,
)
from storage.types import utcnow

SUMMARY_MAX = 3000
ACT_MAX = 1000
MESSAGE_MAX = 3000
COMMENT_MAX = 1000
PUBLICATION_MAX = 4000
DOCUMENTS_MAX = 10
REOPEN_DAYS = 14
BISHKEK = ZoneInfo("Asia/Bishkek")
ID_LIMIT = 2**62  # a forged id beyond SQL's integers is simply not found


def case_code(case_id: int) -> str:
    return f"L-{case_id}"


# --- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """A file someone sent: Telegram keeps the bytes, Birge its id, name, type and size."""

    file_id: str
    name: str
    mime_type: str | None = None
    size: int = 0


def check_document(file_id: str, name: str | None, mime_type: str | None, size: int | None,
                   max_mb: int = files.MAX_MB) -> Doc:
    """The document if Birge accepts it (`files.check_file`); `InvalidInput` otherwise."""
    clean = files.check_file(name, mime_type, size, max_mb)
    return Doc(file_id=file_id[:200], name=clean, mime_type=(mime_type or None),
               size=int(size or 0))


def _documents(docs: list[Doc]) -> list[Doc]:
    if len(docs) > DOCUMENTS_MAX:
        raise InvalidInput("legal_documents", limit=DOCUMENTS_MAX)
    return docs


def _text(text: str | None, limit: int, *, minimum: int = 2) -> str:
    cleaned = (text or "").strip()
    if not minimum <= len(cleaned) <= limit:
        raise InvalidInput("legal_text", limit=limit)
    return cleaned


# --- loading and checking ------------------------------------------------------------------


async def _load(session: AsyncSession, case_id: int) -> LegalCase:
    case = await session.get(LegalCase, case_id)
    if case is None:
        raise NotFound(what="legal_case")
    return case


async def _viewable(db: Database, s: AsyncSession, actor: policy.Actor,
                    case_id: int) -> LegalCase:
    """The case if this member may see it. A case that does not exist and one that is not
    theirs look the same, so a forged id tells nothing."""
    case = await s.get(LegalCase, case_id) if 0 < case_id < ID_LIMIT else None
    if case is None or not policy.can_view_legal_case(actor, case.requester_id):
        await policy.ensure(db, actor, False, policy.Action.VIEW_LEGAL_CASE,
                            case_id if 0 < case_id < ID_LIMIT else None)
    assert case is not None
    return case


async def _for_work(db: Database, s: AsyncSession, actor_id: int,
                    case_id: int) -> tuple[policy.Actor, LegalCase]:
    actor = await policy.load_actor(s, actor_id)
    case = await _viewable(db, s, actor, case_id)
    await policy.ensure(db, actor, policy.can_work_legal_case(actor, case.assignee_id),
                        policy.Action.WORK_LEGAL_CASE, case_id)
    return actor, case


async def _as_requester(db: Database, s: AsyncSession, member_id: int,
                        case_id: int) -> LegalCase:
    actor = await policy.load_actor(s, member_id)
    case = await _viewable(db, s, actor, case_id)
    await policy.ensure(db, actor, policy.can_act_as_requester(actor, case.requester_id),
                        policy.Action.REQUESTER_LEGAL_CASE, case_id)
    return case


def _require_open(case: LegalCase) -> None:
    if case.status == LegalStatus.CLOSED:
        raise InvalidState("legal_case_closed", case=case_code(case.id or 0))


async def _lawyer_ids(s: AsyncSession) -> list[int]:
    rows = (await s.exec(
        select(RoleAssignment.member_id).join(Member, col(Member.id) == RoleAssignment.member_id)
        .where(RoleAssignment.role == Role.EXPERT, Member.status == MemberStatus.ACTIVE)
    )).all()
    return sorted(set(rows))


async def _desk(s: AsyncSession, case: LegalCase) -> list[int]:
    """Who hears about a case's news on the lawyers' side: its assignee, else every lawyer,
    else (no lawyer yet) Union staff."""
    if case.assignee_id is not None:
        return [case.assignee_id]
    return await _lawyer_ids(s) or await roles.staff_ids(s, active_only=True)


async def _event(s: AsyncSession, case: LegalCase, author_id: int | None,
                 kind: LegalEventKind, text: str | None = None,
                 docs: list[Doc] | None = None) -> LegalCaseEvent:
    assert case.id is not None
    event = LegalCaseEvent(case_id=case.id, author_id=author_id, kind=kind, text=text,
                           status=case.status)
    s.add(event)
    await s.flush()
    for doc in docs or []:
        s.add(LegalDocument(case_id=case.id, event_id=event.id, added_by_id=author_id,
                            file_id=doc.file_id, name=doc.name, mime_type=doc.mime_type,
                            size=doc.size))
    return event


def _tell(s: AsyncSession, to: list[int], kind: str, case: LegalCase,
          event: LegalCaseEvent | None = None, *, skip: int | None = None) -> None:
    for member_id in sorted(set(to)):
        if member_id != skip:
            notify.enqueue(s, member_id, kind, case_id=case.id,
                           event_id=event.id if event is not None else None)


# --- the intake ------------------------------------------------------------------------------


@dataclass
class Intake:
    """What a member tells the desk in the guided intake."""

    category: LegalCategory
    summary: str
    act: str | None = None
    deadline: datetime | None = None
    documents: list[Doc] = field(default_factory=list)
    consent: bool = False  # to share the case and its documents with the Union's lawyers


async def open_case(db: Database, member_id: int, intake: Intake) -> int:
    """A member asks for legal help; the lawyers hear of it. Returns the case id."""
    if intake.category not in set(LegalCategory):
        raise InvalidInput("legal_category")
    summary = _text(intake.summary, SUMMARY_MAX, minimum=10)
    act = (intake.act or "").strip() or None
    if act is not None and len(act) > ACT_MAX:
        raise InvalidInput("legal_text", limit=ACT_MAX)
    if intake.deadline is not None and intake.deadline < utcnow() - timedelta(days=1):
        raise InvalidInput("legal_deadline")
    docs = _documents(intake.documents)
    if not intake.consent:
        raise InvalidInput("legal_consent")
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        await policy.ensure(db, actor, policy.can_open_legal_case(actor),
                            policy.Action.OPEN_LEGAL_CASE)
        case = LegalCase(requester_id=member_id, category=LegalCategory(intake.category),
                         summary=summary, act=act, deadline=intake.deadline,
                         status=LegalStatus.NEW, consent_at=utcnow())
        s.add(case)
        await s.flush()
        assert case.id is not None
        event = await _event(s, case, member_id, LegalEventKind.OPENED, summary, docs)
        _tell(s, await _desk(s, case), "legal_new", case, event, skip=member_id)
        audit.record(s, member_id, "legal_case_opened", "legal_case", case.id,
                     category=str(case.category))
        return case.id


# --- the lawyers' side -------------------------------------------------------------------------


async def take_case(db: Database, actor_id: int, case_id: int) -> LegalCase:
    """A lawyer takes a new case; taking one's own case again changes nothing."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        case = await _viewable(db, s, actor, case_id)
        await policy.ensure(db, actor, policy.is_lawyer(actor),
                            policy.Action.ASSIGN_LEGAL_CASE, case_id)
        _require_open(case)
        if case.assignee_id == actor_id:
            return case
        if case.assignee_id is not None:
            raise InvalidState("legal_taken")
        case.assignee_id = actor_id
        if case.status == LegalStatus.NEW:
            case.status = LegalStatus.IN_PROGRESS
        event = await _event(s, case, actor_id, LegalEventKind.TAKEN)
        _tell(s, [case.requester_id], "legal_taken", case, event)
        taker = await s.get(Member, actor_id)
        await notify.settle(s, "legal_new", "case_id", case_id, verdict="case_taken",
                            actor_id=actor_id, name=case_code(case_id),
                            by=taker.full_name if taker else "")
        audit.record(s, actor_id, "legal_case_taken", "legal_case", case_id)
        return case


async def assign_case(db: Database, actor_id: int, case_id: int, assignee_id: int) -> LegalCase:
    """Hand a case to a colleague (the current assignee, any lawyer while nobody has it, or
    staff); the colleague must be a lawyer."""
    async with db.transaction() as s:
        actor, case = await _for_work(db, s, actor_id, case_id)
        await policy.ensure(db, actor, policy.can_assign_legal_case(actor),
                            policy.Action.ASSIGN_LEGAL_CASE, case_id)
        _require_open(case)
        if not 0 < assignee_id < ID_LIMIT or assignee_id not in await _lawyer_ids(s):
            raise InvalidInput("legal_not_lawyer")
        if case.assignee_id == assignee_id:
            return case
        case.assignee_id = assignee_id
        if case.status == LegalStatus.NEW:
            case.status = LegalStatus.IN_PROGRESS
        event = await _event(s, case, actor_id, LegalEventKind.ASSIGNED)
        assignee = await s.get(Member, assignee_id)
        await notify.settle(s, "legal_new", "case_id", case_id, verdict="case_taken",
                            actor_id=actor_id, name=case_code(case_id),
                            by=assignee.full_name if assignee else "")
        _tell(s, [assignee_id], "legal_assigned", case, event, skip=actor_id)
        _tell(s, [case.requester_id], "legal_taken", case, event)
        audit.record(s, actor_id, "legal_case_assigned", "legal_case", case_id,
                     assignee=assignee_id)
        return case


def _claim(case: LegalCase, actor: policy.Actor) -> None:
    """A lawyer who acts on a case nobody has taken becomes its assignee."""
    if case.assignee_id is None and policy.is_lawyer(actor):
        case.assignee_id = actor.member_id


async def request_info(db: Database, actor_id: int, case_id: int, text: str,
                       docs: list[Doc] | None = None) -> LegalCase:
    """Ask the requester for more: the case waits for them ("needs info")."""
    text = _text(text, MESSAGE_MAX)
    docs = _documents(docs or [])
    async with db.transaction() as s:
        actor, case = await _for_work(db, s, actor_id, case_id)
        _require_open(case)
        _claim(case, actor)
        case.status = LegalStatus.NEEDS_INFO
        case.first_response_at = case.first_response_at or utcnow()
        event = await _event(s, case, actor_id, LegalEventKind.INFO_REQUESTED, text, docs)
        _tell(s, [case.requester_id], "legal_info", case, event)
        audit.record(s, actor_id, "legal_info_requested", "legal_case", case_id)
        return case


async def answer_case(db: Database, actor_id: int, case_id: int, text: str,
                      docs: list[Doc] | None = None) -> LegalCase:
    """The lawyer's answer, with documents; the requester gets it at once."""
    text = _text(text, MESSAGE_MAX)
    docs = _documents(docs or [])
    async with db.transaction() as s:
        actor, case = await _for_work(db, s, actor_id, case_id)
        _require_open(case)
        _claim(case, actor)
        case.status = LegalStatus.ANSWERED
        case.first_response_at = case.first_response_at or utcnow()
        event = await _event(s, case, actor_id, LegalEventKind.ANSWER, text, docs)
        _tell(s, [case.requester_id], "legal_answer", case, event)
        audit.record(s, actor_id, "legal_answered", "legal_case", case_id)
        return case


async def close_case(db: Database, actor_id: int, case_id: int) -> LegalCase:
    """Close a case; the requester is asked to rate the help and may reopen within 14 days."""
    async with db.transaction() as s:
        actor, case = await _for_work(db, s, actor_id, case_id)
        _require_open(case)
        _claim(case, actor)
        case.status = LegalStatus.CLOSED
        case.closed_at = utcnow()
        event = await _event(s, case, actor_id, LegalEventKind.CLOSED)
        _tell(s, [case.requester_id], "legal_closed", case, event, skip=actor_id)
        audit.record(s, actor_id, "legal_case_closed", "legal_case", case_id)
        return case


# --- the requester's side ------------------------------------------------------------------


async def add_requester_reply(db: Database, member_id: int, case_id: int, text: str,
                              docs: list[Doc] | None = None) -> LegalCase:
    """The requester writes to the case (an answer to "needs info", or more facts); it joins
    the timeline and the case is back with the lawyer."""
    text = _text(text, MESSAGE_MAX)
    docs = _documents(docs or [])
    async with db.transaction() as s:
        case = await _as_requester(db, s, member_id, case_id)
        _require_open(case)
        if case.status in (LegalStatus.NEEDS_INFO, LegalStatus.ANSWERED):
            case.status = LegalStatus.IN_PROGRESS
        event = await _event(s, case, member_id, LegalEventKind.REPLY, text, docs)
        _tell(s, await _desk(s, case), "legal_reply", case, event, skip=member_id)
        audit.record(s, member_id, "legal_reply", "legal_case", case_id)
        return case


async def reopen_case(db: Database, member_id: int, case_id: int,
                      now: datetime | None = None) -> LegalCase:
    """The requester reopens a closed case, within 14 days of its closing."""
    now = now or utcnow()
    async with db.transaction() as s:
        case = await _as_requester(db, s, member_id, case_id)
        if case.status != LegalStatus.CLOSED or case.closed_at is None:
            raise InvalidState("legal_not_closed")
        if now - case.closed_at > timedelta(days=REOPEN_DAYS):
            raise InvalidState("legal_reopen_late", limit=REOPEN_DAYS)
        case.status = LegalStatus.IN_PROGRESS if case.assignee_id else LegalStatus.NEW
        case.closed_at = None
        event = await _event(s, case, member_id, LegalEventKind.REOPENED)
        _tell(s, await _desk(s, case), "legal_reopened", case, event, skip=member_id)
        audit.record(s, member_id, "legal_case_reopened", "legal_case", case_id)
        return case


async def rate_case(db: Database, member_id: int, case_id: int, stars: int) -> LegalCase:
    """The requester rates the help 1–5, once, after the case is closed."""
    if stars not in range(1, 6):
        raise InvalidInput("legal_rating")
    async with db.transaction() as s:
        case = await _as_requester(db, s, member_id, case_id)
        if case.rating is not None:
            raise InvalidState("legal_rated")
        if case.status != LegalStatus.CLOSED:
            raise InvalidState("legal_not_closed")
        case.rating = stars
        case.rated_at = utcnow()
        await _event(s, case, member_id, LegalEventKind.RATED, str(stars))
        audit.record(s, member_id, "legal_case_rated", "legal_case", case_id, stars=stars)
        return case


async def comment_rating(db: Database, member_id: int, case_id: int, text: str) -> LegalCase:
    """A comment to go with the rating, once."""
    text = _text(text, COMMENT_MAX)
    async with db.transaction() as s:
        case = await _as_requester(db, s, member_id, case_id)
        if case.rating is None:
            raise InvalidState("legal_not_rated")
        if case.rating_comment is not None:
            raise InvalidState("legal_rated")
        case.rating_comment = text
        await _event(s, case, member_id, LegalEventKind.FEEDBACK, text)
        audit.record(s, member_id, "legal_rating_comment", "legal_case", case_id)
        return case


async def set_publication_consent(db: Database, member_id: int, case_id: int,
                                  allowed: bool) -> LegalCase:
    """The requester allows (or not) an anonymised Q&A from the case in the knowledge base."""
    async with db.transaction() as s:
        case = await _as_requester(db, s, member_id, case_id)
        case.publish_consent = allowed
        if not allowed and case.publication_status == PublicationStatus.READY:
            case.publication_status = None
        audit.record(s, member_id, "legal_publish_consent", "legal_case", case_id,
                     allowed=allowed)
        return case


# --- from case to knowledge --------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d\s()-]{6,}\d")
HIDDEN = "[…]"


def anonymise(text: str, names: list[str]) -> str:
    """The text without the given names (people, municipality, district), e-mails and phones."""
    words = {w for n in names for w in [n, *re.split(r"[\s,.()«»\"-]+", n)] if len(w) >= 4}
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(re.escape(word), HIDDEN, text, flags=re.IGNORECASE)
    text = _EMAIL.sub(HIDDEN, text)
    return _PHONE.sub(HIDDEN, text)


async def _names_to_hide(s: AsyncSession, case: LegalCase) -> list[str]:
    member = await s.get(Member, case.requester_id)
    names: list[str] = []
    if member is not None:
        names += [member.full_name, member.municipality_other or ""]
        for model, ref in ((Municipality, member.municipality_id),
                           (District, member.district_id)):
            row = await s.get(model, ref) if ref else None
            if row is not None:
                names += [row.name_ky, row.name_ru, row.name_en]
    return [n for n in names if n]


async def _answer_text(s: AsyncSession, case_id: int) -> str:
    rows = (await s.exec(select(LegalCaseEvent.text).where(
        LegalCaseEvent.case_id == case_id, LegalCaseEvent.kind == LegalEventKind.ANSWER)
        .order_by(col(LegalCaseEvent.id)))).all()
    return "\n\n".join(r for r in rows if r)


async def _publishable(db: Database, s: AsyncSession, actor_id: int,
                       case_id: int) -> LegalCase:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_manage_legal_desk(actor),
                        policy.Action.MANAGE_LEGAL_DESK, case_id)
    case = await _load(s, case_id)
    if case.status != LegalStatus.CLOSED:
        raise InvalidState("legal_not_closed")
    if not case.publish_consent:
        raise InvalidState("legal_no_consent")
    return case


async def publication_draft(db: Database, actor_id: int, case_id: int) -> tuple[str, str]:
    """An anonymised question and answer for staff to check and edit before storing."""
    async with db.read() as s:
        case = await _publishable(db, s, actor_id, case_id)
        if case.publication_question and case.publication_answer:
            return case.publication_question, case.publication_answer
        names = await _names_to_hide(s, case)
        question = case.summary + (f"\n\n{case.act}" if case.act else "")
        return (anonymise(question, names)[:PUBLICATION_MAX],
                anonymise(await _answer_text(s, case_id), names)[:PUBLICATION_MAX])


async def prepare_publication(db: Database, actor_id: int, case_id: int, question: str,
                              answer: str) -> LegalCase:
    """Staff store the anonymised Q&A on the case, ready for the knowledge base."""
    question = _text(question, PUBLICATION_MAX, minimum=10)
    answer = _text(answer, PUBLICATION_MAX, minimum=10)
    async with db.transaction() as s:
        case = await _publishable(db, s, actor_id, case_id)
        names = await _names_to_hide(s, case)
        case.publication_question = anonymise(question, names)
        case.publication_answer = anonymise(answer, names)
        case.publication_status = PublicationStatus.READY
        case.prepared_by_id = actor_id
        await _event(s, case, actor_id, LegalEventKind.PREPARED)
        audit.record(s, actor_id, "legal_publication_prepared", "legal_case", case_id)
        return case


# The topic group a published case's Q&A goes to; the rest go to "legal questions".
KNOWLEDGE_GROUP = {LegalCategory.LAND: "land", LegalCategory.BUDGET: "budget",
                   LegalCategory.SERVICES: "services", LegalCategory.KENESH: "kenesh",
                   LegalCategory.PROCUREMENT: "social"}


async def publish_to_knowledge_base(db: Database, actor_id: int, case_id: int) -> int:
    """Staff publish a prepared case's anonymised Q&A into the knowledge base (resolved, the
    lawyer's answer accepted, the asker anonymous). Returns the question's id."""
    from bot.services import questions

    async with db.transaction() as s:
        case = await _publishable(db, s, actor_id, case_id)
        found = publication_for(case)
        if found is None:
            raise InvalidState("legal_not_prepared")
        category, question, answer = found
        question_id = await questions.publish_answered(
            s, group_code=KNOWLEDGE_GROUP.get(category, "legal"), asker_id=actor_id,
            answerer_id=case.assignee_id or actor_id, question_text=question,
            answer_text=answer)
        case.publication_status = PublicationStatus.PUBLISHED
        audit.record(s, actor_id, "legal_published", "legal_case", case_id,
                     question_id=question_id)
        return question_id


def publication_for(case: LegalCase) -> tuple[LegalCategory, str, str] | None:
    """(category, question, answer) for the knowledge base, when staff have prepared it and the
    requester still agrees; None otherwise. The topic-groups feature publishes from this."""
    if (case.publication_status != PublicationStatus.READY or not case.publish_consent
            or not case.publication_question or not case.publication_answer):
        return None
    return LegalCategory(case.category), case.publication_question, case.publication_answer


async def ready_publications(db: Database) -> list[LegalCase]:
    """Cases whose anonymised Q&A waits for the knowledge base."""
    async with db.read() as s:
        rows = (await s.exec(select(LegalCase).where(
            LegalCase.publication_status == PublicationStatus.READY,
            col(LegalCase.publish_consent).is_(True)).order_by(col(LegalCase.id)))).all()
    return list(rows)


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    event: LegalCaseEvent
    author: str | None
    by_requester: bool
    documents: list[LegalDocument]


@dataclass(frozen=True)
class CaseView:
    """A case as one member may see it, with what that member may do to it."""

    case: LegalCase
    requester: str
    assignee: str | None
    entries: list[Entry]
    is_requester: bool
    can_work: bool
    can_take: bool
    can_publish: bool

    @property
    def documents(self) -> list[LegalDocument]:
        return [d for e in self.entries for d in e.documents]


async def _names(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await s.exec(select(Member.id, Member.full_name).where(
        col(Member.id).in_(ids)))).all()
    return {i: n for i, n in rows if i is not None}


async def case_view(db: Database, actor_id: int, case_id: int) -> CaseView:
    """The whole case in order, for its requester, a lawyer or staff."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        case = await _viewable(db, s, actor, case_id)
        events = list((await s.exec(select(LegalCaseEvent).where(
            LegalCaseEvent.case_id == case_id).order_by(col(LegalCaseEvent.id)))).all())
        docs = list((await s.exec(select(LegalDocument).where(
            LegalDocument.case_id == case_id).order_by(col(LegalDocument.id)))).all())
        names = await _names(s, {case.requester_id, *(e.author_id for e in events
                                                      if e.author_id),
                                 *([case.assignee_id] if case.assignee_id else [])})
    is_open = case.status != LegalStatus.CLOSED
    return CaseView(
        case=case, requester=names.get(case.requester_id, "—"),
        assignee=names.get(case.assignee_id) if case.assignee_id else None,
        entries=[Entry(e, names.get(e.author_id) if e.author_id else None,
                       e.author_id == case.requester_id,
                       [d for d in docs if d.event_id == e.id]) for e in events],
        is_requester=actor_id == case.requester_id,
        can_work=is_open and policy.can_work_legal_case(actor, case.assignee_id)
        and actor_id != case.requester_id,
        can_take=is_open and policy.is_lawyer(actor) and case.assignee_id is None
        and actor_id != case.requester_id,
        can_publish=policy.can_manage_legal_desk(actor) and not is_open
        and bool(case.publish_consent),
    )


async def my_cases(db: Database, member_id: int, limit: int = 20) -> list[LegalCase]:
    async with db.read() as s:
        rows = (await s.exec(select(LegalCase).where(LegalCase.requester_id == member_id)
                             .order_by(col(LegalCase.id).desc()).limit(limit))).all()
    return list(rows)


QUEUE_VIEWS = ("new", "mine", "waiting", "overdue")


def _overdue(now: datetime, first_response_hours: int) -> ColumnElement[bool]:
    late = now - timedelta(hours=first_response_hours)
    return (col(LegalCase.first_response_at).is_(None) & (col(LegalCase.created_at) <= late)) \
        | (col(LegalCase.deadline).is_not(None) & (col(LegalCase.deadline) <= now))


def _queue_query(actor: policy.Actor, view: str, now: datetime,
                 first_response_hours: int) -> SelectOfScalar[LegalCase]:
    query = select(LegalCase)
    if view == "knowledge":  # closed, the requester agreed, staff have not prepared it yet
        return query.where(LegalCase.status == LegalStatus.CLOSED,
                           col(LegalCase.publish_consent).is_(True),
                           col(LegalCase.publication_status).is_(None))
    query = query.where(col(LegalCase.status).in_(OPEN_LEGAL_STATUSES))
    if view == "new":
        return query.where(LegalCase.status == LegalStatus.NEW)
    if view == "mine":
        return query.where(LegalCase.assignee_id == actor.member_id)
    if view == "waiting":
        return query.where(LegalCase.status == LegalStatus.NEEDS_INFO)
    if view == "overdue":
        return query.where(LegalCase.status != LegalStatus.NEEDS_INFO,
                           _overdue(now, first_response_hours))
    raise InvalidInput("legal_view")


async def _queue_actor(db: Database, s: AsyncSession, actor_id: int,
                       view: str) -> policy.Actor:
    actor = await policy.load_actor(s, actor_id)
    if view == "knowledge":
        await policy.ensure(db, actor, policy.can_manage_legal_desk(actor),
                            policy.Action.MANAGE_LEGAL_DESK)
    else:
        await policy.ensure(db, actor, policy.can_assign_legal_case(actor),
                            policy.Action.VIEW_LEGAL_CASE)
    return actor


async def queue(db: Database, actor_id: int, view: str, *, now: datetime | None = None,
                first_response_hours: int = 48, limit: int = 30) -> list[LegalCase]:
    """The lawyers' queue: new, mine, waiting for the requester, overdue (and, for staff,
    closed cases ready to become knowledge); near deadlines first, then the oldest."""
    async with db.read() as s:
        actor = await _queue_actor(db, s, actor_id, view)
        query = _queue_query(actor, view, now or utcnow(), first_response_hours)
        query = query.order_by(col(LegalCase.deadline).is_(None), col(LegalCase.deadline),
                               col(LegalCase.created_at)).limit(limit)
        return list((await s.exec(query)).all())


async def queue_counts(db: Database, actor_id: int, views: tuple[str, ...] = QUEUE_VIEWS, *,
                       now: datetime | None = None,
                       first_response_hours: int = 48) -> dict[str, int]:
    counts = {}
    async with db.read() as s:
        for view in views:
            actor = await _queue_actor(db, s, actor_id, view)
            query = _queue_query(actor, view, now or utcnow(), first_response_hours)
            counts[view] = int((await s.exec(
                select(func.count()).select_from(query.subquery()))).one())
    return counts


async def lawyers(db: Database, actor_id: int) -> list[tuple[int, str]]:
    """Colleagues a case can be handed to."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_assign_legal_case(actor),
                            policy.Action.ASSIGN_LEGAL_CASE)
        names = await _names(s, set(await _lawyer_ids(s)))
    return sorted(names.items(), key=lambda kv: kv[1])


async def notice_data(db: Database, case_id: int, event_id: int | None
                      ) -> tuple[LegalCase, LegalCaseEvent | None, list[LegalDocument],
                                 str] | None:
    """What a notification about a case needs (delivery side: the service chose the
    recipients when it wrote the outbox row)."""
    async with db.read() as s:
        case = await s.get(LegalCase, case_id)
        if case is None:
            return None
        event = await s.get(LegalCaseEvent, event_id) if event_id else None
        docs = list((await s.exec(select(LegalDocument).where(
            LegalDocument.event_id == event_id).order_by(col(LegalDocument.id))))
            .all()) if event_id else []
        author_id = event.author_id if event and event.author_id else case.requester_id
        names = await _names(s, {author_id})
    return case, event, docs, names.get(author_id, "—")


# --- reminders and escalation ------------------------------------------------------------------


async def remind_and_escalate(db: Database, now: datetime, *, first_response_hours: int = 48,
                              reminder_before_hours: int = 8) -> tuple[int, int]:
    """Remind the assignee (or every lawyer) before a first response falls due, and tell Union
    staff once it is late. Each case is marked with a conditional update, so a run repeated or
    racing another process never sends twice. Returns (reminded, escalated)."""
    due = timedelta(hours=first_response_hours)
    remind_from = due - timedelta(hours=min(reminder_before_hours, first_response_hours))
    reminded = escalated = 0
    waiting = (col(LegalCase.status).in_(OPEN_LEGAL_STATUSES)
               & col(LegalCase.first_response_at).is_(None))
    async with db.transaction() as s:
        late = (await s.exec(select(LegalCase.id).where(
            waiting, col(LegalCase.escalated_at).is_(None),
            col(LegalCase.created_at) <= now - due))).all()
        for case_id in late:
            marked = await s.exec(update(LegalCase).where(
                col(LegalCase.id) == case_id, col(LegalCase.escalated_at).is_(None))
                .values(escalated_at=now))
            if marked.rowcount and case_id is not None:
                case = await _load(s, case_id)
                _tell(s, await roles.staff_ids(s, active_only=True), "legal_escalated", case)
                escalated += 1
        soon = (await s.exec(select(LegalCase.id).where(
            waiting, col(LegalCase.reminded_at).is_(None),
            col(LegalCase.escalated_at).is_(None),
            col(LegalCase.created_at) <= now - remind_from))).all()
        for case_id in soon:
            marked = await s.exec(update(LegalCase).where(
                col(LegalCase.id) == case_id, col(LegalCase.reminded_at).is_(None))
                .values(reminded_at=now))
            if marked.rowcount and case_id is not None:
                case = await _load(s, case_id)
                _tell(s, await _desk(s, case), "legal_reminder", case)
                reminded += 1
    return reminded, escalated
