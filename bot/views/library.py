"""How the library, the decisions archive and the one search look to a member: labels, cards,
keyboards and their button payloads."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when, language_name, ngettext, pgettext
from bot.services import library
from bot.services.library import ItemCard
from bot.services.library_history import History
from bot.views.buttons import Row, button, markup
from bot.views.callbacks import Actions
from bot.views.digests import day_label, fit
from storage.enums import ActStatus, ItemKind, ItemStatus


class Lib(CallbackData, prefix="lib"):
    """A library item: open, files, useful, adopt, adopters, ask, edit; reviewers' approve /
    return / decline."""

    action: Annotated[str, Actions(
        "adopt", "approve", "ask", "decline", "edit", "files", "open", "return", "useful", "who")]
    item_id: int


class LibList(CallbackData, prefix="libl"):
    """Browsing: `group_id` 0 lists the groups; `kind` "" all kinds; `order` new or used."""

    group_id: int = 0
    kind: Annotated[str, Actions("", "practice", "legal_act", "template", "method",
                                 "partner")] = ""
    order: Annotated[str, Actions("new", "used")] = "new"
    page: int = 0


class LibMenu(CallbackData, prefix="libm"):
    """The library's own screens: propose a practice, add an item, the review queue, mine."""

    item: Annotated[str, Actions("add", "mine", "propose", "queue")]


class LibHist(CallbackData, prefix="libh"):
    """An item's history of changes: a page of it (for its author and reviewers)."""

    item_id: int
    page: int = 0


class Dec(CallbackData, prefix="dec"):
    """The decisions archive: a page of the list (`broadcast_id` 0) or one decision."""

    action: Annotated[str, Actions("list", "open")]
    broadcast_id: int = 0
    page: int = 0


class Srf(CallbackData, prefix="srf"):
    """/search results: a kind filter ("" all), a group filter (0 all; `choose` "group" opens
    the list of groups), the page, and with the library filter a kind of item ("" all)."""

    kind: Annotated[str, Actions("", "question", "library", "decision")] = ""
    group_id: int = 0
    choose: Annotated[str, Actions("", "group")] = ""
    page: int = 0
    item: Annotated[str, Actions("", "practice", "legal_act", "template", "method",
                                 "partner")] = ""


def kind_label(kind: ItemKind | str) -> str:
    labels = {
        ItemKind.PRACTICE: "💡 " + _("Practice"),
        ItemKind.LEGAL_ACT: "📜 " + _("Legal act"),
        ItemKind.TEMPLATE: "📄 " + _("Template"),
        ItemKind.METHOD: "📘 " + _("Method"),
        ItemKind.PARTNER: "🤝 " + _("Partner product"),
    }
    return labels.get(ItemKind(kind), str(kind))


def status_label(status: ItemStatus | str) -> str:
    labels = {
        ItemStatus.REVIEW: "⏳ " + _("waiting for review"),
        ItemStatus.RETURNED: "↩️ " + _("returned for changes"),
        ItemStatus.PUBLISHED: "✅ " + _("published"),
        ItemStatus.DECLINED: "✖️ " + pgettext("library item", "declined"),
    }
    return labels.get(ItemStatus(status), str(status))


def act_status_label(status: str | None) -> str:
    labels = {
        ActStatus.IN_FORCE: _("in force"),
        ActStatus.AMENDED: _("amended"),
        ActStatus.REPEALED: _("repealed"),
    }
    return labels.get(ActStatus(status), str(status)) if status else ""


def field_label(name: str) -> str:
    labels = {
        "problem": _("The problem"),
        "actions": _("What the municipality did"),
        "results": _("Results in numbers"),
        "cost": _("Cost and sources of money"),
        "cautions": _("What to watch out for"),
        "contact": _("Contact"),
        "body": _("Description"),
        "act_kind": _("Kind of act"),
        "issuer": _("Adopted by"),
        "partner": _("Partner organisation"),
    }
    return labels.get(name, name)


