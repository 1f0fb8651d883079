"""Bulk import of legal acts, templates and methods into the library (`birge library import
FILE.xlsx --files DIR`), for Union staff.

The first sheet's first row names the columns (any order, case ignored):

    kind, group, title_ky, title_ru, title_en, text_ky, text_ru, text_en,
    number, date, act_kind, issuer, status, link, file

`kind` is legal_act, template or method; `group` a topic group's code (budget, land, legal …,
community-finance); `date` a date cell or 25.11.2026; `status` in_force, amended or repealed;
`file` a file name inside DIR (several separated by ";"). Every row is checked before anything is
written; a file with bad rows imports nothing unless `skip_bad`, and each bad row is reported with
its line number. Importing the same file again changes nothing (rows are matched by a legal act's
number, or by kind, group and Russian title); a changed row updates its item, keeping the earlier
version. Files are kept in the database (`LibraryBlob`, by their SHA-256), so every replica can
send them; a DOCX, XLSX or PDF that does not open is refused.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.services import audit, files, library, search
from bot.services.errors import InvalidInput, ServiceError
from bot.services.library import ItemDraft
from storage.db import Database
from storage.enums import ItemKind, ItemStatus, Role
from storage.models import LibraryBlob, LibraryItem, LibraryRevision, RoleAssignment, TopicGroup
from storage.types import utcnow

KINDS = (ItemKind.LEGAL_ACT.value, ItemKind.TEMPLATE.value, ItemKind.METHOD.value)
COLUMNS = ("kind", "group", "title_ky", "title_ru", "title_en", "text_ky", "text_ru", "text_en",
           "number", "date", "act_kind", "issuer", "status", "link", "file")
ZIPPED = ("docx", "xlsx", "odt", "ods")


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    key: str
    draft: ItemDraft
    blobs: list[tuple[str, str, bytes]]  # (sha256, name, content)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return library.parse_date(_cell(value))


def _opens(name: str, content: bytes) -> bool:
    """A document that its program can open: a ZIP container for DOCX/XLSX/ODT, "%PDF"."""
    extension = name.rsplit(".", 1)[-1].lower()
    if extension in ZIPPED:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return archive.testzip() is None
        except zipfile.BadZipFile:
            return False
    if extension == "pdf":
        return content.startswith(b"%PDF")
    return bool(content)


def _reason(exc: ServiceError) -> str:
    p = exc.params
    return {
        "library_title": f"the title must be {library.TITLE_MIN} to {library.TITLE_MAX} "
                         "characters",
        "library_text": f"a text is empty or longer than {library.TEXT_MAX} characters",
        "library_missing": "a required column is empty (title in Kyrgyz or Russian; a legal "
                           "act's issuer, number and date; a template's or method's text)",
        "library_number": "the number is empty or too long",
        "library_date": "the date is not a date such as 25.11.2026",
        "library_date_future": "the date is in the future",
        "library_link": "the link must start with https://",
        "library_act_status": "status must be in_force, amended or repealed",
        "file_size": f"a file is larger than {p.get('limit', files.MAX_MB)} MB",
        "file_type": f"a file is not one of {files.TYPES}",
        "attachments_count": f"more than {library.FILES_MAX} files",
    }.get(exc.code, exc.code)


def _row(line: int, values: dict[str, str], raw_date: Any, groups: dict[str, int],
         files_dir: Path, today: date) -> _Row:
    kind = values.get("kind", "").lower()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    group_id = groups.get(values.get("group", "").lower())
    if group_id is None:
        raise ValueError(f"no topic group with the code {values.get('group', '')!r}")
    texts: dict[str, dict[str, str]] = {}
    for lang in library.LANGUAGES:
        fields = {"title": values.get(f"title_{lang}", ""), "body": values.get(f"text_{lang}", "")}
        if kind == ItemKind.LEGAL_ACT:
            fields |= {"act_kind": values.get("act_kind", ""), "issuer": values.get("issuer", "")}
        if fields["title"]:
            texts[lang] = {k: v for k, v in fields.items() if v}
    blobs: list[tuple[str, str, bytes]] = []
    attachments = []
    for name in [n.strip() for n in values.get("file", "").split(";") if n.strip()]:
        path = (files_dir / name).resolve()
        if files_dir.resolve() not in path.parents or not path.is_file():
            raise ValueError(f"file {name!r} is not in the files folder")
        content = path.read_bytes()
        clean = files.check_file(path.name, None, len(content))
        if not _opens(clean, content):
            kind_ = clean.rsplit(".", 1)[-1].upper()
            raise ValueError(f"file {name!r} does not open (damaged, or not a {kind_})")
        digest = hashlib.sha256(content).hexdigest()
        blobs.append((digest, clean, content))
        attachments.append({"blob_id": -1, "kind": "document", "name": clean,
                            "size": len(content), "sha256": digest})
    if kind in (ItemKind.TEMPLATE, ItemKind.LEGAL_ACT) and not attachments:
        raise ValueError("a legal act or a template needs its file")
    draft = ItemDraft(kind=kind, group_id=group_id, texts=texts,
                      files=[{**a, "blob_id": 1} for a in attachments],
                      number=values.get("number") or None,
                      adopted_on=_date(raw_date) if values.get("date") else None,
                      act_status=values.get("status") or None, link=values.get("link") or None)
    clean_draft = library.clean_draft(draft, today)
    clean_draft.files = attachments  # blob ids are known once the blobs are written
    if kind == ItemKind.LEGAL_ACT:
        key = f"legal_act:{search.number_key(clean_draft.number or '')}"
    else:
        title = (texts.get("ru") or texts.get("ky") or {}).get("title", "")
        key = f"{kind}:{group_id}:{search.normalize(title)}"[:200]
    return _Row(line, key, clean_draft, blobs)


def read_rows(raw: bytes) -> tuple[list[tuple[int, dict[str, str], Any]], list[RowError]]:
    """(line, values, the raw date cell) of every non-empty row, or the file's own error."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
    except Exception:  # a damaged or non-XLSX file: any of openpyxl's many errors
        return [], [RowError(1, "not an XLSX workbook")]
    rows = sheet.iter_rows(values_only=True)
    header = [(_cell(h)).lower() for h in next(rows, ())]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown or "kind" not in header:
        return [], [RowError(1, f"unknown or missing columns: {', '.join(unknown) or 'kind'}")]
    found = []
    for line, row in enumerate(rows, start=2):
        values = {h: _cell(v) for h, v in zip(header, row, strict=False) if h}
        if not any(values.values()):
            continue
        raw_date = row[header.index("date")] if "date" in header and len(row) > \
            header.index("date") else None
        found.append((line, values, raw_date))
    return found, []


