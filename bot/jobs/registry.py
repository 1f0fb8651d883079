"""The table of scheduled jobs: what a feature declares, and what a job body receives.

A feature registers its jobs in its own module, `bot/jobs/<feature>.py`:

    from bot.jobs.registry import JobContext, scheduled

    @scheduled("questions.escalate", lambda s: IntervalTrigger(minutes=10, timezone=s.tz))
    async def escalate(ctx: JobContext) -> None: ...

and lists that module in `bot/jobs/__init__.py`; `bot.scheduler` imports the package, so every
listed job is registered before the scheduler starts. A job body receives a `JobContext`
(database, settings, the current UTC time) and is an ordinary async function that tests call
directly with any `now`. This module imports no feature and not the scheduler, so jobs and the
scheduler never import each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger

from bot.config import Settings
from storage.db import Database


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    now: datetime  # aware UTC


JobBody = Callable[[JobContext], Awaitable[None]]
TriggerFactory = Callable[[Settings], BaseTrigger]


@dataclass(frozen=True)
class JobSpec:
    name: str
    body: JobBody
    trigger: TriggerFactory
    # False (usual): runs missed while no process ran jobs become one run. True: each missed
    # slot runs, once.
    every_slot: bool = False


REGISTRY: dict[str, JobSpec] = {}


def scheduled(name: str, trigger: TriggerFactory,
              every_slot: bool = False) -> Callable[[JobBody], JobBody]:
    """Declare a job: `@scheduled("questions.escalate", lambda s: IntervalTrigger(minutes=10))`."""

    def register(body: JobBody) -> JobBody:
        REGISTRY[name] = JobSpec(name, body, trigger, every_slot)
        return body

    return register
