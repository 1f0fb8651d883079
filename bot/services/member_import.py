"""Members from the Union's spreadsheet: `birge members import FILE.csv` and `members export`.

Columns (header row, any case, extra columns ignored; `,`, `;` or tab; UTF-8 or cp1251):
full_name, telegram, position, district, municipality, communities, leads, roles, language.
Names may be codes or labels in ky/ru/en. Rows are all checked first; with a bad row nothing is
written unless `skip_bad`. People are matched by Telegram id, else username, so a second import
changes nothing; blank optional cells keep what a member has, and roles are only ever added.
New people become INVITED and are approved at once when they open the bot.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import LANGUAGES
from bot.services import audit
from bot.services.errors import InvalidInput
from bot.services.members import NAME_MAX, clean_name
from storage.db import Database
from storage.enums import (
    MUNICIPAL_POSITIONS,
    POSITION_COMMUNITY,
    MemberStatus,
    Position,
    RegionKind,
    Role,
)
from storage.models import (
    Community,
    CommunityMembership,
    District,
    Member,
    Municipality,
    Region,
    RoleAssignment,
)

COLUMNS = ("full_name", "telegram", "position", "district", "municipality", "communities",
           "leads", "roles", "language")
REQUIRED_COLUMNS = ("full_name", "telegram", "position", "district")
DEFAULT_LANGUAGE = "ru"
IMPORTABLE_ROLES = (Role.MODERATOR, Role.EXPERT, Role.UNION_STAFF, Role.STATE_LIAISON,
                    Role.PARTNER)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    """A bad row: its line in the file (the header is line 1) and what is wrong, in English."""

    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


# --- matching words --------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-‐‑–—_.,'’`\"«»()/\\]+")


def _key(text: str) -> str:
    """Fold a name for matching: case, ё/е, hyphens, dots, quotes and spacing do not count."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return _SEPARATORS.sub(" ", folded).strip()


def _without(key: str, words: Iterable[str]) -> str:
    """`key` without the (already folded) words, e.g. "leylek district" -> "leylek"."""
    tokens = key.split()
    for word in sorted(words, key=len, reverse=True):
        parts = word.split()
        i = 0
        while i + len(parts) <= len(tokens):
            if tokens[i : i + len(parts)] == parts and len(tokens) > len(parts):
                del tokens[i : i + len(parts)]
            else:
                i += 1
    return " ".join(tokens)


_DISTRICT_WORDS = ("район", "району", "районы", "р н", "district", "rayon", "raion")
_PLACE_WORDS = ("айыл аймагы", "айылный аймак", "аильный аймак", "aiyl aimak", "а а", "аа",
                "айыл окмоту", "айыл өкмөтү", "ао", "город", "г", "шаары", "town", "city")

_POSITION_ALIASES: dict[Position, tuple[str, ...]] = {
    Position.HEAD_AO: (
        "head of aiyl okmotu", "head of ao", "head", "mayor", "глава ао", "глава айыл окмоту",
        "глава айыл окмоты", "глава аильного округа", "глава айылного аймака", "глава", "мэр",
        "айыл өкмөт башчысы", "айыл өкмөтүнүн башчысы", "ао башчысы", "башчы",
    ),
    Position.FINANCE: (
        "finance officer", "financial officer", "accountant", "финансист", "бухгалтер",
        "специалист по финансам", "финансовый специалист", "финансы адиси", "каржы адиси",
        "финансылык адис", "финансист адис",
    ),
    Position.DEPUTY: (
        "local kenesh deputy", "kenesh deputy", "депутат", "депутат местного кенеша",
        "депутат айылного кенеша", "депутат мк", "депутат ак", "жергиликтүү кеңештин депутаты",
        "айылдык кеңештин депутаты", "депутаты",
    ),
    Position.SECRETARY: (
        "responsible secretary", "ответственный секретарь", "ответсекретарь", "секретарь",
        "жооптуу катчы", "катчы",
    ),
    Position.MUNICIPAL_STAFF: (
        "municipal staff", "other municipal staff", "сотрудник ао", "специалист ао",
        "муниципальный служащий", "муниципалдык кызматкер",
    ),
    Position.STATE_BODY: (
        "state body", "state", "госорган", "государственный орган", "мамлекеттик орган",
    ),
    Position.NGO: ("ngo or donor project", "donor", "нпо", "нко", "ого", "донор", "бөу"),
    Position.EXPERT: ("expert or lawyer", "lawyer", "эксперт", "юрист"),
}

