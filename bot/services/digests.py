"""Digests: a short summary of what a member missed, at the day and hour they chose.

Why this shape:
- One scheduled job (`bot.jobs.digests`) runs every few minutes and asks `send_due_digests` who is
  due: members whose chosen slot (weekly: weekday and hour; daily: hour; in Asia/Bishkek) has
  passed since `MemberSettings.last_digest_at`. Per-member scheduler jobs would not scale to
  10,000 members; this way a slot missed while Birge was down is simply still due when it comes
  back, and goes out once.
- The marker moves with a conditional `UPDATE … RETURNING` in the same transaction that writes the
  outbox rows, so two runs (or two processes) never both send one slot's digest.
- The content is a list of **sections**, each a collector registered with `@section(...)`. A
  collector reads the tables for a whole batch of members at once (a handful of queries per
  batch, never per member) and returns, per member, how many things it found and the first few.
  Features that land later (legal cases, national issues) register their own section here and
  give it a heading in `bot.views.digests.HEADINGS`.
- The digest's data (ids, snippets, counts) goes into outbox rows of kind "digest", already split
  at item boundaries into messages that cannot pass Telegram's 4,096 characters; the delivery
  worker renders them in the member's language (`bot.delivery.digest_notices`) under Telegram's
  limits, at bulk priority.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import col, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify, survey_digest
from storage.db import Database, insert_for
from storage.enums import (
    BroadcastKind,
    BroadcastStatus,
    DigestFrequency,
    EventStatus,
    ItemStatus,
    LegalStatus,
    MemberStatus,
    OutboxStatus,
    QuestionStatus,
    RegistrationStatus,
    ResponseKind,
)
from storage.models import (
    Broadcast,
    BroadcastResponse,
    Event,
    EventRegistration,
    GroupMember,
    IssueCosign,
    LegalCase,
    LibraryItem,
    Member,
    MemberSettings,
    NationalIssue,
    Outbox,
    Question,
)
from storage.types import utcnow

OUTBOX_KIND = "digest"
# Items shown per section; the rest are counted ("and 12 more").
SECTION_ITEMS = 5
# Items per message: with snippets of at most SNIPPET characters (and group names of a few
# dozen) a message stays well below 4,096; `bot.views.digests.fit` is only a safety net.
ITEMS_PER_MESSAGE = 20
SNIPPET = 90
BATCH = 1000
# A digest never looks back further than this (a member silent for a year gets a short one).
LOOKBACK = timedelta(days=28)
DEADLINE_AHEAD = timedelta(days=7)
VISIBLE = (QuestionStatus.OPEN, QuestionStatus.ANSWERED, QuestionStatus.RESOLVED)


def snippet(text: str, limit: int = SNIPPET) -> str:
    """The start of a text on one line, cut at a word boundary (never mid-word)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1].rsplit(" ", 1)[0] if " " in flat[:limit + 1] else flat[:limit]
    return cut.rstrip(" ,.;:—-") + "…"


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest, as data: the renderer words it in the member's language."""

    ref: str  # "Q-12", "B-3"
    text: str  # user content (a question's start, a broadcast's title), shown as is
    group_id: int | None = None  # shown as the group's name in the member's language
    when: datetime | None = None  # shown as a Babel date in the member's locale
    note: str | None = None  # a word the section's renderer knows ("answered", "resolved")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ref": self.ref, "text": self.text}
        if self.group_id is not None:
            data["group"] = self.group_id
        if self.when is not None:
            data["when"] = self.when.isoformat()
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class Found:
    """What one section found for one member: the total, and the first few items."""

    count: int = 0
    items: list[DigestItem] = field(default_factory=list)


@dataclass(frozen=True)
class Reader:
    """A member a digest is built for, and the moment their digest looks back to."""

    id: int
    language: str
    since: datetime


