"""`/help`: what this member can do, by role."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.flows.ui import Event, show
from bot.i18n import _
from bot.services.members import MemberView
from bot.services.policy import Capability, capabilities
from bot.views.callbacks import Menu
from storage.enums import MemberStatus

router = Router(name="help")
router.message.filter(F.chat.type == "private")


def help_text(member: MemberView | None) -> str:
    if member is None or member.status == MemberStatus.REJECTED:
        return _("Birge connects the local self-government bodies of Kyrgyzstan.") + "\n\n" + _(
            "/start — join Birge\n/language — change the language\n/help — this help")
    lines = {
        Capability.PROFILE: _("/profile — your profile: name, position, place, communities"),
        Capability.LANGUAGE: _("/language — change the language"),
        Capability.HELP: _("/help — this help"),
        Capability.INVITE: _("/invite — make an invitation link that approves at once"),
        Capability.APPROVE: _("You approve newcomers: their requests arrive here with "
                              "Approve and Reject buttons."),
        Capability.ADMIN: _("As Union staff you can invite to any role and approve anyone."),
        Capability.BROADCAST: _("/broadcast — send a decision or announcement to members; "
                                "/broadcasts — follow what you sent"),
        Capability.GROUPS: _("/groups — topic groups: join, see their questions"),
        Capability.ASK: _("/ask — ask a question in a group"),
        Capability.SEARCH: _("/search — search the answers already given"),
        Capability.MY_QUESTIONS: _("/myquestions — your questions and their answers"),
        Capability.ISSUES: _("/raise — raise a local problem to the national level; /issues — "
                             "the issues members raised, to co-sign the ones your municipality "
                             "faces too"),
        Capability.TRIAGE: _("/dossiers — the appeals to state bodies; triage issues from "
                             "their cards, export them as XLSX or CSV"),
        Capability.LEGAL_HELP: _("/lawyer — ask the Union's lawyers for legal help, privately"),
        Capability.LEGAL_DESK: _("/legal — the legal desk: the queue of requests, answers, "
                                 "figures"),
        Capability.EVENTS: _("/events — webinars, trainings, exchange visits and meetings: "
                             "register, get the calendar file and the materials"),
        Capability.SETTINGS: _("/settings — your digest, quiet hours and notifications"),
        Capability.BULLETIN: _("/bulletin — compile, edit and send the monthly bulletin"),
        Capability.PEOPLE: _("/people — find colleagues by district, municipality, community "
                             "and role, and write to them"),
        Capability.PRIVACY: _("/privacy — what Birge keeps about you; download or delete it"),
        Capability.PLACES: _("/places — confirm or merge newly typed municipality names, add "
                             "your district's municipalities"),
        Capability.LIBRARY: _("/library — practices, legal acts, templates and methods; propose "
                              "your municipality's practice"),
        Capability.DECISIONS: _("/decisions — every decision and announcement you received"),
        Capability.SURVEYS: _("/surveys — surveys sent to you; leaders, moderators and staff "
                              "create surveys and quick polls and see the results"),
        Capability.LIAISON: _("/liaison — the national issues and dossiers addressed to your "
                              "state body: record its response or ask the Union"),
        Capability.VERTICAL: _("/inbox — members' questions about decisions; /stats — the "
                               "figures; /report — the annual report; /liaisons — link "
                               "liaisons to their state bodies"),
    }
    head = _("What you can do in Birge:")
    if member.status == MemberStatus.PENDING:
        head = _("Your application is waiting for approval. Meanwhile you can:")
    caps = capabilities(member.roles, member.active)
    return head + "\n" + "\n".join(lines[c] for c in caps)


async def send_help(event: Event, member: MemberView | None) -> None:
    await show(event, help_text(member))


@router.message(Command("help"))
async def on_help(message: Message, member: MemberView | None) -> None:
    await send_help(message, member)


@router.callback_query(Menu.filter(F.item == "help"))
async def on_help_button(query: CallbackQuery, member: MemberView | None) -> None:
    await query.answer()
    await send_help(query, member)
