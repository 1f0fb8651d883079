"""Dossiers in the chat (Union staff): `/dossiers`, a dossier's card with its issues, the DOCX
letter (Russian, or Kyrgyz), recording how and when it was sent with its reference number, and
later the state body's response with its documents."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.flows.dates import parse_moment
from bot.flows.ui import Event, notice, show
from bot.i18n import _, format_when, ngettext
from bot.services import dossiers, issue_exports
from bot.services import national_issues as ni
from bot.services.errors import InvalidInput, ServiceError
from bot.services.members import MemberView
from bot.views.buttons import Row, button, markup, nav_row, short
from bot.views.callbacks import Dos, Iss, Nav, parse_id
from bot.views.issues import clip, dossier_status_label, export_words, fit
from bot.views.labels import refusal
from storage.db import Database
from storage.enums import DossierStatus

router = Router(name="dossiers")

VIA = ("letter", "email", "hand", "edo")


def via_label(code: str) -> str:
    return {
        "letter": _("official letter by post"),
        "email": _("e-mail"),
        "hand": _("delivered by hand"),
        "edo": _("electronic document system"),
    }.get(code, code)


class DossierInput(StatesGroup):
    reference = State()
    sent_on = State()
    response = State()
    documents = State()


async def show_dossier(event: Event, db: Database, member: MemberView, dossier_id: int) -> None:
    v = await dossiers.view(db, member.id, dossier_id, member.language)
    d = v.dossier
    assert d.id is not None
    e = html.escape
    lines = [f"<b>X-{d.id} · {e(v.body)}</b>",
             _("State: {state}").format(state=dossier_status_label(d.status)),
             ngettext("{count} issue", "{count} issues", len(v.issues)).format(
                 count=len(v.issues))]
    if d.sent_at:
        lines.append(_("Sent on {when} ({via}), reference number {number}.").format(
            when=format_when(d.sent_at, member.language), via=e(d.sent_via or "—"),
            number=e(d.reference_number or "—")))
    if d.response_text:
        lines += ["", "<b>" + _("Response of the state body") + "</b>",
                  clip(d.response_text, 1500)]
    lines.append("")
    lines += [f"{ni.short_id(i.id)} · {e(i.title)} · 🏘{i.municipalities_count}"
              for i in v.issues]
    rows: list[Row] = [[button(ni.short_id(i.id), Iss(action="o", issue_id=i.id or 0))
                        for i in v.issues[j:j + 4]] for j in range(0, len(v.issues), 4)]
    rows.append([button("📄 " + _("Letter (Russian)"), Dos(action="w", dossier_id=d.id,
                                                          value="ru")),
                 button("📄 " + _("Letter (Kyrgyz)"), Dos(action="w", dossier_id=d.id,
                                                         value="ky"))])
    if d.status == DossierStatus.DRAFT and v.issues:
        rows.append([button("✉️ " + _("Record sending"), Dos(action="s", dossier_id=d.id))])
    if d.status == DossierStatus.SENT:
        rows.append([button("📬 " + _("Record the response"),
                            Dos(action="r", dossier_id=d.id))])
    rows.append([button("⬅️ " + _("Dossiers"), Dos(action="l"))])
    await show(event, fit(lines), markup(rows))


async def show_dossiers(event: Event, db: Database, member: MemberView) -> None:
    found = await dossiers.recent(db, member.id, member.language)
    if not found:
        await show(event, _("No dossiers yet. Open an issue and press “Add to a dossier”."),
                   markup([[button(_("All issues"), Iss(action="l"))]]))
        return
    rows = [[button(f"X-{v.dossier.id} · {short(v.body, 30)} · "
                    f"{dossier_status_label(v.dossier.status)} · {len(v.issues)}",
                    Dos(action="o", dossier_id=v.dossier.id or 0))] for v in found]
    await show(event, _("Dossiers, newest first:"), markup(rows))


@router.message(Command("dossiers"), F.chat.type == "private")
async def on_dossiers(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        await show_dossiers(message, db, member)
    except ServiceError as exc:
        await message.answer(refusal(exc))


@router.callback_query(Dos.filter())
async def on_button(query: CallbackQuery, callback_data: Dos, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    try:
        await _act(query, state, db, member, callback_data)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


async def _act(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
               data: Dos) -> None:
    action, dossier_id, value = data.action, data.dossier_id, data.value
    if action == "l":
        await show_dossiers(query, db, member)
    elif action == "o":
        await show_dossier(query, db, member, dossier_id)
    elif action == "n":
        body_text, _sep, issue_text = value.partition(".")
        body, issue = parse_id(body_text), parse_id(issue_text)
        if body is None or issue is None:
            await query.answer(_("This button is no longer active."))
            return
        created = await dossiers.create_dossier(db, member.id, body, [issue])
        assert created.id is not None
        await show_dossier(query, db, member, created.id)
    elif action == "a":
        issue = parse_id(value)
        if issue is None:
            await query.answer(_("This button is no longer active."))
            return
        await dossiers.add_to_dossier(db, member.id, dossier_id, issue)
        await show_dossier(query, db, member, dossier_id)
    elif action == "w":
        lang = value if value in ("ru", "ky") else "ru"
        content = await issue_exports.dossier_docx(db, member.id, dossier_id,
                                                   export_words(lang))
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer_document(BufferedInputFile(
                content, filename=f"dossier-X{dossier_id}-{lang}.docx"))
        return
    elif action == "s":
        await dossiers.view(db, member.id, dossier_id, member.language)  # may they?
        rows = [[button(via_label(v), Dos(action="sv", dossier_id=dossier_id, value=v))]
                for v in VIA]
        await show(query, _("How was the dossier sent?"),
                   markup([*rows, [button("⬅️ " + _("Back"),
                                          Dos(action="o", dossier_id=dossier_id))]]))
    elif action == "sv":
        await dossiers.view(db, member.id, dossier_id, member.language)
        if value not in VIA:
            await query.answer(_("That choice is not available. Please try again."))
            return
        await state.set_state(DossierInput.reference)
        await state.set_data({"dossier_id": dossier_id, "via": via_label(value)})
        await show(query, _("Send its outgoing reference number."),
                   markup([nav_row(back=False)]))
    elif action == "r":
        await dossiers.view(db, member.id, dossier_id, member.language)
        await state.set_state(DossierInput.response)
        await state.set_data({"dossier_id": dossier_id, "documents": []})
        await show(query, _("Send the text of the state body's response (up to {limit} "
                            "characters).").format(limit=ni.RESPONSE_MAX),
                   markup([nav_row(back=False)]))
    else:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()


@router.callback_query(Nav.filter(), StateFilter(DossierInput))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if (member is not None and callback_data.action == "skip"
            and current == DossierInput.documents.state):
        await _save_response(query, state, db, member, data)
        return
    if (member is not None and callback_data.action == "skip"
            and current == DossierInput.sent_on.state):
        await query.answer()
        await _save_sent(query, state, db, member, data, None)
        return
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


async def _save_sent(event: Event, state: FSMContext, db: Database, member: MemberView,
                     data: dict[str, Any], sent_at: datetime | None) -> None:
    dossier_id = int(data["dossier_id"])
    try:
        await dossiers.record_sent(db, member.id, dossier_id, data["via"], data["reference"],
                                   sent_at)
    except ServiceError as exc:
        if exc.code != "dossier_date":
            await state.clear()
        await notice(event, refusal(exc))
        return
    await state.clear()
    await show_dossier(event, db, member, dossier_id)


async def _save_response(event: Event, state: FSMContext, db: Database, member: MemberView,
                         data: dict[str, Any]) -> None:
    dossier_id = int(data["dossier_id"])
    try:
        await dossiers.record_dossier_response(db, member.id, dossier_id, data["text"],
                                               list(data.get("documents", [])))
    except ServiceError as exc:
        await state.clear()
        if isinstance(event, CallbackQuery):
            await event.answer(refusal(exc), show_alert=True)
        else:
            await event.answer(refusal(exc))
        return
    await state.clear()
    if isinstance(event, CallbackQuery):
        await event.answer(_("Done."))
    await show_dossier(event, db, member, dossier_id)


@router.message(StateFilter(DossierInput), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if member is None or message.text is None or "dossier_id" not in data:
        await state.clear()
        return
    if current == DossierInput.reference.state:
        reference = " ".join(message.text.split())
        if not 1 <= len(reference) <= dossiers.REFERENCE_MAX:
            await message.answer(refusal(InvalidInput("dossier_reference",
                                                      limit=dossiers.REFERENCE_MAX)))
            return
        data["reference"] = reference
        await state.set_state(DossierInput.sent_on)
        await state.set_data(data)
        await message.answer(
            _("When was it sent? Send the date, for example 25.11.2026, or press Today."),
            reply_markup=markup([[button(_("Today") + " ➡️", Nav(action="skip"))],
                                 nav_row(back=False)]))
    elif current == DossierInput.sent_on.state:
        moment = parse_moment(message.text, end_of_day=False)
        if moment is None:
            await message.answer(refusal(InvalidInput("dossier_date")))
            return
        await _save_sent(message, state, db, member, data, moment)
    elif current == DossierInput.response.state:
        text = message.text.strip()
        if not ni.RESPONSE_MIN <= len(text) <= ni.RESPONSE_MAX:
            await message.answer(refusal(InvalidInput("response_length",
                                                      limit=ni.RESPONSE_MAX)))
            return
        data["text"] = text
        await state.set_state(DossierInput.documents)
        await state.set_data(data)
        await message.answer(
            _("Send the response's documents (up to {limit}), or press Done.").format(
                limit=ni.DOCUMENTS_MAX),
            reply_markup=markup([[button(_("Done") + " ➡️", Nav(action="skip"))],
                                 nav_row(back=False)]))
    else:
        await message.answer(_("Please send the files as documents, or press Done."))


@router.message(StateFilter(DossierInput.documents), F.document)
async def on_document(message: Message, state: FSMContext) -> None:
    assert message.document is not None
    data = await state.get_data()
    docs = list(data.get("documents", []))
    d = message.document
    try:
        if len(docs) >= ni.DOCUMENTS_MAX:
            raise InvalidInput("issue_documents", limit=ni.DOCUMENTS_MAX)
        checked = ni.check_document(d.file_name, d.file_size, d.mime_type)
    except InvalidInput as exc:
        await message.answer(refusal(exc))
        return
    docs.append({"file_id": d.file_id, **checked})
    data["documents"] = docs
    await state.set_data(data)
    await message.answer(_("Attached: {name}. Send more, or press Done.").format(
        name=html.escape(checked["name"])),
        reply_markup=markup([[button(_("Done") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(DossierInput))
async def on_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
