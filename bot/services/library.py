"""The library: practices, legal acts, templates, methods and partner products (LIB-<id>).

Every item lives in one topic group (and so is seen by whoever may read that group), with its
texts in Kyrgyz and Russian (English optional: a reader gets their language, else Russian, else
Kyrgyz). Any member proposes a practice; the group's moderators or Union staff approve it, return
it with a comment or decline it, and the author hears each outcome. Staff and moderators add the
other kinds directly; the partner role submits partner products, which staff review. Every edit
keeps the previous version (`LibraryRevision`; `bot.services.library_history` tells who changed
what, and when). Members mark items useful and say "our municipality uses this" (adoptions,
counted like co-signatures: members, municipalities, districts). A question about an item is a
question in the item's group that also reaches its author. Every change that alters what an
item shows re-indexes it for search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, files, groups, labels, notify, policy, questions, search
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.forums import Forums
from bot.services.questions import QuestionDraft
from storage.db import Database
from storage.enums import ActStatus, ItemKind, ItemStatus
from storage.models import (
    District,
    GroupModerator,
    LibraryAdoption,
    LibraryBlob,
    LibraryItem,
    LibraryRevision,
    LibraryVote,
    Member,
    Municipality,
    RoleAssignment,
    TopicGroup,
)
from storage.types import utcnow

TITLE_MIN = 3
TITLE_MAX = 200
TEXT_MAX = 3000
NUMBER_MAX = 100
LINK_MAX = 500
COMMENT_MIN = 3
COMMENT_MAX = 1000
FILES_MAX = 10
LANGUAGES = ("ky", "ru", "en")

# The text fields of each kind, in the order a card shows them; the first ones are required.
FIELDS: dict[str, tuple[str, ...]] = {
    ItemKind.PRACTICE: ("problem", "actions", "results", "cost", "cautions", "contact"),
    ItemKind.LEGAL_ACT: ("body", "act_kind", "issuer"),
    ItemKind.TEMPLATE: ("body",),
    ItemKind.METHOD: ("body",),
    ItemKind.PARTNER: ("body", "partner"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ItemKind.PRACTICE: ("problem", "actions", "results"),
    ItemKind.LEGAL_ACT: ("issuer",),
    ItemKind.TEMPLATE: ("body",),
    ItemKind.METHOD: ("body",),
    ItemKind.PARTNER: ("body", "partner"),
}
# Kinds a municipality can "use" (a legal act is in force for everyone anyway).
ADOPTABLE = frozenset({ItemKind.PRACTICE, ItemKind.TEMPLATE, ItemKind.METHOD, ItemKind.PARTNER})


def label(item_id: int) -> str:
    return f"LIB-{item_id}"


def parse_label(value: str) -> int | None:
    return labels.parse_label(value, "LIB")


# --- checking what members send ----------------------------------------------------------------


def clean_title(value: str) -> str:
    value = " ".join(value.split())
    if not TITLE_MIN <= len(value) <= TITLE_MAX:
        raise InvalidInput("library_title", minimum=TITLE_MIN, limit=TITLE_MAX)
    return value


def clean_text(value: str) -> str:
    value = value.strip()
    if not 2 <= len(value) <= TEXT_MAX:
        raise InvalidInput("library_text", limit=TEXT_MAX)
    return value


def clean_number(value: str) -> str:
    value = " ".join(value.split())
    if not 1 <= len(value) <= NUMBER_MAX or not search.number_key(value):
        raise InvalidInput("library_number", limit=NUMBER_MAX)
    return value


def clean_link(value: str) -> str:
    value = value.strip()
    if not value.startswith("https://") or len(value) > LINK_MAX or " " in value:
        raise InvalidInput("library_link")
    return value


def clean_date(value: date, today: date) -> date:
    if value > today:
        raise InvalidInput("library_date_future")
    return value


def parse_date(value: str) -> date:
    """"25.11.2026" (or 2026-11-25) → a date; `InvalidInput` otherwise."""
    raw = value.strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise InvalidInput("library_date")


def check_file(item: dict[str, Any]) -> dict[str, Any]:
    """One attachment record, checked by the one rule for files (`bot.services.files`)."""
    name = files.check_file(item.get("name"), item.get("mime"), item.get("size"))
    clean: dict[str, Any] = {"kind": str(item.get("kind") or "document"), "name": name,
                             "size": int(item.get("size") or 0)}
    if item.get("file_id"):
        clean["file_id"] = str(item["file_id"])[:200]
    elif item.get("blob_id"):
        clean["blob_id"] = int(item["blob_id"])
    else:
        raise InvalidInput("file_type", types=files.TYPES)
    return clean


@dataclass
class ItemDraft:
    kind: str
    group_id: int
    # {"ky": {"title": …, "problem": …}, "ru": {…}, "en": {…}}
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    number: str | None = None
    adopted_on: date | None = None
    act_status: str | None = None
    link: str | None = None
    hide_contact: bool = False


def clean_draft(draft: ItemDraft, today: date) -> ItemDraft:
    """The draft with every rule applied; `InvalidInput` for the first thing wrong."""
    if draft.kind not in {k.value for k in ItemKind}:
        raise InvalidInput("library_kind")
    allowed = FIELDS[draft.kind]
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        given = {k: v for k, v in (draft.texts.get(lang) or {}).items() if v and str(v).strip()}
        if not given:
            continue
        fields_ = {"title": clean_title(str(given.get("title", "")))}
        for key in allowed:
            if given.get(key):
                fields_[key] = clean_text(str(given[key]))
        texts[lang] = fields_
    if not texts.get("ky") and not texts.get("ru"):
        raise InvalidInput("library_missing")
    # A required part may be written in one language only: readers of the other get it there.
    written = {k for fields_ in texts.values() for k in fields_}
    if any(k not in written for k in REQUIRED[draft.kind]):
        raise InvalidInput("library_missing")
    if len(draft.files) > FILES_MAX:
        raise InvalidInput("attachments_count", limit=FILES_MAX)
    clean = ItemDraft(kind=draft.kind, group_id=int(draft.group_id), texts=texts,
                      files=[check_file(f) for f in draft.files],
                      hide_contact=bool(draft.hide_contact))
    if draft.kind == ItemKind.LEGAL_ACT:
        if not draft.number or draft.adopted_on is None:
            raise InvalidInput("library_missing")
        clean.number = clean_number(draft.number)
        clean.adopted_on = clean_date(draft.adopted_on, today)
        status = draft.act_status or ActStatus.IN_FORCE.value
        if status not in {s.value for s in ActStatus}:
            raise InvalidInput("library_act_status")
        clean.act_status = status
        clean.link = clean_link(draft.link) if draft.link else None
    elif draft.link:
        clean.link = clean_link(draft.link)
    return clean


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAccess:
    actor: policy.Actor
    item: LibraryItem
    group: TopicGroup
    sees_group: bool
    moderates: bool

    @property
    def reviews(self) -> bool:
        return policy.can_review_item(self.actor, self.item.kind, self.moderates)

    @property
    def edits(self) -> bool:
        return policy.can_edit_item(self.actor, self.item.author_id, self.item.status,
                                    self.moderates, self.item.kind)


async def item_access(db: Database, s: AsyncSession, actor_id: int, item_id: int) -> ItemAccess:
    """The item, if this member may see it; a forged or stale id is refused (and logged)."""
    item = await s.get(LibraryItem, item_id)
    if item is None:
        raise NotFound(what="library_item")
    actor = await policy.load_actor(s, actor_id)
    a = await groups.access(s, actor, item.group_id)
    allowed = policy.can_view_item(actor, a.sees, item.status == ItemStatus.PUBLISHED,
                                   item.author_id, a.moderates, item.kind)
    await policy.ensure(db, actor, allowed, policy.Action.VIEW_ITEM, item_id)
    return ItemAccess(actor, item, a.group, a.sees, a.moderates)


# Which language a reader gets when theirs is missing: the broadcasts' order.
FALLBACK = {"ky": ("ky", "ru", "en"), "ru": ("ru", "ky", "en"), "en": ("en", "ru", "ky")}


def merge_texts(texts: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    """Texts in the reader's language, each part falling back as broadcasts do (a Kyrgyz
    reader: Kyrgyz, Russian, English; a Russian one: Russian, Kyrgyz, English; an English one:
    English, Russian, Kyrgyz) where the reader's language lacks it."""
    merged: dict[str, str] = {}
    for lang in reversed(FALLBACK.get(language, FALLBACK["ru"])):
        merged.update({k: v for k, v in (texts.get(lang) or {}).items() if v})
    return merged


