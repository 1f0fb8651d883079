"""State-body liaisons answer for themselves.

A liaison is linked to one state body (`assign_body`, by staff). They see the national issues and
dossiers addressed to that body — never restricted (sensitive) issues — record the body's
response with documents and its reference number, and may ask the Union for clarification.
Every backer hears a response exactly as when staff record it (`national_issues.move`). Staff
still triage and may correct a recorded response. Every id a button carries is checked here
against the liaison's own body (`policy.can_liaison_see`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, notify, policy, roles
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.national_issues import backer_ids, check_document, move
from storage.db import Database
from storage.enums import DossierStatus, IssueState, MemberStatus, Position, Role
from storage.models import (
    Dossier,
    LiaisonReply,
    Member,
    NationalIssue,
    RoleAssignment,
    StateBody,
    StateLiaison,
)
from storage.types import utcnow

TEXT_MIN, TEXT_MAX = 2, 4000
REFERENCE_MAX = 100
DOCUMENTS_MAX = 10
KINDS = ("issue", "dossier")
OUTBOX_CLARIFY = "liaison_clarification"
OUTBOX_RESPONSE = "liaison_response"  # to staff: the response card, with Correct
OUTBOX_CORRECTED = "liaison_corrected"  # to everyone behind the issue
OUTBOX_ANSWER = "liaison_answer"  # to a liaison: the Union's answer to their question
VISIBLE_ISSUE_STATES = (IssueState.FORWARDED, IssueState.RESPONDED, IssueState.RESOLVED)


async def assign_body(db: Database, actor_id: int, member_id: int, state_body_id: int) -> None:
    """Staff make an active member the liaison of a state body (granting the liaison role when
    they do not hold it yet), or move a liaison to another body."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_roles(actor),
                            policy.Action.MANAGE_ROLES, member_id)
        member = await s.get(Member, member_id)
        body = await s.get(StateBody, state_body_id)
        if member is None or member.status != MemberStatus.ACTIVE or body is None \
                or not body.active:
            raise InvalidInput("liaison_body")
        held = (await s.exec(select(RoleAssignment.id).where(
            RoleAssignment.member_id == member_id,
            RoleAssignment.role == Role.STATE_LIAISON))).first()
        if held is None:
            s.add(RoleAssignment(member_id=member_id, role=Role.STATE_LIAISON,
                                 granted_by_id=actor_id))
            audit.record(s, actor_id, "role_granted", "member", member_id,
                         role=str(Role.STATE_LIAISON))
        row = await s.get(StateLiaison, member_id)
        if row is None:
            s.add(StateLiaison(member_id=member_id, state_body_id=state_body_id))
        else:
            row.state_body_id = state_body_id
        audit.record(s, actor_id, "liaison_body", "member", member_id,
                     payload={"body": state_body_id})


async def unassign_body(db: Database, actor_id: int, member_id: int) -> bool:
    """Staff unlink a liaison from their state body; they stop being a liaison. False when
    they were not one."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_roles(actor),
                            policy.Action.MANAGE_ROLES, member_id)
        row = await s.get(StateLiaison, member_id)
        grants = (await s.exec(select(RoleAssignment).where(
            RoleAssignment.member_id == member_id,
            RoleAssignment.role == Role.STATE_LIAISON))).all()
        if row is None and not grants:
            return False
        if row is not None:
            await s.delete(row)
        for grant in grants:
            await s.delete(grant)
        audit.record(s, actor_id, "liaison_unlinked", "member", member_id)
    return True


ROSTER_PAGE = 8


@dataclass(frozen=True)
class Liaison:
    """A member staff may link to a state body: a liaison, or someone who works in one."""

    member_id: int
    name: str
    body_id: int | None
    body: str | None


async def _roster_query(s: AsyncSession) -> list[Member]:
    liaisons_ = select(RoleAssignment.member_id).where(RoleAssignment.role == Role.STATE_LIAISON)
    return list((await s.exec(select(Member).where(
        Member.status == MemberStatus.ACTIVE,
        or_(Member.position == Position.STATE_BODY, col(Member.id).in_(liaisons_)))
        .order_by(col(Member.full_name), col(Member.id)))).all())


async def roster(db: Database, actor_id: int, lang: str) -> list[Liaison]:
    """For staff: the liaisons and the members who work in a state body, by name, each with
    the body they answer for."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_roles(actor),
                            policy.Action.MANAGE_ROLES)
        members = await _roster_query(s)
        links = {r.member_id: r.state_body_id for r in (await s.exec(select(StateLiaison))).all()}
        bodies = {b.id: b.name(lang) for b in (await s.exec(select(StateBody))).all()}
    return [Liaison(m.id or 0, m.full_name or "—", links.get(m.id or 0),
                    bodies.get(links.get(m.id or 0))) for m in members]


