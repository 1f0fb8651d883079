"""National issues: local problems raised to the national level (the bottom-up channel).

A member raises an issue (P-12) with the problem, its cause, a proposed solution and the state
body that should act; other members co-sign it ("our municipality faces this too"), and the
issue shows how many members, municipalities, districts and regions stand behind it. Union staff
triage it: new → under review → forwarded → response received → resolved, or merged into another
issue, or declined with a reason. Every change of state is one function here and tells everyone
behind the issue (author and co-signers, once each) through the transactional outbox.
Restricted (sensitive) issues exist only for their author and the staff: for anyone else they are
"not found", never "forbidden", so their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, files, notify, policy, roles
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import AttachmentKind, IssueState, IssueTopic
from storage.models import (
    District,
    Dossier,
    IssueCosign,
    Member,
    Municipality,
    NationalIssue,
    StateBody,
)
from storage.types import utcnow

TITLE_MIN, TITLE_MAX = 5, 200
TEXT_MIN, TEXT_MAX = 10, 3000
COMMENT_MAX = 1000
REASON_MIN, REASON_MAX = 3, 1000
RESPONSE_MIN, RESPONSE_MAX = 2, 4000
DOCUMENTS_MAX = 10
PER_PAGE = 8
OUTBOX_STATE = "issue_state"
OUTBOX_RAISED = "issue_raised"

# Which state each change may start from.
TRANSITIONS: dict[IssueState, frozenset[IssueState]] = {
    IssueState.UNDER_REVIEW: frozenset({IssueState.NEW}),
    IssueState.FORWARDED: frozenset({IssueState.NEW, IssueState.UNDER_REVIEW}),
    IssueState.RESPONDED: frozenset({IssueState.FORWARDED}),
    IssueState.RESOLVED: frozenset({IssueState.UNDER_REVIEW, IssueState.FORWARDED,
                                    IssueState.RESPONDED}),
    IssueState.DECLINED: frozenset({IssueState.NEW, IssueState.UNDER_REVIEW}),
    IssueState.MERGED: frozenset({IssueState.NEW, IssueState.UNDER_REVIEW}),
}
CLOSED = frozenset({IssueState.RESOLVED, IssueState.DECLINED, IssueState.MERGED})


@dataclass
class IssueDraft:
    title: str
    topic: IssueTopic | str
    problem: str
    solution: str
    cause: str | None = None
    state_body_id: int | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    restricted: bool = False


@dataclass(frozen=True)
class Backing:
    """Who stands behind an issue: its author and co-signers."""

    members: int
    municipalities: int
    districts: int
    regions: int


def backing_of(issue: NationalIssue) -> Backing:
    return Backing(issue.members_count, issue.municipalities_count, issue.districts_count,
                   issue.regions_count)


# --- input -----------------------------------------------------------------------------------


def check_document(name: str | None, size: int | None, mime: str | None) -> dict[str, Any]:
    """A document a member attaches, as stored (Telegram's file id is added by the caller);
    refused by `files.check_file` when Birge does not keep it."""
    clean = files.check_file(name, mime, size)
    return {"name": clean, "size": int(size or 0), "mime": (mime or "")[:100]}


def clean_title(text: str) -> str:
    title = " ".join(text.split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput("issue_title", limit=TITLE_MAX)
    return title


def clean_text(text: str | None, *, optional: bool = False) -> str | None:
    cleaned = (text or "").strip()
    if optional and not cleaned:
        return None
    if not TEXT_MIN <= len(cleaned) <= TEXT_MAX:
        raise InvalidInput("issue_text", limit=TEXT_MAX)
    return cleaned


def _clean_bounded(text: str | None, low: int, high: int, code: str) -> str:
    cleaned = (text or "").strip()
    if not low <= len(cleaned) <= high:
        raise InvalidInput(code, limit=high)
    return cleaned


def _clean(draft: IssueDraft) -> IssueDraft:
    if str(draft.topic) not in {t.value for t in IssueTopic}:
        raise InvalidInput("issue_topic")
    if len(draft.documents) > DOCUMENTS_MAX:
        raise InvalidInput("issue_documents", limit=DOCUMENTS_MAX)
    documents = []
    for doc in draft.documents:
        if not doc.get("file_id"):
            raise InvalidInput("file_type", types=files.TYPES)
        checked = check_document(doc.get("name"), doc.get("size"), doc.get("mime"))
        kind = {"kind": doc["kind"]} if doc.get("kind") in {k.value for k in AttachmentKind} else {}
        documents.append({"file_id": str(doc["file_id"])[:200], **checked, **kind})
    return IssueDraft(
        title=clean_title(draft.title), topic=IssueTopic(draft.topic),
        problem=clean_text(draft.problem) or "", solution=clean_text(draft.solution) or "",
        cause=clean_text(draft.cause, optional=True), state_body_id=draft.state_body_id,
        documents=documents, restricted=bool(draft.restricted))


# --- places and counts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    municipality_id: int | None
    municipality_other: str | None
    district_id: int | None
    region_id: int | None

    @property
    def municipality_key(self) -> tuple[str, object] | None:
        if self.municipality_id is not None:
            return ("id", self.municipality_id)
        if self.municipality_other:
            return ("other", " ".join(self.municipality_other.casefold().split()))
        return None


async def _place_of(s: AsyncSession, member: Member) -> Place:
    """A member's place from their profile; the region follows the district when there is one."""
    region_id = member.region_id
    if member.district_id is not None:
        district = await s.get(District, member.district_id)
        if district is not None:
            region_id = district.region_id
    return Place(member.municipality_id, member.municipality_other, member.district_id,
                 region_id)


def _issue_place(issue: NationalIssue) -> Place:
    return Place(issue.municipality_id, issue.municipality_other, issue.district_id,
                 issue.region_id)


def _cosign_place(c: IssueCosign) -> Place:
    return Place(c.municipality_id, c.municipality_other, c.district_id, c.region_id)


async def _cosigns(s: AsyncSession, issue_id: int) -> list[IssueCosign]:
    return list((await s.exec(select(IssueCosign).where(IssueCosign.issue_id == issue_id)
                              .order_by(col(IssueCosign.id)))).all())


async def _backer_places(s: AsyncSession, issue: NationalIssue) -> dict[int, Place]:
    """Member id → place, for the author and every co-signer (each member once)."""
    assert issue.id is not None
    places = {issue.author_id: _issue_place(issue)}
    for c in await _cosigns(s, issue.id):
        places.setdefault(c.member_id, _cosign_place(c))
    return places


def count(places: Iterable[Place]) -> Backing:
    found = list(places)
    return Backing(
        members=len(found),
        municipalities=len({k for p in found if (k := p.municipality_key) is not None}),
        districts=len({p.district_id for p in found if p.district_id is not None}),
        regions=len({p.region_id for p in found if p.region_id is not None}),
    )


async def _recount(s: AsyncSession, issue: NationalIssue) -> Backing:
    backing = count((await _backer_places(s, issue)).values())
    issue.members_count = backing.members
    issue.municipalities_count = backing.municipalities
    issue.districts_count = backing.districts
    issue.regions_count = backing.regions
    return backing


async def recount(s: AsyncSession, issue: NationalIssue) -> Backing:
    """Recompute an issue's backing counts (after municipalities were merged)."""
    return await _recount(s, issue)


# --- loading with the visibility rule -----------------------------------------------------------


async def _load(s: AsyncSession, issue_id: int) -> NationalIssue:
    issue = await s.get(NationalIssue, issue_id)
    if issue is None:
        raise NotFound(what="issue")
    return issue


async def _visible(db: Database, s: AsyncSession, actor: policy.Actor,
                   issue_id: int) -> NationalIssue:
    """The issue if this actor may see it; a restricted one is "not found" to anyone else."""
    issue = await _load(s, issue_id)
    if not policy.can_view_issue(actor, issue.author_id, issue.restricted):
        await audit.record_denied(db, actor.member_id, str(policy.Action.VIEW_ISSUE), issue_id)
        raise NotFound(what="issue")
    return issue


async def _as_staff(db: Database, s: AsyncSession, actor_id: int,
                    issue_id: int) -> NationalIssue:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_triage_issue(actor), policy.Action.TRIAGE_ISSUE,
                        issue_id)
    return await _load(s, issue_id)


