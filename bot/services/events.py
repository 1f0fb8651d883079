"""Events: webinars, trainings, exchange visits, board meetings, conferences and community
meetings, with invitations, registration, a waiting list, calendar files, reminders, attendance,
materials and ratings.

Why this shape:
- An event is aimed at an audience exactly like a broadcast (`broadcasts.Audience`). Publishing it
  writes one `event_registration` row per invited member (status "invited") and one outbox row per
  invitation in the same transaction: the rows are both the invitation list and the answers, so
  "registering twice" is one row changing state, never two rows.
- Seats are counted on the event (`registered`) and taken with a conditional update
  (`registered < capacity`): two members pressing Register for the last seat never both get it,
  on SQLite or PostgreSQL. A member who finds it full goes on the waiting list; a cancellation
  frees the seat and the first waiting member (whose district still has room) moves up, in the
  same transaction, and is told through the outbox with their calendar file.
- Reminders (the day before and the hour before) are markers on the registration, set by
  conditional updates in the job that enqueues them, so a job run twice, or by two processes,
  or after a restart, sends each reminder once. A change of time clears them.
- Calendar files are built with the `icalendar` library (RFC 5545): one UID per event, SEQUENCE
  raised by each change, METHOD:CANCEL for a cancellation, so a phone updates the entry it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, broadcasts, event_live, notify, policy, roles
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import (
    EventKind,
    EventStatus,
    RegistrationStatus,
    Role,
)
from storage.models import (
    District,
    Event,
    EventMaterial,
    EventRegistration,
    Member,
    Municipality,
)
from storage.types import utcnow

BISHKEK = ZoneInfo("Asia/Bishkek")
TITLE_MAX = 200
DESCRIPTION_MAX = 3000
ADDRESS_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 10_000
DISTRICT_LIMITS_MAX = 60
ID_LIMIT = 2**31  # a forged id beyond INTEGER ids (32 bits on PostgreSQL) is not found
DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
UPCOMING_DAYS = 7
_URL = re.compile(r"https?://[^\s<>\"']+\.[^\s<>\"']{2,}")

# What a member may see of an event in a list: seats are counted among these.
ANSWERED = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED,
            RegistrationStatus.MAYBE)
CONCERNED = (RegistrationStatus.INVITED, *ANSWERED)


def event_code(event_id: int) -> str:
    return f"E-{event_id}"


@dataclass
class EventDraft:
    kind: EventKind | str
    title_ky: str
    title_ru: str
    description_ky: str
    description_ru: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    title_en: str | None = None
    description_en: str | None = None
    address: str | None = None
    online_url: str | None = None
    host_municipality_id: int | None = None
    per_district: int | None = None
    # Limits that differ by district (district id -> limit), overriding `per_district`.
    district_limits: dict[int, int] = field(default_factory=dict)
    registration_until: datetime | None = None  # None: until the start
    audience: Audience = field(default_factory=Audience)


@dataclass(frozen=True)
class Created:
    event_id: int
    status: EventStatus
    invited: int


@dataclass(frozen=True)
class Answer:
    """What a member's answer to an event left them with."""

    status: RegistrationStatus
    waiting_place: int | None = None  # their place on the waiting list


# --- checking what an organiser typed ----------------------------------------------------------