async def liaison(db: Database, actor_id: int, member_id: int, lang: str) -> Liaison:
    """One row of the roster (staff only); NotFound for anyone who is not on it."""
    for row in await roster(db, actor_id, lang):
        if row.member_id == member_id:
            return row
    raise NotFound(what="member")


async def body_of(s: AsyncSession, member_id: int) -> int | None:
    row = await s.get(StateLiaison, member_id)
    return row.state_body_id if row else None


async def _target(db: Database, s: AsyncSession, actor_id: int, kind: str, target_id: int
                  ) -> tuple[policy.Actor, NationalIssue | Dossier]:
    """The issue or dossier, if it is addressed to this liaison's body (else refused)."""
    if kind not in KINDS:
        raise InvalidInput("liaison_kind")
    actor = await policy.load_actor(s, actor_id)
    own = await body_of(s, actor_id)
    found: NationalIssue | Dossier | None = await s.get(
        NationalIssue if kind == "issue" else Dossier, target_id)
    if isinstance(found, NationalIssue):
        allowed = policy.can_liaison_see(actor, own, found.state_body_id, found.restricted) \
            and found.state in VISIBLE_ISSUE_STATES
    elif isinstance(found, Dossier):
        allowed = policy.can_liaison_see(actor, own, found.state_body_id, False) \
            and found.status != DossierStatus.DRAFT
    else:
        allowed = False
    await policy.ensure(db, actor, allowed, policy.Action.LIAISON_ANSWER, target_id)
    assert found is not None
    return actor, found


@dataclass(frozen=True)
class Addressed:
    body: str
    issues: list[NationalIssue]
    dossiers: list[Dossier]


