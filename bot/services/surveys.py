"""Surveys and quick polls: ask members a structured question and see the answer by region.

Why this shape:
- A survey's questions are data on its row (`bot.services.survey_forms`), checked once when it
  is created or imported; it is aimed at members exactly like a broadcast
  (`broadcasts.Audience`) and fanned out in the same transaction as one `SurveyInvite` row (the
  base of the response rate and of the one reminder) and one outbox invitation per member.
- A response is written as the member answers, one question at a time (`current` is where they
  are), so leaving for days or a restart loses nothing; it counts once submitted and stays
  editable until the deadline. `SurveyResponse.key` makes it unique: one per member, one per
  municipality (the first member to start answers for it), or for an anonymous survey a keyed
  one-way hash of the member id — no member id is kept, and the key of the hashes (`salt`) is
  wiped when the survey closes.
- One job (`bot.jobs.surveys`) sends the one reminder and closes surveys at their deadline;
  quick polls are native Telegram polls whose votes come back as `poll_answer` updates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, broadcasts, cache, forums, notify, policy
from bot.services import survey_forms as forms
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from bot.services.forums import Forums
from bot.services.survey_results import (  # re-exported: callers use `surveys.results` etc.
    ANONYMOUS_THRESHOLD,  # noqa: F401
    RESULTS_FILES_KIND,  # noqa: F401
    ExportRow,  # noqa: F401
    PlaceRate,  # noqa: F401
    QuestionResult,  # noqa: F401
    Results,  # noqa: F401
    aggregate,  # noqa: F401
    export_rows,  # noqa: F401
    managed,  # noqa: F401
    managed_survey,
    publish_results,  # noqa: F401
    results,  # noqa: F401
    shared_results,  # noqa: F401
)
from storage.db import Database, table_of
from storage.enums import MemberStatus
from storage.models import (
    GroupMember,
    GroupModerator,
    Member,
    Survey,
    SurveyInvite,
    SurveyPoll,
    SurveyResponse,
    TopicGroup,
)
from storage.types import utcnow

TITLE_MAX = 200
INTRO_MAX = 2000
POLL_OPTIONS_MAX = 10
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
# The one reminder goes out this long before the deadline (or half-way, for short surveys).
REMIND_BEFORE = timedelta(hours=24)
INVITE_KIND = "survey_invite"
REMINDER_KIND = "survey_reminder"
POLL_KIND = "survey_poll"
POLL_STOP_KIND = "survey_poll_stop"
POLL_RESULTS_KIND = "survey_poll_results"
_RESPONSES = table_of(SurveyResponse)


class Status:
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class SurveyDraft:
    title: dict[str, str]
    questions: list[dict[str, Any]]
    deadline: datetime
    intro: dict[str, str] = field(default_factory=dict)
    audience: Audience = field(default_factory=Audience)
    per_municipality: bool = False
    anonymous: bool = False
    kind: str = "survey"  # or "poll"
    # A moderator's survey goes to their topic group's members; a quick poll with `in_forum`
    # is posted in that group's forum thread.
    group_id: int | None = None
    in_forum: bool = False


@dataclass(frozen=True)
class Created:
    survey_id: int
    recipients: int


# --- creating -----------------------------------------------------------------------------------


def _texts(raw: dict[str, str], limit: int, required: bool, code: str) -> dict[str, str]:
    found = {lang: " ".join(str(raw.get(lang) or "").split()) if code == "survey_title"
             else str(raw.get(lang) or "").strip() for lang in ("ky", "ru", "en")}
    if required and (len(found["ky"]) < 3 or len(found["ru"]) < 3):
        raise InvalidInput(code, limit=limit)
    if any(len(v) > limit for v in found.values()):
        raise InvalidInput(code, limit=limit)
    return found


def clean_draft(draft: SurveyDraft, now: datetime | None = None) -> SurveyDraft:
    """Everything a survey must be before it can be sent (the flows check as they go too)."""
    now = now or utcnow()
    title = _texts(draft.title, TITLE_MAX, True, "survey_title")
    intro = _texts(draft.intro, INTRO_MAX, False, "survey_intro")
    questions = forms.clean_questions(draft.questions)
    if draft.deadline <= now + timedelta(minutes=5):
        raise InvalidInput("survey_deadline")
    if draft.per_municipality and draft.anonymous:
        raise InvalidInput("survey_mode")
    if draft.kind == "poll":
        q = questions[0] if len(questions) == 1 else None
        if q is None or q["type"] not in ("single", "multiple") or q.get("relevant") \
                or len(q["choices"]) > POLL_OPTIONS_MAX:
            raise InvalidInput("poll_shape", limit=POLL_OPTIONS_MAX)
        if draft.anonymous or draft.per_municipality:
            raise InvalidInput("survey_mode")
    elif draft.in_forum:
        raise InvalidInput("survey_mode")
    return SurveyDraft(title=title, intro=intro, questions=questions, deadline=draft.deadline,
                       audience=draft.audience, per_municipality=draft.per_municipality,
                       anonymous=draft.anonymous, kind=draft.kind, group_id=draft.group_id,
                       in_forum=draft.in_forum)


async def _led_districts(session: AsyncSession, actor: policy.Actor) -> list[int]:
    return sorted({g.district_id for g in actor.grants
                   if g.role == "district_leader" and g.district_id is not None})


async def _aim(db: Database, session: AsyncSession, actor: policy.Actor,
               draft: SurveyDraft) -> Audience:
    """The audience the actor may ask: checked against the policy, narrowed where the role says."""
    audience = draft.audience
    moderates = False
    if draft.group_id is not None:
        group = await session.get(TopicGroup, draft.group_id)
        if group is None or group.archived_at is not None:
            raise NotFound(what="group")
        moderates = await session.get(GroupModerator, (draft.group_id, actor.member_id)) \
            is not None
        if not actor.is_staff or not draft.in_forum:
            members = (await session.exec(select(GroupMember.member_id).where(
                GroupMember.group_id == draft.group_id))).all()
            audience = Audience(members=sorted(set(members)))
    elif not actor.is_staff:
        led = await _led_districts(session, actor)
        districts = audience.districts or led
        audience = Audience(roles=audience.roles, communities=audience.communities,
                            districts=districts, languages=audience.languages)
    allowed = policy.can_create_survey(actor, audience.districts if draft.group_id is None
                                       else [], moderates)
    await policy.ensure(db, actor, allowed, policy.Action.CREATE_SURVEY)
    return audience


async def count_audience(db: Database, actor_id: int, draft: SurveyDraft) -> int:
    """How many members a survey with this audience would reach (the builder's live count)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        audience = await _aim(db, s, actor, draft)
        return len(await broadcasts.recipients(s, audience))


async def may_create(db: Database, actor_id: int) -> bool:
    """Staff, district leaders and moderators may build surveys (/surveys shows them "New")."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if actor.is_staff or await _led_districts(s, actor):
            return actor.active
        moderates = (await s.exec(select(GroupModerator.group_id).where(
            GroupModerator.member_id == actor_id).limit(1))).first()
        return actor.active and moderates is not None


async def moderated_groups(db: Database, actor_id: int) -> list[int]:
    async with db.read() as s:
        return sorted((await s.exec(select(GroupModerator.group_id).where(
            GroupModerator.member_id == actor_id))).all())


async def create_survey(db: Database, actor_id: int, draft: SurveyDraft,
                        forum_chat_id: int | Forums | None = None) -> Created:
    """Write the survey and, in the same transaction, its invitations (or its polls)."""
    draft = clean_draft(draft)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        audience = await _aim(db, s, actor, draft)
        thread_id = None
        poll_chat = None
        if draft.in_forum:
            group = await s.get(TopicGroup, draft.group_id)
            # Only a chat the group may be mirrored in: a community's poll never reaches the
            # shared forum (`bot.services.forums`).
            poll_chat = await forums.mirror_chat(s, forum_chat_id, group) if group else None
            if group is None or poll_chat is None:
                raise InvalidInput("poll_no_forum")
            thread_id = group.forum_topic_id
        survey = Survey(
            kind=draft.kind, title_ky=draft.title["ky"], title_ru=draft.title["ru"],
            title_en=draft.title.get("en") or None, intro_ky=draft.intro.get("ky", ""),
            intro_ru=draft.intro.get("ru", ""), intro_en=draft.intro.get("en") or None,
            questions=draft.questions, audience=audience.as_json(),
            per_municipality=draft.per_municipality, anonymous=draft.anonymous,
            deadline=draft.deadline, created_by_id=actor_id, group_id=draft.group_id,
            forum_thread_id=thread_id, salt=secrets.token_hex(16) if draft.anonymous else None)
        s.add(survey)
        await s.flush()
        assert survey.id is not None
        count = 0
        if thread_id is not None and poll_chat is not None:
            notify.enqueue_chat(s, poll_chat, POLL_KIND, survey_id=survey.id,
                                thread_id=thread_id)
        else:
            count = await _invite(s, survey, audience)
        survey.recipients = count
        audit.record(s, actor_id, "survey_created", "survey", survey.id, recipients=count,
                     kind=draft.kind)
        return Created(survey.id, count)


async def _invite(session: AsyncSession, survey: Survey, audience: Audience) -> int:
    members = await broadcasts.recipients(session, audience)
    places: dict[int, tuple[int | None, int | None]] = {}
    for start in range(0, len(members), 900):
        rows = await session.exec(select(Member.id, Member.district_id, Member.region_id)
                                  .where(col(Member.id).in_(members[start:start + 900])))
        for member_id, district_id, region_id in rows.all():
            places[member_id or 0] = (district_id, region_id)
    invites = [{"survey_id": survey.id, "member_id": m, "district_id": places[m][0],
                "region_id": places[m][1]} for m in members]
    for start in range(0, len(invites), 1000):
        await session.exec(insert(SurveyInvite).values(invites[start:start + 1000]))
    kind = POLL_KIND if survey.kind == "poll" else INVITE_KIND
    await notify.enqueue_many(session, members, kind, survey_id=survey.id)
    return len(members)


# --- reading ----------------------------------------------------------------------------------


_by_id: cache.ReadCache[Survey | None] = cache.ReadCache(10.0, "survey")


async def cached(db: Database, survey_id: int) -> Survey | None:
    """The survey row for rendering and answering (its questions never change once sent)."""
    found = _by_id.get(survey_id)
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    async with db.read() as s:
        row = await s.get(Survey, survey_id)
    return _by_id.put(survey_id, row)


async def get(db: Database, survey_id: int) -> Survey | None:
    async with db.read() as s:
        return await s.get(Survey, survey_id)


def is_open(survey: Survey, now: datetime | None = None) -> bool:
    return survey.status == Status.OPEN and survey.deadline > (now or utcnow())


# --- answering ----------------------------------------------------------------------------------


@dataclass
class Step:
    """Where a member is in a survey: the question to show (None: the summary)."""

    survey: Survey
    answers: dict[str, Any]
    current: str | None
    submitted: bool
    # Per-municipality mode: someone else answers for the member's municipality.
    answered_by: str | None = None
    own: bool = True

    @property
    def question(self) -> dict[str, Any] | None:
        return forms.by_name(self.survey.questions, self.current)

    @property
    def shown(self) -> list[dict[str, Any]]:
        return forms.path(self.survey.questions, self.answers)

    @property
    def position(self) -> int:
        names = [q["name"] for q in self.shown]
        return names.index(self.current) + 1 if self.current in names else len(names)

    @property
    def total(self) -> int:
        return len(self.shown)


def _token(survey: Survey, member_id: int) -> str:
    assert survey.salt is not None
    digest = hmac.new(survey.salt.encode(), f"{survey.id}:{member_id}".encode(),
                      hashlib.sha256).hexdigest()
    return "a:" + digest[:64]


def _key(survey: Survey, member: Member) -> str:
    if survey.anonymous:
        return _token(survey, member.id or 0)
    if survey.per_municipality and member.municipality_id is not None:
        return f"mu:{member.municipality_id}"
    return f"m:{member.id}"


def _key_without_row(survey: Survey, member_id: int) -> str | None:
    """`_key` when it needs no more than the member's id ("" for an anonymous survey whose
    key of hashes is wiped: it is closed); None for a per-municipality survey."""
    if survey.anonymous:
        return _token(survey, member_id) if survey.salt else ""
    return None if survey.per_municipality else f"m:{member_id}"


@dataclass
class _Ctx:
    survey: Survey
    member: Member
    response: SurveyResponse | None
    key: str


async def _context(db: Database, s: AsyncSession, member_id: int, survey_id: int) -> _Ctx:
    """The survey (from the read cache: its questions never change, and closing clears it),
    the member, and their response; the invitation is checked unless their own response
    already proves it. The member and the response are one statement when the response's key
    does not depend on the member's row (all but per-municipality surveys)."""
    survey = await cached(db, survey_id)
    if survey is None or survey.kind != "survey":
        raise NotFound(what="survey")
    known = _key_without_row(survey, member_id)
    response: SurveyResponse | None = None
    if known:
        row = (await s.exec(
            select(Member, SurveyResponse)
            .outerjoin(SurveyResponse, and_(col(SurveyResponse.survey_id) == survey_id,
                                            col(SurveyResponse.key) == known))
            .where(col(Member.id) == member_id))).first()
        member, response = row if row is not None else (None, None)
    else:
        member = await s.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise PermissionDenied(action=str(policy.Action.ANSWER_SURVEY))
    key = known if known is not None else _key(survey, member)
    if known is None:
        response = (await s.exec(select(SurveyResponse).where(
            SurveyResponse.survey_id == survey_id, SurveyResponse.key == key))).first()
    own = response is not None and (survey.anonymous or response.member_id == member_id)
    if not own and await s.get(SurveyInvite, (survey_id, member_id)) is None:
        actor = await policy.load_actor(s, member_id)
        await policy.ensure(db, actor, False, policy.Action.ANSWER_SURVEY, survey_id)
    if not is_open(survey):
        raise InvalidState("survey_closed")
    return _Ctx(survey, member, response, key)


