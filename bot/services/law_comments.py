"""Comments on a draft law, whole: grouped by district or by article (or topic), paged for the
chat without cutting a comment or its HTML, and exported as DOCX and XLSX.

Services use no gettext: the caller passes the words (`Words`) in the staff member's language.
"""

from __future__ import annotations

import html
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from bot.i18n import numeric_date
from bot.services.broadcasts import _viewable
from storage.db import Database
from storage.enums import ResponseKind
from storage.models import BroadcastResponse, District, Member, Municipality, Region

PAGE_LIMIT = 3800  # characters of one chat page (Telegram: 4,096 after entities are parsed)
GROUPINGS = ("district", "article")
_ARTICLE = re.compile(
    r"(?:\bст\.?|\bстать[яиеюй]\w*|\bберене\w*|\barticle|\bart\.)\s*(\d{1,3})", re.IGNORECASE)


@dataclass(frozen=True)
class Words:
    """The words of the pages and files, in the reader's language."""

    language: str
    general: str  # the group of comments naming no article
    article: str  # "Article {number}"
    continued: str  # "(continued)"
    no_district: str
    columns: tuple[str, str, str, str, str, str]  # district, region, article, member, place, text
    title: str  # "Comments on {title}"


@dataclass(frozen=True)
class LawComment:
    member_name: str
    place: str
    district: str
    region: str
    article: str
    text: str
    at: datetime


def article_of(text: str) -> int | None:
    """The article a comment names first ("ст. 5", "статья 12", "5-берене", "article 3")."""
    found = _ARTICLE.search(text)
    if found:
        return int(found.group(1))
    back = re.search(r"(\d{1,3})\s*-?\s*берене", text, re.IGNORECASE)
    return int(back.group(1)) if back else None


async def all_comments(db: Database, actor_id: int, broadcast_id: int,
                       words: Words) -> tuple[str, list[LawComment]]:
    """Every comment on the draft law (staff and its author), oldest first, with its title."""
    lang = words.language
    async with db.read() as s:
        broadcast = await _viewable(db, s, actor_id, broadcast_id)
        rows = (await s.exec(
            select(BroadcastResponse, Member, District, Municipality)
            .join(Member, col(Member.id) == BroadcastResponse.member_id)
            .join(District, col(District.id) == Member.district_id, isouter=True)
            .join(Municipality, col(Municipality.id) == Member.municipality_id, isouter=True)
            .where(BroadcastResponse.broadcast_id == broadcast_id,
                   BroadcastResponse.kind == ResponseKind.COMMENT)
            .order_by(col(BroadcastResponse.created_at), col(BroadcastResponse.id)))).all()
        regions = {r.id: r for r in (await s.exec(select(Region))).all()}
    found = []
    for response, member, district, municipality in rows:
        region = regions.get(member.region_id)
        number = article_of(response.text or "")
        found.append(LawComment(
            member_name=member.full_name,
            place=municipality.name(lang) if municipality else (member.municipality_other or ""),
            district=district.name(lang) if district else words.no_district,
            region=region.name(lang) if region else "",
            article=words.article.format(number=number) if number else words.general,
            text=response.text or "", at=response.created_at))
    return broadcast.title, found


def grouped(comments: list[LawComment], by: str) -> dict[str, list[LawComment]]:
    groups: dict[str, list[LawComment]] = defaultdict(list)
    for c in comments:
        groups[c.district if by == "district" else c.article].append(c)
    if by == "article":
        def key(name: str) -> tuple[int, str]:
            digits = re.search(r"\d+", name)
            return (int(digits.group()) if digits else 10**6, name)
        return {k: groups[k] for k in sorted(groups, key=key)}
    return dict(sorted(groups.items()))


def _pieces(prefix: str, text: str, limit: int) -> list[str]:
    """One comment as entries of at most `limit` characters: the text is split (between
    characters, before escaping) only when it alone is longer than a page."""
    whole = prefix + html.escape(text)
    if len(whole) <= limit:
        return [whole]
    found, chunk = [], ""
    for char in text:
        if len(prefix) + len(html.escape(chunk + char)) > limit:
            found.append(prefix + html.escape(chunk))
            chunk = ""
        chunk += char
    return [*found, prefix + html.escape(chunk)]


def pages(groups: dict[str, list[LawComment]], by: str, words: Words,
          limit: int = PAGE_LIMIT) -> list[str]:
    """The groups as chat pages of at most `limit` characters of HTML. A page ends only between
    two comments (each escaped whole), and a group going on to the next page repeats its header
    marked "continued": nothing is cut, no tag is left open."""
    result: list[str] = []
    page: list[str] = []
    size = 0
    for name, comments in groups.items():
        header = f"<b>{html.escape(name)}</b> ({len(comments)})"
        again = f"{header} {html.escape(words.continued)}"
        for i, c in enumerate(comments):
            other = c.article if by == "district" else c.district
            prefix = (f"— <i>{html.escape(c.member_name)}</i>"
                      f"{', ' + html.escape(c.place) if c.place else ''}"
                      f" [{html.escape(other)}]: ")
            for n, entry in enumerate(_pieces(prefix, c.text, limit - len(again) - 2)):
                opening = i == 0 and n == 0
                need = len(entry) + 1 + (len(header) + 2 if opening else 0)
                if page and size + need > limit:
                    result.append("\n".join(page).strip("\n"))
                    page, size = [], 0
                if opening:
                    if page:
                        page.append("")
                    page.append(header)
                elif not page:
                    page.append(again)
                size += len(page[-1]) + 1
                page.append(entry)
                size += len(entry) + 1
    if page:
        result.append("\n".join(page).strip("\n"))
    return result or [""]


def comments_docx(title: str, groups: dict[str, list[LawComment]], by: str,
                  words: Words) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Times New Roman"
    doc.styles["Normal"].font.size = Pt(12)
    doc.add_heading(words.title.format(title=title), level=1)
    for name, comments in groups.items():
        doc.add_heading(f"{name} ({len(comments)})", level=2)
        for c in comments:
            other = c.article if by == "district" else c.district
            para = doc.add_paragraph()
            para.add_run(f"{c.member_name}{', ' + c.place if c.place else ''} [{other}], "
                         f"{numeric_date(c.at)}: ").bold = True
            para.add_run(c.text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def comments_xlsx(title: str, comments: list[LawComment], words: Words) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "comments"
    sheet.append([*words.columns, "date"])
    for c in sorted(comments, key=lambda c: (c.district, c.at)):
        sheet.append([c.district, c.region, c.article, c.member_name, c.place, c.text,
                      numeric_date(c.at)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
