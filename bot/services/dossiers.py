"""Dossiers: the Union's appeals to one state body, each grouping national issues.

Staff build a dossier for a body, add issues to it, record when and how it was sent and its
reference number (its issues become "forwarded"), and later the body's response with its
documents (its issues become "response received"). Every issue's backers hear of each change
through `national_issues.move`, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.national_issues import (
    CLOSED,
    DOCUMENTS_MAX,
    RESPONSE_MAX,
    RESPONSE_MIN,
    check_document,
    move,
)
from storage.db import Database
from storage.enums import DossierStatus, IssueState
from storage.models import Dossier, NationalIssue, StateBody
from storage.types import utcnow

VIA_MIN, VIA_MAX = 2, 200
REFERENCE_MAX = 100


async def _staff(db: Database, s: AsyncSession, actor_id: int,
                 dossier_id: int | None = None) -> Dossier | None:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_manage_dossier(actor),
                        policy.Action.MANAGE_DOSSIER, dossier_id)
    if dossier_id is None:
        return None
    dossier = await s.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound(what="dossier")
    return dossier


async def _issues(s: AsyncSession, dossier_id: int) -> list[NationalIssue]:
    return list((await s.exec(select(NationalIssue).where(
        NationalIssue.dossier_id == dossier_id).order_by(
        col(NationalIssue.municipalities_count).desc(), col(NationalIssue.id)))).all())


async def _add(s: AsyncSession, dossier: Dossier, issue_id: int) -> None:
    if dossier.status != DossierStatus.DRAFT:
        raise InvalidState("dossier_sent")
    issue = await s.get(NationalIssue, issue_id)
    if issue is None:
        raise NotFound(what="issue")
    if IssueState(issue.state) in CLOSED:
        raise InvalidState("issue_closed")
    if issue.dossier_id is not None and issue.dossier_id != dossier.id:
        previous = await s.get(Dossier, issue.dossier_id)
        if previous is not None and previous.status != DossierStatus.DRAFT:
            raise InvalidState("issue_in_dossier", dossier=issue.dossier_id)
    issue.dossier_id = dossier.id
    if issue.state_body_id is None:
        issue.state_body_id = dossier.state_body_id


async def create_dossier(db: Database, actor_id: int, state_body_id: int,
                         issue_ids: Sequence[int] = ()) -> Dossier:
    """A new appeal to one state body, with its first issues if given (all in one
    transaction: a refused issue leaves no empty dossier behind)."""
    async with db.transaction() as s:
        await _staff(db, s, actor_id)
        body = await s.get(StateBody, state_body_id)
        if body is None or not body.active:
            raise InvalidInput("issue_body")
        dossier = Dossier(state_body_id=state_body_id, status=DossierStatus.DRAFT,
                          created_by_id=actor_id)
        s.add(dossier)
        await s.flush()
        for issue_id in issue_ids:
            await _add(s, dossier, issue_id)
        audit.record(s, actor_id, "dossier_created", "dossier", dossier.id,
                     state_body_id=state_body_id, issues=list(issue_ids))
        return dossier


async def add_to_dossier(db: Database, actor_id: int, dossier_id: int,
                         issue_id: int) -> Dossier:
    """Put an issue into a dossier that has not been sent (moving it out of another unsent
    one); an issue without a body takes the dossier's."""
    async with db.transaction() as s:
        dossier = await _staff(db, s, actor_id, dossier_id)
        assert dossier is not None
        await _add(s, dossier, issue_id)
        audit.record(s, actor_id, "dossier_issue_added", "dossier", dossier_id,
                     issue_id=issue_id)
        return dossier