async def _answered_by(s: AsyncSession, ctx: _Ctx) -> str | None:
    """The name of the member who answers for this member's municipality, if not them."""
    r = ctx.response
    if r is None or not ctx.survey.per_municipality or r.member_id in (None, ctx.member.id):
        return None
    other = await s.get(Member, r.member_id)
    return other.full_name if other else "—"


def _step(ctx: _Ctx, answered_by: str | None = None) -> Step:
    r = ctx.response
    if r is None:
        return Step(ctx.survey, {}, None, False, answered_by, own=False)
    return Step(ctx.survey, dict(r.answers), r.current, r.submitted_at is not None,
                answered_by, own=answered_by is None)


async def begin(db: Database, member_id: int, survey_id: int) -> Step:
    """Open a survey to answer: continue where the member was, or start at the first question.
    In per-municipality mode the first member to start answers for the municipality."""
    for _attempt in range(2):
        # Read without SQLite's one writer: most opens continue a response that exists.
        async with db.read() as s:
            ctx = await _context(db, s, member_id, survey_id)
            by = await _answered_by(s, ctx)
        if by is not None or ctx.response is not None:
            return _step(ctx, by)
        first = forms.next_after(ctx.survey.questions, {}, None)
        anonymous = ctx.survey.anonymous
        try:
            async with db.transaction() as s:
                ctx.response = SurveyResponse(
                    survey_id=survey_id, key=ctx.key,
                    member_id=None if anonymous else member_id,
                    municipality_id=ctx.member.municipality_id
                    if ctx.survey.per_municipality else None,
                    district_id=ctx.member.district_id, region_id=ctx.member.region_id,
                    answers={}, current=first)
                s.add(ctx.response)
                await s.flush()
                return _step(ctx)
        except IntegrityError:
            continue  # another member of the municipality (or a second tap) started first
    raise InvalidState("survey_busy")