def texts_for(item: LibraryItem, language: str) -> dict[str, str]:
    """The item's texts in the reader's language (`merge_texts`)."""
    return merge_texts(item.texts or {}, language)


@dataclass(frozen=True)
class ItemCard:
    id: int
    kind: ItemKind
    status: ItemStatus
    group_id: int
    group_name: str
    texts: dict[str, str]
    files: list[dict[str, Any]]
    number: str | None
    adopted_on: date | None
    act_status: str | None
    link: str | None
    author: str | None  # None: the author hid their contact
    place: str | None  # the municipality and district of a practice
    useful: int
    adoptions: int
    municipalities: int
    districts: int
    review_comment: str | None
    revisions: int
    published_at: datetime | None
    is_author: bool
    reviews: bool
    edits: bool
    sees_history: bool
    voted: bool
    adopted: bool


async def _place(s: AsyncSession, municipality_id: int | None, district_id: int | None,
                 language: str) -> str | None:
    parts = []
    if municipality_id is not None:
        m = await s.get(Municipality, municipality_id)
        if m is not None:
            parts.append(m.name(language))
    if district_id is not None:
        d = await s.get(District, district_id)
        if d is not None:
            parts.append(d.name(language))
    return ", ".join(parts) or None


async def card(db: Database, actor_id: int, item_id: int, language: str) -> ItemCard:
    async with db.read() as s:
        a = await item_access(db, s, actor_id, item_id)
        item = a.item
        author = await s.get(Member, item.author_id)
        shown = author.full_name if author is not None else None
        if item.hide_contact and not a.reviews and item.author_id != actor_id:
            shown = None
        revisions = (await s.exec(select(func.count()).where(
            LibraryRevision.item_id == item_id))).one()
        voted = await s.get(LibraryVote, (item_id, actor_id)) is not None
        adopted = (await s.exec(select(LibraryAdoption.id).where(
            LibraryAdoption.item_id == item_id,
            LibraryAdoption.member_id == actor_id))).first() is not None
        place = (await _place(s, item.municipality_id, item.district_id, language)
                 if item.kind == ItemKind.PRACTICE else None)
    texts = texts_for(item, language)
    if shown is None:
        texts.pop("contact", None)
    return ItemCard(
        id=item_id, kind=ItemKind(item.kind), status=ItemStatus(item.status),
        group_id=item.group_id, group_name=a.group.name(language), texts=texts,
        files=list(item.files), number=item.number, adopted_on=item.adopted_on,
        act_status=item.act_status, link=item.link, author=shown, place=place,
        useful=item.useful_count, adoptions=item.adoptions_count,
        municipalities=item.municipalities_count, districts=item.districts_count,
        review_comment=item.review_comment if (a.reviews or item.author_id == actor_id)
        else None,
        revisions=int(revisions), published_at=item.published_at,
        is_author=item.author_id == actor_id, reviews=a.reviews, edits=a.edits,
        sees_history=policy.can_view_item_history(a.actor, item.author_id, a.moderates,
                                                  item.kind),
        voted=voted, adopted=adopted)


