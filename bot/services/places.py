"""One name per municipality: typed names, fuzzy suggestions, confirming, merging, adding.

Only some of the ~450 municipalities ship; a member whose municipality is missing types it. Before a
typed name is accepted, `suggest` offers the closest known ones in the member's district, compared
after transliteration (Кара-Куль, Каракуль and Kara-Kul fold to the same letters). A new name
becomes a *pending* municipality (`resolve_typed`); the district leader or Union staff confirm it
or merge it into an existing one. `merge` moves every row that points at the municipality (members,
national issues, co-signatures — any column with a foreign key to it, so later features are
covered too) in one transaction and recounts the issues concerned, so nobody is counted twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, cache, notify, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import MemberStatus, MunicipalityKind, MunicipalityStatus, Role
from storage.models import (
    District,
    Member,
    Municipality,
    NationalIssue,
    RoleAssignment,
    SurveyResponse,
)
from storage.types import utcnow

NAME_MIN, NAME_MAX = 2, 120
SUGGEST_LIMIT = 3
SUGGEST_SCORE = 72.0

# Kyrgyz and Russian Cyrillic to Latin, the way municipality names are spelled in English.
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o", "ө": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ү": "u", "ф": "f", "х": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
# Latin spellings of the same sounds that vary between sources.
_LATIN = (("dzh", "j"), ("zh", "j"), ("kh", "h"), ("ü", "u"), ("ö", "o"), ("ñ", "n"),
          ("yy", "y"), ("iy", "i"))


def fold(name: str) -> str:
    """A spelling-blind key: transliterated, lower case, letters and digits only."""
    text = unicodedata.normalize("NFC", name).casefold()
    text = "".join(_TRANSLIT.get(ch, ch) for ch in text)
    for a, b in _LATIN:
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", text)


# Words that name the kind of place, not the place: dropped before names are compared.
_GENERIC = re.compile(
    r"\b(айыл|аймагы|аймак|айылный|айылдык|ао|шаары|шаар|город|г|поселок|посёлок|aiyl|ayil|"
    r"aimak|aimagy|ayilnyy|town|city|village|ao)\b\.?", re.IGNORECASE)


def key(name: str) -> str:
    """What two spellings of one municipality share: `fold` of the name without the words for
    its kind ("Кара-Куль", "город Кара-Куль" and "Kara-Kul town" give one key)."""
    stripped = _GENERIC.sub(" ", unicodedata.normalize("NFC", name).casefold())
    return fold(stripped) or fold(name)


def clean_name(raw: str) -> str:
    """A municipality name as typed: 2–120 characters with at least two letters."""
    name = " ".join(unicodedata.normalize("NFC", raw or "").split())
    letters = sum(ch.isalpha() for ch in name)
    if not NAME_MIN <= len(name) <= NAME_MAX or letters < 2:
        raise InvalidInput("municipality_other", limit=NAME_MAX)
    return name


@dataclass(frozen=True)
class Suggestion:
    id: int
    name: str
    pending: bool
    score: float


@dataclass(frozen=True)
class PendingPlace:
    id: int
    name: str
    district_id: int
    district: str
    members: int
    candidates: list[Suggestion]


async def _usable(s: AsyncSession, district_id: int) -> list[Municipality]:
    """The municipalities of a district a member can be in: confirmed and pending ones."""
    return list((await s.exec(select(Municipality).where(
        Municipality.district_id == district_id,
        Municipality.status != MunicipalityStatus.MERGED,
        col(Municipality.active) | (Municipality.status == MunicipalityStatus.PENDING),
    ).order_by(col(Municipality.id)))).all())


def _keys(m: Municipality) -> set[str]:
    return {key(m.name_ky), key(m.name_ru), key(m.name_en)}


def _rank(typed: str, rows: list[Municipality], lang: str, limit: int,
          exclude: int | None = None) -> list[Suggestion]:
    wanted = key(typed)
    if not wanted:
        return []
    choices: dict[tuple[int, int], str] = {}
    for m in rows:
        if m.id == exclude:
            continue
        for i, name in enumerate(sorted(_keys(m))):
            choices[(m.id or 0, i)] = name
    from rapidfuzz import fuzz, process  # on first use: idle memory (issue 20)

    best: dict[int, float] = {}
    for _choice, score, (mid, _i) in process.extract(
            wanted, choices, scorer=fuzz.WRatio if len(wanted) >= 4 else fuzz.ratio,
            limit=None, score_cutoff=SUGGEST_SCORE):
        best[mid] = max(best.get(mid, 0.0), float(score))
    by_id = {m.id: m for m in rows}
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Suggestion(mid, by_id[mid].name(lang),
                       by_id[mid].status == MunicipalityStatus.PENDING, score)
            for mid, score in ranked]


async def suggest(db: Database, district_id: int, typed: str, lang: str,
                  limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """The known municipalities of the district closest to a typed name, best first."""
    name = clean_name(typed)
    async with db.read() as s:
        rows = await _usable(s, district_id)
    return _rank(name, rows, lang, limit)


async def same_name(db: Database, district_id: int, typed: str,
                    lang: str = "ru") -> str | None:
    """The known municipality of the district spelled with the same letters, if any."""
    wanted = key(clean_name(typed))
    async with db.read() as s:
        for m in await _usable(s, district_id):
            if wanted in _keys(m):
                return m.name(lang)
    return None


async def is_usable(db: Database, district_id: int, municipality_id: int) -> bool:
    async with db.read() as s:
        m = await s.get(Municipality, municipality_id)
    return (m is not None and m.district_id == district_id
            and m.status != MunicipalityStatus.MERGED
            and (m.active or m.status == MunicipalityStatus.PENDING))


async def _code(s: AsyncSession, district_id: int, name: str, prefix: str) -> str:
    base = f"{prefix}{fold(name)[:40] or 'place'}"
    code, n = base, 1
    while (await s.exec(select(Municipality.id).where(
            Municipality.district_id == district_id, Municipality.code == code))).first():
        n += 1
        code = f"{base}-{n}"
    return code


async def _deciders(s: AsyncSession, district_id: int) -> list[int]:
    """Who confirms or merges a district's new names: its leaders and Union staff."""
    rows = await s.exec(
        select(RoleAssignment.member_id).join(Member, col(Member.id) == RoleAssignment.member_id)
        .where(Member.status == MemberStatus.ACTIVE)
        .where(col(RoleAssignment.role).in_([Role.UNION_STAFF, Role.DISTRICT_LEADER]))
        .where((RoleAssignment.role == Role.UNION_STAFF)
               | ((RoleAssignment.role == Role.DISTRICT_LEADER)
                  & (RoleAssignment.district_id == district_id))))
    return sorted(set(rows.all()))


