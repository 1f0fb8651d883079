"""Typed button payloads (aiogram `CallbackData`). Short prefixes: Telegram allows 64 bytes.

A payload carries ids only; whoever handles it asks a service, which re-checks the acting member.

A button's data comes from the member's app and may be forged, stale (from an older version) or
odd. Two rules keep that out of the handlers:
- every id is a `ButtonId` (or, inside a free-text field, read with `parse_id`): ASCII digits
  within SQLite's and PostgreSQL's 64-bit integer, else the button does not match its handler;
- every action is a `Literal` of the actions Birge makes: an unknown one does not match either.
A button that matches no handler is answered as stale (bot/handlers/unhandled.py). Add a new action
to its `Literal` when you add a button for it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator

MAX_ID = 2**63 - 1  # the largest integer a BIGINT (SQLite's and PostgreSQL's) column holds
MAX_PAGE = 100_000  # a page number times a page's size must stay an integer SQL can take


def parse_id(value: object, most: int = MAX_ID) -> int | None:
    """The one place a button's id is read: ASCII digits within 0..MAX_ID, else None.

    `str.isdigit()` lets "²" and "١٢" through (then `int()` raises or reads them), and `int()`
    reads "-5", " 7" and "1_000"; none of these is an id Birge put on a button."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= most else None
    if not isinstance(value, str) or not value or len(value) > 19:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= most else None


def _button_id(value: object) -> int:
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id Birge puts on a button")
    return number


def _button_page(value: object) -> int:
    number = parse_id(value, MAX_PAGE)
    if number is None:
        raise ValueError("not a page Birge puts on a button")
    return number


ButtonId = Annotated[int, BeforeValidator(_button_id)]
ButtonPage = Annotated[int, BeforeValidator(_button_page)]


class Pick(CallbackData, prefix="p"):
    """A choice in a guided flow: `step` names the question, `value` the answer."""

    step: str
    value: str


NavAction = Literal["back", "cancel", "done", "skip"]


class Nav(CallbackData, prefix="n"):
    """Back / cancel / done / skip inside a flow."""

    action: NavAction


DecideAction = Literal["approve", "reject"]


class Decide(CallbackData, prefix="d"):
    """Approve or reject a newcomer."""

    action: DecideAction
    member_id: ButtonId


BcAction = Literal[
    "ack", "approve", "ask", "cancel", "comment", "comments", "copy", "csv", "reject", "report"
]


class Bc(CallbackData, prefix="b"):
    """A broadcast: a member's ack/ask/copy/comment, or staff's approve/reject/report/cancel."""

    action: BcAction
    broadcast_id: ButtonId


MenuAction = Literal[
    "ask", "decisions", "edit_communities", "edit_name", "edit_place", "edit_position", "groups",
    "help", "home", "invite", "issues", "language", "legal", "library", "mine", "profile", "raise",
    "search", "settings"
]


class Menu(CallbackData, prefix="m"):
    """Main menu and profile actions."""

    item: MenuAction


QnAction = Literal["answer", "dup", "files", "follow", "hide", "open", "resolve"]


class Qn(CallbackData, prefix="q"):
    """A question: open, answer, follow up, files, and moderators' resolve / duplicate / hide."""

    action: QnAction
    question_id: ButtonId


AnAction = Literal["accept", "files", "hide", "useful"]


class An(CallbackData, prefix="a"):
    """An answer: the asker accepts it, a member marks it useful, a moderator hides it."""

    action: AnAction
    answer_id: ButtonId


GrAction = Literal["addmod", "archive", "ask", "join", "leave", "mods", "new", "open", "rename"]


class Gr(CallbackData, prefix="g"):
    """A topic group: open, join, leave, ask here; staff rename, archive, moderators."""

    action: GrAction
    group_id: ButtonId


class GrMod(CallbackData, prefix="gm"):
    """Staff remove one moderator from a group."""

    group_id: ButtonId
    member_id: ButtonId


class Kb(CallbackData, prefix="k"):
    """A page of knowledge-base search results (the query is in the conversation state)."""

    page: ButtonPage


IssAction = Literal[
    "c", "cv", "d", "dc", "ds", "fb", "fr", "fs", "ft", "l", "mg", "o", "rp", "rs", "rv", "xl"
]


class Iss(CallbackData, prefix="i"):
    """A national issue: open, co-sign, documents, list filters and pages (`value` carries the
    list's filters), and staff's triage actions."""

    action: IssAction
    issue_id: ButtonId = 0
    value: str = ""


DosAction = Literal["a", "l", "n", "o", "r", "s", "sv", "w"]


class Dos(CallbackData, prefix="x"):
    """A dossier (staff): open, add an issue, exports, record sending and the response."""

    action: DosAction
    dossier_id: ButtonId = 0
    value: str = ""


LcAction = Literal[
    "all", "answer", "assign", "close", "comment", "docs", "info", "keep", "open", "publish",
    "pubno", "pubyes", "rate", "reopen", "reply", "take", "to"
]


class Lc(CallbackData, prefix="l"):
    """A legal case: open, take, assign, answer, ask, close, reopen, rate, publish …; `value`
    is the stars, the colleague's member id or the document id an action needs."""

    action: LcAction
    case_id: ButtonId
    value: ButtonId = 0


LqAction = Literal["ask", "desk", "fig", "new", "mine", "waiting", "overdue", "knowledge"]


class Lq(CallbackData, prefix="lq"):
    """The legal desk's lists: a member's own requests, the lawyers' queue, monthly figures
    (`value` is the month as yyyymm)."""

    view: LqAction
    value: ButtonId = 0


PrefAction = Literal["day", "freq", "hour", "kind", "open", "pick", "quiet"]


class Pref(CallbackData, prefix="s"):
    """/settings: `action` names what changes (freq, day, hour, quiet, kind, open), `value` to."""

    action: PrefAction
    value: str = ""


BulletinAction = Literal["cancel", "edit", "month", "send"]


class Bulletin(CallbackData, prefix="u"):
    """The monthly bulletin draft: edit a language's text, send it as a broadcast, or drop it."""

    action: BulletinAction
    value: str = ""
