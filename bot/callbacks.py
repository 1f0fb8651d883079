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


class Pref(CallbackData, prefix="s"):
    """/settings: `action` names what changes (freq, day, hour, quiet, kind, open), `value` to."""

    action: str
    value: str = ""


class Bulletin(CallbackData, prefix="u"):
    """The monthly bulletin draft: edit a language's text, send it as a broadcast, or drop it."""

    action: str
    value: str = ""