async def known_typed(s: AsyncSession, district_id: int, typed: str) -> int | None:
    """The known (or already proposed) municipality a typed name stands for, if any."""
    wanted = key(clean_name(typed))
    for m in await _usable(s, district_id):
        if wanted in _keys(m):
            assert m.id is not None
            return m.id
    return None


async def resolve_typed(s: AsyncSession, district_id: int, typed: str,
                        proposer_id: int | None) -> int:
    """The municipality a typed name stands for: a known one spelled the same way (whatever
    the alphabet), or a new pending one that the district's leaders and staff hear of."""
    name = clean_name(typed)
    found = await known_typed(s, district_id, name)
    if found is not None:
        return found
    district = await s.get(District, district_id)
    if district is None:
        raise InvalidInput("district")
    m = Municipality(code=await _code(s, district_id, name, "typed-"), district_id=district_id,
                     kind=MunicipalityKind.AIYL_AIMAK, active=False,
                     status=MunicipalityStatus.PENDING, name_ky=name, name_ru=name, name_en=name,
                     proposed_by_id=proposer_id, created_at=utcnow())
    if s.sync_session.get_bind().dialect.name == "postgresql":
        # Colleagues onboarding at the same moment may type the same new name: the first one's
        # row wins (the unique code makes the others wait for it), and theirs becomes the
        # colleagues' too. SQLite has one writer, so there the name is never written twice.
        try:
            async with s.begin_nested():
                s.add(m)
                await s.flush()
        except IntegrityError:
            found = await known_typed(s, district_id, name)
            if found is None:
                raise
            return found
    else:
        s.add(m)
        await s.flush()
    assert m.id is not None
    for decider in await _deciders(s, district_id):
        if decider != proposer_id:
            notify.enqueue(s, decider, "municipality_proposed", municipality_id=m.id)
    audit.record(s, proposer_id, "municipality_proposed", "municipality", m.id,
                 district_id=district_id)
    return m.id


