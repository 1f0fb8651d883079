"""The migrations build exactly the tables the models describe, and upgrading twice is harmless."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import Database
from storage.migrate import head_revision, include_name, is_up_to_date, upgrade


def test_migrations_on_an_empty_database_match_the_models(empty_db_url: str) -> None:
    url = empty_db_url
    upgrade(url)
    upgrade(url)  # idempotent

    async def diff() -> list[object]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(c, opts={"include_name": include_name}),
                        SQLModel.metadata)
                )
        finally:
            await db.dispose()

    assert asyncio.run(diff()) == []


def test_an_unmigrated_database_is_detected(empty_db_url: str) -> None:
    url = empty_db_url

    async def check() -> tuple[bool, bool]:
        db = Database(url)
        try:
            before = await is_up_to_date(db.engine, url)
            await asyncio.to_thread(upgrade, url)
            after = await is_up_to_date(db.engine, url)
            return before, after
        finally:
            await db.dispose()

    assert asyncio.run(check()) == (False, True)
    assert head_revision(url) is not None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_runs_with_wal_and_foreign_keys(db: Database) -> None:
    async with db.read() as s:
        assert (await s.exec(text("PRAGMA journal_mode"))).one()[0] == "wal"  # type: ignore[call-overload]
        assert (await s.exec(text("PRAGMA foreign_keys"))).one()[0] == 1  # type: ignore[call-overload]