# --- raising and co-signing ----------------------------------------------------------------------


async def raise_issue(db: Database, actor_id: int, draft: IssueDraft) -> NationalIssue:
    """A member raises a problem; their municipality and district come from their profile.
    The Union staff are told there is a new issue to triage."""
    draft = _clean(draft)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_raise_issue(actor), policy.Action.RAISE_ISSUE)
        member = await s.get(Member, actor_id)
        assert member is not None
        if draft.state_body_id is not None:
            body = await s.get(StateBody, draft.state_body_id)
            if body is None or not body.active:
                raise InvalidInput("issue_body")
        place = await _place_of(s, member)
        issue = NationalIssue(
            title=draft.title, topic=draft.topic, problem=draft.problem, cause=draft.cause,
            solution=draft.solution, state_body_id=draft.state_body_id,
            documents=draft.documents, restricted=draft.restricted, state=IssueState.NEW,
            author_id=actor_id, municipality_id=place.municipality_id,
            municipality_other=place.municipality_other, district_id=place.district_id,
            region_id=place.region_id,
        )
        s.add(issue)
        await s.flush()
        assert issue.id is not None
        await _recount(s, issue)
        for staff_id in sorted(set(await roles.staff_ids(s)) - {actor_id}):
            notify.enqueue(s, staff_id, OUTBOX_RAISED, issue_id=issue.id)
        audit.record(s, actor_id, "issue_raised", "national_issue", issue.id,
                     restricted=draft.restricted)
        return issue