def clip(value: str | None, limit: int) -> str:
    flat = " ".join((value or "").split())
    return html.escape(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def item_text(kind: str, texts: Mapping[str, str], *, number: str | None = None,
              adopted_on: date | None = None, act_status: str | None = None,
              link: str | None = None, files: list[dict[str, Any]] | None = None,
              group_name: str = "", head: str = "", limit: int = 700) -> str:
    """An item's text: the card, and the preview before it is sent (the same words)."""
    e = html.escape
    lines = [f"{head}{kind_label(kind)}" + (f" · «{e(group_name)}»" if group_name else ""),
             f"<b>{e(texts.get('title', ''))}</b>"]
    if kind == ItemKind.LEGAL_ACT:
        facts = []
        if number:
            facts.append("№ " + e(number))
        if adopted_on:
            facts.append(adopted_on.strftime("%d.%m.%Y"))
        if act_status:
            facts.append(act_status_label(act_status))
        lines.append(" · ".join(facts))
    for name in library.FIELDS.get(kind, ()):
        if texts.get(name):
            lines += ["", f"<b>{field_label(name)}</b>", clip(texts[name], limit)]
    if link:
        lines += ["", _("Official text: {url}").format(url=e(link))]
    if files:
        lines += ["", "📎 " + ", ".join(e(f["name"]) for f in files)]
    return "\n".join(lines)


def card_text(c: ItemCard, language: str) -> str:
    text = item_text(c.kind, c.texts, number=c.number, adopted_on=c.adopted_on,
                     act_status=c.act_status, link=c.link, files=c.files,
                     group_name=c.group_name, head=f"<b>{library.label(c.id)}</b> · ")
    tail = []
    if c.kind == ItemKind.PRACTICE and c.place:
        tail.append("📍 " + html.escape(c.place))
    if c.author:
        tail.append(_("Author: {name}").format(name=html.escape(c.author)))
    if c.status != ItemStatus.PUBLISHED:
        tail.append(status_label(c.status))
    if c.review_comment and c.status in (ItemStatus.RETURNED, ItemStatus.DECLINED):
        tail.append(_("Reviewer's comment: {comment}").format(
            comment=html.escape(c.review_comment)))
    if c.status == ItemStatus.PUBLISHED:
        tail.append(f"👍 {c.useful} · 🏘 " + _(
            "used by {members} members in {municipalities} municipalities, {districts} "
            "districts").format(members=c.adoptions, municipalities=c.municipalities,
                                districts=c.districts))
    if c.published_at:
        tail.append(_("Published: {when}").format(
            when=day_label(c.published_at, language, year=True)))
    if c.revisions:
        tail.append(ngettext("Edited {count} time; the earlier version is kept.",
                             "Edited {count} times; earlier versions are kept.",
                             c.revisions).format(count=c.revisions))
    return fit(text + "\n\n" + "\n".join(tail))


def card_buttons(c: ItemCard) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    if c.files:
        rows.append([button("📎 " + _("Files"), Lib(action="files", item_id=c.id))])
    if c.status == ItemStatus.PUBLISHED:
        use: Row = []
        if not c.is_author and not c.voted:
            use.append(button("👍 " + _("Useful"), Lib(action="useful", item_id=c.id)))
        if not c.is_author and not c.adopted and c.kind in library.ADOPTABLE:
            use.append(button("🏘 " + _("We use this"), Lib(action="adopt", item_id=c.id)))
        rows.append(use)
        rows.append([button("🗺 " + _("Who uses it"), Lib(action="who", item_id=c.id)),
                     button("❓ " + _("Ask the author"), Lib(action="ask", item_id=c.id))])
    if c.reviews and c.status == ItemStatus.REVIEW:
        rows.append([button("✅ " + _("Approve"), Lib(action="approve", item_id=c.id))])
        rows.append([button("↩️ " + _("Return"), Lib(action="return", item_id=c.id)),
                     button("✖️ " + _("Decline"), Lib(action="decline", item_id=c.id))])
    edit: Row = []
    if c.edits and c.status != ItemStatus.DECLINED:
        edit.append(button("✏️ " + _("Edit"), Lib(action="edit", item_id=c.id)))
    if c.sees_history and c.revisions:
        edit.append(button("🕓 " + _("History"), LibHist(item_id=c.id)))
    rows.append(edit)
    rows.append([button("📚 " + _("Library"), LibList(group_id=c.group_id))])
    return markup(rows)


def fact_label(name: str) -> str:
    labels = {
        "files": _("Files"),
        "number": _("Number"),
        "adopted_on": _("Date adopted"),
        "act_status": _("Status of the act"),
        "link": _("Link to the official text"),
        "group_id": _("Topic group"),
        "hide_contact": _("Whether the author's name is shown"),
    }
    return labels.get(name, name)


def history_text(h: History, language: str) -> str:
    """Who changed what in an item, and when: newest first, a page at a time."""
    e = html.escape
    lines = ["🕓 " + _("History of {label} “{title}”.").format(
        label=library.label(h.item_id), title=clip(h.title, 80))]
    if h.pages > 1:
        lines.append(_("Page {page} of {pages}.").format(page=h.page + 1, pages=h.pages))
    for change in h.changes:
        what = [(field_label(name) if name != "title" else _("Title"))
                + " (" + ", ".join(language_name(lang) for lang in langs) + ")"
                for name, langs in change.parts]
        what += [fact_label(name) for name in change.facts]
        lines += ["", _("{when}, changed by {name}").format(
            when=format_when(change.when, language), name=e(change.editor or "—")),
            "✏️ " + (e("; ".join(what)) if what else _("nothing visible changed."))]
    if h.added is not None:
        lines += ["", _("{when}, added by {name}.").format(
            when=format_when(h.added, language), name=e(h.author or "—"))]
    return fit("\n".join(lines))


def history_buttons(h: History) -> InlineKeyboardMarkup:
    pager: Row = []
    if h.page > 0:
        pager.append(button("⬅️", LibHist(item_id=h.item_id, page=h.page - 1)))
    if h.page + 1 < h.pages:
        pager.append(button("➡️", LibHist(item_id=h.item_id, page=h.page + 1)))
    return markup([pager, [button("⬅️ " + library.label(h.item_id),
                                  Lib(action="open", item_id=h.item_id))]])
