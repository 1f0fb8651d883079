"""aiogram FSM storage in the Birge database, so a restart in the middle of a flow loses nothing.

One row per conversation key; state and data are written together. Reads are cached in memory and
written through, because aiogram reads the state on every update and this process is the only
writer of its own members' conversations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import FsmRecord
from storage.types import utcnow

StateType = str | State | None

_MISSING: tuple[str | None, dict[str, Any]] = (None, {})


class SQLStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys = DefaultKeyBuilder(with_destiny=True)
        self._cache: dict[str, tuple[str | None, dict[str, Any]]] = {}

    async def _load(self, key: StorageKey) -> tuple[str, tuple[str | None, dict[str, Any]]]:
        k = self.keys.build(key)
        found = self._cache.get(k)
        if found is None:
            async with self.db.read() as s:
                row = await s.get(FsmRecord, k)
                found = (row.state, dict(row.data)) if row else _MISSING
            self._cache[k] = found
        return k, found

    async def _save(self, k: str, state: str | None, data: dict[str, Any]) -> None:
        self._cache[k] = (state, data)
        dialect = self.db.engine.dialect.name
        async with self.db.transaction() as s:
            if state is None and not data:
                row = await s.get(FsmRecord, k)
                if row is not None:
                    await s.delete(row)
                return
            values = {"key": k, "state": state, "data": data, "updated_at": utcnow()}
            ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(FsmRecord).values(
                **values
            )
            stmt = ins.on_conflict_do_update(
                index_elements=["key"],
                set_={"state": state, "data": data, "updated_at": values["updated_at"]},
            )
            await s.exec(stmt)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        k, (_, data) = await self._load(key)
        value = state.state if isinstance(state, State) else state
        await self._save(k, value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        _, (state, _) = await self._load(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        k, (state, _) = await self._load(key)
        await self._save(k, state, dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, (_, data) = await self._load(key)
        return dict(data)

    async def close(self) -> None:
        self._cache.clear()