async def cosign(db: Database, actor_id: int, issue_id: int,
                 comment: str | None = None) -> Backing:
    """"Our municipality faces this too": once per member, never by the author."""
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise InvalidInput("cosign_comment", limit=COMMENT_MAX)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        issue = await _visible(db, s, actor, issue_id)
        if issue.author_id == actor_id:
            raise InvalidState("own_issue")
        await policy.ensure(db, actor, policy.can_cosign_issue(actor, issue.author_id,
                                                               issue.restricted),
                            policy.Action.COSIGN_ISSUE, issue_id)
        if IssueState(issue.state) in CLOSED:
            raise InvalidState("issue_closed")
        already = (await s.exec(select(IssueCosign.id).where(
            IssueCosign.issue_id == issue_id, IssueCosign.member_id == actor_id))).first()
        if already is not None:
            raise InvalidState("already_cosigned")
        member = await s.get(Member, actor_id)
        assert member is not None
        place = await _place_of(s, member)
        s.add(IssueCosign(issue_id=issue_id, member_id=actor_id, comment=text,
                          municipality_id=place.municipality_id,
                          municipality_other=place.municipality_other,
                          district_id=place.district_id, region_id=place.region_id))
        await s.flush()
        backing = await _recount(s, issue)
        audit.record(s, actor_id, "issue_cosigned", "national_issue", issue_id)
        return backing


# --- triage: one function per change of state ---------------------------------------------------


async def backer_ids(s: AsyncSession, issue: NationalIssue) -> list[int]:
    return sorted(await _backer_places(s, issue))


async def move(s: AsyncSession, actor_id: int, issue: NationalIssue, to: IssueState,
               **details: Any) -> None:
    """Change the state (if the transition is allowed) and tell everyone behind the issue,
    each once, in the same transaction. Shared by this module and `dossiers`."""
    current = IssueState(issue.state)
    if current not in TRANSITIONS[to]:
        raise InvalidState("issue_state", state=current.value)
    issue.state = to
    issue.state_changed_at = utcnow()
    assert issue.id is not None
    for member_id in await backer_ids(s, issue):
        notify.enqueue(s, member_id, OUTBOX_STATE, issue_id=issue.id, state=to.value,
                       **details)
    audit.record(s, actor_id, f"issue_{to.value}", "national_issue", issue.id, payload=details)


async def check_triage(db: Database, actor_id: int, issue_id: int) -> NationalIssue:
    """Before asking staff for a reason, a target or a response: may they, on this issue?"""
    async with db.read() as s:
        return await _as_staff(db, s, actor_id, issue_id)


async def start_review(db: Database, actor_id: int, issue_id: int) -> NationalIssue:
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        await move(s, actor_id, issue, IssueState.UNDER_REVIEW)
        return issue