@dataclass
class Batch:
    """The members whose digests are built together, with lookups the sections share."""

    session: AsyncSession
    readers: dict[int, Reader]
    now: datetime
    # Set by a run over many batches: every batch reads the same window, so what a section read
    # for the first batch (`shared`) serves the others.
    floor: datetime | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    _follows: dict[int, set[int]] | None = None

    @property
    def earliest(self) -> datetime:
        return self.floor or min(r.since for r in self.readers.values())

    async def follows(self) -> dict[int, set[int]]:
        """member id → the topic groups they follow."""
        if self._follows is None:
            found: dict[int, set[int]] = defaultdict(set)
            for ids in _chunks(list(self.readers), 500):
                rows = await self.session.exec(
                    select(GroupMember.member_id, GroupMember.group_id)
                    .where(col(GroupMember.member_id).in_(ids)))
                for member_id, group_id in rows.all():
                    found[member_id].add(group_id)
            self._follows = dict(found)
        return self._follows


Collector = Callable[[Batch], Awaitable[dict[int, Found]]]


@dataclass(frozen=True)
class Section:
    code: str
    order: int
    collect: Collector


SECTIONS: dict[str, Section] = {}


def section(code: str, order: int) -> Callable[[Collector], Collector]:
    """Register a digest section: `@section("legal", 50)` on `async def f(batch) -> {id: Found}`.
    Its heading and line wording go in `bot.views.digests.HEADINGS` under the same code."""

    def register(collect: Collector) -> Collector:
        SECTIONS[code] = Section(code, order, collect)
        return collect

    return register


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass(frozen=True)
class _Row:
    at: datetime
    item: DigestItem
    key: int  # what a section's own rule looks at (the asker, the group)


@dataclass
class _Lane:
    """Rows newest first, with their times as negative POSIX seconds: counting the rows newer
    than a member's `since` is one bisection, not a loop (10,000 members × hundreds of rows)."""

    rows: list[_Row] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)

    def seal(self) -> _Lane:
        self.rows.sort(key=lambda r: r.at, reverse=True)
        self.keys = [-r.at.timestamp() for r in self.rows]
        return self

    def newer(self, since: datetime) -> int:
        return bisect.bisect_left(self.keys, -since.timestamp())


def _gather(lanes: Iterable[_Lane], since: datetime, found: Found,
            exclude: frozenset[str] = frozenset()) -> None:
    """Count the rows newer than `since` (callers subtract what `exclude` names) and keep the
    newest few, without the excluded ones and without repeats."""
    top: list[_Row] = []
    for lane in lanes:
        n = lane.newer(since)
        found.count += n
        top.extend(lane.rows[:min(n, SECTION_ITEMS + len(exclude))])
    top.sort(key=lambda r: r.at, reverse=True)
    seen = {i.ref for i in found.items} | exclude
    for row in top:
        if len(found.items) >= SECTION_ITEMS:
            break
        if row.item.ref not in seen:
            seen.add(row.item.ref)
            found.items.append(row.item)


# --- the sections that exist today -------------------------------------------------------------


async def _new_question_lanes(batch: Batch) -> tuple[dict[int, _Lane], dict[int, list[_Row]]]:
    """The window's visible questions by group (newest first) and by asker."""
    by_group: dict[int, _Lane] = defaultdict(_Lane)
    by_asker: dict[int, list[_Row]] = defaultdict(list)
    rows = await batch.session.exec(
        select(Question.id, Question.group_id, Question.asker_id,  # type: ignore[call-overload]
               Question.text, Question.created_at)
        .where(col(Question.created_at) > batch.earliest, col(Question.created_at) <= batch.now,
               col(Question.status).in_(VISIBLE)))
    for qid, group_id, asker_id, text, created_at in rows.all():
        row = _Row(created_at, DigestItem(f"Q-{qid}", snippet(text), group_id, created_at),
                   group_id)
        by_group[group_id].rows.append(row)
        by_asker[asker_id].append(row)
    for lane in by_group.values():
        lane.seal()
    return dict(by_group), dict(by_asker)