_ROLE_ALIASES: dict[Role, tuple[str, ...]] = {
    Role.MODERATOR: ("модератор",),
    Role.EXPERT: ("lawyer", "эксперт", "юрист"),
    Role.UNION_STAFF: ("staff", "сотрудник союза", "союз"),
    Role.STATE_LIAISON: ("state body liaison", "liaison"),
    Role.PARTNER: ("партнер", "өнөктөш"),
}

_LANGUAGE_ALIASES = {
    "ky": "ky", "kg": "ky", "kyrgyz": "ky", "кыргызча": "ky", "кыргыз": "ky", "кыргызский": "ky",
    "ru": "ru", "russian": "ru", "русский": "ru", "орусча": "ru",
    "en": "en", "english": "en", "английский": "en", "англисче": "en",
}


class _Index:
    """Folded names -> a value; a name shared by two different values matches nothing."""

    def __init__(self) -> None:
        self._found: dict[str, object] = {}
        self._ambiguous: set[str] = set()

    def add(self, name: str, value: object, strip: Iterable[str] = ()) -> None:
        for key in {_key(name), _without(_key(name), [_key(w) for w in strip])}:
            if not key or key in self._ambiguous:
                continue
            if key in self._found and self._found[key] != value:
                del self._found[key]
                self._ambiguous.add(key)
            else:
                self._found[key] = value

    def get(self, name: str, strip: Iterable[str] = ()) -> object | None:
        key = _key(name)
        if key in self._found:
            return self._found[key]
        return self._found.get(_without(key, [_key(w) for w in strip]))


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


_TELEGRAM_LINK = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/", re.IGNORECASE)
_USERNAME = re.compile(r"[a-z][a-z0-9_]{3,31}")
_NUMERIC_ID = re.compile(r"[0-9]{1,19}")


def parse_telegram(value: str) -> tuple[int | None, str | None] | None:
    """`(telegram_id, None)`, `(None, username)` (lowercased, no @), or None when malformed."""
    text = _TELEGRAM_LINK.sub("", value.strip()).removeprefix("@").strip()
    if _NUMERIC_ID.fullmatch(text):
        number = int(text)
        return (number, None) if 0 < number < 2**63 else None
    if _USERNAME.fullmatch(text.lower()):
        return None, text.lower()
    return None


# --- reading the file ------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1251 as Excel on Russian Windows saves it."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_HEADER_ALIASES = {
    "name": "full_name", "фио": "full_name", "аты_жөнү": "full_name",
    "telegram_id": "telegram", "username": "telegram", "телеграм": "telegram",
    "должность": "position", "кызматы": "position",
    "район": "district", "municipality_code": "municipality", "муниципалитет": "municipality",
    "айыл_аймак": "municipality", "сообщества": "communities", "язык": "language",
    "тил": "language",
}


def _column(name: str) -> str:
    column = re.sub(r"[\s\-]+", "_", name.strip().strip("\ufeff").strip().casefold())
    return _HEADER_ALIASES.get(column, column)


@dataclass(frozen=True)
class _Line:
    line: int
    cells: dict[str, str]


