"""Alembic, driven from code: `birge db upgrade` and the start-up check for an un-migrated store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments, ~10 MB) is imported only by the commands that migrate: the
# start-up check reads the revision files and the version table itself (idle memory, issue 20).

MIGRATIONS = Path(__file__).parent / "migrations"


# Tables that are not models: the FTS5 search index (and its shadow tables) and APScheduler's.
UNMODELLED_PREFIXES = ("question_search", "library_search", "decision_search", "search_stats",
                       "apscheduler_")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate and the models-vs-migrations test skip the tables that are not models."""
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_PREFIXES))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

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
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(?:['\"]([^'\"]+)['\"]|None)",
                       re.MULTILINE)


def head_from_files() -> str | None:
    """The newest revision, read from the version files without Alembic: the one no other
    revision names as its `down_revision` (the chain is linear)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as conn:
            return (await conn.execute(
                text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except (OperationalError, ProgrammingError, DBAPIError):
        return None  # no version table: never migrated


async def is_up_to_date(engine: AsyncEngine, url: str) -> bool:
    head = head_from_files()
    return head is not None and await current_revision(engine) == head