@section("new_questions", 10)
async def new_questions(batch: Batch) -> dict[int, Found]:
    """New questions in the groups the member follows (not their own; never hidden ones)."""
    follows = await batch.follows()
    if not follows:
        return {}
    if "new_questions" not in batch.shared:
        batch.shared["new_questions"] = await _new_question_lanes(batch)
    by_group, by_asker = batch.shared["new_questions"]
    result: dict[int, Found] = {}
    for reader in batch.readers.values():
        mine = follows.get(reader.id, set())
        own = frozenset(r.item.ref for r in by_asker.get(reader.id, ())
                        if r.key in mine and r.at > reader.since)
        found = Found(-len(own))
        _gather((by_group[g] for g in mine if g in by_group), reader.since, found, own)
        if found.count:
            result[reader.id] = found
    return result


async def _answered_lanes(batch: Batch) -> tuple[dict[int, _Lane], dict[int, list[_Row]]]:
    """The window's newly answered or resolved questions by group (newest first) and by asker."""
    rows = await batch.session.exec(
        select(Question.id, Question.group_id, Question.asker_id,  # type: ignore[call-overload]
               Question.text, Question.answered_at, Question.resolved_at, Question.status)
        .where(col(Question.status).in_((QuestionStatus.ANSWERED, QuestionStatus.RESOLVED)))
        .where(or_(col(Question.answered_at) > batch.earliest,
                   col(Question.resolved_at) > batch.earliest)))
    by_group: dict[int, _Lane] = defaultdict(_Lane)
    by_asker: dict[int, list[_Row]] = defaultdict(list)
    for qid, group_id, asker_id, text, answered_at, resolved_at, status in rows.all():
        resolved = status == QuestionStatus.RESOLVED and resolved_at is not None
        at = resolved_at if resolved else answered_at
        if at is None or at > batch.now:
            continue
        row = _Row(at, DigestItem(f"Q-{qid}", snippet(text), group_id, at,
                                  "resolved" if resolved else "answered"), group_id)
        by_group[group_id].rows.append(row)
        by_asker[asker_id].append(row)
    for lane in by_group.values():
        lane.seal()
    return dict(by_group), dict(by_asker)


@section("answered", 20)
async def answered(batch: Batch) -> dict[int, Found]:
    """Questions newly answered or resolved: the member's own, and those in groups they follow."""
    follows = await batch.follows()
    if "answered" not in batch.shared:
        batch.shared["answered"] = await _answered_lanes(batch)
    by_group, by_asker = batch.shared["answered"]
    result: dict[int, Found] = {}
    for reader in batch.readers.values():
        mine = follows.get(reader.id, set())
        # Their own questions in groups they do not follow (the others are counted there).
        own = _Lane([r for r in by_asker.get(reader.id, ()) if r.key not in mine]).seal()
        found = Found()
        _gather([own, *(by_group[g] for g in mine if g in by_group)], reader.since, found)
        if found.count:
            result[reader.id] = found
    return result


def _delivered() -> Any:
    """Broadcast rows the member got, or would have got had they not muted broadcasts."""
    return or_(col(Outbox.status) == OutboxStatus.SENT,
               (col(Outbox.status) == OutboxStatus.CANCELLED) & (col(Outbox.last_error) == "muted"))


