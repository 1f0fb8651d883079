"""Pruning what a year leaves behind (bot/services/pruning.py): finished outbox rows,
finished conversation states, audit rows and logged updates older than their configured ages.
Daily; idempotent."""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import pruning

log = logging.getLogger("birge.jobs.pruning")


@scheduled("pruning.daily", lambda s: CronTrigger(hour=4, minute=10, timezone=s.tz))
async def prune(ctx: JobContext) -> None:
    s = ctx.settings
    done = await pruning.prune(ctx.db, ctx.now, outbox_days=s.prune_outbox_days,
                               conversation_days=s.prune_conversation_days,
                               audit_days=s.prune_audit_days, update_days=s.prune_update_days,
                               batch=s.prune_batch_size)
    if done.outbox or done.conversations or done.audit or done.updates:
        log.info("pruned: %d outbox rows, %d conversation states, %d audit rows, %d updates",
                 done.outbox, done.conversations, done.audit, done.updates)