async def _managed(db: Database, s: AsyncSession, actor_id: int,
                   municipality_id: int) -> tuple[policy.Actor, Municipality]:
    actor = await policy.load_actor(s, actor_id)
    m = await s.get(Municipality, municipality_id)
    if m is None:
        await policy.ensure(db, actor, False, policy.Action.MANAGE_MUNICIPALITIES,
                            municipality_id)
        raise NotFound(what="municipality")  # pragma: no cover - ensure raised
    await policy.ensure(db, actor, policy.can_manage_municipalities(actor, m.district_id),
                        policy.Action.MANAGE_MUNICIPALITIES, municipality_id)
    return actor, m


async def confirm(db: Database, actor_id: int, municipality_id: int) -> Municipality:
    """A pending name is right: it joins the district's list."""
    async with db.transaction() as s:
        _actor, m = await _managed(db, s, actor_id, municipality_id)
        if m.status != MunicipalityStatus.PENDING:
            raise InvalidState("municipality_decided")
        m.status = MunicipalityStatus.CONFIRMED
        m.active = True
        m.code = await _code(s, m.district_id, m.name_en, "")
        audit.record(s, actor_id, "municipality_confirmed", "municipality", municipality_id)
        return m


def _pointers() -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to municipality.id, but the merge link."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name == "municipality" and not (
                        table.name == "municipality" and column.name == "merged_into_id"):
                    found.append((table.name, column.name))
    return found


@dataclass(frozen=True)
class Merged:
    moved: dict[str, int]  # table → rows moved
    issues_recounted: int


async def _merge_survey_units(s: AsyncSession, source_id: int, target_id: int) -> None:
    """A survey answered once per municipality: the source's response becomes the target's,
    unless the target answered too — then the source's is kept but no longer counted, so one
    municipality is never counted twice."""
    rows = (await s.exec(select(SurveyResponse).where(
        SurveyResponse.key == f"mu:{source_id}"))).all()
    for r in rows:
        taken = (await s.exec(select(SurveyResponse.id).where(
            SurveyResponse.survey_id == r.survey_id,
            SurveyResponse.key == f"mu:{target_id}"))).first()
        if taken is None:
            r.key = f"mu:{target_id}"
        else:
            r.key = f"merged:{source_id}:{r.id}"
            r.submitted_at = None


async def merge(db: Database, actor_id: int, source_id: int, target_id: int) -> Merged:
    """Merge one municipality into another of the same district: every member, issue and
    co-signature moves, issue counts are recomputed; all in one transaction."""
    from bot.services import national_issues

    if source_id == target_id:
        raise InvalidInput("merge_self")
    async with db.transaction() as s:
        _actor, source = await _managed(db, s, actor_id, source_id)
        target = await s.get(Municipality, target_id)
        if target is None or target.district_id != source.district_id:
            raise InvalidInput("merge_target")
        if source.status == MunicipalityStatus.MERGED:
            raise InvalidState("municipality_decided")
        if target.status == MunicipalityStatus.MERGED:
            raise InvalidInput("merge_target")
        issue_ids: set[int | None] = set()
        issue_ids |= set((await s.exec(select(NationalIssue.id).where(
            NationalIssue.municipality_id == source_id))).all())
        from storage.models import IssueCosign

        issue_ids |= set((await s.exec(select(IssueCosign.issue_id).where(
            IssueCosign.municipality_id == source_id))).all())
        await _merge_survey_units(s, source_id, target_id)
        moved: dict[str, int] = {}
        tables = SQLModel.metadata.tables
        for table_name, column_name in _pointers():
            table = tables[table_name]
            column = table.c[column_name]
            result = await s.exec(update(table).where(column == source_id)
                                  .values({column_name: target_id}))
            if result.rowcount:
                moved[table_name] = moved.get(table_name, 0) + int(result.rowcount)
        # Earlier merges into the source now lead to the target.
        await s.exec(update(Municipality).where(
            col(Municipality.merged_into_id) == source_id).values(merged_into_id=target_id))
        source.status = MunicipalityStatus.MERGED
        source.active = False
        source.merged_into_id = target_id
        cache.touch(s.sync_session, "member")
        recounted = 0
        for issue_id in sorted(i for i in issue_ids if i is not None):
            issue = await s.get(NationalIssue, issue_id)
            if issue is not None:
                await s.refresh(issue)
                await national_issues.recount(s, issue)
                recounted += 1
        audit.record(s, actor_id, "municipality_merged", "municipality", source_id,
                     into=target_id, moved=moved)
        return Merged(moved, recounted)