async def addressed(db: Database, actor_id: int, lang: str) -> Addressed:
    """What is addressed to the liaison's body: forwarded issues (not restricted) and sent
    dossiers, newest first."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        own = await body_of(s, actor_id)
        await policy.ensure(db, actor, actor.has(Role.STATE_LIAISON) and own is not None,
                            policy.Action.LIAISON_ANSWER)
        body = await s.get(StateBody, own)
        issues = (await s.exec(select(NationalIssue).where(
            NationalIssue.state_body_id == own, col(NationalIssue.restricted).is_(False),
            col(NationalIssue.state).in_([st.value for st in VISIBLE_ISSUE_STATES]))
            .order_by(col(NationalIssue.id).desc()).limit(30))).all()
        dossiers = (await s.exec(select(Dossier).where(
            Dossier.state_body_id == own, Dossier.status != DossierStatus.DRAFT)
            .order_by(col(Dossier.id).desc()).limit(20))).all()
        return Addressed(body.name(lang) if body else "—", list(issues), list(dossiers))


async def view(db: Database, actor_id: int, kind: str, target_id: int
               ) -> NationalIssue | Dossier:
    async with db.read() as s:
        return (await _target(db, s, actor_id, kind, target_id))[1]


def _checked(text: str, reference: str | None, documents: list[dict[str, Any]] | None
             ) -> tuple[str, str | None, list[dict[str, Any]]]:
    answer = (text or "").strip()
    if not TEXT_MIN <= len(answer) <= TEXT_MAX:
        raise InvalidInput("response_length", limit=TEXT_MAX)
    number = (reference or "").strip() or None
    if number is not None and len(number) > REFERENCE_MAX:
        raise InvalidInput("liaison_reference", limit=REFERENCE_MAX)
    docs = list(documents or [])
    if len(docs) > DOCUMENTS_MAX:
        raise InvalidInput("issue_documents", limit=DOCUMENTS_MAX)
    return answer, number, [{"file_id": str(d["file_id"]), **check_document(
        d.get("name"), d.get("size"), d.get("mime"))} for d in docs]


async def check(db: Database, actor_id: int, kind: str, target_id: int) -> None:
    """Before asking the liaison for a text: may they answer this one?"""
    async with db.read() as s:
        await _target(db, s, actor_id, kind, target_id)


async def respond(db: Database, actor_id: int, kind: str, target_id: int, text: str,
                  reference: str | None = None,
                  documents: list[dict[str, Any]] | None = None) -> LiaisonReply:
    """The body's response; its backers hear it as when staff record it."""
    answer, number, docs = _checked(text, reference, documents)
    async with db.transaction() as s:
        _actor, found = await _target(db, s, actor_id, kind, target_id)
        if isinstance(found, NationalIssue):
            if found.state != IssueState.FORWARDED:
                raise InvalidState("liaison_answered")
            found.response_text = answer
            found.documents = [*found.documents, *docs]
            await move(s, actor_id, found, IssueState.RESPONDED)
        else:
            if found.status != DossierStatus.SENT:
                raise InvalidState("liaison_answered")
            found.status = DossierStatus.ANSWERED
            found.response_text = answer
            found.response_documents = docs
            found.response_at = utcnow()
            if number and not found.reference_number:
                found.reference_number = number
            for issue in (await s.exec(select(NationalIssue).where(
                    NationalIssue.dossier_id == found.id))).all():
                if issue.state == IssueState.FORWARDED:
                    issue.response_text = answer
                    await move(s, actor_id, issue, IssueState.RESPONDED, dossier_id=found.id)
        row = LiaisonReply(issue_id=target_id if kind == "issue" else None,
                           dossier_id=target_id if kind == "dossier" else None, by_id=actor_id,
                           kind="response", text=answer, reference_number=number,
                           documents=docs)
        s.add(row)
        await s.flush()
        for to in await roles.staff_ids(s):
            notify.enqueue(s, to, OUTBOX_RESPONSE, reply_id=row.id)
        audit.record(s, actor_id, "liaison_response", kind, target_id)
        return row


async def ask_clarification(db: Database, actor_id: int, kind: str, target_id: int,
                            text: str) -> LiaisonReply:
    """The liaison asks the Union a question about the issue or dossier; staff hear it."""
    answer, _number, _docs = _checked(text, None, None)
    async with db.transaction() as s:
        await _target(db, s, actor_id, kind, target_id)
        row = LiaisonReply(issue_id=target_id if kind == "issue" else None,
                           dossier_id=target_id if kind == "dossier" else None, by_id=actor_id,
                           kind="clarification", text=answer)
        s.add(row)
        await s.flush()
        for to in await roles.staff_ids(s):
            notify.enqueue(s, to, OUTBOX_CLARIFY, reply_id=row.id)
        audit.record(s, actor_id, "liaison_clarification", kind, target_id)
        return row


async def _staff_reply(db: Database, s: AsyncSession, actor_id: int, reply_id: int,
                      kind: str) -> LiaisonReply:
    """A liaison's reply of `kind` ("clarification" to answer, "response" to correct), for a
    member who may triage issues."""
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_triage_issue(actor),
                        policy.Action.TRIAGE_ISSUE, reply_id)
    row = await s.get(LiaisonReply, reply_id)
    if row is None or row.kind != kind:
        raise NotFound(what=kind)
    return row


