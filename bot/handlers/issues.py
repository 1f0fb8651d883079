"""National issues in the chat: `/issues` (list with filters, most municipalities first), the
issue card, co-signing with an optional comment, documents, and the staff's triage buttons on
the card (review, add to a dossier, record a response, resolve, merge, decline) and exports.

Thin: every button's id goes to a service, which re-checks who is acting; a refusal is one
short localized sentence.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message

from bot.delivery.attachments import send_attachments
from bot.flows import steps
from bot.flows.ui import Event, notice, show
from bot.i18n import _
from bot.services import dossiers, issue_exports, labels, policy, reference
from bot.services import national_issues as ni
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import (
    PAGE_SIZE,
    Row,
    button,
    grid,
    markup,
    nav_row,
    page_number,
    page_rows,
    short,
)
from bot.views.callbacks import MAX_ID, MAX_PAGE, Dos, Iss, Menu, Nav, parse_id
from bot.views.issues import (
    backing_line,
    card_text,
    export_words,
    state_label,
    topic_label,
)
from bot.views.labels import refusal
from storage.db import Database
from storage.enums import IssueState, IssueTopic

router = Router(name="issues")

FILTER_KEYS = {"s": "state", "b": "body", "r": "region", "t": "topic", "p": "page",
               "o": "order"}


class IssueInput(StatesGroup):
    comment = State()
    reason = State()
    target = State()
    response = State()


# --- the list ---------------------------------------------------------------------------------


def parse_filters(raw: str) -> dict[str, str]:
    """Filters carried in a button ("s=forwarded;b=3;p=1"); anything malformed is dropped."""
    found: dict[str, str] = {}
    for part in raw.split(";"):
        key, _sep, value = part.partition("=")
        if key in FILTER_KEYS and value and len(value) <= 20:
            found[key] = value
    if found.get("s") not in {s.value for s in IssueState}:
        found.pop("s", None)
    if found.get("t") not in {t.value for t in IssueTopic}:
        found.pop("t", None)
    for key in ("b", "r", "p"):
        if key in found and parse_id(found[key], MAX_PAGE if key == "p" else MAX_ID) is None:
            found.pop(key)
    if found.get("o") != "new":
        found.pop("o", None)
    return found


def pack_filters(found: dict[str, str], **changes: str | None) -> str:
    merged = {**found, **changes}
    return ";".join(f"{k}={v}" for k, v in merged.items() if v)


async def show_list(event: Event, db: Database, member: MemberView, raw: str = "") -> None:
    found = parse_filters(raw)
    page = int(found.get("p", "0"))
    listed = await ni.list_issues(db, member.id, ni.Filters(
        state=found.get("s"), body=int(found["b"]) if "b" in found else None,
        region=int(found["r"]) if "r" in found else None, topic=found.get("t"),
        newest="o" in found), page=page)
    applied = []
    if "s" in found:
        applied.append(state_label(found["s"]))
    if "t" in found:
        applied.append(topic_label(found["t"]))
    if "b" in found:
        applied.append(next((p.name for p in await reference.state_bodies(db, member.language)
                             if str(p.id) == found["b"]), "—"))
    if "r" in found:
        applied.append(next((p.name for p in await reference.regions(db, member.language)
                             if str(p.id) == found["r"]), "—"))
    if "o" in found:
        text = _("National issues, newest first ({count}):").format(count=listed.total)
    else:
        text = _("National issues, most municipalities affected first ({count}):").format(
            count=listed.total)
    if applied:
        text += "\n" + _("Filters: {filters}").format(filters=html.escape("; ".join(applied)))
    if not listed.issues:
        text += "\n\n" + _("No issues here yet. /raise raises one.")
    rows: list[Row] = [[button(f"{ni.short_id(i.id)} · {short(i.title, 36)} · "
                               f"🏘{i.municipalities_count}" + (" 🔒" if i.restricted else ""),
                               Iss(action="o", issue_id=i.id or 0))] for i in listed.issues]
    base = pack_filters(found, p=None)
    pages: Row = []
    if page > 0:
        pages.append(button("⬅️", Iss(action="l", value=pack_filters(found, p=str(page - 1)))))
    if (page + 1) * ni.PER_PAGE < listed.total:
        pages.append(button("➡️", Iss(action="l", value=pack_filters(found, p=str(page + 1)))))
    rows.append(pages)
    rows.append([button(_("State"), Iss(action="fs", value=base)),
                 button(_("Topic"), Iss(action="ft", value=base)),
                 button(_("Body"), Iss(action="fb", value=base)),
                 button(_("Region"), Iss(action="fr", value=base))])
    if "o" in found:
        order = button("🏘 " + _("Most municipalities first"),
                       Iss(action="l", value=pack_filters(found, o=None, p=None)))
    else:
        order = button("🕘 " + _("Newest first"),
                       Iss(action="l", value=pack_filters(found, o="new", p=None)))
    last: Row = [order, button("➕ " + _("Raise a problem"), Menu(item="raise"))]
    rows.append(last)
    if found:
        rows.append([button("✖️ " + _("Clear filters"), Iss(action="l"))])
    if policy.Capability.TRIAGE in policy.capabilities(member.roles, member.active):
        rows.append([button("📥 XLSX", Iss(action="xl")), button("📥 CSV", Iss(action="cv")),
                     button("📁 " + _("Dossiers"), Dos(action="l"))])
    await show(event, text, markup(rows))


async def _filter_options(db: Database, member: MemberView, key: str,
                          found: dict[str, str]) -> list[InlineKeyboardButton]:
    options: list[tuple[str, str]]
    if key == "s":
        options = [(s.value, state_label(s)) for s in IssueState]
    elif key == "t":
        options = [(t.value, topic_label(t)) for t in IssueTopic]
    elif key == "b":
        options = [(str(p.id), short(p.name, 50)) for p in
                   await reference.state_bodies(db, member.language)]
    else:
        options = [(str(p.id), p.name) for p in await reference.regions(db, member.language)]
    return [button(("✅ " if found.get(key) == v else "") + label,
                   Iss(action="l", value=pack_filters(found, **{key: v, "p": None})))
            for v, label in options]


@router.message(Command("issues"), F.chat.type == "private")
async def on_issues(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None or not member.active:
        await message.answer(_("You are not allowed to do that."))
        return
    await show_list(message, db, member)


@router.callback_query(Menu.filter(F.item == "issues"))
async def on_issues_button(query: CallbackQuery, db: Database,
                           member: MemberView | None) -> None:
    await query.answer()
    if member is not None and member.active:
        await show_list(query, db, member)


# --- the card and its buttons -----------------------------------------------------------------


async def show_card(event: Event, db: Database, member: MemberView, issue_id: int) -> None:
    c = await ni.card(db, member.id, issue_id, member.language)
    i = c.issue
    assert i.id is not None
    rows: list[Row] = []
    if c.can_cosign:
        rows.append([button("🤝 " + _("Our municipality faces this too"),
                            Iss(action="c", issue_id=i.id))])
    if i.documents:
        rows.append([button("📎 " + _("Documents"), Iss(action="d", issue_id=i.id))])
    if c.staff:
        state = IssueState(i.state)
        staff: list[InlineKeyboardButton] = []
        if state == IssueState.NEW:
            staff.append(button("🔎 " + _("Start review"), Iss(action="rv", issue_id=i.id)))
        if state in (IssueState.NEW, IssueState.UNDER_REVIEW):
            staff += [button("📁 " + _("Add to a dossier"), Iss(action="ds", issue_id=i.id)),
                      button("🔗 " + _("Merge into…"), Iss(action="mg", issue_id=i.id)),
                      button("⛔ " + _("Decline"), Iss(action="dc", issue_id=i.id))]
        if state == IssueState.FORWARDED:
            staff.append(button("📬 " + _("Record the response"),
                                Iss(action="rp", issue_id=i.id)))
        if state in (IssueState.UNDER_REVIEW, IssueState.FORWARDED, IssueState.RESPONDED):
            staff.append(button("✅ " + _("Resolved"), Iss(action="rs", issue_id=i.id)))
        if c.dossier is not None:
            staff.append(button("📁 X-" + str(c.dossier.id),
                                Dos(action="o", dossier_id=c.dossier.id or 0)))
        rows += grid(staff, 2)
    if i.merged_into_id:
        rows.append([button("🔗 " + ni.short_id(i.merged_into_id),
                            Iss(action="o", issue_id=i.merged_into_id))])
    rows.append([button("⬅️ " + _("All issues"), Iss(action="l"))])
    await show(event, card_text(c, member.language), markup(rows))


async def _ask(query: CallbackQuery, state: FSMContext, step: State, issue_id: int,
               prompt: str, skip: bool = False) -> None:
    await state.set_state(step)
    await state.set_data({"issue_id": issue_id})
    rows: list[Row] = []
    if skip:
        rows.append([button(_("Skip") + " ➡️", Nav(action="skip"))])
    rows.append(nav_row(back=False))
    if isinstance(query.message, Message):
        await query.message.answer(prompt, reply_markup=markup(rows))


@router.callback_query(Iss.filter())
async def on_button(query: CallbackQuery, callback_data: Iss, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not member.active:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, issue_id, value = callback_data.action, callback_data.issue_id, callback_data.value
    try:
        await _act(query, state, db, member, action, issue_id, value)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


async def _act(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
               action: str, issue_id: int, value: str) -> None:
    if action == "l":
        await query.answer()
        await show_list(query, db, member, value)
    elif action in ("fs", "ft", "fb", "fr"):
        found = parse_filters(value)
        key = action[1]
        buttons = await _filter_options(db, member, key, found)
        columns = 1 if key == "b" else 2  # state bodies have long names
        if issue_id * PAGE_SIZE * columns >= max(len(buttons), 1):  # `issue_id`: the page
            await query.answer(_("This button is no longer active."))
            return
        await query.answer()
        await show(query, _("Choose a filter:"), markup([
            *page_rows(buttons, issue_id, lambda n: Iss(action=action, issue_id=n, value=value),
                       columns, PAGE_SIZE * columns),
            [button("✖️ " + _("Any"), Iss(action="l", value=pack_filters(found, **{key: None})))]]))
    elif action == "o":
        await show_card(query, db, member, issue_id)
        await query.answer()
    elif action == "c":
        c = await ni.card(db, member.id, issue_id, member.language)
        if c.cosigned:
            await query.answer(refusal(ServiceError("already_cosigned")), show_alert=True)
            return
        if not c.can_cosign:
            await query.answer(refusal(ServiceError(
                "own_issue" if c.is_author else "issue_closed")), show_alert=True)
            return
        await query.answer()
        await _ask(query, state, IssueInput.comment, issue_id,
                   _("Add a comment about your municipality's case (up to {limit} characters), "
                     "or press Skip.").format(limit=ni.COMMENT_MAX), skip=True)
    elif action == "d":
        docs = await ni.documents(db, member.id, issue_id)
        await query.answer()
        if isinstance(query.message, Message) and query.bot is not None:
            await send_attachments(query.bot, query.message.chat.id, docs)
    elif action == "xl" or action == "cv":
        words = export_words(member.language)
        if action == "xl":
            data = await issue_exports.issues_xlsx(db, member.id, words)
            name = "issues.xlsx"
        else:
            data = (await issue_exports.issues_csv(db, member.id, words)).encode("utf-8-sig")
            name = "issues.csv"
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer_document(BufferedInputFile(data, filename=name))
    else:
        await _triage(query, state, db, member, action, issue_id, value)


async def _triage(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                  action: str, issue_id: int, value: str = "") -> None:
    if action == "rv":
        await ni.start_review(db, member.id, issue_id)
    elif action == "rs":
        await ni.resolve(db, member.id, issue_id)
    elif action in ("dc", "mg", "rp"):
        # Check the permission and the state before asking anything.
        await ni.check_triage(db, member.id, issue_id)
        prompts = {
            "dc": (IssueInput.reason, _("Why is it declined? The reason goes to everyone behind "
                                        "the issue (up to {limit} characters).").format(
                                            limit=ni.REASON_MAX)),
            "mg": (IssueInput.target, _("Send the number of the issue to merge it into, for "
                                        "example P-3.")),
            "rp": (IssueInput.response, _("Send the response of the state body (up to {limit} "
                                          "characters).").format(limit=ni.RESPONSE_MAX)),
        }
        step, prompt = prompts[action]
        await query.answer()
        await _ask(query, state, step, issue_id, prompt)
        return
    elif action == "ds":
        c = await ni.card(db, member.id, issue_id, member.language)
        drafts = await dossiers.recent(db, member.id, member.language, drafts_only=True)
        rows = [[button(f"X-{d.dossier.id} · {short(d.body, 40)}",
                        Dos(action="a", dossier_id=d.dossier.id or 0, value=str(issue_id)))]
                for d in drafts]
        bodies = await reference.state_bodies(db, member.language)
        if c.issue.state_body_id:
            bodies = [p for p in bodies if p.id == c.issue.state_body_id] + \
                [p for p in bodies if p.id != c.issue.state_body_id]
        rows += page_rows([button("➕ " + short(p.name, 50),
                                  Dos(action="n", value=f"{p.id}.{issue_id}")) for p in bodies],
                          page_number(value),
                          lambda n: Iss(action="ds", issue_id=issue_id, value=str(n)))
        rows.append([button("⬅️ " + _("Back"), Iss(action="o", issue_id=issue_id))])
        await query.answer()
        await show(query, _("Add {id} to which dossier? Or start a new one for a state body:"
                            ).format(id=ni.short_id(issue_id)), markup(rows))
        return
    else:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(_("Done."))
    await show_card(query, db, member, issue_id)


# --- typed answers: a co-signer's comment, a reason, a merge target, a response ----------


@router.callback_query(Nav.filter(), StateFilter(IssueInput))
async def on_input_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext,
                       db: Database, member: MemberView | None) -> None:
    current = await state.get_state()
    data = await state.get_data()
    await state.clear()
    if (member is not None and callback_data.action == "skip"
            and current == IssueInput.comment.state):
        await _cosign(query, db, member, int(data["issue_id"]), None)
        return
    await query.answer()
    await show(query, _("Cancelled."))


async def _cosign(event: Event, db: Database, member: MemberView, issue_id: int,
                  comment: str | None) -> None:
    try:
        backing = await ni.cosign(db, member.id, issue_id, comment)
    except ServiceError as exc:
        await notice(event, refusal(exc))
        return
    if isinstance(event, CallbackQuery):
        await event.answer()
    await show(event, _("Thank you: your municipality now stands behind {id}.").format(
        id=ni.short_id(issue_id)) + "\n🤝 " + backing_line(backing),
        markup([[button(_("Open the issue"), Iss(action="o", issue_id=issue_id))]]))


@router.message(StateFilter(IssueInput), F.text)
async def on_input(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    current = await state.get_state()
    data: dict[str, Any] = await state.get_data()
    if member is None or message.text is None or "issue_id" not in data:
        await state.clear()
        return
    issue_id = int(data["issue_id"])
    text = message.text
    if current == IssueInput.comment.state:
        if len(text.strip()) > ni.COMMENT_MAX:
            await message.answer(refusal(ServiceError("cosign_comment", limit=ni.COMMENT_MAX)))
            return
        await state.clear()
        await _cosign(message, db, member, issue_id, text)
        return
    try:
        if current == IssueInput.reason.state:
            await ni.decline(db, member.id, issue_id, text)
        elif current == IssueInput.response.state:
            await ni.record_response(db, member.id, issue_id, text)
        elif current == IssueInput.target.state:
            number = labels.parse_label(text, "P")
            target = parse_id(str(number)) if number is not None else None
            if target is None:
                await message.answer(_("Send the number of the issue to merge it into, for "
                                       "example P-3."))
                return
            backing = await ni.merge(db, member.id, issue_id, target)
            await message.answer(_("{id} is merged into {target}.").format(
                id=ni.short_id(issue_id), target=ni.short_id(target))
                + "\n🤝 " + backing_line(backing))
            await state.clear()
            await show_card(message, db, member, target)
            return
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code not in ("reason_length", "response_length", "merge_target"):
            await state.clear()
        return
    await state.clear()
    await show_card(message, db, member, issue_id)


@router.message(StateFilter(IssueInput))
async def on_input_not_text(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))


steps.track(IssueInput)
