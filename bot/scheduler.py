"""Time-based work: APScheduler with its jobs persisted in the Birge database, in Asia/Bishkek.

Why this shape:
- APScheduler 3 is stable and its job store keeps each job's next run time in our own database
  (table `apscheduler_jobs`, created by a migration so replicas never race to create it), so a
  restart resumes the schedule instead of starting it anew. APScheduler is synchronous, so it
  runs in its own thread (`BackgroundScheduler`); its job store (storage/jobstore.py) and the
  slot records run their statements on Birge's own async engine and loop while that thread
  waits: no second, synchronous driver (psycopg on PostgreSQL, ~10 MB idle; issue 20). A job's
  body is a coroutine run on Birge's loop (`run_coroutine_threadsafe`).
- A job registered again at start keeps its stored next run time, so a run that fell due while
  Birge was down is late, not lost. Jobs coalesce: many missed runs become one.
- Several replicas run on one database: only the holder of the `scheduler_lease` row runs
  APScheduler at all (`storage.lease`), so only it takes due jobs from the store. Every process
  tries to take or renew the lease every `HEARTBEAT_SECONDS`; a lease not renewed for
  `LEASE_SECONDS` (its holder died) is taken over by another process within seconds, and `stop()`
  (SIGTERM) lets running jobs finish and releases it at once.
- Each run is one slot (the job and its scheduled time), recorded in `job_run` before the body
  runs: a slot already taken is not run again (a lease handed over mid-run cannot run it twice),
  and a slot whose holder died before finishing it is run again by the next leader.
  Job bodies are written to be idempotent as well (conditional updates, "last sent" markers).

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
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

import bot.jobs  # noqa: F401  (registers every feature's jobs)
from bot.config import Settings
from bot.jobs.registry import REGISTRY, JobContext
from storage.db import Database
from storage.jobstore import LoopJobStore
from storage.lease import (
    finish_slot,
    hold_lease,
    reclaim_slot,
    release_lease,
    take_slot,
    unfinished_slots,
)
from storage.types import utcnow

log = logging.getLogger("birge.scheduler")

LEASE = "scheduler"
LEASE_SECONDS = 6
HEARTBEAT_SECONDS = 2
JOB_TIMEOUT_SECONDS = 600


class _SlotExecutor(ThreadPoolExecutor):
    """Runs a due job as its slot: the job's name and the time it was scheduled for."""

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__(max_workers=4)
        self.birge = scheduler

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        # Called before APScheduler moves the job's next run time on: each slot is recorded
        # first, so a leader that dies from here on leaves it "unfinished" for the next leader
        # (never neither run nor recorded). One slot, or (a job that runs every slot) each slot
        # that fell due meanwhile.
        name = str(job.args[0])
        slots = [slot for slot in run_times if self.birge.claim_slot(name, slot)]

        def run() -> None:
            try:
                for slot in slots:
                    self.birge.fire(name, slot)
            except BaseException as exc:  # pragma: no cover - fire() logs its own failures
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])

        self._pool.submit(run)


def _fire(name: str) -> None:
    """What the job store keeps as each job's callable (a text reference, no pickled state);
    jobs are run by `_SlotExecutor`, which never calls it."""


class Scheduler:
    """One process's scheduler; `start()` on Birge's event loop, `stop()` before the loop ends."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._aps: BackgroundScheduler | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._switch = asyncio.Lock()
        self.leader = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._renew()
        await self._follow_lease()
        self._heartbeat = asyncio.create_task(self._beat(), name="scheduler-lease")

    async def _start_aps(self) -> None:
        aps = BackgroundScheduler(
            jobstores={"default": LoopJobStore(self.db)},
            executors={"default": _SlotExecutor(self)},
            timezone=self.settings.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        # Start paused to load the store, so existing jobs keep their stored next run time.
        await asyncio.to_thread(aps.start, paused=True)
        await asyncio.to_thread(self._register_all, aps)
        self._aps = aps
        aps.resume()
        await self._rerun_unfinished()

    async def _stop_aps(self, wait: bool) -> None:
        aps, self._aps = self._aps, None
        if aps is not None:
            await asyncio.to_thread(aps.shutdown, wait)

    def claim_slot(self, name: str, slot: datetime) -> bool:
        """In the scheduler's thread: record that this process runs `name` for `slot`."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            return asyncio.run_coroutine_threadsafe(
                take_slot(self.db, name, slot, self.holder), loop).result(JOB_TIMEOUT_SECONDS)
        except Exception:
            log.exception("could not record the run of %s for %s", name, slot)
            return False

    async def _follow_lease(self) -> None:
        """Run APScheduler while this process holds the lease, and only then."""
        async with self._switch:
            if self.leader and self._aps is None:
                await self._start_aps()
            elif not self.leader and self._aps is not None:
                await self._stop_aps(wait=False)

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
                        id=spec.name, name=spec.name, replace_existing=True,
                        coalesce=not spec.every_slot,
                        # Slots are recorded, so a slow run never makes the next one skip.
                        max_instances=5 if spec.every_slot else 1)
        for job in aps.get_jobs():
            if job.id not in REGISTRY:
                aps.remove_job(job.id)

    async def stop(self) -> None:
        """Stop taking jobs, let running ones finish, and hand the lease on at once."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            try:
                await self._heartbeat
            except (asyncio.CancelledError, Exception):
                pass
            self._heartbeat = None
        async with self._switch:
            await self._stop_aps(wait=True)
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
                await self._follow_lease()
            except Exception:
                log.exception("could not renew the scheduler lease")

    def fire(self, name: str, slot: datetime | None = None) -> None:
        """Called in the scheduler's thread: run the job's body (its slot already recorded) on
        Birge's loop and wait."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(
            self.run_job(name, slot=slot, recorded=slot is not None), loop)
        try:
            future.result(timeout=JOB_TIMEOUT_SECONDS)
        except Exception:
            log.exception("job %s failed", name)

    async def run_job(self, name: str, now: datetime | None = None,
                      slot: datetime | None = None, recorded: bool = False) -> bool:
        """Run one job's body now if this process holds the lease; True when it ran. With a
        `slot` (a scheduled run), a slot already taken by any process is not run again;
        `recorded`: this process took the slot already. A slot taken but not run (the lease was
        lost meanwhile) stays unfinished, and the next leader runs it."""
        spec = REGISTRY.get(name)
        if spec is None:
            return False
        if not await self._renew():
            return False
        if slot is not None and not recorded and \
                not await take_slot(self.db, name, slot, self.holder):
            return False
        await spec.body(JobContext(self.db, self.settings, now or utcnow()))
        if slot is not None:
            await finish_slot(self.db, name, slot)
        return True

    async def _rerun_unfinished(self) -> None:
        """Slots a dead leader took but never finished are run again by the new one."""
        for name, slot in await unfinished_slots(self.db, self.holder):
            if name in REGISTRY and await reclaim_slot(self.db, name, slot, self.holder):
                log.info("running %s for %s again: its previous run did not finish", name, slot)
                assert self._loop is not None
                self._loop.create_task(self._run_reclaimed(name, slot))

    async def _run_reclaimed(self, name: str, slot: datetime) -> None:
        try:
            await REGISTRY[name].body(JobContext(self.db, self.settings, utcnow()))
            await finish_slot(self.db, name, slot)
        except Exception:
            log.exception("job %s failed", name)

    async def next_run(self, name: str) -> datetime | None:
        aps = self._aps
        if aps is None:
            return None
        job = await asyncio.to_thread(aps.get_job, name)  # the job store waits on this loop
        return job.next_run_time if job is not None else None
