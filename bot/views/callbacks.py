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


class Qn(CallbackData, prefix="q"):
    """A question: open, answer, follow up, files, and moderators' resolve / duplicate / hide."""

    action: str
    question_id: int


class An(CallbackData, prefix="a"):
    """An answer: the asker accepts it, a member marks it useful, a moderator hides it."""

    action: str
    answer_id: int


class Gr(CallbackData, prefix="g"):
    """A topic group: open, join, leave, ask here; staff rename, archive, moderators."""

    action: str
    group_id: int


class GrMod(CallbackData, prefix="gm"):
    """Staff remove one moderator from a group."""

    group_id: int
    member_id: int


class Kb(CallbackData, prefix="k"):
    """A page of knowledge-base search results (the query is in the conversation state)."""

    page: int


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


class Lc(CallbackData, prefix="l"):
    """A legal case: open, take, assign, answer, ask, close, reopen, rate, publish …; `value`
    is the stars, the colleague's member id or the document id an action needs."""

    action: str
    case_id: int
    value: int = 0


class Lq(CallbackData, prefix="lq"):
    """The legal desk's lists: a member's own requests, the lawyers' queue, monthly figures
    (`value` is the month as yyyymm)."""

    view: str
    value: int = 0


class Pref(CallbackData, prefix="s"):
    """/settings: `action` names what changes (freq, day, hour, quiet, kind, open), `value` to."""

    action: str
    value: str = ""


class Bulletin(CallbackData, prefix="u"):
    """The monthly bulletin draft: edit a language's text, send it as a broadcast, or drop it."""

    action: str
    value: str = ""