async def _own(db: Database, s: AsyncSession, member_id: int, survey_id: int) -> _Ctx:
    ctx = await _context(db, s, member_id, survey_id)
    if ctx.response is None or await _answered_by(s, ctx) is not None:
        raise InvalidState("survey_not_yours")
    return ctx


def _at(ctx: _Ctx, name: str) -> dict[str, Any]:
    """The question a button names, if it is the one the member is on (older buttons are
    stale)."""
    assert ctx.response is not None
    if ctx.response.current != name:
        raise InvalidState("survey_stale")
    q = forms.by_name(ctx.survey.questions, name)
    if q is None:
        raise InvalidState("survey_stale")
    return q


def _write(ctx: _Ctx, answers: dict[str, Any], current: str | None) -> None:
    r = ctx.response
    assert r is not None
    r.answers = forms.prune(ctx.survey.questions, answers)
    r.current = current
    r.updated_at = utcnow()


def _advance(ctx: _Ctx, answers: dict[str, Any], name: str) -> None:
    """After answering `name`: the next question, or the summary. An edited, already submitted
    response goes back to its summary unless the change opened a question not yet answered."""
    r = ctx.response
    assert r is not None
    after = forms.next_after(ctx.survey.questions, answers, name)
    if r.submitted_at is not None:
        pruned = forms.prune(ctx.survey.questions, answers)
        after = forms.missing_required(ctx.survey.questions, pruned)
    _write(ctx, answers, after)