def _text(value: str | None, limit: int, code: str, *, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(code, limit=limit)
        return None
    if len(cleaned) > limit or (required and len(cleaned) < 3):
        raise InvalidInput(code, limit=limit)
    return cleaned


def check_url(url: str | None) -> str | None:
    cleaned = (url or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > URL_MAX or not _URL.fullmatch(cleaned):
        raise InvalidInput("event_url")
    return cleaned


def check_capacity(value: int | str | None, *, optional: bool = False) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise InvalidInput("event_capacity", limit=CAPACITY_MAX)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput("event_capacity", limit=CAPACITY_MAX) from None
    if not 1 <= number <= CAPACITY_MAX:
        raise InvalidInput("event_capacity", limit=CAPACITY_MAX)
    return number


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise InvalidInput("event_start_past")
    if ends_at <= starts_at:
        raise InvalidInput("event_end_before_start")
    if ends_at - starts_at > timedelta(days=14):
        raise InvalidInput("event_too_long")


def _clean(draft: EventDraft, now: datetime) -> EventDraft:
    kind = EventKind(draft.kind)
    check_times(draft.starts_at, draft.ends_at, now)
    until = draft.registration_until or draft.starts_at
    if until > draft.starts_at or until <= now:
        raise InvalidInput("event_deadline")
    address = _text(draft.address, ADDRESS_MAX, "event_address", required=False)
    url = check_url(draft.online_url)
    if address is None and url is None:
        raise InvalidInput("event_place")
    if kind == EventKind.EXCHANGE and draft.host_municipality_id is None:
        raise InvalidInput("event_host")
    capacity = check_capacity(draft.capacity)
    per_district = check_capacity(draft.per_district, optional=True)
    assert capacity is not None
    if per_district is not None and per_district > capacity:
        raise InvalidInput("event_capacity", limit=capacity)
    limits = dict(draft.district_limits or {})
    if len(limits) > DISTRICT_LIMITS_MAX:
        raise InvalidInput("event_district_limits", limit=DISTRICT_LIMITS_MAX)
    for district_id, limit in limits.items():
        if not 0 < district_id < ID_LIMIT or check_capacity(limit) is None or limit > capacity:
            raise InvalidInput("event_capacity", limit=capacity)
    return EventDraft(
        kind=kind,
        title_ky=_text(draft.title_ky, TITLE_MAX, "event_title") or "",
        title_ru=_text(draft.title_ru, TITLE_MAX, "event_title") or "",
        title_en=_text(draft.title_en, TITLE_MAX, "event_title", required=False),
        description_ky=_text(draft.description_ky, DESCRIPTION_MAX, "event_description") or "",
        description_ru=_text(draft.description_ru, DESCRIPTION_MAX, "event_description") or "",
        description_en=_text(draft.description_en, DESCRIPTION_MAX, "event_description",
                             required=False),
        starts_at=draft.starts_at, ends_at=draft.ends_at, capacity=capacity,
        address=address, online_url=url,
        host_municipality_id=draft.host_municipality_id if kind == EventKind.EXCHANGE else None,
        per_district=per_district, district_limits=limits, registration_until=until,
        audience=draft.audience,
    )


# --- loading, with the permission checked for every id a button carries ----------------------


async def load(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id) if 0 < event_id < ID_LIMIT else None
    if event is None:
        raise NotFound(what="event")
    return event


async def organised(db: Database, s: AsyncSession, actor_id: int, event_id: int,
                     action: policy.Action) -> tuple[policy.Actor, Event]:
    """The event, if the actor organises it (its creator while still allowed to create events,
    or Union staff); anything else is refused and logged, a forged id the same way."""
    actor = await policy.load_actor(s, actor_id)
    event = await s.get(Event, event_id) if 0 < event_id < ID_LIMIT else None
    if event is None or not policy.can_organise_event(actor, event.created_by_id):
        await policy.ensure(db, actor, False, action,
                            event_id if 0 < event_id < ID_LIMIT else None)
    assert event is not None
    return actor, event


async def registration_of(s: AsyncSession, event_id: int,
                        member_id: int) -> EventRegistration | None:
    return (await s.exec(select(EventRegistration).where(
        EventRegistration.event_id == event_id,
        EventRegistration.member_id == member_id))).first()


# --- creating, approving, inviting -------------------------------------------------------------


def _scope_allows(actor: policy.Actor, audience: Audience) -> bool:
    """A district leader's event is for their own district(s) only."""
    led = {g.district_id for g in actor.grants
           if g.role == Role.DISTRICT_LEADER and g.district_id is not None}
    return (actor.active and bool(led) and not audience.members and bool(audience.districts)
            and set(audience.districts) <= led)


async def _invite(s: AsyncSession, event: Event) -> int:
    """One registration row ("invited") and one outbox row per member of the audience."""
    assert event.id is not None
    members = [m for m in await broadcasts.recipients(s, Audience.from_json(event.audience))
               if m != event.created_by_id]
    have = set((await s.exec(select(EventRegistration.member_id).where(
        EventRegistration.event_id == event.id))).all())
    members = [m for m in members if m not in have]
    if members:
        districts = dict((await s.exec(select(Member.id, Member.district_id).where(
            col(Member.id).in_(members)))).all())
        now = utcnow()
        rows = [{"event_id": event.id, "member_id": m, "status": RegistrationStatus.INVITED.value,
                 "district_id": districts.get(m), "created_at": now, "status_at": now,
                 "attended": False} for m in members]
        for start in range(0, len(rows), 1000):
            await s.exec(insert(EventRegistration).values(rows[start:start + 1000]))
    await notify.enqueue_many(s, members, "event_invite", event_id=event.id)
    event.invitations = len(members)
    return len(members)


async def create_event(db: Database, actor_id: int, draft: EventDraft) -> Created:
    """Union staff publish for anyone; a district leader for their own district; a partner's
    event waits for a staff member's approval before the invitations go."""
    now = utcnow()
    draft = _clean(draft, now)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_create_event(actor),
                            policy.Action.CREATE_EVENT)
        if actor.is_staff:
            status = EventStatus.PUBLISHED
        elif _scope_allows(actor, draft.audience):
            status = EventStatus.PUBLISHED
        elif actor.has(Role.PARTNER):
            status = EventStatus.AWAITING_APPROVAL
        else:
            raise InvalidInput("event_scope")
        if draft.host_municipality_id is not None and await s.get(
                Municipality, draft.host_municipality_id) is None:
            raise InvalidInput("event_host")
        if draft.district_limits and len((await s.exec(select(District.id).where(
                col(District.id).in_(list(draft.district_limits))))).all()) != len(
                draft.district_limits):
            raise InvalidInput("event_district_limits", limit=DISTRICT_LIMITS_MAX)
        assert draft.registration_until is not None
        event = Event(
            kind=draft.kind, title_ky=draft.title_ky, title_ru=draft.title_ru,
            title_en=draft.title_en, description_ky=draft.description_ky,
            description_ru=draft.description_ru, description_en=draft.description_en,
            starts_at=draft.starts_at, ends_at=draft.ends_at, address=draft.address,
            online_url=draft.online_url, host_municipality_id=draft.host_municipality_id,
            capacity=draft.capacity, per_district=draft.per_district,
            district_limits={str(k): v for k, v in sorted(draft.district_limits.items())},
            registration_until=draft.registration_until, audience=draft.audience.as_json(),
            status=status, created_by_id=actor_id,
            approved_by_id=actor_id if status == EventStatus.PUBLISHED else None,
        )
        s.add(event)
        await s.flush()
        assert event.id is not None
        invited = 0
        if status == EventStatus.PUBLISHED:
            invited = await _invite(s, event)
        else:
            for staff_id in await roles.staff_ids(s):
                notify.enqueue(s, staff_id, "event_for_approval", event_id=event.id)
        audit.record(s, actor_id, "event_created", "event", event.id, status=str(status),
                     invited=invited)
        return Created(event.id, status, invited)


async def approve_event(db: Database, actor_id: int, event_id: int) -> Created:
    """Staff let a partner's event go: the invitations leave now. Twice changes nothing."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_approve_event(actor),
                            policy.Action.APPROVE_EVENT,
                            event_id if 0 < event_id < ID_LIMIT else None)
        event = await load(s, event_id)
        if event.status != EventStatus.AWAITING_APPROVAL:
            return Created(event_id, EventStatus(event.status), event.invitations)
        if event.starts_at <= utcnow():
            raise InvalidState("event_started")
        event.status = EventStatus.PUBLISHED
        event.approved_by_id = actor_id
        invited = await _invite(s, event)
        notify.enqueue(s, event.created_by_id, "event_decided", event_id=event_id,
                       approved=True)
        audit.record(s, actor_id, "event_approved", "event", event_id, invited=invited)
        return Created(event_id, EventStatus.PUBLISHED, invited)


async def reject_event(db: Database, actor_id: int, event_id: int) -> Created:
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_approve_event(actor),
                            policy.Action.APPROVE_EVENT,
                            event_id if 0 < event_id < ID_LIMIT else None)
        event = await load(s, event_id)
        if event.status == EventStatus.AWAITING_APPROVAL:
            event.status = EventStatus.REJECTED
            notify.enqueue(s, event.created_by_id, "event_decided", event_id=event_id,
                           approved=False)
            audit.record(s, actor_id, "event_rejected", "event", event_id)
        return Created(event_id, EventStatus(event.status), event.invitations)


# --- members answer ---------------------------------------------------------------------------


def district_limit(event: Event, district_id: int | None) -> int | None:
    """The most that may register from this district: its own limit, else the one for every
    district, else none."""
    if district_id is None:
        return None
    own = (event.district_limits or {}).get(str(district_id))
    return int(own) if own is not None else event.per_district


async def _district_full(s: AsyncSession, event: Event, district_id: int | None) -> bool:
    limit = district_limit(event, district_id)
    if limit is None:
        return False
    taken = (await s.exec(select(func.count()).where(
        EventRegistration.event_id == event.id, EventRegistration.district_id == district_id,
        EventRegistration.status == RegistrationStatus.REGISTERED))).one()
    return int(taken) >= limit


async def _take_seat(s: AsyncSession, event: Event, district_id: int | None) -> bool:
    """One seat, if there is one (overall and in the member's district): a conditional update,
    so two members never both take the last seat."""
    if await _district_full(s, event, district_id):
        return False
    taken = await s.exec(update(Event).where(
        col(Event.id) == event.id, col(Event.registered) < col(Event.capacity))
        .values(registered=col(Event.registered) + 1))
    if not taken.rowcount:
        return False
    await s.refresh(event)
    return True


async def _free_seat(s: AsyncSession, event: Event) -> None:
    await s.exec(update(Event).where(col(Event.id) == event.id, col(Event.registered) > 0)
                 .values(registered=col(Event.registered) - 1))
    await s.refresh(event)


async def _move_up(s: AsyncSession, event: Event) -> list[int]:
    """While there are free seats, the first members on the waiting list (whose district has
    room) are registered and told, with their calendar file."""
    moved: list[int] = []
    waiting = (await s.exec(select(EventRegistration).where(
        EventRegistration.event_id == event.id,
        EventRegistration.status == RegistrationStatus.WAITLISTED)
        .order_by(col(EventRegistration.status_at), col(EventRegistration.id)))).all()
    now = utcnow()
    for reg in waiting:
        if event.registered >= event.capacity:
            break
        if not await _take_seat(s, event, reg.district_id):
            continue
        reg.status = RegistrationStatus.REGISTERED
        reg.status_at = now
        s.add(reg)
        await s.flush()
        notify.enqueue(s, reg.member_id, "event_promoted", event_id=event.id)
        moved.append(reg.member_id)
    return moved


async def _waiting_place(s: AsyncSession, event_id: int, reg: EventRegistration) -> int:
    ahead = (await s.exec(select(func.count()).where(
        EventRegistration.event_id == event_id,
        EventRegistration.status == RegistrationStatus.WAITLISTED,
        col(EventRegistration.status_at) <= reg.status_at,
        col(EventRegistration.id) < (reg.id or 0)))).one()
    return int(ahead) + 1


async def respond(db: Database, member_id: int, event_id: int,
                  answer: RegistrationStatus | str) -> Answer:
    """Register, maybe or not going. A full event puts the member on the waiting list; leaving a
    seat ("maybe" or "not going" after registering) lets the waiting list move up."""
    answer = RegistrationStatus(answer)
    if answer not in (RegistrationStatus.REGISTERED, RegistrationStatus.MAYBE,
                      RegistrationStatus.DECLINED):
        raise InvalidInput("event_answer")
    now = utcnow()
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        event = await load(s, event_id)
        reg = await registration_of(s, event_id, member_id)
        invited = reg is not None or await broadcasts.in_audience(
            s, Audience.from_json(event.audience), member_id)
        if not policy.can_answer_event(actor, invited, event.status == EventStatus.PUBLISHED):
            await policy.ensure(db, actor, False, policy.Action.ANSWER_EVENT, event_id)
        if event.status == EventStatus.CANCELLED:
            raise InvalidState("event_cancelled")
        if event.starts_at <= now:
            raise InvalidState("event_started")
        if answer != RegistrationStatus.DECLINED and event.registration_until < now:
            raise InvalidState("event_registration_closed")
        if reg is None:
            member = await s.get(Member, member_id)
            reg = EventRegistration(event_id=event_id, member_id=member_id,
                                    status=RegistrationStatus.INVITED,
                                    district_id=member.district_id if member else None)
            s.add(reg)
            await s.flush()
        before = RegistrationStatus(reg.status)
        if answer == RegistrationStatus.REGISTERED and before in (
                RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
            raise InvalidState("event_already_registered" if before
                               == RegistrationStatus.REGISTERED else "event_already_waiting")
        if answer == before:
            return Answer(before)
        if answer == RegistrationStatus.REGISTERED:
            seat = await _take_seat(s, event, reg.district_id)
            reg.status = RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED
        else:
            reg.status = answer
        reg.status_at = now
        s.add(reg)
        await s.flush()
        if before == RegistrationStatus.REGISTERED:
            await _free_seat(s, event)
            await _move_up(s, event)
        audit.record(s, member_id, "event_answered", "event", event_id, status=str(reg.status))
        await event_live.list_changed(s, event_id, now)
        if reg.status == RegistrationStatus.WAITLISTED:
            return Answer(RegistrationStatus.WAITLISTED, await _waiting_place(s, event_id, reg))
        return Answer(RegistrationStatus(reg.status))


async def cancel_registration(db: Database, member_id: int, event_id: int) -> Answer:
    """The member will not come after all: their seat (or place in line) is freed and the waiting
    list moves up by itself."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        event = await load(s, event_id)
        reg = await registration_of(s, event_id, member_id)
        if reg is None or not actor.active:
            await policy.ensure(db, actor, False, policy.Action.ANSWER_EVENT, event_id)
        assert reg is not None
        if reg.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED,
                              RegistrationStatus.MAYBE):
            raise InvalidState("event_not_registered")
        if event.starts_at <= utcnow():
            raise InvalidState("event_started")
        before = reg.status
        reg.status = RegistrationStatus.CANCELLED
        reg.status_at = utcnow()
        s.add(reg)
        await s.flush()
        if before == RegistrationStatus.REGISTERED and event.status == EventStatus.PUBLISHED:
            await _free_seat(s, event)
            await _move_up(s, event)
        audit.record(s, member_id, "event_registration_cancelled", "event", event_id)
        await event_live.list_changed(s, event_id)
        return Answer(RegistrationStatus.CANCELLED)


# --- changes and cancellation by the organiser -------------------------------------------------


@dataclass
class Change:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    address: str | None = None
    online_url: str | None = None


async def change_event(db: Database, actor_id: int, event_id: int, change: Change) -> int:
    """A new time or place: everyone registered is told, with a new calendar file (a higher
    SEQUENCE replaces the entry on their phone); reminders follow the new time. Returns how many
    were told."""
    now = utcnow()
    async with db.transaction() as s:
        _actor, event = await organised(db, s, actor_id, event_id, policy.Action.MANAGE_EVENT)
        if event.status in (EventStatus.CANCELLED, EventStatus.REJECTED):
            raise InvalidState("event_cancelled")
        if event.starts_at <= now:
            raise InvalidState("event_started")
        moved = False
        if change.starts_at is not None or change.ends_at is not None:
            starts = change.starts_at or event.starts_at
            ends = change.ends_at or (starts + (event.ends_at - event.starts_at))
            check_times(starts, ends, now)
            moved = starts != event.starts_at
            event.starts_at, event.ends_at = starts, ends
            if event.registration_until > starts:
                event.registration_until = starts
        if change.address is not None or change.online_url is not None:
            address = _text(change.address, ADDRESS_MAX, "event_address", required=False)
            url = check_url(change.online_url)
            if address is None and url is None:
                raise InvalidInput("event_place")
            event.address, event.online_url = address, url
        event.sequence += 1
        event.changed_at = now
        s.add(event)
        if moved:
            await s.exec(update(EventRegistration).where(
                col(EventRegistration.event_id) == event_id)
                .values(reminded_day_at=None, reminded_hour_at=None))
        told = 0
        if event.status == EventStatus.PUBLISHED:
            told = await _tell_registered(s, event_id, "event_changed",
                                          (RegistrationStatus.REGISTERED,), urgent=True)
        audit.record(s, actor_id, "event_changed", "event", event_id, moved=moved)
        return told


async def _tell_registered(s: AsyncSession, event_id: int, kind: str,
                           statuses: tuple[RegistrationStatus, ...], urgent: bool = False) -> int:
    ids = (await s.exec(select(EventRegistration.member_id).where(
        EventRegistration.event_id == event_id,
        col(EventRegistration.status).in_(statuses)).order_by(col(EventRegistration.id)))).all()
    event = await s.get(Event, event_id)
    sequence = event.sequence if event is not None else 0
    for member_id in ids:
        notify.enqueue(s, member_id, kind, event_id=event_id, sequence=sequence, urgent=urgent)
    return len(ids)


async def cancel_event(db: Database, actor_id: int, event_id: int) -> int:
    """Called off: everyone registered, waiting or maybe is told (the registered with a calendar
    file that removes the entry); invitations still waiting in the outbox are not sent."""
    async with db.transaction() as s:
        _actor, event = await organised(db, s, actor_id, event_id, policy.Action.MANAGE_EVENT)
        if event.status in (EventStatus.CANCELLED, EventStatus.REJECTED):
            raise InvalidState("event_cancelled")
        if event.ends_at <= utcnow():
            raise InvalidState("event_started")
        was_published = event.status == EventStatus.PUBLISHED
        event.status = EventStatus.CANCELLED
        event.cancelled_at = utcnow()
        event.sequence += 1
        s.add(event)
        await s.flush()
        told = 0
        if was_published:
            told = await _tell_registered(s, event_id, "event_cancelled", ANSWERED, urgent=True)
        audit.record(s, actor_id, "event_cancelled", "event", event_id, told=told)
        return told


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    event: Event
    registration: EventRegistration | None
    organiser: bool
    approver: bool
    host: str | None
    waiting: int
    materials: list[EventMaterial]
    waiting_place: int | None = None

    @property
    def status(self) -> RegistrationStatus | None:
        return RegistrationStatus(self.registration.status) if self.registration else None

    @property
    def registered(self) -> bool:
        return self.status == RegistrationStatus.REGISTERED


async def event_view(db: Database, member_id: int, event_id: int, lang: str) -> EventView:
    """One event as this member may see it: invited (or in its audience), organising it, or
    staff. The online link is for the registered (and the organiser) only: views decide with
    `registered` / `organiser`."""
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        event = await s.get(Event, event_id) if 0 < event_id < ID_LIMIT else None
        reg = await registration_of(s, event_id, member_id) if event is not None else None
        organiser = event is not None and policy.can_organise_event(actor, event.created_by_id)
        approver = policy.can_approve_event(actor)
        seen = event is not None and (organiser or approver or (actor.active and (
            reg is not None or (event.status == EventStatus.PUBLISHED and
                                await broadcasts.in_audience(
                                    s, Audience.from_json(event.audience), member_id)))))
        if not seen:
            await policy.ensure(db, actor, False, policy.Action.VIEW_EVENT,
                                event_id if 0 < event_id < ID_LIMIT else None)
        assert event is not None
        host = None
        if event.host_municipality_id is not None:
            m = await s.get(Municipality, event.host_municipality_id)
            host = m.name(lang) if m else None
        waiting = (await s.exec(select(func.count()).where(
            EventRegistration.event_id == event_id,
            EventRegistration.status == RegistrationStatus.WAITLISTED))).one()
        materials = list((await s.exec(select(EventMaterial).where(
            EventMaterial.event_id == event_id).order_by(col(EventMaterial.id)))).all())
        place = None
        if reg is not None and reg.status == RegistrationStatus.WAITLISTED:
            place = await _waiting_place(s, event_id, reg)
        return EventView(event, reg, organiser, approver, host, int(waiting), materials, place)


async def notice_data(db: Database, event_id: int, member_id: int
                      ) -> tuple[Event, EventRegistration | None, list[EventMaterial]] | None:
    """An event for a notice to this member (the renderer words it)."""
    async with db.read() as s:
        event = await s.get(Event, event_id)
        if event is None:
            return None
        reg = await registration_of(s, event_id, member_id)
        materials = list((await s.exec(select(EventMaterial).where(
            EventMaterial.event_id == event_id).order_by(col(EventMaterial.id)))).all())
        return event, reg, materials


async def led_districts(db: Database, member_id: int) -> list[int]:
    """The districts this member leads a practice community in."""
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
    return sorted({g.district_id for g in actor.grants
                   if g.role == Role.DISTRICT_LEADER and g.district_id is not None})


async def host_name(db: Database, municipality_id: int | None, lang: str) -> str | None:
    if municipality_id is None:
        return None
    async with db.read() as s:
        m = await s.get(Municipality, municipality_id)
        return m.name(lang) if m else None


@dataclass(frozen=True)
class Lists:
    upcoming: list[tuple[Event, str]]  # invited, not answered or maybe: (event, my status)
    mine: list[tuple[Event, str]]  # registered or waiting
    past: list[Event]  # attended or registered, with materials
    organised: list[Event]
    awaiting: list[Event]  # partners' events for staff to approve


async def lists(db: Database, member_id: int, now: datetime | None = None) -> Lists:
    now = now or utcnow()
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        rows = (await s.exec(
            select(Event, EventRegistration.status)
            .join(EventRegistration, col(EventRegistration.event_id) == Event.id)
            .where(EventRegistration.member_id == member_id,
                   Event.status == EventStatus.PUBLISHED, col(Event.starts_at) > now)
            .order_by(col(Event.starts_at)).limit(40))).all()
        upcoming = [(e, str(st)) for e, st in rows
                    if st in (RegistrationStatus.INVITED, RegistrationStatus.MAYBE)][:10]
        # Members who joined after the invitations went out: events whose audience they are in.
        answered = {e.id for e, _st in rows}
        open_events = [e for e in (await s.exec(select(Event).where(
            Event.status == EventStatus.PUBLISHED, col(Event.starts_at) > now,
            col(Event.registration_until) > now).order_by(col(Event.starts_at))
            .limit(20))).all() if e.id is not None and e.id not in answered]
        if len(upcoming) < 10:
            # Whose audience the member is in: one statement for them all (it was one each).
            named = await broadcasts.audiences_of(
                s, {e.id or 0: Audience.from_json(e.audience) for e in open_events}, member_id)
            upcoming += [(e, str(RegistrationStatus.INVITED)) for e in open_events
                         if e.id in named][:10 - len(upcoming)]
        upcoming.sort(key=lambda pair: pair[0].starts_at)
        mine = [(e, str(st)) for e, st in rows
                if st in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)][:10]
        past = list((await s.exec(
            select(Event).join(EventRegistration, col(EventRegistration.event_id) == Event.id)
            .where(EventRegistration.member_id == member_id, col(EventRegistration.attended),
                   col(Event.materials_at).is_not(None))
            .order_by(col(Event.starts_at).desc()).limit(10))).all())
        organised: list[Event] = []
        awaiting: list[Event] = []
        if policy.can_create_event(actor):
            query = select(Event).where(col(Event.ends_at) > now - timedelta(days=60))
            if not actor.is_staff:
                query = query.where(Event.created_by_id == member_id)
            organised = list((await s.exec(
                query.order_by(col(Event.starts_at).desc()).limit(10))).all())
        if policy.can_approve_event(actor):
            awaiting = list((await s.exec(select(Event).where(
                Event.status == EventStatus.AWAITING_APPROVAL)
                .order_by(col(Event.id)).limit(10))).all())
        return Lists(upcoming, mine, past, organised, awaiting)