@section("broadcasts", 30)
async def unacknowledged(batch: Batch) -> dict[int, Found]:
    """Broadcasts that reached the member since their last digest and are not acknowledged."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        acked = select(BroadcastResponse.id).where(
            BroadcastResponse.broadcast_id == Outbox.broadcast_id,
            BroadcastResponse.member_id == Outbox.member_id,
            BroadcastResponse.kind == ResponseKind.ACK).exists()
        rows = await batch.session.exec(
            select(Outbox.member_id, Broadcast.id, Broadcast.title, Broadcast.started_at)
            .join(Broadcast, col(Broadcast.id) == Outbox.broadcast_id)
            .where(col(Outbox.member_id).in_(ids), col(Outbox.broadcast_id).is_not(None),
                   _delivered(), col(Broadcast.status) != BroadcastStatus.CANCELLED,
                   col(Broadcast.started_at) > batch.earliest,
                   col(Broadcast.started_at) <= batch.now, ~acked)
            .order_by(col(Broadcast.started_at).desc()))
        for member_id, bid, title, started_at in rows.all():
            reader = batch.readers[member_id or 0]
            if started_at is None or started_at <= reader.since:
                continue
            found = result.setdefault(reader.id, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"B-{bid}", snippet(title), None, started_at))
    return result


@section("deadlines", 40)
async def deadlines(batch: Batch) -> dict[int, Found]:
    """Draft laws the member received whose comment period ends within a week, uncommented."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        commented = select(BroadcastResponse.id).where(
            BroadcastResponse.broadcast_id == Outbox.broadcast_id,
            BroadcastResponse.member_id == Outbox.member_id,
            BroadcastResponse.kind == ResponseKind.COMMENT).exists()
        rows = await batch.session.exec(
            select(Outbox.member_id, Broadcast.id, Broadcast.title, Broadcast.comments_until)
            .join(Broadcast, col(Broadcast.id) == Outbox.broadcast_id)
            .where(col(Outbox.member_id).in_(ids), _delivered(),
                   Broadcast.kind == BroadcastKind.DRAFT_LAW,
                   col(Broadcast.status) != BroadcastStatus.CANCELLED,
                   col(Broadcast.comments_until) > batch.now,
                   col(Broadcast.comments_until) <= batch.now + DEADLINE_AHEAD, ~commented)
            .order_by(col(Broadcast.comments_until)))
        for member_id, bid, title, until in rows.all():
            found = result.setdefault(member_id or 0, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"B-{bid}", snippet(title), None, until,
                                              "comments_until"))
    return result


@section("legal", 50)
async def legal_waiting(batch: Batch) -> dict[int, Found]:
    """The member's legal-help requests where a lawyer waits for their reply."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        rows = await batch.session.exec(
            select(LegalCase.requester_id, LegalCase.id, LegalCase.summary, LegalCase.deadline)
            .where(col(LegalCase.requester_id).in_(ids),
                   LegalCase.status == LegalStatus.NEEDS_INFO)
            .order_by(col(LegalCase.id)))
        for member_id, case_id, summary, deadline in rows.all():
            found = result.setdefault(member_id, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"L-{case_id}", snippet(summary), None, deadline,
                                              "deadline" if deadline else None))
    return result


@section("national", 60)
async def national_changed(batch: Batch) -> dict[int, Found]:
    """National issues the member raised or co-signed whose state changed since their last
    digest (the change itself was also notified; the digest is the summary)."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        changed_since = (col(NationalIssue.state_changed_at) > batch.earliest,
                         col(NationalIssue.state_changed_at) <= batch.now,
                         col(NationalIssue.created_at) < col(NationalIssue.state_changed_at))
        authored = await batch.session.exec(
            select(NationalIssue.author_id, NationalIssue.id, NationalIssue.title,  # type: ignore[call-overload]
                   NationalIssue.state, NationalIssue.state_changed_at)
            .where(col(NationalIssue.author_id).in_(ids), *changed_since))
        cosigned = await batch.session.exec(
            select(IssueCosign.member_id, NationalIssue.id, NationalIssue.title,  # type: ignore[call-overload]
                   NationalIssue.state, NationalIssue.state_changed_at)
            .join(NationalIssue, col(NationalIssue.id) == IssueCosign.issue_id)
            .where(col(IssueCosign.member_id).in_(ids), *changed_since))
        rows = sorted({*authored.all(), *cosigned.all()}, key=lambda r: r[4], reverse=True)
        for member_id, issue_id, title, state, changed in rows:
            reader = batch.readers.get(member_id)
            if reader is None or changed <= reader.since:
                continue
            found = result.setdefault(member_id, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"P-{issue_id}", snippet(title), None, changed,
                                              f"issue_{state}"))
    return result