async def _change(db: Database, member_id: int, survey_id: int,
                  change: Callable[[_Ctx], None]) -> Step:
    """Read the member's response outside the writer's lock, let `change` decide (it raises to
    refuse), then write it with one conditional UPDATE. SQLite has one writer: a transaction that
    also read held it for four round trips to the database thread, and 100 answers a second
    queued behind it (scripts/bench_surveys.py). A response changed in between (the same member
    tapping twice) is read again."""
    for _attempt in range(3):
        async with db.read() as s:
            ctx = await _own(db, s, member_id, survey_id)
        r = ctx.response
        assert r is not None and r.id is not None
        seen = r.updated_at
        change(ctx)
        async with db.transaction() as s:
            done = await s.exec(
                update(_RESPONSES)  # the table, not the model: no ORM bulk update machinery
                .where(_RESPONSES.c.id == r.id, _RESPONSES.c.updated_at == seen)
                .values(answers=r.answers, current=r.current, updated_at=r.updated_at))
            if done.rowcount == 1:
                return _step(ctx)
    raise InvalidState("survey_busy")


async def answer(db: Database, member_id: int, survey_id: int, name: str, value: Any) -> Step:
    """A complete answer to the current question (a choice, a scale point, a typed number,
    date or text, or a finished multiple choice or ranking); moves on."""

    def change(ctx: _Ctx) -> None:
        q = _at(ctx, name)
        checked = forms.check_value(q, value)
        assert ctx.response is not None
        _advance(ctx, {**ctx.response.answers, name: checked}, name)

    return await _change(db, member_id, survey_id, change)


