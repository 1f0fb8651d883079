"""A member's rights over their data (the Kyrgyz law "On personal information"): download it all,
or delete the account.

`export_my_data` builds one ZIP with the same records twice: `birge-data.json` for machines and
`birge-data.xlsx` (one sheet a section) for people. Each kind of record is a *section* registered
with `@export_section("name")`; a feature that keeps something about a member registers its own
(surveys, events …) and the export picks it up without a change here.

`delete_account` is the one way an account goes: only its owner can do it (a button carries the
member id, the service compares it with the acting member), it runs in one transaction and is
audited without personal details. The row stays — with every personal field erased — so what the
member gave others (answers, co-signatures, comments) stays, shown as "a former member". Their
legal cases stay for the Union's retention period and are then erased by `erase_expired_cases`
(the scheduled job in `bot/jobs/privacy.py`).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, inspect, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, cache, policy, sheets
from bot.services.errors import InvalidState, NotFound
from storage.db import Database
from storage.enums import MemberStatus, OutboxStatus
from storage.models import (
    Answer,
    AuditLog,
    BroadcastResponse,
    Community,
    CommunityMembership,
    DirectMessage,
    District,
    FsmRecord,
    GroupMember,
    GroupModerator,
    IssueCosign,
    LegalCase,
    LegalCaseEvent,
    LegalDocument,
    Member,
    MemberBlock,
    MemberSettings,
    Municipality,
    NationalIssue,
    Outbox,
    Question,
    Region,
    RoleAssignment,
    SendPace,
    Survey,
    SurveyResponse,
    TopicGroup,
)
from storage.types import utcnow

Rows = list[dict[str, Any]]
Section = Callable[[AsyncSession, int], Awaitable[Rows]]
_SECTIONS: dict[str, Section] = {}

DEFAULT_RETENTION_DAYS = 3 * 365
ERASED = "[erased]"


def export_section(name: str) -> Callable[[Section], Section]:
    """Register a section of "download my data": `fn(session, member_id)` returns its rows."""
    def register(fn: Section) -> Section:
        _SECTIONS[name] = fn
        return fn

    return register


def sections() -> list[str]:
    _load_feature_sections()
    return list(_SECTIONS)


def _load_feature_sections() -> None:
    """Features that keep member data elsewhere register their sections on import."""
    import importlib

    for module in ("bot.services.events", "bot.services.library"):
        try:
            importlib.import_module(module)
        except ImportError:
            continue


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.loads(json.dumps(value, default=str))
    return value


def _row(obj: Any, *fields: str, **extra: Any) -> dict[str, Any]:
    out = {f: _plain(getattr(obj, f)) for f in fields}
    out.update({k: _plain(v) for k, v in extra.items()})
    return out


# --- the sections ----------------------------------------------------------------------------


@export_section("profile")
async def _profile(s: AsyncSession, member_id: int) -> Rows:
    m = await s.get(Member, member_id)
    if m is None:
        return []
    region = await s.get(Region, m.region_id) if m.region_id else None
    district = await s.get(District, m.district_id) if m.district_id else None
    muni = await s.get(Municipality, m.municipality_id) if m.municipality_id else None
    return [_row(m, "id", "full_name", "telegram_id", "username", "phone", "language",
                 "position", "status", "created_at", "decided_at",
                 region=region.name_ru if region else None,
                 district=district.name_ru if district else None,
                 municipality=muni.name_ru if muni else m.municipality_other)]


@export_section("consent")
async def _consent(s: AsyncSession, member_id: int) -> Rows:
    m = await s.get(Member, member_id)
    if m is None:
        return []
    return [{"consented_at": _plain(m.consent_at),
             "agreed_to": "Birge keeps the name, position, municipality, chosen communities, "
                          "language and Telegram account to connect the member with colleagues "
                          "and to send what concerns them; the Union of LSGs keeps them.",
             "legal_cases_consent": "given with each legal request (see legal_cases)"}]


@export_section("roles")
async def _roles(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(RoleAssignment).where(
        RoleAssignment.member_id == member_id))).all()
    return [_row(r, "role", "community_id", "district_id", "created_at") for r in rows]


@export_section("communities")
async def _communities(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(Community, CommunityMembership.joined_at).join(
        CommunityMembership, col(CommunityMembership.community_id) == Community.id).where(
        CommunityMembership.member_id == member_id))).all()
    return [{"community": c.name_ru, "joined_at": _plain(joined)} for c, joined in rows]


@export_section("questions")
async def _questions(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(Question, TopicGroup.name_ru).join(
        TopicGroup, col(TopicGroup.id) == Question.group_id).where(
        Question.asker_id == member_id).order_by(col(Question.id)))).all()
    return [_row(q, "id", "text", "anonymous", "status", "created_at", group=group,
                 files=len(q.attachments)) for q, group in rows]


@export_section("answers")
async def _answers(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(Answer).where(Answer.author_id == member_id)
                         .order_by(col(Answer.id)))).all()
    return [_row(a, "id", "question_id", "text", "is_follow_up", "useful_count", "created_at")
            for a in rows]


@export_section("legal_cases")
async def _legal(s: AsyncSession, member_id: int) -> Rows:
    cases = (await s.exec(select(LegalCase).where(LegalCase.requester_id == member_id)
                          .order_by(col(LegalCase.id)))).all()
    out = []
    for c in cases:
        events = (await s.exec(select(LegalCaseEvent).where(LegalCaseEvent.case_id == c.id)
                               .order_by(col(LegalCaseEvent.id)))).all()
        out.append(_row(c, "id", "category", "summary", "act", "deadline", "status",
                        "created_at", "consent_at", "closed_at", "rating", "rating_comment",
                        "publish_consent",
                        messages=[_row(e, "kind", "text", "created_at",
                                       by_me=e.author_id == member_id) for e in events]))
    return out


@export_section("national_issues")
async def _issues(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(NationalIssue).where(NationalIssue.author_id == member_id)
                         .order_by(col(NationalIssue.id)))).all()
    return [_row(i, "id", "title", "topic", "problem", "cause", "solution", "state",
                 "restricted", "created_at") for i in rows]


@export_section("cosignatures")
async def _cosigns(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(IssueCosign, NationalIssue.title).join(
        NationalIssue, col(NationalIssue.id) == IssueCosign.issue_id).where(
        IssueCosign.member_id == member_id).order_by(col(IssueCosign.id)))).all()
    return [_row(c, "issue_id", "comment", "created_at", issue=title) for c, title in rows]


@export_section("comments")
async def _comments(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(BroadcastResponse).where(
        BroadcastResponse.member_id == member_id).order_by(col(BroadcastResponse.id)))).all()
    return [_row(r, "broadcast_id", "kind", "text", "created_at") for r in rows]


@export_section("survey_answers")
async def _survey_answers(s: AsyncSession, member_id: int) -> Rows:
    """Answers to surveys given under the member's name (anonymous ones carry no member)."""
    rows = (await s.exec(select(SurveyResponse, Survey.title_ru).join(
        Survey, col(Survey.id) == SurveyResponse.survey_id).where(
        SurveyResponse.member_id == member_id).order_by(col(SurveyResponse.id)))).all()
    return [_row(r, "survey_id", "answers", "created_at", "submitted_at", survey=title)
            for r, title in rows]