@section("events_week", 70)
async def events_this_week(batch: Batch) -> dict[int, Found]:
    """Events in the coming week the member is invited to or registered for (not declined)."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        rows = await batch.session.exec(
            select(EventRegistration.member_id, Event)
            .join(Event, col(Event.id) == EventRegistration.event_id)
            .where(col(EventRegistration.member_id).in_(ids),
                   col(EventRegistration.status).in_((
                       RegistrationStatus.INVITED, RegistrationStatus.REGISTERED,
                       RegistrationStatus.WAITLISTED, RegistrationStatus.MAYBE)),
                   Event.status == EventStatus.PUBLISHED, col(Event.starts_at) > batch.now,
                   col(Event.starts_at) <= batch.now + DEADLINE_AHEAD)
            .order_by(col(Event.starts_at)))
        for member_id, event in rows.all():
            reader = batch.readers[member_id]
            found = result.setdefault(member_id, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"E-{event.id}",
                                              snippet(event.title(reader.language)), None,
                                              event.starts_at, "event_starts"))
    return result


@section("event_materials", 80)
async def event_materials(batch: Batch) -> dict[int, Found]:
    """Materials posted since the member's last digest for events they attended."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        rows = await batch.session.exec(
            select(EventRegistration.member_id, Event)
            .join(Event, col(Event.id) == EventRegistration.event_id)
            .where(col(EventRegistration.member_id).in_(ids), col(EventRegistration.attended),
                   col(Event.materials_at) > batch.earliest,
                   col(Event.materials_at) <= batch.now)
            .order_by(col(Event.materials_at).desc()))
        for member_id, event in rows.all():
            reader = batch.readers[member_id]
            if event.materials_at is None or event.materials_at <= reader.since:
                continue
            found = result.setdefault(member_id, Found())
            found.count += 1
            if len(found.items) < SECTION_ITEMS:
                found.items.append(DigestItem(f"E-{event.id}",
                                              snippet(event.title(reader.language)), None,
                                              event.materials_at, "event_materials"))
    return result


@section("library", 15)
async def new_library_items(batch: Batch) -> dict[int, Found]:
    """Library items published in the groups the member follows (not their own)."""
    follows = await batch.follows()
    if not follows:
        return {}
    if "library" not in batch.shared:
        by_group: dict[int, _Lane] = defaultdict(_Lane)
        rows = await batch.session.exec(
            select(LibraryItem.id, LibraryItem.group_id, LibraryItem.author_id,  # type: ignore[call-overload]
                   LibraryItem.title_ky, LibraryItem.title_ru, LibraryItem.published_at)
            .where(LibraryItem.status == ItemStatus.PUBLISHED,
                   col(LibraryItem.published_at) > batch.earliest,
                   col(LibraryItem.published_at) <= batch.now))
        authors: dict[str, int] = {}
        for item_id, group_id, author_id, title_ky, title_ru, published in rows.all():
            ref = f"LIB-{item_id}"
            authors[ref] = author_id
            by_group[group_id].rows.append(_Row(published, DigestItem(
                ref, snippet(title_ru or title_ky), group_id, published), group_id))
        for lane in by_group.values():
            lane.seal()
        batch.shared["library"] = (dict(by_group), authors)
    lanes, authors = batch.shared["library"]
    result: dict[int, Found] = {}
    for reader in batch.readers.values():
        mine = follows.get(reader.id, set())
        own = frozenset(ref for ref, author in authors.items() if author == reader.id)
        found = Found()
        _gather((lanes[g] for g in mine if g in lanes), reader.since, found, own)
        found.count -= sum(1 for g in mine if g in lanes for r in lanes[g].rows
                           if r.item.ref in own and r.at > reader.since)
        if found.count > 0:
            result[reader.id] = found
    return result


