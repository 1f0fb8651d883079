"""Shared fixtures: a migrated SQLite database per test (copied from one migrated template)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.i18n import get_i18n
from bot.services import cache
from storage.db import Database
from storage.migrate import upgrade


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "birge.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "birge.db"
    shutil.copy(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def i18n() -> Iterator[None]:
    get_i18n("ky")
    yield


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Each test has its own database, so nothing cached may leak from the previous one."""
    cache.clear_all()
    yield
    cache.clear_all()
