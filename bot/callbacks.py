"""Typed button payloads (aiogram `CallbackData`). Short prefixes: Telegram allows 64 bytes.

A payload carries ids only; whoever handles it asks a service, which re-checks the acting member.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Pick(CallbackData, prefix="p"):
    """A choice in a guided flow: `step` names the question, `value` the answer."""

    step: str
    value: str


class Nav(CallbackData, prefix="n"):
    """Back / cancel / done / skip inside a flow."""

    action: str


class Decide(CallbackData, prefix="d"):
    """Approve or reject a newcomer."""

    action: str
    member_id: int


class Bc(CallbackData, prefix="b"):
    """A broadcast: a member's ack/ask/copy/comment, or staff's approve/reject/report/cancel."""

    action: str
    broadcast_id: int


class Menu(CallbackData, prefix="m"):
    """Main menu and profile actions."""

    item: str


class Iss(CallbackData, prefix="i"):
    """A national issue: open, co-sign, documents, list filters and pages (`value` carries the
    list's filters), and staff's triage actions."""

    action: str
    issue_id: int = 0
    value: str = ""


class Dos(CallbackData, prefix="x"):
    """A dossier (staff): open, add an issue, exports, record sending and the response."""

    action: str
    dossier_id: int = 0
    value: str = ""