@section("surveys", 90)
async def surveys_waiting(batch: Batch) -> dict[int, Found]:
    """Open surveys sent to the member that they (or their municipality) have not answered."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        for member_id, found_surveys in (await survey_digest.waiting(
                batch.session, ids, batch.now)).items():
            reader = batch.readers[member_id]
            found = result.setdefault(member_id, Found())
            for survey in found_surveys:
                found.count += 1
                if len(found.items) < SECTION_ITEMS:
                    found.items.append(DigestItem(f"S-{survey.id}",
                                                  snippet(survey.title(reader.language)), None,
                                                  survey.deadline, "deadline"))
    return result


@section("survey_results", 95)
async def survey_results(batch: Batch) -> dict[int, Found]:
    """Surveys sent to the member whose results were published since their last digest."""
    result: dict[int, Found] = {}
    for ids in _chunks(list(batch.readers), 500):
        for member_id, found_surveys in (await survey_digest.published(
                batch.session, ids, batch.earliest, batch.now)).items():
            reader = batch.readers[member_id]
            for survey in found_surveys:
                if survey.results_published_at is None or \
                        survey.results_published_at <= reader.since:
                    continue
                found = result.setdefault(member_id, Found())
                found.count += 1
                if len(found.items) < SECTION_ITEMS:
                    found.items.append(DigestItem(f"S-{survey.id}",
                                                  snippet(survey.title(reader.language)), None,
                                                  survey.results_published_at))
    return result


# --- building ----------------------------------------------------------------------------------


@dataclass
class Digest:
    reader: Reader
    until: datetime
    sections: list[tuple[str, Found]]

    @property
    def empty(self) -> bool:
        return not any(found.count for _, found in self.sections)

    def messages(self, frequency: str) -> list[dict[str, Any]]:
        """Outbox payloads, one per message, split between items (never inside one)."""
        parts: list[list[dict[str, Any]]] = [[]]
        room = ITEMS_PER_MESSAGE
        for code, found in self.sections:
            if not found.count:
                continue
            items = [i.as_json() for i in found.items]
            continued = False
            while True:
                if room == 0:
                    parts.append([])
                    room = ITEMS_PER_MESSAGE
                take, items = items[:room], items[room:]
                parts[-1].append({"code": code, "count": found.count, "items": take,
                                  "more": 0, "continued": continued})
                room -= len(take)
                continued = True
                if not items:
                    break
            parts[-1][-1]["more"] = found.count - len(found.items)
        return [{"frequency": frequency, "since": self.reader.since.isoformat(),
                 "until": self.until.isoformat(), "part": number, "parts": len(parts),
                 "sections": sections} for number, sections in enumerate(parts, 1)]


async def build_digests(session: AsyncSession, readers: list[Reader], now: datetime,
                        floor: datetime | None = None,
                        shared: dict[str, Any] | None = None) -> dict[int, Digest]:
    """The digests of these members (empty ones included), every section collected once.
    A run over several batches passes the same `floor` (its earliest `since`) and `shared`."""
    batch = Batch(session, {r.id: r for r in readers}, now, floor,
                  shared if shared is not None else {})
    found: dict[str, dict[int, Found]] = {}
    for spec in sorted(SECTIONS.values(), key=lambda s: s.order):
        found[spec.code] = await spec.collect(batch)
    return {
        r.id: Digest(r, now, [(code, per.get(r.id, Found())) for code, per in found.items()])
        for r in readers
    }


async def build_digest(db: Database, member_id: int, since: datetime,
                       now: datetime | None = None) -> Digest | None:
    """One member's digest for the period from `since` (a preview; nothing is recorded)."""
    now = now or utcnow()
    async with db.read() as s:
        member = await s.get(Member, member_id)
        if member is None:
            return None
        built = await build_digests(s, [Reader(member_id, member.language, since)], now)
    return built[member_id]


# --- when -------------------------------------------------------------------------------------


PERIOD = {DigestFrequency.WEEKLY: timedelta(days=7), DigestFrequency.DAILY: timedelta(days=1)}


def last_slot(now: datetime, tz: ZoneInfo, frequency: str, weekday: int,
              hour: int) -> datetime | None:
    """The latest scheduled moment at or before `now` (aware UTC), or None when off."""
    if frequency not in PERIOD:
        return None
    local = now.astimezone(tz)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency == DigestFrequency.WEEKLY:
        slot -= timedelta(days=(local.weekday() - weekday) % 7)
    if slot > local:
        slot -= PERIOD[DigestFrequency(frequency)]
    return slot.astimezone(now.tzinfo)


@dataclass(frozen=True)
class Due:
    reader: Reader
    slot: datetime
    frequency: str


