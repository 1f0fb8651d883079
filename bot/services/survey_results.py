"""Survey results for the people who manage a survey: response rate by region and district,
every question's figures, the export and publishing the results as news.

Split from `bot.services.surveys` (which re-exports these names), below it: this module never
imports `surveys`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, broadcasts, notify, policy
from bot.services import survey_forms as forms
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidState, NotFound
from storage.db import Database
from storage.enums import BroadcastKind
from storage.models import (
    District,
    Member,
    Municipality,
    Region,
    Survey,
    SurveyInvite,
    SurveyResponse,
)
from storage.types import utcnow

# Where fewer responded, an anonymous survey's breakdown shows no figure.
ANONYMOUS_THRESHOLD = 5
# The charts and summary table that follow a results broadcast, one row per recipient.
RESULTS_FILES_KIND = "survey_results_files"


async def managed(db: Database, actor_id: int, limit: int = 15) -> list[Survey]:
    """Surveys whose results this member may see: all for staff, their own otherwise."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        query = select(Survey).order_by(col(Survey.id).desc()).limit(limit)
        if not actor.is_staff:
            query = query.where(Survey.created_by_id == actor_id)
        return list((await s.exec(query)).all())


async def managed_survey(db: Database, s: AsyncSession, actor_id: int,
                          survey_id: int) -> Survey:
    actor = await policy.load_actor(s, actor_id)
    survey = await s.get(Survey, survey_id)
    if survey is None:
        raise NotFound(what="survey")
    await policy.ensure(db, actor, policy.can_manage_survey(actor, survey.created_by_id),
                        policy.Action.MANAGE_SURVEY, survey_id)
    return survey


@dataclass
class PlaceRate:
    region: str
    district: str
    invited: int
    responded: int
    hidden: bool = False  # anonymous and fewer than the threshold responded


@dataclass
class QuestionResult:
    question: dict[str, Any]
    answered: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    borda: list[tuple[str, float]] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


@dataclass
class Results:
    survey: Survey
    invited: int
    responded: int
    by_place: list[PlaceRate]
    questions: list[QuestionResult]

    @property
    def rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


def aggregate(questions: list[dict[str, Any]],
              answer_sets: list[dict[str, Any]]) -> list[QuestionResult]:
    """Counts per choice, values for scales and numbers, Borda scores for rankings (an option
    ranked first of n gets n-1 points … last 0; with a top N, first gets N, unranked 0)."""
    found = {q["name"]: QuestionResult(q) for q in questions}
    for q in questions:
        r = found[q["name"]]
        if q["type"] in forms.CHOICE_TYPES:
            r.counts = {c["name"]: 0 for c in q["choices"]}
        elif q["type"] == "scale":
            r.counts = {str(i): 0 for i in range(1, q["scale"] + 1)}
    scores: dict[str, dict[str, float]] = {q["name"]: defaultdict(float) for q in questions
                                           if q["type"] == "ranking"}
    for answers in answer_sets:
        for name, value in answers.items():
            got = found.get(name)
            if got is None or value in (None, "", []):
                continue
            r = got
            kind = r.question["type"]
            r.answered += 1
            if kind == "single":
                if value in r.counts:
                    r.counts[value] += 1
            elif kind == "multiple":
                for v in value:
                    if v in r.counts:
                        r.counts[v] += 1
            elif kind == "ranking":
                n = r.question.get("top") or len(r.question["choices"])
                width = n if r.question.get("top") else n - 1
                for place, v in enumerate(value):
                    if v in r.counts:
                        scores[name][v] += width - place
                if value and value[0] in r.counts:
                    r.counts[value[0]] += 1  # how often it was ranked first
            elif kind == "scale":
                r.values.append(float(value))
                r.counts[str(value)] = r.counts.get(str(value), 0) + 1
            elif kind == "number":
                r.values.append(float(value))
            else:
                r.texts.append(str(value))
    for name, table in scores.items():
        q = found[name].question
        found[name].borda = sorted(((c["name"], table.get(c["name"], 0.0))
                                    for c in q["choices"]), key=lambda kv: (-kv[1], kv[0]))
    return list(found.values())


async def results(db: Database, actor_id: int, survey_id: int, lang: str = "ru") -> Results:
    """Response rate by region and district, and every question's figures (staff, creator)."""
    async with db.read() as s:
        survey = await managed_survey(db, s, actor_id, survey_id)
        return await _results(s, survey, lang)


async def _results(s: AsyncSession, survey: Survey, lang: str) -> Results:
    regions = {r.id: r.name(lang) for r in (await s.exec(select(Region))).all()}
    districts = {d.id: (d.name(lang), d.region_id) for d in (await s.exec(select(District)))
                 .all()}
    invited: dict[int | None, set[Any]] = defaultdict(set)
    invite_rows = (await s.exec(
        select(SurveyInvite.member_id, SurveyInvite.district_id, Member.municipality_id)
        .join(Member, col(Member.id) == SurveyInvite.member_id)
        .where(SurveyInvite.survey_id == survey.id))).all()
    for member_id, district_id, municipality_id in invite_rows:
        unit = (f"mu:{municipality_id}" if survey.per_municipality and municipality_id
                else f"m:{member_id}")
        invited[district_id].add(unit)
    rows = (await s.exec(
        select(SurveyResponse.answers, SurveyResponse.district_id)
        .where(SurveyResponse.survey_id == survey.id,
               col(SurveyResponse.submitted_at).is_not(None)))).all()
    responded: dict[int | None, int] = defaultdict(int)
    for _answers, district_id in rows:
        responded[district_id] += 1
    places = []
    for district_id in sorted(set(invited) | set(responded),
                              key=lambda d: (districts.get(d, ("~", 0))[1] or 0,
                                             districts.get(d, ("~", 0))[0])):
        name, region_id = districts.get(district_id, ("—", None))
        got = responded.get(district_id, 0)
        places.append(PlaceRate(regions.get(region_id, "—"), name,
                                len(invited.get(district_id, ())), got,
                                hidden=survey.anonymous and got < ANONYMOUS_THRESHOLD))
    total_invited = sum(len(v) for v in invited.values())
    questions = aggregate(survey.questions, [dict(a) for a, _ in rows])
    if survey.anonymous:
        for q in questions:
            q.texts.sort()
    return Results(survey, total_invited, len(rows), places, questions)


