"""Unanswered questions: moderators are reminded after 24 hours, Union staff after 72 (both
configurable). Runs every ten minutes; each reminder is claimed once in the database."""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import questions

log = logging.getLogger(__name__)


@scheduled("questions.escalate", lambda s: IntervalTrigger(minutes=10, timezone=s.tz))
async def escalate(ctx: JobContext) -> None:
    reminded, escalated = await questions.escalate_unanswered(
        ctx.db, ctx.now, ctx.settings.question_remind_hours,
        ctx.settings.question_escalate_hours)
    if reminded or escalated:
        log.info("unanswered questions: %d moderators' reminders, %d escalated to staff",
                 reminded, escalated)