def read_rows(text: str) -> tuple[list[str], list[_Line]]:
    """The header's column names and the non-empty rows, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header: list[str] | None = None
    rows: list[_Line] = []
    start = 1
    for cells in reader:
        if header is None:
            header = [_column(c) for c in cells]
        elif any(c.strip() for c in cells):
            row = {}
            for name, value in zip(header, cells, strict=False):
                if name and name not in row:
                    row[name] = value.strip()
            rows.append(_Line(start, row))
        start = reader.line_num + 1
    return header or [], rows


# --- checking rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    region_id: int
    district_id: int | None  # None for a city of republican significance
    code: str


@dataclass
class _Reference:
    places: _Index
    positions: _Index
    communities: _Index
    roles: _Index
    municipalities: dict[int, _Index]  # by district id
    community_code: dict[int, str]
    district_code: dict[int, str]


async def _reference(s: AsyncSession) -> _Reference:
    places, positions, communities, roles = _Index(), _Index(), _Index(), _Index()
    municipalities: dict[int, _Index] = defaultdict(_Index)
    district_rows = (await s.exec(select(District))).all()
    for d in district_rows:
        assert d.id is not None
        place = _Place(d.region_id, d.id, d.code)
        for name in (d.code, d.name_ky, d.name_ru, d.name_en):
            places.add(name, place, _DISTRICT_WORDS)
    for r in (await s.exec(select(Region).where(Region.kind == RegionKind.CITY))).all():
        assert r.id is not None
        city = _Place(r.id, None, r.code)
        for name in (r.code, r.name_ky, r.name_ru, r.name_en):
            places.add(name, city, _PLACE_WORDS)
    for m in (await s.exec(select(Municipality))).all():
        for name in (m.code, m.name_ky, m.name_ru, m.name_en):
            municipalities[m.district_id].add(name, m.id, _PLACE_WORDS)
    community_ids: dict[str, int] = {}
    for c in (await s.exec(select(Community))).all():
        assert c.id is not None
        community_ids[c.code] = c.id
        for name in (c.code, c.name_ky, c.name_ru, c.name_en):
            communities.add(name, c.id, _PLACE_WORDS)  # "Главы айыл окмоту" is "Главы АО"
    for position in Position:
        for name in (position.value, *_POSITION_ALIASES.get(position, ())):
            positions.add(name, position)
            default = POSITION_COMMUNITY.get(position)
            if default is not None and default in community_ids:
                communities.add(name, community_ids[default])
    for role in IMPORTABLE_ROLES:
        for name in (role.value, *_ROLE_ALIASES.get(role, ())):
            roles.add(name, role)
    return _Reference(
        places=places,
        positions=positions,
        communities=communities,
        roles=roles,
        municipalities=municipalities,
        community_code={v: k for k, v in community_ids.items()},
        district_code={d.id: d.code for d in district_rows if d.id is not None},
    )


@dataclass
class _Row:
    """One row, checked: what the file says (None where a cell is blank)."""

    line: int
    errors: list[str]
    full_name: str = ""
    telegram_id: int | None = None
    username: str | None = None
    position: Position | None = None
    place: _Place | None = None
    municipality: str = ""
    community_ids: set[int] | None = None
    lead_ids: set[int] = field(default_factory=set)
    roles: set[Role] = field(default_factory=set)
    language: str | None = None
    telegram_text: str = ""


def _parse(line: _Line, ref: _Reference) -> _Row:
    cell = line.cells.get
    row = _Row(line.line, [])
    name = " ".join(unicodedata.normalize("NFC", cell("full_name", "")).split())
    if not name:
        row.errors.append("full_name: missing")
    elif len(name) > NAME_MAX:
        row.errors.append(f"full_name: too long ({len(name)} characters, max {NAME_MAX})")
    row.full_name = name

    telegram = cell("telegram", "")
    row.telegram_text = telegram
    parsed = parse_telegram(telegram) if telegram else None
    if not telegram:
        row.errors.append("telegram: missing (a @username or a numeric Telegram id)")
    elif parsed is None:
        row.errors.append(f"telegram: {telegram!r} is not a @username or a numeric Telegram id")
    else:
        row.telegram_id, row.username = parsed

    position = cell("position", "")
    found = ref.positions.get(position) if position else None
    if not position:
        row.errors.append("position: missing")
    elif not isinstance(found, Position):
        row.errors.append(f"position: unknown position {position!r}")
    else:
        row.position = found

    district = cell("district", "")
    if district:
        place = ref.places.get(district, _DISTRICT_WORDS) or ref.places.get(district, _PLACE_WORDS)
        if isinstance(place, _Place):
            row.place = place
        else:
            row.errors.append(f"district: unknown district {district!r}")

    municipality = cell("municipality", "")
    row.municipality = municipality
    if municipality and row.place is not None:
        found_m = (
            ref.municipalities[row.place.district_id].get(municipality, _PLACE_WORDS)
            if row.place.district_id is not None
            else None
        )
        if found_m is None:
            row.errors.append(f"municipality: {municipality!r} is not in district {district!r}")
    elif municipality and not district:
        row.errors.append(f"municipality: {municipality!r} given without a district")

    communities = cell("communities", "")
    if communities:
        row.community_ids = set()
        for part in _split_list(communities):
            cid = ref.communities.get(part, _PLACE_WORDS)
            if isinstance(cid, int):
                row.community_ids.add(cid)
            else:
                row.errors.append(f"communities: unknown community {part!r}")

    for part in _split_list(cell("leads", "")):
        cid = ref.communities.get(part, _PLACE_WORDS)
        if isinstance(cid, int):
            row.lead_ids.add(cid)
        else:
            row.errors.append(f"leads: unknown community {part!r}")

    for part in _split_list(cell("roles", "")):
        role = ref.roles.get(part)
        if isinstance(role, Role):
            row.roles.add(role)
        else:
            allowed = ", ".join(r.value for r in IMPORTABLE_ROLES)
            row.errors.append(f"roles: unknown role {part!r} (expected {allowed})")

    language = cell("language", "")
    if language:
        code = _LANGUAGE_ALIASES.get(_key(language))
        if code in LANGUAGES:
            row.language = code
        else:
            row.errors.append(f"language: {language!r} is not ky, ru or en")
    return row


@dataclass
class _Plan:
    """What a good row will make of the member: the full target state."""

    row: _Row
    member: Member | None
    full_name: str
    position: Position
    region_id: int | None
    district_id: int | None
    municipality_id: int | None
    municipality_other: str | None
    language: str
    status: MemberStatus
    community_ids: set[int]
    new_roles: list[tuple[Role, int | None, int | None]]  # (role, community, district) to add
    claims: set[tuple[int, int]]  # (community, district) this row leads


@dataclass
class _Existing:
    by_telegram: dict[int, Member]
    by_username: dict[str, Member]
    communities: dict[int, set[int]]
    roles: dict[int, set[tuple[Role, int | None, int | None]]]
    leaders: dict[tuple[int, int], Member]  # (community, district) -> the leader


async def _existing(s: AsyncSession, rows: list[_Row]) -> _Existing:
    ids = {r.telegram_id for r in rows if r.telegram_id is not None}
    names = {r.username for r in rows if r.username is not None}
    found: dict[int, Member] = {}
    by_telegram: dict[int, Member] = {}
    by_username: dict[str, Member] = {}
    if ids:
        for m in (await s.exec(select(Member).where(col(Member.telegram_id).in_(ids)))).all():
            assert m.id is not None and m.telegram_id is not None
            by_telegram[m.telegram_id] = found.setdefault(m.id, m)
    if names:
        query = select(Member).where(col(Member.username).in_(names)).order_by(col(Member.id))
        for m in (await s.exec(query)).all():
            assert m.id is not None and m.username is not None
            by_username.setdefault(m.username, found.setdefault(m.id, m))
    communities: dict[int, set[int]] = defaultdict(set)
    roles: dict[int, set[tuple[Role, int | None, int | None]]] = defaultdict(set)
    if found:
        memberships = select(CommunityMembership).where(
            col(CommunityMembership.member_id).in_(found)
        )
        for cm in (await s.exec(memberships)).all():
            communities[cm.member_id].add(cm.community_id)
        grants = select(RoleAssignment).where(col(RoleAssignment.member_id).in_(found))
        for ra in (await s.exec(grants)).all():
            roles[ra.member_id].add((Role(ra.role), ra.community_id, ra.district_id))
    leaders: dict[tuple[int, int], Member] = {}
    query_leaders = (
        select(RoleAssignment, Member)
        .join(Member, col(Member.id) == RoleAssignment.member_id)
        .where(RoleAssignment.role == Role.DISTRICT_LEADER)
    )
    for ra, m in (await s.exec(query_leaders)).all():
        if ra.community_id is not None and ra.district_id is not None:
            leaders[(ra.community_id, ra.district_id)] = m
    return _Existing(by_telegram, by_username, communities, roles, leaders)


def _match(row: _Row, existing: _Existing) -> Member | None:
    if row.telegram_id is not None:
        return existing.by_telegram.get(row.telegram_id)
    if row.username is not None:
        return existing.by_username.get(row.username)
    return None


def _plan(row: _Row, member: Member | None, existing: _Existing, ref: _Reference) -> _Plan | None:
    """The target state of a row's member, or None (with `row.errors` filled) if impossible."""
    assert row.position is not None
    if member is not None and row.full_name == member.full_name:
        name = row.full_name
    else:
        try:
            name = clean_name(row.full_name)
        except InvalidInput:
            row.errors.append(f"full_name: {row.full_name!r} is not a person's name")
            name = row.full_name

    if row.place is not None:
        region_id: int | None = row.place.region_id
        district_id = row.place.district_id
    elif member is not None:
        region_id, district_id = member.region_id, member.district_id
    else:
        region_id = district_id = None
        if row.position in MUNICIPAL_POSITIONS:
            row.errors.append(f"district: missing (needed for a new {row.position.value})")

    municipality_id: int | None = None
    municipality_other: str | None = None
    if row.municipality and district_id is not None:
        found = ref.municipalities[district_id].get(row.municipality, _PLACE_WORDS)
        municipality_id = found if isinstance(found, int) else None
    elif member is not None and member.district_id == district_id:
        municipality_id, municipality_other = member.municipality_id, member.municipality_other

    claims: set[tuple[int, int]] = set()
    if row.lead_ids:
        if district_id is None:
            row.errors.append("leads: a district leader needs a district")
        else:
            claims = {(cid, district_id) for cid in row.lead_ids}

    if row.community_ids is not None:
        community_ids = set(row.community_ids)
    elif member is not None:
        assert member.id is not None
        community_ids = set(existing.communities.get(member.id, set()))
    else:
        default = POSITION_COMMUNITY.get(row.position)
        community_ids = {
            cid for cid, code in ref.community_code.items() if default and code == default
        }
    community_ids |= row.lead_ids

    if row.errors:
        return None
    held = existing.roles.get(member.id, set()) if member is not None and member.id else set()
    wanted: list[tuple[Role, int | None, int | None]] = [
        (role, None, None) for role in sorted(row.roles)
    ]
    wanted += [(Role.DISTRICT_LEADER, cid, did) for cid, did in sorted(claims)]
    if member is None:
        status, language = MemberStatus.INVITED, row.language or DEFAULT_LANGUAGE
    else:
        status = MemberStatus(member.status)
        if status == MemberStatus.REJECTED:
            status = MemberStatus.INVITED  # the Union vouches for them now
        language = row.language or member.language
    return _Plan(
        row=row,
        member=member,
        full_name=name,
        position=row.position,
        region_id=region_id,
        district_id=district_id,
        municipality_id=municipality_id,
        municipality_other=municipality_other,
        language=language,
        status=status,
        community_ids=community_ids,
        new_roles=[grant for grant in wanted if grant not in held],
        claims=claims,
    )