async def draft_of(db: Database, actor_id: int, item_id: int) -> ItemDraft:
    """An item as a draft, for its editor (who must be allowed to edit it)."""
    async with db.read() as s:
        a = await item_access(db, s, actor_id, item_id)
        await policy.ensure(db, a.actor, a.edits, policy.Action.EDIT_ITEM, item_id)
        item = a.item
    return ItemDraft(kind=item.kind, group_id=item.group_id,
                     texts={k: dict(v) for k, v in (item.texts or {}).items()},
                     files=list(item.files), number=item.number, adopted_on=item.adopted_on,
                     act_status=item.act_status, link=item.link, hide_contact=item.hide_contact)


@dataclass(frozen=True)
class ItemLine:
    id: int
    kind: ItemKind
    title: str
    status: ItemStatus
    useful: int
    adoptions: int
    group_id: int


ORDERS = ("new", "used")


@dataclass(frozen=True)
class Shelf:
    """A group's library screen: items of each kind, one page of them, how many in all."""

    counts: dict[str, int]
    items: list[ItemLine]
    total: int


async def shelf(db: Database, actor_id: int, group_id: int, kind: str | None,
                order: str = "new", page: int = 0, per_page: int = 8,
                language: str = "ru") -> Shelf:
    """A group's published items of one kind (or all), newest or most used first, with how
    many of each kind it has: one permission check, the page's total taken from the counts."""
    if kind is not None and kind not in {k.value for k in ItemKind}:
        raise InvalidInput("library_kind")
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        a = await groups.access(s, actor, group_id)
        await policy.ensure(db, actor, a.sees, policy.Action.VIEW_ITEM, group_id)
        where = [LibraryItem.group_id == group_id, LibraryItem.status == ItemStatus.PUBLISHED]
        counts = {str(k): int(n) for k, n in (await s.exec(
            select(LibraryItem.kind, func.count()).where(*where)
            .group_by(col(LibraryItem.kind)))).all()}
        if kind is not None:
            where.append(LibraryItem.kind == kind)
        total = counts.get(kind, 0) if kind is not None else sum(counts.values())
        ordering: list[Any] = ([col(LibraryItem.published_at).desc(), col(LibraryItem.id).desc()]
                               if order != "used" else
                               [(col(LibraryItem.adoptions_count)
                                 + col(LibraryItem.useful_count)).desc(),
                                col(LibraryItem.id).desc()])
        page = max(0, min(page, max(0, (total - 1) // per_page)))
        rows = (await s.exec(select(LibraryItem).where(*where).order_by(*ordering)
                             .offset(page * per_page).limit(per_page))).all()
    return Shelf(counts, [ItemLine(i.id or 0, ItemKind(i.kind), i.title(language),
                                   ItemStatus(i.status), i.useful_count, i.adoptions_count,
                                   i.group_id) for i in rows], total)


async def review_queue(db: Database, actor_id: int, language: str = "ru") -> list[ItemLine]:
    """Proposals waiting for this member's review (their groups' moderation, or all: staff)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        query = select(LibraryItem).where(LibraryItem.status == ItemStatus.REVIEW)
        if not actor.is_staff:
            moderated = list((await s.exec(select(GroupModerator.group_id).where(
                GroupModerator.member_id == actor_id))).all())
            if not actor.active or not moderated:
                return []
            query = query.where(col(LibraryItem.group_id).in_(moderated),
                                LibraryItem.kind != ItemKind.PARTNER)
        rows = (await s.exec(query.order_by(col(LibraryItem.id)).limit(30))).all()
    return [ItemLine(i.id or 0, ItemKind(i.kind), i.title(language), ItemStatus(i.status),
                     i.useful_count, i.adoptions_count, i.group_id) for i in rows]


async def my_items(db: Database, actor_id: int, language: str = "ru") -> list[ItemLine]:
    async with db.read() as s:
        rows = (await s.exec(select(LibraryItem).where(LibraryItem.author_id == actor_id)
                             .order_by(col(LibraryItem.id).desc()).limit(30))).all()
    return [ItemLine(i.id or 0, ItemKind(i.kind), i.title(language), ItemStatus(i.status),
                     i.useful_count, i.adoptions_count, i.group_id) for i in rows]


async def may_add(db: Database, actor_id: int, group_id: int | None = None) -> list[str]:
    """The kinds this member may add (directly or for review) — in a group, or in any."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if group_id is None:
            moderates = (await s.exec(select(GroupModerator.group_id).where(
                GroupModerator.member_id == actor_id))).first() is not None
            sees = actor.active
        else:
            a = await groups.access(s, actor, group_id)
            moderates, sees = a.moderates, a.sees
    return [k.value for k in ItemKind if policy.can_submit_item(actor, k, sees, moderates)]


# --- contributing ------------------------------------------------------------------------------


def _titles(item: LibraryItem, texts: dict[str, dict[str, str]]) -> None:
    for lang in LANGUAGES:
        setattr(item, f"title_{lang}", (texts.get(lang) or {}).get("title", ""))


async def _number_taken(s: AsyncSession, number: str | None, item_id: int | None) -> bool:
    if not number:
        return False
    found = (await s.exec(select(LibraryItem.id).where(
        LibraryItem.number_key == search.number_key(number)))).first()
    return found is not None and found != item_id


async def check_number(db: Database, number: str, item_id: int | None = None) -> str:
    """A legal act's number, cleaned, unless another item already has it (for the flow's
    number step; `submit` and `edit` check again)."""
    clean = clean_number(number)
    async with db.read() as s:
        if await _number_taken(s, clean, item_id):
            raise InvalidInput("library_number_taken", number=clean)
    return clean


async def _reviewers(s: AsyncSession, group_id: int, kind: str) -> list[int]:
    """Who hears of a proposal: the group's moderators (a partner product: staff); staff when
    the group has no moderators."""
    mods: list[int] = []
    if kind != ItemKind.PARTNER:
        mods = list((await s.exec(select(GroupModerator.member_id).where(
            GroupModerator.group_id == group_id))).all())
    if mods:
        return sorted(set(mods))
    return sorted(set((await s.exec(select(RoleAssignment.member_id).where(
        RoleAssignment.role == "union_staff"))).all()))


@dataclass(frozen=True)
class Submitted:
    item_id: int
    status: ItemStatus


async def submit(db: Database, actor_id: int, draft: ItemDraft, today: date) -> Submitted:
    """A new item: published at once when its author may review it (staff, the group's
    moderators), else waiting for review (a member's practice, a partner's product)."""
    clean = clean_draft(draft, today)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        a = await groups.access(s, actor, clean.group_id)
        await policy.ensure(db, actor, policy.can_submit_item(actor, clean.kind, a.sees,
                                                              a.moderates),
                            policy.Action.PROPOSE_ITEM, clean.group_id)
        if a.group.archived_at is not None:
            raise InvalidState("group_archived")
        if await _number_taken(s, clean.number, None):
            raise InvalidInput("library_number_taken", number=clean.number or "")
        member = await s.get(Member, actor_id)
        direct = policy.can_review_item(actor, clean.kind, a.moderates)
        now = utcnow()
        item = LibraryItem(
            kind=clean.kind, group_id=clean.group_id, texts=clean.texts, files=clean.files,
            number=clean.number, number_key=search.number_key(clean.number)
            if clean.number else None, adopted_on=clean.adopted_on, act_status=clean.act_status,
            link=clean.link, author_id=actor_id, hide_contact=clean.hide_contact,
            municipality_id=member.municipality_id if member else None,
            district_id=member.district_id if member else None,
            status=ItemStatus.PUBLISHED if direct else ItemStatus.REVIEW,
            published_at=now if direct else None)
        _titles(item, clean.texts)
        s.add(item)
        await s.flush()
        assert item.id is not None
        if not direct:
            for member_id in await _reviewers(s, clean.group_id, clean.kind):
                if member_id != actor_id:
                    notify.enqueue(s, member_id, "library_proposed", item_id=item.id)
        await search.reindex_item(s, item.id)
        audit.record(s, actor_id, "library_submitted", "library_item", item.id,
                     status=str(item.status))
        return Submitted(item.id, ItemStatus(item.status))


def snapshot(item: LibraryItem) -> dict[str, Any]:
    return {"title_ky": item.title_ky, "title_ru": item.title_ru, "title_en": item.title_en,
            "texts": item.texts, "files": item.files, "number": item.number,
            "adopted_on": item.adopted_on.isoformat() if item.adopted_on else None,
            "act_status": item.act_status, "link": item.link, "status": item.status,
            "group_id": item.group_id, "hide_contact": item.hide_contact}


async def edit(db: Database, actor_id: int, item_id: int, draft: ItemDraft,
               today: date) -> Submitted:
    """Change an item, keeping what it said before. A returned proposal edited by its author
    goes back to review (its reviewers hear of it)."""
    async with db.transaction() as s:
        a = await item_access(db, s, actor_id, item_id)
        await policy.ensure(db, a.actor, a.edits, policy.Action.EDIT_ITEM, item_id)
        item = a.item
        draft.kind = item.kind
        if draft.group_id != item.group_id:
            target = await groups.access(s, a.actor, draft.group_id)
            allowed = policy.can_submit_item(a.actor, item.kind, target.sees, target.moderates)
            await policy.ensure(db, a.actor, allowed, policy.Action.EDIT_ITEM, draft.group_id)
        clean = clean_draft(draft, today)
        if await _number_taken(s, clean.number, item_id):
            raise InvalidInput("library_number_taken", number=clean.number or "")
        s.add(LibraryRevision(item_id=item_id, editor_id=actor_id, snapshot=snapshot(item)))
        item.texts = clean.texts
        item.files = clean.files
        item.group_id = clean.group_id
        item.number = clean.number
        item.number_key = search.number_key(clean.number) if clean.number else None
        item.adopted_on, item.act_status, item.link = (clean.adopted_on, clean.act_status,
                                                       clean.link)
        item.hide_contact = clean.hide_contact
        _titles(item, clean.texts)
        item.updated_at = utcnow()
        if item.status == ItemStatus.RETURNED and not a.reviews:
            item.status = ItemStatus.REVIEW
            for member_id in await _reviewers(s, item.group_id, item.kind):
                if member_id != actor_id:
                    notify.enqueue(s, member_id, "library_proposed", item_id=item_id,
                                   resubmitted=True)
        await s.flush()
        await search.reindex_item(s, item_id)
        audit.record(s, actor_id, "library_edited", "library_item", item_id)
        return Submitted(item_id, ItemStatus(item.status))


DECISIONS = ("approve", "return", "decline")


async def review(db: Database, actor_id: int, item_id: int, decision: str,
                 comment: str | None = None) -> ItemStatus:
    """Approve, return with a comment, or decline a proposal; its author hears the outcome."""
    if decision not in DECISIONS:
        raise InvalidInput("library_decision")
    note = " ".join((comment or "").split()) or None
    if decision == "return" and note is None:
        raise InvalidInput("library_comment", minimum=COMMENT_MIN, limit=COMMENT_MAX)
    if note is not None and not COMMENT_MIN <= len(note) <= COMMENT_MAX:
        raise InvalidInput("library_comment", minimum=COMMENT_MIN, limit=COMMENT_MAX)
    async with db.transaction() as s:
        item = await s.get(LibraryItem, item_id)
        if item is None:
            raise NotFound(what="library_item")
        actor = await policy.load_actor(s, actor_id)
        a = await groups.access(s, actor, item.group_id)
        await policy.ensure(db, actor, policy.can_review_item(actor, item.kind, a.moderates),
                            policy.Action.REVIEW_ITEM, item_id)
        if item.status != ItemStatus.REVIEW:
            raise InvalidState("library_not_in_review")
        item.status = {"approve": ItemStatus.PUBLISHED, "return": ItemStatus.RETURNED,
                       "decline": ItemStatus.DECLINED}[decision]
        item.review_comment = note
        item.reviewed_by_id = actor_id
        if decision == "approve":
            item.published_at = utcnow()
        if item.author_id != actor_id:
            notify.enqueue(s, item.author_id, "library_reviewed", item_id=item_id,
                           decision=decision)
        await s.flush()
        await search.reindex_item(s, item_id)
        audit.record(s, actor_id, f"library_{decision}", "library_item", item_id)
        return ItemStatus(item.status)


# --- using -------------------------------------------------------------------------------------


async def _usable(db: Database, s: AsyncSession, actor_id: int, item_id: int) -> ItemAccess:
    a = await item_access(db, s, actor_id, item_id)
    await policy.ensure(db, a.actor, policy.can_use_item(a.actor, a.sees_group),
                        policy.Action.USE_ITEM, item_id)
    if a.item.status != ItemStatus.PUBLISHED:
        raise InvalidState("library_not_published")
    return a


async def mark_useful(db: Database, actor_id: int, item_id: int) -> bool:
    """Once per member; False when they already said so."""
    async with db.transaction() as s:
        a = await _usable(db, s, actor_id, item_id)
        if a.item.author_id == actor_id:
            raise InvalidState("library_own_item")
        if await s.get(LibraryVote, (item_id, actor_id)) is not None:
            return False
        s.add(LibraryVote(item_id=item_id, member_id=actor_id))
        await s.exec(update(LibraryItem).where(col(LibraryItem.id) == item_id)
                     .values(useful_count=col(LibraryItem.useful_count) + 1))
        return True


@dataclass(frozen=True)
class Adoption:
    members: int
    municipalities: int
    districts: int


async def _recount(s: AsyncSession, item: LibraryItem) -> Adoption:
    rows = (await s.exec(select(LibraryAdoption.municipality_id,
                                LibraryAdoption.municipality_other,
                                LibraryAdoption.district_id).where(
        LibraryAdoption.item_id == item.id))).all()
    municipalities = {m if m is not None else f"other:{o}" for m, o, _ in rows
                      if m is not None or o}
    districts = {d for _, _, d in rows if d is not None}
    item.adoptions_count = len(rows)
    item.municipalities_count = len(municipalities)
    item.districts_count = len(districts)
    return Adoption(len(rows), len(municipalities), len(districts))


async def adopt(db: Database, actor_id: int, item_id: int) -> Adoption:
    """"Our municipality uses this": once per member, counted with their municipality and
    district; the author hears of it."""
    async with db.transaction() as s:
        a = await _usable(db, s, actor_id, item_id)
        item = a.item
        if item.kind not in ADOPTABLE:
            raise InvalidState("library_not_adoptable")
        if item.author_id == actor_id:
            raise InvalidState("library_own_item")
        done = (await s.exec(select(LibraryAdoption.id).where(
            LibraryAdoption.item_id == item_id,
            LibraryAdoption.member_id == actor_id))).first()
        if done is not None:
            raise InvalidState("library_already_adopted")
        member = await s.get(Member, actor_id)
        assert member is not None
        s.add(LibraryAdoption(item_id=item_id, member_id=actor_id,
                              municipality_id=member.municipality_id,
                              municipality_other=member.municipality_other,
                              district_id=member.district_id))
        await s.flush()
        counts = await _recount(s, item)
        notify.enqueue(s, item.author_id, "library_adopted", item_id=item_id,
                       adopter_id=actor_id)
        audit.record(s, actor_id, "library_adopted", "library_item", item_id)
        return counts


async def adopters(db: Database, actor_id: int, item_id: int,
                   language: str) -> list[tuple[str, list[str]]]:
    """Which districts and municipalities use an item: [(district, [municipality, …])]."""
    async with db.read() as s:
        await item_access(db, s, actor_id, item_id)
        rows = (await s.exec(
            select(District, Municipality, LibraryAdoption.municipality_other)
            .select_from(LibraryAdoption)
            .join(District, col(District.id) == LibraryAdoption.district_id, isouter=True)
            .join(Municipality, col(Municipality.id) == LibraryAdoption.municipality_id,
                  isouter=True)
            .where(LibraryAdoption.item_id == item_id))).all()
    places: dict[str, set[str]] = {}
    for district, municipality, other in rows:
        key = district.name(language) if district is not None else "—"
        names = places.setdefault(key, set())
        if municipality is not None:
            names.add(municipality.name(language))
        elif other:
            names.add(other)
    return sorted((d, sorted(m)) for d, m in places.items())


async def ask_author(db: Database, actor_id: int, item_id: int, text: str,
                     forum_chat_id: int | Forums | None = None) -> int:
    """A question about an item: a question in the item's group (LIB-12 named at its start)
    that its author hears of too. Returns the question's id."""
    async with db.read() as s:
        a = await _usable(db, s, actor_id, item_id)
        group_id, author_id = a.item.group_id, a.item.author_id
    body = text.strip()
    if not questions.QUESTION_MIN <= len(body) <= questions.QUESTION_MAX - 20:
        raise InvalidInput("question_length", minimum=questions.QUESTION_MIN,
                           limit=questions.QUESTION_MAX - 20)
    return await questions.ask_question(
        db, actor_id, QuestionDraft(group_id=group_id, text=f"{label(item_id)}: {body}"),
        forum_chat_id=forum_chat_id, notify_also=(author_id,))


async def item_files(db: Database, actor_id: int, item_id: int) -> list[dict[str, Any]]:
    async with db.read() as s:
        a = await item_access(db, s, actor_id, item_id)
        return list(a.item.files)


async def blob(db: Database, blob_id: int) -> LibraryBlob | None:
    async with db.read() as s:
        return await s.get(LibraryBlob, blob_id)


async def remember_file_id(db: Database, blob_id: int, file_id: str) -> None:
    """After the first send of an imported file: Telegram's id serves every later send."""
    async with db.transaction() as s:
        await s.exec(update(LibraryBlob).where(col(LibraryBlob.id) == blob_id)
                     .values(file_id=file_id[:200]))