async def add(db: Database, actor_id: int, district_id: int, typed: str) -> Municipality:
    """A district leader (or staff) adds a municipality to their district's list."""
    name = clean_name(typed)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_municipalities(actor, district_id),
                            policy.Action.MANAGE_MUNICIPALITIES, district_id)
        if await s.get(District, district_id) is None:
            raise InvalidInput("district")
        wanted = key(name)
        for m in await _usable(s, district_id):
            if wanted in _keys(m):
                raise InvalidState("municipality_exists", name=m.name_ru)
        m = Municipality(code=await _code(s, district_id, name, ""), district_id=district_id,
                         kind=MunicipalityKind.AIYL_AIMAK, active=True,
                         status=MunicipalityStatus.CONFIRMED, name_ky=name, name_ru=name,
                         name_en=name, proposed_by_id=actor_id, created_at=utcnow())
        s.add(m)
        await s.flush()
        audit.record(s, actor_id, "municipality_added", "municipality", m.id,
                     district_id=district_id)
        return m


async def pending(db: Database, actor_id: int, lang: str) -> list[PendingPlace]:
    """The names waiting for this member's decision (their districts; everything for staff)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        rows = (await s.exec(select(Municipality).where(
            Municipality.status == MunicipalityStatus.PENDING).order_by(
            col(Municipality.id)))).all()
        found = []
        for m in rows:
            if not policy.can_manage_municipalities(actor, m.district_id):
                continue
            district = await s.get(District, m.district_id)
            count = len((await s.exec(select(Member.id).where(
                Member.municipality_id == m.id))).all())
            others = [o for o in await _usable(s, m.district_id)
                      if o.status == MunicipalityStatus.CONFIRMED]
            found.append(PendingPlace(m.id or 0, m.name_ru, m.district_id,
                                      district.name(lang) if district else "", count,
                                      _rank(m.name_ru, others, lang, SUGGEST_LIMIT)))
    return found


async def pending_one(db: Database, actor_id: int, municipality_id: int,
                      lang: str) -> PendingPlace | None:
    for p in await pending(db, actor_id, lang):
        if p.id == municipality_id:
            return p
    return None


async def merge_targets(db: Database, actor_id: int, municipality_id: int,
                        lang: str) -> list[Suggestion]:
    """Every confirmed municipality of the district that a name can be merged into, the
    closest first."""
    async with db.read() as s:
        _actor, m = await _managed(db, s, actor_id, municipality_id)
        others = [o for o in await _usable(s, m.district_id)
                  if o.status == MunicipalityStatus.CONFIRMED and o.id != m.id]
    close = _rank(m.name_ru, others, lang, len(others))
    rest = [Suggestion(o.id or 0, o.name(lang), False, 0.0) for o in others
            if o.id not in {c.id for c in close}]
    return close + sorted(rest, key=lambda x: x.name)


async def name_of(db: Database, municipality_id: int, lang: str) -> str | None:
    async with db.read() as s:
        m = await s.get(Municipality, municipality_id)
    return m.name(lang) if m else None