@export_section("messages")
async def _messages(s: AsyncSession, member_id: int) -> Rows:
    rows = (await s.exec(select(DirectMessage).where(or_(
        col(DirectMessage.sender_id) == member_id, col(DirectMessage.recipient_id) == member_id))
        .order_by(col(DirectMessage.id)))).all()
    return [_row(m, "id", "text", "created_at",
                 direction="sent" if m.sender_id == member_id else "received",
                 other_member_id=m.recipient_id if m.sender_id == member_id else m.sender_id)
            for m in rows]


@export_section("settings")
async def _settings(s: AsyncSession, member_id: int) -> Rows:
    row = await s.get(MemberSettings, member_id)
    if row is None:
        return []
    return [_row(row, "digest_frequency", "digest_weekday", "digest_hour", "quiet_hours",
                 "muted", "directory_hidden", "show_username", "show_phone")]


# --- download my data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    counts: dict[str, int]


def _xlsx(data: dict[str, Rows]) -> bytes:
    """One sheet a section: its columns, then its rows (written directly, see sheets.py)."""
    tables: dict[str, list[list[Any]]] = {}
    for name, rows in data.items():
        headers: list[str] = []
        for row in rows:
            headers += [k for k in row if k not in headers]
        if not headers:
            tables[name] = [["(none)"]]
            continue
        tables[name] = [headers, *([_cell(row.get(h)) for h in headers] for row in rows)]
    return sheets.workbook(tables)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


