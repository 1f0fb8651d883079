"""A library item's history: who changed what in it, and when.

Every edit (`library.edit`) keeps what the item said before as a `LibraryRevision` snapshot. One
change is the difference between a snapshot and the next one (the newest against the item as it
is now): which parts of the text changed and in which languages, and whether the files, the
number, the date, the status of an act, the link, the group or the author's name visibility
changed. The oldest line says who added the item. The item's author and its reviewers (the
group's moderators, staff) may read it; anyone else pressing a forged button is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.services import library, policy
from storage.db import Database
from storage.models import LibraryRevision, Member

PER_PAGE = 5
# Facts of an item outside its texts, in the order a history line names them.
FACTS = ("files", "number", "adopted_on", "act_status", "link", "group_id", "hide_contact")


@dataclass(frozen=True)
class Change:
    when: datetime
    editor: str  # "" when the member is gone
    # The text parts changed (title, problem, body, …) and in which languages, in card order.
    parts: list[tuple[str, list[str]]]
    facts: list[str]  # of FACTS


@dataclass(frozen=True)
class History:
    item_id: int
    title: str
    added: datetime | None  # on the last page only: when and by whom the item was added
    author: str
    changes: list[Change]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _fields(kind: str) -> tuple[str, ...]:
    return ("title", *library.FIELDS.get(kind, ()))


def difference(kind: str, before: dict[str, Any], after: dict[str, Any]
               ) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """What changed from one snapshot to the next: [(part, [languages])] and facts."""
    old_texts = before.get("texts") or {}
    new_texts = after.get("texts") or {}
    parts: list[tuple[str, list[str]]] = []
    for name in _fields(kind):
        langs = [lang for lang in library.LANGUAGES
                 if (old_texts.get(lang) or {}).get(name, "")
                 != (new_texts.get(lang) or {}).get(name, "")]
        if langs:
            parts.append((name, langs))
    facts = [name for name in FACTS if (before.get(name) or None) != (after.get(name) or None)]
    return parts, facts


async def history(db: Database, actor_id: int, item_id: int, language: str,
                  page: int = 0, per_page: int = PER_PAGE) -> History:
    """A page of the item's changes, newest first; for its author and reviewers only."""
    async with db.read() as s:
        a = await library.item_access(db, s, actor_id, item_id)
        item = a.item
        allowed = policy.can_view_item_history(a.actor, item.author_id, a.moderates, item.kind)
        await policy.ensure(db, a.actor, allowed, policy.Action.VIEW_ITEM_HISTORY, item_id)
        total = int((await s.exec(select(func.count()).select_from(LibraryRevision).where(
            LibraryRevision.item_id == item_id))).one())
        pages = max(1, -(-total // per_page))
        page = max(0, min(page, pages - 1))
        # One row newer than the page, to compare the page's newest change against.
        start = page * per_page
        rows = list((await s.exec(
            select(LibraryRevision).where(LibraryRevision.item_id == item_id)
            .order_by(col(LibraryRevision.id).desc())
            .offset(max(0, start - 1)).limit(per_page + (1 if start else 0)))).all())
        editor_ids = {r.editor_id for r in rows if r.editor_id is not None}
        editor_ids.add(item.author_id)
        names = {m.id: m.full_name for m in (await s.exec(
            select(Member).where(col(Member.id).in_(editor_ids)))).all()}
        now = library.snapshot(item)
        kind, author_id, created = item.kind, item.author_id, item.created_at
        title = item.title(language)
    newer = now if not start else rows.pop(0).snapshot
    changes = []
    for row in rows:
        parts, facts = difference(kind, row.snapshot, newer)
        changes.append(Change(row.created_at, names.get(row.editor_id or 0, ""), parts, facts))
        newer = row.snapshot
    last = page == pages - 1
    return History(item_id, title, created if last else None, names.get(author_id, ""),
                   changes, total, page, per_page)
