"""Quick polls: native Telegram polls (`sendPoll`) whose votes come back as `poll_answer`
updates. The outbox posts them (`bot.delivery.survey_notices`) and records each one it sent
(`poll_posted`); a vote is the member's one-question response, changed or taken back as they
change their vote in Telegram. Closing and stopping them is `bot.services.surveys`'s."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import survey_forms as forms
from bot.services.errors import InvalidInput
from bot.services.surveys import POLL_KIND, is_open
from storage.db import Database
from storage.enums import MemberStatus, OutboxStatus
from storage.models import Member, Outbox, Survey, SurveyInvite, SurveyPoll, SurveyResponse
from storage.types import utcnow

# How long a vote waits for the outbox to record the poll it was cast in (seconds).
POLL_RECORD_WAIT = 5.0


async def poll_posted(session: AsyncSession, payload: dict[str, Any], message_id: int) -> None:
    """The outbox sent a native poll: remember it to match its votes and stop it later."""
    poll_id = payload.get("poll_id")
    if not poll_id:
        return
    session.add(SurveyPoll(poll_id=str(poll_id), survey_id=int(payload["survey_id"]),
                           chat_id=int(payload["chat_id"]), message_id=message_id))


async def _poll_recorded(db: Database, poll_id: str) -> bool:
    """The outbox records a poll it sent a moment after sending it (in its next batch, when the
    row stops being "sending"): a vote cast at once waits for that rather than being lost. With
    no poll being sent, an unknown poll is not Birge's and nothing waits.

    "Is a poll being sent?" is asked before "is this poll recorded?". On PostgreSQL each statement
    sees what was committed when it began, and the outbox records the poll and ends "sending" in
    one commit: asked the other way round, a commit landing between the two statements showed
    neither the poll nor a poll being sent, and the vote was dropped (seen once in CI). This way
    round, a commit before the first statement leaves the poll visible to the second."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_RECORD_WAIT
    while True:
        async with db.read() as s:
            sending = (await s.exec(select(Outbox.id).where(
                Outbox.kind == POLL_KIND, Outbox.status == OutboxStatus.SENDING).limit(1))
            ).first()
            if await s.get(SurveyPoll, poll_id) is not None:
                return True
        if sending is None or loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)


async def record_poll_vote(db: Database, poll_id: str, telegram_id: int,
                           option_ids: list[int]) -> bool:
    """A `poll_answer` update: the member's choice in a quick poll (none: the vote was taken
    back). False when the poll, the voter or the time is not Birge's to count."""
    if not await _poll_recorded(db, poll_id):
        return False
    async with db.transaction() as s:
        poll = await s.get(SurveyPoll, poll_id)
        if poll is None:
            return False
        survey = await s.get(Survey, poll.survey_id)
        member = (await s.exec(select(Member).where(Member.telegram_id == telegram_id))).first()
        if survey is None or member is None or member.status != MemberStatus.ACTIVE \
                or not is_open(survey):
            return False
        if survey.forum_thread_id is None and \
                await s.get(SurveyInvite, (survey.id, member.id)) is None:
            return False
        q = survey.questions[0]
        names = [c["name"] for c in q["choices"]]
        key = f"m:{member.id}"
        response = (await s.exec(select(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.key == key))).first()
        if not option_ids:
            if response is not None:
                await s.delete(response)
            return True
        if any(not 0 <= i < len(names) for i in option_ids):
            return False
        chosen = [names[i] for i in option_ids]
        value = chosen[0] if q["type"] == "single" else chosen
        try:
            value = forms.check_value(q, value)
        except InvalidInput:
            return False
        now = utcnow()
        if response is None:
            s.add(SurveyResponse(survey_id=survey.id or 0, key=key, member_id=member.id,
                                 district_id=member.district_id, region_id=member.region_id,
                                 answers={q["name"]: value}, submitted_at=now))
        else:
            response.answers = {q["name"]: value}
            response.submitted_at = response.updated_at = now
        return True
