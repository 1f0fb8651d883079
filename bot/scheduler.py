"""Time-based work: APScheduler with its jobs persisted in the Birge database, in Asia/Bishkek.

Why this shape:
- APScheduler 3 is stable and its `SQLAlchemyJobStore` keeps each job's next run time in our own
  database (table `apscheduler_jobs`), so a restart resumes the schedule instead of starting it
  anew. Its job stores are synchronous, so the scheduler runs in its own thread
  (`BackgroundScheduler`): a job store write that waits on SQLite's lock never blocks the event
  loop. A job's body is a coroutine run on Birge's loop (`run_coroutine_threadsafe`).
- A job registered again at start keeps its stored next run time, so a run that fell due while
  Birge was down is late, not lost. Jobs coalesce: many missed runs become one.
- Two processes started by mistake on one database would both fire every job; only the holder of
  the `scheduler_lease` row runs a job's body (`storage.lease`). Job bodies are written to be
  idempotent as well (conditional updates, "last sent" markers), so even a lost lease race cannot
  send twice.

Features declare their jobs with `@scheduled(...)` from `bot.jobs.registry` in their own module,
listed in `bot/jobs/__init__.py`; importing `bot.jobs` (below) registers them all. See
`bot.jobs.registry` for what a job receives.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

import bot.jobs  # noqa: F401  (registers every feature's jobs)
from bot.config import Settings
from bot.jobs.registry import REGISTRY, JobContext
from storage.db import Database
from storage.lease import hold_lease, release_lease
from storage.types import utcnow

log = logging.getLogger("birge.scheduler")

LEASE = "scheduler"
LEASE_SECONDS = 90
HEARTBEAT_SECONDS = 30
JOB_TIMEOUT_SECONDS = 600


def sync_url(url: str) -> str:
    """The job store is synchronous: the same database through a synchronous driver."""
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url[len("sqlite+aiosqlite://"):]
    if url.startswith("postgresql+asyncpg://"):
        return "postgresql+psycopg://" + url[len("postgresql+asyncpg://"):]
    return url


_current: Scheduler | None = None


def _fire(name: str) -> None:
    """What the job store keeps as each job's callable (a text reference, no pickled state)."""
    scheduler = _current
    if scheduler is None:
        return
    scheduler.fire(name)


class Scheduler:
    """One process's scheduler; `start()` on Birge's event loop, `stop()` before the loop ends."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._aps: BackgroundScheduler | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.leader = False

    async def start(self) -> None:
        global _current
        self._loop = asyncio.get_running_loop()
        store = SQLAlchemyJobStore(url=sync_url(self.db.url),
                                   engine_options={"connect_args": {"timeout": 30}}
                                   if self.db.url.startswith("sqlite") else {})
        aps = BackgroundScheduler(
            jobstores={"default": store}, timezone=self.settings.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        _current = self
        self._aps = aps
        await self._renew()
        # Start paused to load the store, so existing jobs keep their stored next run time.
        await asyncio.to_thread(aps.start, paused=True)
        await asyncio.to_thread(self._register_all, aps)
        self._heartbeat = asyncio.create_task(self._beat(), name="scheduler-lease")
        aps.resume()

    def _register_all(self, aps: BackgroundScheduler) -> None:
        for spec in REGISTRY.values():
            trigger = spec.trigger(self.settings)
            existing = aps.get_job(spec.name)
            if existing is not None and str(existing.trigger) == str(trigger):
                continue
            if existing is not None:
                aps.reschedule_job(spec.name, trigger=trigger)
                continue
            aps.add_job(f"{__name__}:_fire", trigger=trigger, args=[spec.name],
                        id=spec.name, name=spec.name, replace_existing=True)
        for job in aps.get_jobs():
            if job.id not in REGISTRY:
                aps.remove_job(job.id)

    async def stop(self) -> None:
        global _current
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            try:
                await self._heartbeat
            except (asyncio.CancelledError, Exception):
                pass
            self._heartbeat = None
        if self._aps is not None:
            aps, self._aps = self._aps, None
            await asyncio.to_thread(aps.shutdown, True)
        if _current is self:
            _current = None
        if self.leader:
            try:
                await release_lease(self.db, LEASE, self.holder)
            except Exception:  # the database may already be gone at shutdown
                log.debug("lease release failed", exc_info=True)
            self.leader = False

    async def _renew(self) -> bool:
        was = self.leader
        self.leader = await hold_lease(self.db, LEASE, self.holder, utcnow(),
                                       timedelta(seconds=LEASE_SECONDS))
        if was != self.leader:
            log.info("scheduler %s: %s", self.holder,
                     "running jobs" if self.leader else "another process runs the jobs")
        return self.leader

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._renew()
            except Exception:
                log.exception("could not renew the scheduler lease")

    def fire(self, name: str) -> None:
        """Called in the scheduler's thread: run the job's body on Birge's loop and wait."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(self.run_job(name), loop)
        try:
            future.result(timeout=JOB_TIMEOUT_SECONDS)
        except Exception:
            log.exception("job %s failed", name)

    async def run_job(self, name: str, now: datetime | None = None) -> bool:
        """Run one job's body now if this process holds the lease; True when it ran."""
        spec = REGISTRY.get(name)
        if spec is None:
            return False
        if not await self._renew():
            return False
        await spec.body(JobContext(self.db, self.settings, now or utcnow()))
        return True

    def next_run(self, name: str) -> datetime | None:
        if self._aps is None:
            return None
        job = self._aps.get_job(name)
        return job.next_run_time if job is not None else None