async def due_members(db: Database, now: datetime, tz: ZoneInfo) -> list[Due]:
    """Active, reachable members whose chosen slot has passed since their last digest."""
    async with db.read() as s:
        rows = (await s.exec(
            select(Member.id, Member.language, MemberSettings.digest_frequency,  # type: ignore[call-overload]
                   MemberSettings.digest_weekday, MemberSettings.digest_hour,
                   MemberSettings.last_digest_at)
            .join(MemberSettings, col(MemberSettings.member_id) == Member.id, isouter=True)
            .where(Member.status == MemberStatus.ACTIVE, col(Member.telegram_id).is_not(None),
                   col(Member.reachable))
            .order_by(col(Member.id)))).all()
    slots: dict[tuple[str, int, int], datetime | None] = {}
    due: list[Due] = []
    for member_id, language, frequency, weekday, hour, last in rows:
        key = (frequency or DigestFrequency.WEEKLY.value,
               0 if weekday is None else weekday, 9 if hour is None else hour)
        if key not in slots:
            slots[key] = last_slot(now, tz, *key)
        slot = slots[key]
        if slot is None or (last is not None and last >= slot):
            continue
        period = PERIOD[DigestFrequency(key[0])]
        since = max(last or slot - period, slot - LOOKBACK)
        due.append(Due(Reader(member_id or 0, language, since), slot, key[0]))
    return due


@dataclass
class DigestRun:
    due: int = 0
    sent: int = 0  # members who got a digest
    empty: int = 0  # members whose digest was empty (skipped)
    messages: int = 0
    lost_race: int = 0  # members another run had already handled


async def send_due_digests(db: Database, now: datetime, tz: ZoneInfo,
                           batch_size: int = BATCH) -> DigestRun:
    """Build and enqueue the digests that are due; each member's slot is handled once."""
    run = DigestRun()
    due = await due_members(db, now, tz)
    run.due = len(due)
    floor = min((d.reader.since for d in due), default=None)
    shared: dict[str, Any] = {}
    for start in range(0, len(due), batch_size):
        chunk = due[start:start + batch_size]
        async with db.read() as s:
            built = await build_digests(s, [d.reader for d in chunk], now, floor, shared)
        await _record(db, chunk, built, run)
    return run


async def _record(db: Database, chunk: list[Due], built: dict[int, Digest],
                  run: DigestRun) -> None:
    """Move the markers and write the outbox rows in one transaction; only the members whose
    marker this run moved get a digest."""
    ids = [d.reader.id for d in chunk]
    async with db.transaction() as s:
        conn = await s.connection()
        have = set((await s.exec(select(MemberSettings.member_id)
                                 .where(col(MemberSettings.member_id).in_(ids)))).all())
        missing = [i for i in ids if i not in have]
        if missing:  # executemany: one compiled statement, not a 1,000-row VALUES list
            # Another run may insert the same defaults at once: the first one wins.
            dialect = insert_for(conn.dialect.name)
            await conn.execute(dialect(MemberSettings).on_conflict_do_nothing(), [
                {"member_id": i, "digest_frequency": DigestFrequency.WEEKLY.value,
                 "digest_weekday": 0, "digest_hour": 9, "quiet_hours": True, "muted": [],
                 "updated_at": utcnow()} for i in missing])
        won: set[int] = set()
        by_slot: dict[datetime, list[int]] = defaultdict(list)
        for d in chunk:
            by_slot[d.slot].append(d.reader.id)
        for slot, members in by_slot.items():
            result = await conn.execute(
                update(MemberSettings)
                .where(col(MemberSettings.member_id).in_(members),
                       or_(col(MemberSettings.last_digest_at).is_(None),
                           col(MemberSettings.last_digest_at) < slot))
                .values(last_digest_at=slot)
                .returning(col(MemberSettings.member_id)))
            won.update(result.scalars().all())
        rows: list[dict[str, Any]] = []
        created = utcnow()
        for d in chunk:
            digest = built[d.reader.id]
            if d.reader.id not in won:
                run.lost_race += 1
                continue
            if digest.empty:
                run.empty += 1
                continue
            run.sent += 1
            for payload in digest.messages(d.frequency):
                rows.append({"member_id": d.reader.id, "kind": OUTBOX_KIND, "payload": payload,
                             "priority": notify.PRIORITY_BULK, "attempts": 0,
                             "status": OutboxStatus.PENDING.value, "created_at": created})
        if rows:
            await conn.execute(insert(Outbox), rows)
            notify.mark_written(s)
        run.messages += len(rows)
