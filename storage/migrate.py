"""Alembic, driven from code: `birge db upgrade` and the start-up check for an un-migrated store."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


# Tables that are not models: the FTS5 search index (and its shadow tables) and APScheduler's.
UNMODELLED_PREFIXES = ("question_search", "library_search", "decision_search", "apscheduler_")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate and the models-vs-migrations test skip the tables that are not models."""
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_PREFIXES))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; running it twice is harmless."""
    from storage.db import _sqlite_file

    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


async def is_up_to_date(engine: AsyncEngine, url: str) -> bool:
    return await current_revision(engine) == head_revision(url)