@dataclass(frozen=True)
class ExportRow:
    who: str | None
    municipality: str | None
    district: str | None
    region: str | None
    submitted_at: datetime | None
    answers: dict[str, Any]


async def export_rows(db: Database, actor_id: int, survey_id: int,
                      lang: str = "ru") -> tuple[Survey, list[ExportRow]]:
    """One row per submitted response; an anonymous survey's rows name no one and no place."""
    async with db.read() as s:
        survey = await managed_survey(db, s, actor_id, survey_id)
        rows = (await s.exec(
            select(SurveyResponse, Member, Municipality, District, Region)  # type: ignore[call-overload]
            .join(Member, col(Member.id) == SurveyResponse.member_id, isouter=True)
            .join(Municipality, col(Municipality.id) == Member.municipality_id, isouter=True)
            .join(District, col(District.id) == SurveyResponse.district_id, isouter=True)
            .join(Region, col(Region.id) == SurveyResponse.region_id, isouter=True)
            .where(SurveyResponse.survey_id == survey_id,
                   col(SurveyResponse.submitted_at).is_not(None))
            .order_by(col(SurveyResponse.id)))).all()
    found = []
    for r, member, municipality, district, region in rows:
        if survey.anonymous:
            found.append(ExportRow(None, None, None, None, None, dict(r.answers)))
            continue
        found.append(ExportRow(
            member.full_name if member else None,
            municipality.name(lang) if municipality else (member.municipality_other
                                                          if member else None),
            district.name(lang) if district else None, region.name(lang) if region else None,
            r.submitted_at, dict(r.answers)))
    return survey, found


async def publish_results(db: Database, actor_id: int, survey_id: int, title: str,
                          text_ky: str, text_ru: str, text_en: str | None = None,
                          everyone: bool = False) -> broadcasts.Submitted:
    """"You said, we will…": a broadcast to the survey's respondents (all invited members of an
    anonymous survey, whose respondents nobody knows; or, with `everyone`, all invited), and
    after it, to each of them, the charts and the summary table in their language
    (`RESULTS_FILES_KIND`: figures only, never who answered what)."""
    async with db.transaction() as s:
        survey = await managed_survey(db, s, actor_id, survey_id)
        if everyone or survey.anonymous or (survey.kind == "poll" and survey.forum_thread_id):
            members = [*(await s.exec(select(SurveyInvite.member_id).where(
                SurveyInvite.survey_id == survey_id))).all()]
            if survey.kind == "poll":
                members = [*members, *(await s.exec(select(SurveyResponse.member_id).where(
                    SurveyResponse.survey_id == survey_id))).all()]
        else:
            members = [*(await s.exec(select(SurveyResponse.member_id).where(
                SurveyResponse.survey_id == survey_id,
                col(SurveyResponse.submitted_at).is_not(None)))).all()]
            if survey.per_municipality:
                # Everyone of an answered municipality hears what it said.
                answered = select(SurveyResponse.municipality_id).where(
                    SurveyResponse.survey_id == survey_id,
                    col(SurveyResponse.submitted_at).is_not(None))
                members = [*members, *(await s.exec(
                    select(SurveyInvite.member_id)
                    .join(Member, col(Member.id) == SurveyInvite.member_id)
                    .where(SurveyInvite.survey_id == survey_id,
                           col(Member.municipality_id).in_(answered)))).all()]
        ids = sorted({m for m in members if m})
        if not ids:
            raise InvalidState("survey_no_responses")
        sent = await broadcasts.send_within(s, actor_id, broadcasts.Draft(
            kind=BroadcastKind.NEWS, title=title, text_ky=text_ky, text_ru=text_ru,
            text_en=text_en, audience=Audience(members=ids)))
        survey.results_broadcast_id = sent.broadcast_id
        survey.results_published_at = utcnow()
        # Same priority as the broadcast's rows and written after them: the files follow it.
        await notify.enqueue_many(s, await broadcasts.recipients(s, Audience(members=ids)),
                                  RESULTS_FILES_KIND, priority=notify.PRIORITY_BULK,
                                  survey_id=survey_id, broadcast_id=sent.broadcast_id,
                                  category="broadcasts")
        audit.record(s, actor_id, "survey_results_published", "survey", survey_id,
                     broadcast_id=sent.broadcast_id)
        return sent


async def shared_results(db: Database, survey_id: int, lang: str) -> Results | None:
    """The figures members may see, with no one acting: a survey's once staff published its
    results, a forum poll's once it closed (posted in its thread). None otherwise."""
    async with db.read() as s:
        survey = await s.get(Survey, survey_id)
        if survey is None:
            return None
        closed_poll = survey.kind == "poll" and survey.forum_thread_id is not None \
            and survey.closed_at is not None
        if survey.results_published_at is None and not closed_poll:
            return None
        return await _results(s, survey, lang)