def _same(item: LibraryItem, draft: ItemDraft, blob_ids: list[int]) -> bool:
    return (item.texts == draft.texts and item.group_id == draft.group_id
            and item.number == draft.number and item.adopted_on == draft.adopted_on
            and item.act_status == draft.act_status and item.link == draft.link
            and [f.get("blob_id") for f in item.files] == blob_ids)


async def import_library(db: Database, raw: bytes, files_dir: Path, today: date, *,
                         skip_bad: bool = False,
                         progress: Callable[[int, int], None] | None = None) -> Report:
    """Check every row, then write the good ones in one transaction (none if any is bad and not
    `skip_bad`)."""
    report = Report()
    rows, errors = read_rows(raw)
    report.errors += errors
    async with db.read() as s:
        groups = {str(g.code).lower(): g.id for g in (await s.exec(select(TopicGroup))).all()
                  if g.code and g.id is not None}
        numbers = {k: i for k, i in (await s.exec(select(
            LibraryItem.number_key, LibraryItem.import_key).where(
            col(LibraryItem.number_key).is_not(None)))).all()}
    good: list[_Row] = []
    seen: dict[str, int] = {}
    for done, (line, values, raw_date) in enumerate(rows, start=1):
        try:
            row = _row(line, values, raw_date, groups, files_dir, today)
            if row.key in seen:
                raise ValueError(f"the same item as line {seen[row.key]}")
            number = search.number_key(row.draft.number) if row.draft.number else None
            if number in numbers and numbers[number] != row.key:
                raise ValueError(f"an act with the number {row.draft.number} is already in the "
                                 "library")
            seen[row.key] = line
            good.append(row)
        except InvalidInput as exc:
            report.errors.append(RowError(line, _reason(exc)))
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc)))
        if progress is not None:
            progress(done, len(rows) * 2)
    if report.errors and not skip_bad:
        return report
    await _write(db, good, report, lambda n: progress(len(rows) + n, len(rows) * 2)
                 if progress else None)
    return report


async def _write(db: Database, rows: list[_Row], report: Report,
                 progress: Callable[[int], None]) -> None:
    async with db.transaction() as s:
        author = (await s.exec(select(RoleAssignment.member_id).where(
            RoleAssignment.role == Role.UNION_STAFF).order_by(col(RoleAssignment.id)))).first()
        if author is None:
            raise InvalidInput("no_staff")
        for done, row in enumerate(rows, start=1):
            blob_ids = []
            for digest, name, content in row.blobs:
                blob = (await s.exec(select(LibraryBlob).where(
                    LibraryBlob.sha256 == digest))).first()
                if blob is None:
                    blob = LibraryBlob(sha256=digest, name=name, size=len(content),
                                       content=content)
                    s.add(blob)
                    await s.flush()
                blob_ids.append(int(blob.id or 0))
            draft = row.draft
            draft.files = [{"blob_id": b, "kind": "document", "name": f["name"],
                            "size": f["size"]} for b, f in zip(blob_ids, draft.files,
                                                               strict=True)]
            item = (await s.exec(select(LibraryItem).where(
                LibraryItem.import_key == row.key))).first()
            if item is not None and _same(item, draft, blob_ids):
                report.unchanged += 1
                progress(done)
                continue
            if item is None:
                item = LibraryItem(kind=draft.kind, group_id=draft.group_id, author_id=author,
                                   status=ItemStatus.PUBLISHED, published_at=utcnow(),
                                   import_key=row.key)
                report.created += 1
            else:
                s.add(LibraryRevision(item_id=item.id or 0, editor_id=author,
                                      snapshot={"texts": item.texts, "files": item.files,
                                                "number": item.number}))
                report.updated += 1
            item.texts, item.files, item.group_id = draft.texts, draft.files, draft.group_id
            item.number = draft.number
            item.number_key = search.number_key(draft.number) if draft.number else None
            item.adopted_on, item.act_status, item.link = (draft.adopted_on, draft.act_status,
                                                           draft.link)
            for lang in library.LANGUAGES:
                setattr(item, f"title_{lang}", (draft.texts.get(lang) or {}).get("title", ""))
            item.updated_at = utcnow()
            s.add(item)
            await s.flush()
            await search.reindex_item(s, item.id or 0)
            progress(done)
        audit.record(s, author, "library_imported", "library_item", None,
                     created=report.created, updated=report.updated)
