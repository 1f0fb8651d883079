"""Small read caches that forget what this process's own commits change.

Every update needs the acting member and most flow steps need reference lists; reading them from
SQL each time made the database the bottleneck (scripts/bench_updates.py). A cache watches the
tables it was filled from. After a commit in this process, entries tagged with a changed row's
member (or Telegram account) are dropped — or the whole cache, for a change it cannot attribute.
With several replicas on PostgreSQL, what a commit changed is also published to the others
(`publish_to`, LISTEN/NOTIFY in storage/bus.py), which forget the same entries (`apply_notice`)
within milliseconds. A short time-to-live bounds how long a change made by a process that does
not publish (the `birge` CLI) can go unseen. Permission checks never read from here: services
reload the actor in their transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

V = TypeVar("V")
Tag = tuple[str, int]
_TOUCHED = "birge_touched"
_caches: list[ReadCache[Any]] = []
_MISSING = object()


class ReadCache(Generic[V]):
    def __init__(self, ttl: float, *tables: str) -> None:
        self.ttl = ttl
        self.tables = frozenset(tables)
        self._data: dict[Hashable, tuple[float, V]] = {}
        self._by_tag: dict[Tag, set[Hashable]] = {}
        _caches.append(self)

    def get(self, key: Hashable) -> V | object:
        found = self._data.get(key)
        if found is None or found[0] < time.monotonic():
            return _MISSING
        return found[1]

    def put(self, key: Hashable, value: V, tags: Iterable[Tag] = ()) -> V:
        if len(self._data) > 50_000:
            self.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)
        for tag in tags:
            self._by_tag.setdefault(tag, set()).add(key)
        return value

    def forget(self, tags: Iterable[Tag]) -> None:
        for tag in tags:
            for key in self._by_tag.pop(tag, ()):
                self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()
        self._by_tag.clear()


def missing(value: object) -> bool:
    return value is _MISSING


def _tags(obj: Any) -> set[Tag]:
    table = getattr(obj, "__tablename__", "")
    if table == "member":
        found = {("member", obj.id)} if obj.id is not None else set()
        if obj.telegram_id is not None:
            found.add(("telegram", obj.telegram_id))
        return found
    if table in ("role_assignment", "community_membership"):
        return {("member", obj.member_id)}
    return set()


def _mark(session: Session, table: str, tags: set[Tag] | None) -> None:
    touched: dict[str, set[Tag] | None] = session.info.setdefault(_TOUCHED, {})
    if table in touched and touched[table] is None:
        return
    if tags is None or not tags:
        touched[table] = None  # cannot tell which entries: forget them all
    else:
        touched.setdefault(table, set())
        touched[table] |= tags  # type: ignore[operator]


def touch(session: Session, table: str, *member_ids: int) -> None:
    """Mark a table changed by a bulk statement (the ORM does not see those)."""
    _mark(session, table, {("member", m) for m in member_ids} or None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", "")
        if table:
            _mark(session, table, _tags(obj) if table in _TAGGED else None)


_TAGGED = frozenset({"member", "role_assignment", "community_membership"})


Touched = dict[str, set[Tag] | None]
_publisher: Callable[[str], None] | None = None


def publish_to(publisher: Callable[[str], None] | None) -> None:
    """Send what each commit changed to `publisher` (the replicas' bus), or stop (None)."""
    global _publisher
    _publisher = publisher


def _encode(touched: Touched) -> str:
    return json.dumps({t: None if tags is None else sorted(tags) for t, tags in touched.items()},
                      separators=(",", ":"))


def apply_notice(payload: str) -> None:
    """Another replica committed these changes: forget what they make stale."""
    try:
        raw = json.loads(payload)
        touched: Touched = {str(t): None if tags is None else {(str(k), int(i)) for k, i in tags}
                            for t, tags in raw.items()}
    except (ValueError, TypeError, AttributeError):
        clear_all()  # "*" (too much to list) or anything unreadable: forget everything
        return
    _forget(touched)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    touched: Touched | None = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    _forget(touched)
    if _publisher is not None:
        watched = {t: tags for t, tags in touched.items()
                   if any(t in cache.tables for cache in _caches)}
        if watched:
            _publisher(_encode(watched))


def _forget(touched: Touched) -> None:
    for cache in _caches:
        for table in cache.tables & touched.keys():
            tags = touched[table]
            if tags is None:
                cache.clear()
                break
            cache.forget(tags)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