async def check_clarification(db: Database, actor_id: int, reply_id: int) -> None:
    """Before asking staff for their answer: may they, is it a liaison's question?"""
    async with db.read() as s:
        await _staff_reply(db, s, actor_id, reply_id, "clarification")


async def answer_clarification(db: Database, actor_id: int, reply_id: int,
                               text: str) -> LiaisonReply:
    """Staff answer a liaison's request for clarification; the liaison hears it."""
    answer, _number, _docs = _checked(text, None, None)
    async with db.transaction() as s:
        asked = await _staff_reply(db, s, actor_id, reply_id, "clarification")
        row = LiaisonReply(issue_id=asked.issue_id, dossier_id=asked.dossier_id,
                           by_id=actor_id, kind="answer", text=answer)
        s.add(row)
        await s.flush()
        notify.enqueue(s, asked.by_id, OUTBOX_ANSWER, reply_id=row.id, question_id=reply_id)
        audit.record(s, actor_id, "liaison_clarified", "liaison_reply", reply_id)
        return row


async def check_correct(db: Database, actor_id: int, reply_id: int) -> LiaisonReply:
    """Before asking staff for the corrected text: may they, is it a recorded response?"""
    async with db.read() as s:
        return await _staff_reply(db, s, actor_id, reply_id, "response")


async def correct(db: Database, actor_id: int, reply_id: int, text: str) -> LiaisonReply:
    """Staff correct a liaison's recorded response (a typo, a wrong figure); everyone behind
    the issue (or the dossier's issues) hears of the correction."""
    answer, _number, _docs = _checked(text, None, None)
    async with db.transaction() as s:
        row = await _staff_reply(db, s, actor_id, reply_id, "response")
        row.text = answer
        issues: list[NationalIssue] = []
        if row.issue_id is not None:
            issue = await s.get(NationalIssue, row.issue_id)
            if issue is not None:
                issues.append(issue)
        if row.dossier_id is not None:
            dossier = await s.get(Dossier, row.dossier_id)
            if dossier is not None:
                dossier.response_text = answer
            issues += list((await s.exec(select(NationalIssue).where(
                NationalIssue.dossier_id == row.dossier_id,
                col(NationalIssue.response_text).is_not(None)))).all())
        told: set[int] = set()
        for issue in issues:
            issue.response_text = answer
            told.update(await backer_ids(s, issue))
        for to in sorted(told):
            notify.enqueue(s, to, OUTBOX_CORRECTED, reply_id=reply_id)
        audit.record(s, actor_id, "liaison_response_corrected", "liaison_reply", reply_id)
        return row


async def reply_for_notice(db: Database, reply_id: int) -> LiaisonReply | None:
    async with db.read() as s:
        return await s.get(LiaisonReply, reply_id)


@dataclass(frozen=True)
class ResponseNotice:
    """A recorded response as a notice shows it: what it answers and the body's name."""

    reply: LiaisonReply
    label: str  # "P-3 · title" or "X-2"
    body: str


async def response_for_notice(db: Database, reply_id: int, lang: str) -> ResponseNotice | None:
    async with db.read() as s:
        row = await s.get(LiaisonReply, reply_id)
        if row is None or row.kind != "response":
            return None
        target: NationalIssue | Dossier | None = await s.get(NationalIssue, row.issue_id) \
            if row.issue_id is not None else await s.get(Dossier, row.dossier_id)
        if target is None:
            return None
        body = await s.get(StateBody, target.state_body_id) if target.state_body_id else None
        label = f"P-{target.id} · {target.title}" if isinstance(target, NationalIssue) \
            else f"X-{target.id}"
        return ResponseNotice(row, label, body.name(lang) if body else "—")