async def answer_typed(db: Database, member_id: int, survey_id: int, text: str) -> Step:
    """A message typed while a number, date or text question is shown."""

    def change(ctx: _Ctx) -> None:
        assert ctx.response is not None
        if ctx.response.current is None:
            raise InvalidInput("survey_use_buttons")
        q = _at(ctx, ctx.response.current)
        value = forms.parse_typed(q, text)
        _advance(ctx, {**ctx.response.answers, q["name"]: value}, q["name"])

    return await _change(db, member_id, survey_id, change)


async def tap(db: Database, member_id: int, survey_id: int, name: str, choice: str) -> Step:
    """Multiple choice: toggle an option; ranking: put the next option in order. Stays on the
    question until Done."""

    def change(ctx: _Ctx) -> None:
        q = _at(ctx, name)
        assert ctx.response is not None
        current = ctx.response.answers.get(name)
        if q["type"] == "multiple":
            value = forms.toggle(q, current, choice)
        elif q["type"] == "ranking":
            value = forms.rank_tap(q, current, choice)
        else:
            raise InvalidInput("survey_choice")
        _write(ctx, {**ctx.response.answers, name: value}, name)

    return await _change(db, member_id, survey_id, change)


async def undo(db: Database, member_id: int, survey_id: int, name: str) -> Step:
    """Ranking: take back the last option put in order."""

    def change(ctx: _Ctx) -> None:
        q = _at(ctx, name)
        assert ctx.response is not None
        order = list(ctx.response.answers.get(name) or [])
        if q["type"] != "ranking":
            raise InvalidInput("survey_choice")
        _write(ctx, {**ctx.response.answers, name: order[:-1]}, name)

    return await _change(db, member_id, survey_id, change)


async def done(db: Database, member_id: int, survey_id: int, name: str) -> Step:
    """Multiple choice or ranking: the taps so far are the answer."""

    def change(ctx: _Ctx) -> None:
        q = _at(ctx, name)
        assert ctx.response is not None
        value = ctx.response.answers.get(name)
        if not value and not q["required"]:
            answers = {k: v for k, v in ctx.response.answers.items() if k != name}
        else:
            answers = {**ctx.response.answers, name: forms.check_value(q, value or [])}
        _advance(ctx, answers, name)

    return await _change(db, member_id, survey_id, change)