async def export_my_data(db: Database, actor_id: int, member_id: int) -> Export:
    """Everything Birge keeps about the member, as a ZIP (JSON and XLSX); only for themselves."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, actor_id == member_id and actor.status in (
            MemberStatus.ACTIVE, MemberStatus.PENDING), policy.Action.EXPORT_OWN_DATA,
            member_id)
        data: dict[str, Rows] = {}
        for name in sections():
            data[name] = await _SECTIONS[name](s, member_id)
    payload = json.dumps({"exported_at": _plain(utcnow()), "member_id": member_id, **data},
                         ensure_ascii=False, indent=2, default=str)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("birge-data.json", payload)
        z.writestr("birge-data.xlsx", _xlsx(data))
    async with db.transaction() as s:
        audit.record(s, actor_id, "data_exported", "member", member_id)
    return Export("birge-my-data.zip", out.getvalue(), {k: len(v) for k, v in data.items()})


# --- delete my account -----------------------------------------------------------------------


def _scrub(value: Any, secrets: set[str], numbers: set[int]) -> Any:
    if isinstance(value, str):
        return ERASED if any(x in value.casefold() for x in secrets) else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return ERASED if value in numbers else value
    if isinstance(value, list):
        return [_scrub(v, secrets, numbers) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets, numbers) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Deleted:
    member_id: int
    legal_cases_kept: int


async def delete_account(db: Database, actor_id: int, member_id: int) -> Deleted:
    """Erase the member's personal data, unlist and unreach them; keep what they gave others as
    "a former member". Only the member themselves; a second call is refused (InvalidState)."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        member = await s.get(Member, member_id)
        if member is None:
            raise NotFound(what="member")
        if member.status == MemberStatus.DELETED and actor_id == member_id:
            raise InvalidState("already_deleted")
        await policy.ensure(db, actor, policy.can_delete_account(actor, member_id),
                            policy.Action.DELETE_ACCOUNT, member_id)
        secrets = {x.casefold() for x in (member.full_name, member.username, member.phone)
                   if x and len(x) >= 3}
        numbers = {member.telegram_id} if member.telegram_id else set()
        telegram_id = member.telegram_id
        # Whatever shows who they are, or lets anyone reach or list them.
        member.full_name = ""
        member.telegram_id = None
        member.username = None
        member.phone = None
        member.municipality_other = None
        member.region_id = member.district_id = member.municipality_id = None
        member.consent_at = None
        member.reachable = False
        member.status = MemberStatus.DELETED
        member.deleted_at = utcnow()
        for model, column in ((CommunityMembership, CommunityMembership.member_id),
                              (RoleAssignment, RoleAssignment.member_id),
                              (GroupMember, GroupMember.member_id),
                              (GroupModerator, GroupModerator.member_id),
                              (MemberSettings, MemberSettings.member_id)):
            await s.exec(delete(model).where(col(column) == member_id))
        cache.touch(s.sync_session, "group_member")  # the groups' follower counts
        # Nothing more reaches them (what was sent stays counted in broadcast reports).
        await s.exec(delete(Outbox).where(
            col(Outbox.member_id) == member_id, col(Outbox.status) == OutboxStatus.PENDING))
        await s.exec(delete(MemberBlock).where(or_(
            col(MemberBlock.member_id) == member_id, col(MemberBlock.blocked_id) == member_id)))
        mine = or_(col(DirectMessage.sender_id) == member_id,
                   col(DirectMessage.recipient_id) == member_id)
        ids = select(DirectMessage.id).where(mine)
        await s.exec(update(DirectMessage).where(
            col(DirectMessage.reply_to_id).in_(ids)).values(reply_to_id=None))
        await s.exec(delete(DirectMessage).where(mine))
        if telegram_id is not None:
            # Conversation state is keyed by the Telegram account (bot:chat:user:...).
            await s.exec(delete(FsmRecord).where(
                col(FsmRecord.key).contains(f":{telegram_id}:")))
            # The shared send rate keeps a row per chat, keyed by the chat (= Telegram) id.
            await s.exec(delete(SendPace).where(col(SendPace.key) == telegram_id))
        # The audit trail keeps what happened, not who it was.
        rows = (await s.exec(select(AuditLog).where(or_(
            col(AuditLog.actor_id) == member_id,
            (col(AuditLog.target_type) == "member") & (col(AuditLog.target_id) == member_id),
        )))).all()
        for row in rows:
            cleaned = _scrub(row.details, secrets, numbers)
            if cleaned != row.details:
                row.details = cleaned
        cache.touch(s.sync_session, "member")
        cache.touch(s.sync_session, "role_assignment")
        cache.touch(s.sync_session, "community_membership")
        kept = len((await s.exec(select(LegalCase.id).where(
            LegalCase.requester_id == member_id))).all())
        audit.record(s, member_id, "account_deleted", "member", member_id, legal_cases=kept)
        return Deleted(member_id, kept)


async def erase_expired_cases(db: Database, now: datetime, retention_days: int) -> int:
    """Erase the legal cases of deleted members once the retention period has passed."""
    cutoff = now - timedelta(days=retention_days)
    async with db.transaction() as s:
        ids = list((await s.exec(select(LegalCase.id).join(
            Member, col(Member.id) == LegalCase.requester_id).where(
            Member.status == MemberStatus.DELETED, col(Member.deleted_at) <= cutoff))).all())
        if not ids:
            return 0
        await s.exec(delete(LegalDocument).where(
            col(LegalDocument.case_id).in_(ids)))
        await s.exec(delete(LegalCaseEvent).where(
            col(LegalCaseEvent.case_id).in_(ids)))
        await s.exec(delete(LegalCase).where(col(LegalCase.id).in_(ids)))
        audit.record(s, None, "legal_cases_erased", "legal_case", None, count=len(ids))
        return len(ids)


async def table_exists(s: AsyncSession, name: str) -> bool:
    conn = await s.connection()
    return bool(await conn.run_sync(lambda c: inspect(c).has_table(name)))
