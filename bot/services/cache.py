"""Small read caches that forget themselves when this process commits a change to their tables.

Every update needs the acting member and most flow steps need reference lists; reading them from
SQL each time made the database the bottleneck (scripts/bench_updates.py). A cache watches the
tables it was filled from: any commit in this process that touches one of them clears it, and a
short time-to-live bounds how long a change made by another process (the `birge` CLI) can go
unseen. Permission checks never read from here: services reload the actor in their transaction.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

V = TypeVar("V")
_TOUCHED = "birge_touched_tables"
_caches: list[ReadCache[Any]] = []
_MISSING = object()


class ReadCache(Generic[V]):
    def __init__(self, ttl: float, *tables: str) -> None:
        self.ttl = ttl
        self.tables = frozenset(tables)
        self._data: dict[Hashable, tuple[float, V]] = {}
        _caches.append(self)

    def get(self, key: Hashable) -> V | object:
        found = self._data.get(key)
        if found is None or found[0] < time.monotonic():
            return _MISSING
        return found[1]

    def put(self, key: Hashable, value: V) -> V:
        if len(self._data) > 50_000:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)
        return value

    def clear(self) -> None:
        self._data.clear()


def missing(value: object) -> bool:
    return value is _MISSING


def touch(session: Session, *tables: str) -> None:
    """Mark tables changed by a bulk statement (the ORM does not see those)."""
    session.info.setdefault(_TOUCHED, set()).update(tables)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    tables = {getattr(obj, "__tablename__", "") for obj in
              (*session.new, *session.dirty, *session.deleted)}
    if tables:
        session.info.setdefault(_TOUCHED, set()).update(tables)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        for cache in _caches:
            if cache.tables & touched:
                cache.clear()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