async def record_sent(db: Database, actor_id: int, dossier_id: int, sent_via: str,
                      reference_number: str, sent_at: datetime | None = None) -> Dossier:
    """The appeal went to the body: how, when and under which reference number. Its issues
    that were new or under review become forwarded, and their backers hear of it."""
    via = " ".join(sent_via.split())
    if not VIA_MIN <= len(via) <= VIA_MAX:
        raise InvalidInput("dossier_via", limit=VIA_MAX)
    reference = " ".join(reference_number.split())
    if not 1 <= len(reference) <= REFERENCE_MAX:
        raise InvalidInput("dossier_reference", limit=REFERENCE_MAX)
    if sent_at is not None and sent_at > utcnow():
        raise InvalidInput("dossier_date")
    async with db.transaction() as s:
        dossier = await _staff(db, s, actor_id, dossier_id)
        assert dossier is not None
        if dossier.status != DossierStatus.DRAFT:
            raise InvalidState("dossier_sent")
        issues = await _issues(s, dossier_id)
        if not issues:
            raise InvalidState("dossier_empty")
        dossier.status = DossierStatus.SENT
        dossier.sent_via = via
        dossier.reference_number = reference
        dossier.sent_at = sent_at or utcnow()
        for issue in issues:
            if IssueState(issue.state) in (IssueState.NEW, IssueState.UNDER_REVIEW):
                issue.state_body_id = dossier.state_body_id
                await move(s, actor_id, issue, IssueState.FORWARDED, dossier_id=dossier_id)
        audit.record(s, actor_id, "dossier_sent", "dossier", dossier_id, reference=reference)
        return dossier


async def record_dossier_response(db: Database, actor_id: int, dossier_id: int, text: str,
                                  documents: list[dict[str, Any]] | None = None) -> Dossier:
    """The body answered: the text and documents are kept, and every forwarded issue of the
    dossier becomes "response received" with the answer told to its backers."""
    answer = text.strip()
    if not RESPONSE_MIN <= len(answer) <= RESPONSE_MAX:
        raise InvalidInput("response_length", limit=RESPONSE_MAX)
    docs = list(documents or [])
    if len(docs) > DOCUMENTS_MAX:
        raise InvalidInput("issue_documents", limit=DOCUMENTS_MAX)
    checked = [{"file_id": str(d["file_id"]),
                **check_document(d.get("name"), d.get("size"), d.get("mime"))} for d in docs]
    async with db.transaction() as s:
        dossier = await _staff(db, s, actor_id, dossier_id)
        assert dossier is not None
        if dossier.status != DossierStatus.SENT:
            raise InvalidState("dossier_not_sent")
        dossier.status = DossierStatus.ANSWERED
        dossier.response_text = answer
        dossier.response_documents = checked
        dossier.response_at = utcnow()
        for issue in await _issues(s, dossier_id):
            if issue.state == IssueState.FORWARDED:
                issue.response_text = answer
                await move(s, actor_id, issue, IssueState.RESPONDED, dossier_id=dossier_id)
        audit.record(s, actor_id, "dossier_answered", "dossier", dossier_id)
        return dossier


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DossierView:
    dossier: Dossier
    body: str
    issues: list[NationalIssue]


async def view(db: Database, actor_id: int, dossier_id: int, lang: str) -> DossierView:
    async with db.read() as s:
        dossier = await _staff(db, s, actor_id, dossier_id)
        assert dossier is not None
        body = await s.get(StateBody, dossier.state_body_id)
        return DossierView(dossier, body.name(lang) if body else "—",
                           await _issues(s, dossier_id))


async def recent(db: Database, actor_id: int, lang: str, *, drafts_only: bool = False,
                 state_body_id: int | None = None, limit: int = 15) -> list[DossierView]:
    async with db.read() as s:
        await _staff(db, s, actor_id)
        query = select(Dossier).order_by(col(Dossier.id).desc()).limit(limit)
        if drafts_only:
            query = query.where(Dossier.status == DossierStatus.DRAFT)
        if state_body_id is not None:
            query = query.where(Dossier.state_body_id == state_body_id)
        found = []
        for d in (await s.exec(query)).all():
            assert d.id is not None
            body = await s.get(StateBody, d.state_body_id)
            found.append(DossierView(d, body.name(lang) if body else "—",
                                     await _issues(s, d.id)))
        return found