def _lines(lines: Iterable[int]) -> str:
    ordered = sorted(set(lines))
    return ("line " if len(ordered) == 1 else "lines ") + ", ".join(map(str, ordered))


def _check_people(rows: list[_Row], matched: dict[int, Member | None]) -> None:
    """The same person on two rows (same Telegram value, or both match one member)."""
    people: dict[object, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.telegram_id is None and row.username is None:
            continue
        people[("telegram", row.telegram_id, row.username)].append(row)
        member = matched.get(row.line)
        if member is not None:
            people[("member", member.id)].append(row)
    for same in people.values():
        for row in same:
            others = [r.line for r in same if r is not row]
            reason = f"telegram: {row.telegram_text!r} is the same person as on "
            if others and not any(e.startswith(reason) for e in row.errors):
                row.errors.append(reason + _lines(others))


def _check_leaders(plans: list[_Plan], existing: _Existing, ref: _Reference) -> None:
    """Two rows leading one community in one district, or a leader already in the database."""
    claims: dict[tuple[int, int], list[_Plan]] = defaultdict(list)
    for plan in plans:
        for claim in plan.claims:
            claims[claim].append(plan)
    for (cid, did), claimants in sorted(claims.items()):
        what = f"{ref.community_code[cid]} in {ref.district_code.get(did, did)}"
        holder = existing.leaders.get((cid, did))
        for plan in claimants:
            others = [p.row.line for p in claimants if p is not plan]
            if others:
                plan.row.errors.append(f"leads: {what} is also claimed on {_lines(others)}")
            mine = plan.member.id if plan.member is not None else None
            if holder is not None and holder.id != mine:
                plan.row.errors.append(
                    f"leads: {what} is already led by {holder.full_name} (member #{holder.id})"
                )


# --- writing ---------------------------------------------------------------------------------


def _changed(plan: _Plan, existing: _Existing) -> bool:
    member = plan.member
    assert member is not None and member.id is not None
    return (
        bool(plan.new_roles)
        or member.full_name != plan.full_name
        or member.position != plan.position
        or member.region_id != plan.region_id
        or member.district_id != plan.district_id
        or member.municipality_id != plan.municipality_id
        or member.municipality_other != plan.municipality_other
        or member.language != plan.language
        or member.status != plan.status
        or existing.communities.get(member.id, set()) != plan.community_ids
    )


async def _write(s: AsyncSession, plan: _Plan, existing: _Existing) -> None:
    member = plan.member
    before: set[int] = set()
    if member is None:
        member = Member(telegram_id=plan.row.telegram_id, username=plan.row.username,
                        full_name=plan.full_name, position=plan.position,
                        status=MemberStatus.INVITED)
        s.add(member)
    else:
        assert member.id is not None
        before = existing.communities.get(member.id, set())
    member.full_name = plan.full_name
    member.position = plan.position
    member.region_id = plan.region_id
    member.district_id = plan.district_id
    member.municipality_id = plan.municipality_id
    member.municipality_other = plan.municipality_other
    member.language = plan.language
    member.status = plan.status
    await s.flush()
    assert member.id is not None
    for cid in before - plan.community_ids:
        gone = await s.get(CommunityMembership, (member.id, cid))
        if gone is not None:
            await s.delete(gone)
    for cid in sorted(plan.community_ids - before):
        s.add(CommunityMembership(member_id=member.id, community_id=cid))
    for role, scope_community, scope_district in plan.new_roles:
        s.add(RoleAssignment(member_id=member.id, role=role, community_id=scope_community,
                             district_id=scope_district))
    await s.flush()


async def import_members(
    db: Database, raw: bytes, skip_bad: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Check every row, then write the good ones in one transaction (none if any is bad and not
    `skip_bad`). `progress(done, total)` is called as rows are written."""
    report = ImportReport()
    header, lines = read_rows(decode(raw))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        report.errors.append(RowError(1, f"header: missing column(s) {', '.join(missing)}; "
                                         f"expected {','.join(COLUMNS)}"))
        return report
    total = len(lines)
    async with db.transaction() as s:
        ref = await _reference(s)
        rows = [_parse(line, ref) for line in lines]
        existing = await _existing(s, rows)
        matched = {row.line: _match(row, existing) for row in rows}
        plans: list[_Plan] = []
        for row in rows:
            if not row.errors:
                plan = _plan(row, matched[row.line], existing, ref)
                if plan is not None:
                    plans.append(plan)
        _check_people(rows, matched)
        _check_leaders(plans, existing, ref)
        report.errors = [RowError(r.line, "; ".join(r.errors)) for r in rows if r.errors]
        if report.errors and not skip_bad:
            return report
        good = {id(p.row): p for p in plans if not p.row.errors}
        for done, row in enumerate(rows, start=1):
            plan = good.get(id(row))
            if plan is not None:
                if plan.member is None:
                    report.created += 1
                    await _write(s, plan, existing)
                elif _changed(plan, existing):
                    report.updated += 1
                    await _write(s, plan, existing)
                else:
                    report.unchanged += 1
            if progress is not None:
                progress(done, total)
        audit.record(s, None, "members_import", created=report.created,
                     updated=report.updated, unchanged=report.unchanged,
                     skipped=len(report.errors))
    return report


# --- export ----------------------------------------------------------------------------------


async def export_members(db: Database) -> str:
    """Every member but the rejected ones, as CSV in the import format (codes, not names)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    async with db.read() as s:
        regions = {r.id: r for r in (await s.exec(select(Region))).all()}
        districts = {d.id: d.code for d in (await s.exec(select(District))).all()}
        municipalities = {m.id: m.code for m in (await s.exec(select(Municipality))).all()}
        community_rows = (await s.exec(select(Community).order_by(col(Community.sort)))).all()
        order = {c.id: (c.sort, c.code) for c in community_rows}
        codes = {c.id: c.code for c in community_rows}
        joined: dict[int, list[int]] = defaultdict(list)
        for cm in (await s.exec(select(CommunityMembership))).all():
            joined[cm.member_id].append(cm.community_id)
        grants: dict[int, list[RoleAssignment]] = defaultdict(list)
        for ra in (await s.exec(select(RoleAssignment))).all():
            grants[ra.member_id].append(ra)
        members = (
            await s.exec(
                select(Member)
                .where(Member.status != MemberStatus.REJECTED)
                .order_by(col(Member.id))
            )
        ).all()
    for m in members:
        assert m.id is not None
        if m.telegram_id is not None:
            telegram = str(m.telegram_id)
        else:
            telegram = f"@{m.username}" if m.username else ""
        if m.district_id is not None:
            place = districts.get(m.district_id, "")
        else:
            region = regions.get(m.region_id) if m.region_id is not None else None
            place = region.code if region is not None and region.kind == RegionKind.CITY else ""
        mine = grants.get(m.id, [])
        leads = sorted(
            (g.community_id for g in mine
             if g.role == Role.DISTRICT_LEADER and g.district_id == m.district_id
             and g.community_id is not None),
            key=lambda cid: order.get(cid, (0, "")),
        )
        roles = sorted({g.role for g in mine if g.role in IMPORTABLE_ROLES
                        and g.community_id is None and g.district_id is None})
        communities = sorted(joined.get(m.id, []), key=lambda cid: order.get(cid, (0, "")))
        writer.writerow([
            m.full_name,
            telegram,
            m.position,
            place,
            municipalities.get(m.municipality_id, "") if m.municipality_id is not None else "",
            ";".join([codes[c] for c in communities if c in codes]),
            ";".join([codes[c] for c in leads if c in codes]),
            ";".join(roles),
            m.language,
        ])
    return out.getvalue()