async def forward(db: Database, actor_id: int, issue_id: int,
                  state_body_id: int | None = None) -> NationalIssue:
    """Carried to a state body without a dossier (a dossier's `record_sent` forwards its
    issues itself)."""
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        body_id = state_body_id or issue.state_body_id
        if body_id is None or await s.get(StateBody, body_id) is None:
            raise InvalidInput("issue_body")
        issue.state_body_id = body_id
        await move(s, actor_id, issue, IssueState.FORWARDED)
        return issue


async def record_response(db: Database, actor_id: int, issue_id: int,
                          text: str) -> NationalIssue:
    """The state body's answer to this one issue."""
    answer = _clean_bounded(text, RESPONSE_MIN, RESPONSE_MAX, "response_length")
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        issue.response_text = answer
        await move(s, actor_id, issue, IssueState.RESPONDED)
        return issue


async def resolve(db: Database, actor_id: int, issue_id: int) -> NationalIssue:
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        await move(s, actor_id, issue, IssueState.RESOLVED)
        return issue


async def decline(db: Database, actor_id: int, issue_id: int, reason: str) -> NationalIssue:
    why = _clean_bounded(reason, REASON_MIN, REASON_MAX, "reason_length")
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        issue.decline_reason = why
        await move(s, actor_id, issue, IssueState.DECLINED)
        return issue


async def merge(db: Database, actor_id: int, issue_id: int, target_id: int) -> Backing:
    """Merge an issue into another: its author and co-signers stand behind the target from now
    on (a member already behind the target counts once), the merged issue points to the
    target, and everyone behind the merged issue is told where it went. Returns the target's
    new backing."""
    async with db.transaction() as s:
        issue = await _as_staff(db, s, actor_id, issue_id)
        target = await s.get(NationalIssue, target_id)
        # A public issue never goes into a restricted one: its backers would be told of it.
        if (target is None or target_id == issue_id
                or IssueState(target.state) in CLOSED
                or (target.restricted and not issue.restricted)):
            raise InvalidState("merge_target")
        behind_target = set(await _backer_places(s, target))
        carried: list[tuple[int, Place, str | None]] = [
            (issue.author_id, _issue_place(issue), None)]
        carried += [(c.member_id, _cosign_place(c), c.comment)
                    for c in await _cosigns(s, issue_id)]
        added = 0
        for member_id, place, comment in carried:
            if member_id in behind_target:
                continue
            behind_target.add(member_id)
            s.add(IssueCosign(issue_id=target_id, member_id=member_id, comment=comment,
                              municipality_id=place.municipality_id,
                              municipality_other=place.municipality_other,
                              district_id=place.district_id, region_id=place.region_id,
                              carried_from_id=issue_id))
            added += 1
        issue.merged_into_id = target_id
        await move(s, actor_id, issue, IssueState.MERGED, target_id=target_id)
        await s.flush()
        backing = await _recount(s, target)
        audit.record(s, actor_id, "issue_merge_carried", "national_issue", target_id,
                     source=issue_id, added=added)
        return backing


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    body: int | None = None
    region: int | None = None
    topic: str | None = None
    newest: bool = False  # newest first instead of most municipalities first


@dataclass(frozen=True)
class Listed:
    issues: list[NationalIssue]
    total: int