async def skip(db: Database, member_id: int, survey_id: int, name: str) -> Step:
    """Leave an optional question unanswered."""

    def change(ctx: _Ctx) -> None:
        q = _at(ctx, name)
        if q["required"]:
            raise InvalidInput("survey_required")
        assert ctx.response is not None
        _advance(ctx, {k: v for k, v in ctx.response.answers.items() if k != name}, name)

    return await _change(db, member_id, survey_id, change)


async def back(db: Database, member_id: int, survey_id: int) -> Step:
    """The question before the current one (from the summary: the last one)."""

    def change(ctx: _Ctx) -> None:
        r = ctx.response
        assert r is not None
        questions = ctx.survey.questions
        if r.current is None:
            shown = forms.path(questions, r.answers)
            target = shown[-1]["name"] if shown else None
        else:
            target = forms.before(questions, r.answers, r.current) or r.current
        _write(ctx, dict(r.answers), target)

    return await _change(db, member_id, survey_id, change)


async def edit(db: Database, member_id: int, survey_id: int, name: str) -> Step:
    """From the summary: go to one question to change its answer (until the deadline)."""

    def change(ctx: _Ctx) -> None:
        r = ctx.response
        assert r is not None
        if name not in {q["name"] for q in forms.path(ctx.survey.questions, r.answers)}:
            raise InvalidState("survey_stale")
        _write(ctx, dict(r.answers), name)

    return await _change(db, member_id, survey_id, change)


async def submit(db: Database, member_id: int, survey_id: int) -> Step:
    """Confirm the summary: the response counts (again, after an edit)."""
    async with db.transaction() as s:
        ctx = await _own(db, s, member_id, survey_id)
        r = ctx.response
        assert r is not None
        questions = ctx.survey.questions
        answers = forms.prune(questions, r.answers)
        for q in forms.path(questions, answers):
            if q["name"] in answers:
                answers[q["name"]] = forms.check_value(q, answers[q["name"]])
        missing = forms.missing_required(questions, answers)
        if missing is not None or r.current is not None:
            _write(ctx, answers, missing or r.current)
            raise InvalidState("survey_incomplete")
        first = r.submitted_at is None
        r.answers = answers
        r.submitted_at = utcnow()
        r.updated_at = r.submitted_at
        audit.record(s, None if ctx.survey.anonymous else member_id,
                     "survey_submitted" if first else "survey_resubmitted", "survey",
                     survey_id)
        return _step(ctx)


# --- the member's list --------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    survey: Survey
    state: str  # new, started, submitted, answered_by, closed
    by: str | None = None


async def for_member(db: Database, member_id: int, limit: int = 10) -> list[Listed]:
    """Open surveys sent to the member, newest first, with where they stand."""
    now = utcnow()
    async with db.read() as s:
        member = await s.get(Member, member_id)
        if member is None:
            return []
        rows = (await s.exec(
            select(Survey).join(SurveyInvite, col(SurveyInvite.survey_id) == Survey.id)
            .where(SurveyInvite.member_id == member_id, Survey.kind == "survey",
                   Survey.status == Status.OPEN, col(Survey.deadline) > now)
            .order_by(col(Survey.id).desc()).limit(limit))).all()
        # Where the member stands in each: every response (and who gave it) in one statement.
        keys = {survey.id: _key(survey, member) for survey in rows}
        responses: dict[int, tuple[SurveyResponse, str | None]] = {}
        if keys:
            for response, answerer in (await s.exec(
                    select(SurveyResponse, Member.full_name)
                    .outerjoin(Member, col(Member.id) == SurveyResponse.member_id)
                    .where(or_(*(and_(col(SurveyResponse.survey_id) == sid,
                                      col(SurveyResponse.key) == key)
                                 for sid, key in keys.items()))))).all():
                responses.setdefault(response.survey_id, (response, answerer))
    found = []
    for survey in rows:
        got = responses.get(survey.id or 0)
        if got is None:
            found.append(Listed(survey, "new"))
        elif survey.per_municipality and got[0].member_id not in (None, member_id):
            found.append(Listed(survey, "answered_by", got[1] or "—"))
        else:
            found.append(Listed(survey, "submitted" if got[0].submitted_at else "started"))
    return found


