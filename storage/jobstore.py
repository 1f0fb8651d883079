"""APScheduler's job store on Birge's own database connection (table `apscheduler_jobs`).

APScheduler 3 is synchronous and runs in its own thread (bot/scheduler.py). Its SQLAlchemy job
store wanted a second, synchronous engine: on PostgreSQL a second driver (psycopg, ~10 MB of
resident memory in every process, issue 20) and a second connection pool. This store keeps the
same table and the same pickled job state, but each call runs one transaction of Birge's async
engine on Birge's event loop while the scheduler's thread waits for it. On SQLite its writes
queue with Birge's other writers (`Database.transaction`) instead of racing them for the lock.

Never call it on the event loop's own thread: it would wait for itself (it raises instead).
"""

from __future__ import annotations

import asyncio
import pickle
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar, cast

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import (
    Column,
    CursorResult,
    Float,
    LargeBinary,
    MetaData,
    Table,
    Unicode,
    delete,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database

T = TypeVar("T")

JOBS = Table(
    "apscheduler_jobs", MetaData(),
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

# A job store call is a few rows; this only bounds a wait on a stuck database.
CALL_TIMEOUT_SECONDS = 120.0


class LoopJobStore(BaseJobStore):
    """Made on the event loop's thread (the loop its calls run on)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def _run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("LoopJobStore called on the event loop's thread")
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(CALL_TIMEOUT_SECONDS)

    # --- APScheduler's BaseJobStore -----------------------------------------------------------

    def lookup_job(self, job_id: str) -> Job | None:
        async def read() -> bytes | None:
            async with self.db.read() as s:
                found = (await s.exec(select(JOBS.c.job_state)
                                      .where(JOBS.c.id == job_id))).first()
            return bytes(found) if found is not None else None

        state = self._run(read)
        return self._reconstitute(state) if state else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return self._jobs(datetime_to_utc_timestamp(now))

    def get_next_run_time(self) -> datetime | None:
        async def read() -> float | None:
            async with self.db.read() as s:
                return (await s.exec(
                    select(JOBS.c.next_run_time).where(JOBS.c.next_run_time.is_not(None))
                    .order_by(JOBS.c.next_run_time).limit(1))).first()

        return utc_timestamp_to_datetime(self._run(read))

    def get_all_jobs(self) -> list[Job]:
        jobs = self._jobs(None)
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        row = self._row(job)

        async def write() -> bool:
            try:
                async with self.db.transaction() as s:
                    await s.exec(JOBS.insert().values(id=job.id, **row))
            except IntegrityError:
                return False
            return True

        if not self._run(write):
            raise ConflictingIdError(job.id)

    def update_job(self, job: Job) -> None:
        row = self._row(job)
        self._change(job.id, lambda: JOBS.update().values(**row).where(JOBS.c.id == job.id))

    def remove_job(self, job_id: str) -> None:
        self._change(job_id, lambda: delete(JOBS).where(JOBS.c.id == job_id))

    def remove_all_jobs(self) -> None:
        async def write() -> None:
            async with self.db.transaction() as s:
                await s.exec(delete(JOBS))

        self._run(write)

    # --- helpers --------------------------------------------------------------------------------

    def _row(self, job: Job) -> dict[str, Any]:
        return {"next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                "job_state": pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)}

    def _change(self, job_id: str, statement: Callable[[], Any]) -> None:
        async def write() -> int:
            async with self.db.transaction() as s:
                result = cast(CursorResult[Any], await s.exec(statement()))
                return int(result.rowcount)

        if self._run(write) == 0:
            raise JobLookupError(job_id)

    def _reconstitute(self, state: bytes) -> Job:
        job_state = pickle.loads(state)
        job_state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(job_state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _jobs(self, due_by: float | None) -> list[Job]:
        """Jobs by next run time (those due by `due_by`); a job that cannot be restored (its
        code is gone) is logged and removed, as APScheduler's own store does."""
        async def read() -> list[tuple[str, bytes]]:
            query = select(JOBS.c.id, JOBS.c.job_state).order_by(JOBS.c.next_run_time)
            if due_by is not None:
                query = query.where(JOBS.c.next_run_time <= due_by)
            async with self.db.read() as s:
                return [(str(r[0]), bytes(r[1])) for r in (await s.exec(query)).all()]

        jobs: list[Job] = []
        failed: list[str] = []
        for job_id, state in self._run(read):
            try:
                jobs.append(self._reconstitute(state))
            except BaseException:
                self._logger.exception('Unable to restore job "%s" -- removing it', job_id)
                failed.append(job_id)
        if failed:
            async def forget() -> None:
                async with self.db.transaction() as s:
                    await s.exec(delete(JOBS).where(JOBS.c.id.in_(failed)))

            self._run(forget)
        return jobs

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} on {self.db.engine.url.render_as_string()}>"

