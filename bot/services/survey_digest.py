"""What digests and the monthly bulletin say about surveys: the open surveys a member has not
answered yet, and surveys whose results were published. Read for a whole batch of members at
once (a few queries per batch, never per member)."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Member, Survey, SurveyInvite, SurveyResponse


def _key(survey: Survey, member_id: int, municipality_id: int | None) -> str:
    if survey.anonymous and survey.salt:
        digest = hmac.new(survey.salt.encode(), f"{survey.id}:{member_id}".encode(),
                          hashlib.sha256).hexdigest()
        return "a:" + digest[:64]
    if survey.per_municipality and municipality_id is not None:
        return f"mu:{municipality_id}"
    return f"m:{member_id}"


async def waiting(session: AsyncSession, member_ids: list[int],
                  now: datetime) -> dict[int, list[Survey]]:
    """member id → open surveys sent to them that they (or their municipality) have not
    answered, soonest deadline first."""
    rows = (await session.exec(
        select(SurveyInvite.member_id, Member.municipality_id, Survey)
        .join(Survey, col(Survey.id) == SurveyInvite.survey_id)
        .join(Member, col(Member.id) == SurveyInvite.member_id)
        .where(col(SurveyInvite.member_id).in_(member_ids), Survey.status == "open",
               Survey.kind == "survey", col(Survey.deadline) > now)
        .order_by(col(Survey.deadline)))).all()
    survey_ids = sorted({s.id for _m, _mu, s in rows if s.id is not None})
    answered: set[tuple[int, str]] = set()
    if survey_ids:
        answered = {(sid, key) for sid, key in (await session.exec(
            select(SurveyResponse.survey_id, SurveyResponse.key)
            .where(col(SurveyResponse.survey_id).in_(survey_ids),
                   col(SurveyResponse.submitted_at).is_not(None)))).all()}
    found: dict[int, list[Survey]] = defaultdict(list)
    for member_id, municipality_id, survey in rows:
        if (survey.id or 0, _key(survey, member_id, municipality_id)) not in answered:
            found[member_id].append(survey)
    return dict(found)


async def published(session: AsyncSession, member_ids: list[int], since: datetime,
                    now: datetime) -> dict[int, list[Survey]]:
    """member id → surveys sent to them whose results were published in the window."""
    rows = (await session.exec(
        select(SurveyInvite.member_id, Survey)
        .join(Survey, col(Survey.id) == SurveyInvite.survey_id)
        .where(col(SurveyInvite.member_id).in_(member_ids),
               col(Survey.results_published_at) > since,
               col(Survey.results_published_at) <= now)
        .order_by(col(Survey.results_published_at).desc()))).all()
    found: dict[int, list[Survey]] = defaultdict(list)
    for member_id, survey in rows:
        found[member_id].append(survey)
    return dict(found)


async def published_in(session: AsyncSession, start: datetime, end: datetime) -> list[Survey]:
    """Surveys whose results were published in a period (the monthly bulletin)."""
    return list((await session.exec(
        select(Survey).where(col(Survey.results_published_at) >= start,
                             col(Survey.results_published_at) < end)
        .order_by(col(Survey.results_published_at)))).all())