# --- deadlines: the one reminder and closing ----------------------------------------------------


def remind_at(survey: Survey) -> datetime:
    half = survey.created_at + (survey.deadline - survey.created_at) / 2
    return max(half, survey.deadline - REMIND_BEFORE)


async def _unanswered(s: AsyncSession, survey: Survey) -> list[int]:
    """Invited members with no submitted response (for their municipality, in that mode)."""
    invited = (await s.exec(
        select(Member.id, Member.municipality_id)
        .join(SurveyInvite, col(SurveyInvite.member_id) == Member.id)
        .where(SurveyInvite.survey_id == survey.id,
               Member.status == MemberStatus.ACTIVE))).all()
    keys = set((await s.exec(select(SurveyResponse.key).where(
        SurveyResponse.survey_id == survey.id,
        col(SurveyResponse.submitted_at).is_not(None)))).all())
    waiting: list[int] = []
    for member_id, municipality_id in invited:
        if member_id is None:
            continue
        if survey.anonymous:
            key = _token(survey, member_id)
        elif survey.per_municipality and municipality_id is not None:
            key = f"mu:{municipality_id}"
        else:
            key = f"m:{member_id}"
        if key not in keys:
            waiting.append(member_id)
    return waiting


async def _close(s: AsyncSession, survey: Survey, now: datetime) -> None:
    survey.status = Status.CLOSED
    survey.closed_at = now
    survey.salt = None  # anonymous tokens can no longer be matched to anyone
    polls = (await s.exec(select(SurveyPoll).where(
        SurveyPoll.survey_id == survey.id, col(SurveyPoll.stopped_at).is_(None)))).all()
    for poll in polls:
        poll.stopped_at = now
        notify.enqueue_chat(s, poll.chat_id, POLL_STOP_KIND, survey_id=survey.id,
                            message_id=poll.message_id)
        if survey.forum_thread_id is not None:  # the thread sees what it voted
            notify.enqueue_chat(s, poll.chat_id, POLL_RESULTS_KIND, survey_id=survey.id,
                                thread_id=survey.forum_thread_id)
    # Invitations and reminders still waiting (quiet hours) are dropped by their renderers.
    if survey.created_by_id:
        notify.enqueue(s, survey.created_by_id, "survey_closed", survey_id=survey.id)
    audit.record(s, None, "survey_closed", "survey", survey.id)


async def run_deadlines(db: Database, now: datetime) -> tuple[int, int]:
    """The scheduler's job: the one reminder to those who have not answered, and closing at
    the deadline. Each step is claimed with a conditional update, so it happens once."""
    reminded = closed = 0
    async with db.read() as s:
        open_rows = (await s.exec(select(Survey).where(Survey.status == Status.OPEN))).all()
    for survey in open_rows:
        if survey.deadline <= now:
            async with db.transaction() as s:
                claimed = await s.exec(update(Survey).where(
                    col(Survey.id) == survey.id, col(Survey.status) == Status.OPEN)
                    .values(status=Status.CLOSED))
                if not claimed.rowcount:
                    continue
                row = await s.get(Survey, survey.id)
                assert row is not None
                await s.refresh(row)
                await _close(s, row, now)
                closed += 1
        elif survey.kind == "survey" and survey.reminded_at is None \
                and now >= remind_at(survey):
            async with db.transaction() as s:
                claimed = await s.exec(update(Survey).where(
                    col(Survey.id) == survey.id, col(Survey.reminded_at).is_(None))
                    .values(reminded_at=now))
                if not claimed.rowcount:
                    continue
                waiting = await _unanswered(s, survey)
                await notify.enqueue_many(s, waiting, REMINDER_KIND, survey_id=survey.id)
                reminded += len(waiting)
    if closed or reminded:
        cache.clear_all()
    return reminded, closed


async def close_survey(db: Database, actor_id: int, survey_id: int) -> None:
    """The creator or staff close a survey before its deadline."""
    async with db.transaction() as s:
        survey = await managed_survey(db, s, actor_id, survey_id)
        if survey.status != Status.OPEN:
            raise InvalidState("survey_closed")
        await _close(s, survey, utcnow())
        audit.record(s, actor_id, "survey_closed_early", "survey", survey_id)
    cache.clear_all()