async def list_issues(db: Database, actor_id: int, filters: Filters = Filters(),
                      page: int = 0, per_page: int = PER_PAGE) -> Listed:
    """The issues this member may see, most municipalities affected first (or newest first).
    Merged issues are listed only when asked for by state."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if not actor.active:
            return Listed([], 0)
        query = select(NationalIssue)
        if not actor.is_staff:
            query = query.where(or_(col(NationalIssue.restricted).is_(False),
                                    NationalIssue.author_id == actor_id))
        if filters.state:
            query = query.where(NationalIssue.state == filters.state)
        else:
            query = query.where(NationalIssue.state != IssueState.MERGED)
        if filters.body:
            query = query.where(NationalIssue.state_body_id == filters.body)
        if filters.topic:
            query = query.where(NationalIssue.topic == filters.topic)
        if filters.region:
            in_region = select(IssueCosign.issue_id).where(
                IssueCosign.region_id == filters.region)
            query = query.where(or_(NationalIssue.region_id == filters.region,
                                    col(NationalIssue.id).in_(in_region)))
        total = (await s.exec(select(func.count()).select_from(query.subquery()))).one()
        order = ((col(NationalIssue.id).desc(),) if filters.newest else
                 (col(NationalIssue.municipalities_count).desc(),
                  col(NationalIssue.members_count).desc(), col(NationalIssue.id).desc()))
        rows = (await s.exec(query.order_by(*order)
                             .offset(max(page, 0) * per_page).limit(per_page))).all()
        return Listed(list(rows), int(total))


@dataclass(frozen=True)
class Supporter:
    name: str
    place: str
    comment: str | None


@dataclass(frozen=True)
class IssueCard:
    issue: NationalIssue
    backing: Backing
    body: str | None
    author: str
    place: str
    districts: list[str]
    cosigned: bool
    can_cosign: bool
    staff: bool
    is_author: bool
    dossier: Dossier | None
    supporters: list[Supporter]


def _place_name(municipality: Municipality | None, other: str | None,
                district: District | None, lang: str) -> str:
    parts = [municipality.name(lang) if municipality else (other or ""),
             district.name(lang) if district else ""]
    return ", ".join(p for p in parts if p) or "—"


async def district_names(s: AsyncSession, issue: NationalIssue, lang: str) -> list[str]:
    ids = {p.district_id for p in (await _backer_places(s, issue)).values() if p.district_id}
    if not ids:
        return []
    rows = (await s.exec(select(District).where(col(District.id).in_(ids)))).all()
    return sorted(d.name(lang) for d in rows)


async def card(db: Database, actor_id: int, issue_id: int, lang: str) -> IssueCard:
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        issue = await _visible(db, s, actor, issue_id)
        body = await s.get(StateBody, issue.state_body_id) if issue.state_body_id else None
        author = await s.get(Member, issue.author_id)
        municipality = (await s.get(Municipality, issue.municipality_id)
                        if issue.municipality_id else None)
        district = await s.get(District, issue.district_id) if issue.district_id else None
        cosigns = await _cosigns(s, issue_id)
        supporters: list[Supporter] = []
        if actor.is_staff:
            for c in cosigns[:30]:
                m = await s.get(Member, c.member_id)
                cm = await s.get(Municipality, c.municipality_id) if c.municipality_id else None
                cd = await s.get(District, c.district_id) if c.district_id else None
                supporters.append(Supporter(m.full_name if m else "—",
                                            _place_name(cm, c.municipality_other, cd, lang),
                                            c.comment))
        cosigned = any(c.member_id == actor_id for c in cosigns)
        dossier = await s.get(Dossier, issue.dossier_id) if issue.dossier_id else None
        return IssueCard(
            issue=issue, backing=backing_of(issue), body=body.name(lang) if body else None,
            author=author.full_name if author else "—",
            place=_place_name(municipality, issue.municipality_other, district, lang),
            districts=await district_names(s, issue, lang), cosigned=cosigned,
            can_cosign=(not cosigned and IssueState(issue.state) not in CLOSED
                        and policy.can_cosign_issue(actor, issue.author_id, issue.restricted)),
            staff=actor.is_staff, is_author=issue.author_id == actor_id, dossier=dossier,
            supporters=supporters)


async def documents(db: Database, actor_id: int, issue_id: int) -> list[dict[str, Any]]:
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        issue = await _visible(db, s, actor, issue_id)
        return list(issue.documents)


@dataclass(frozen=True)
class Notice:
    """What a state-change notice says, read when it is sent."""

    issue: NationalIssue
    body: str | None
    target: NationalIssue | None
    dossier: Dossier | None


async def for_notice(db: Database, issue_id: int, lang: str,
                     target_id: int | None = None) -> Notice | None:
    async with db.read() as s:
        issue = await s.get(NationalIssue, issue_id)
        if issue is None:
            return None
        body = await s.get(StateBody, issue.state_body_id) if issue.state_body_id else None
        target = await s.get(NationalIssue, target_id) if target_id else None
        dossier = await s.get(Dossier, issue.dossier_id) if issue.dossier_id else None
        return Notice(issue, body.name(lang) if body else None, target, dossier)


def short_id(issue_id: int | None) -> str:
    return f"P-{issue_id}"
