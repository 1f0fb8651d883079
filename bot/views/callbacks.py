"""Typed button payloads (aiogram `CallbackData`). Short prefixes: Telegram allows 64 bytes.

A payload carries ids only; whoever handles it asks a service, which re-checks the acting member.

A button's data comes from the member's app and may be forged, stale (from an older version) or
odd. One reader, `read_button` (installed as every `CallbackData` class's `unpack`, also for the
classes features declare in their own view modules), keeps that out of the handlers:
- an integer field takes ASCII digits only, within SQLite's and PostgreSQL's 64-bit integer
  (and -1 only where the field's default is negative); an id inside a free-text field is read
  with `parse_id`;
- a field declared with `Actions(...)` takes only those actions.
A button that fails is matched by no handler and answered as stale (bot/handlers/unhandled.py), so
an unknown action never reaches the default branch of an `if`. Add a new action to its `Actions`
when you add a button for it (tests/e2e/test_buttons.py checks the code's buttons against them).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

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


class Actions:
    """The actions (or items, views) a button field takes: `action: Annotated[str, Actions(…)]`."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def __repr__(self) -> str:
        return f"Actions{tuple(sorted(self.names))}"


def actions_of(cls: type[CallbackData], name: str) -> frozenset[str] | None:
    """The actions a field of a button class takes (None: any text)."""
    for meta in cls.model_fields[name].metadata:
        if isinstance(meta, Actions):
            return meta.names
    return None


_INTEGER = re.compile(r"-?[0-9]{1,19}")
_unpack = CallbackData.unpack.__func__  # type: ignore[attr-defined]


def read_button(cls: type[CallbackData], value: str) -> Any:
    """aiogram's `unpack`, then Birge's rules for integers and actions (ValueError: stale)."""
    _prefix, *parts = value.split(cls.__separator__)
    if _prefix != cls.__prefix__:  # every button class's filter sees every press: fail fast
        raise ValueError(f"not a {cls.__name__} button")
    for (name, field), raw in zip(cls.model_fields.items(), parts, strict=False):
        if field.annotation is int and raw != "":
            negative = isinstance(field.default, int) and field.default < 0
            if not _INTEGER.fullmatch(raw) or (raw.startswith("-") and raw != "-1") or (
                    raw == "-1" and not negative):
                raise ValueError(f"{cls.__name__}.{name}: not a number Birge puts on a button")
    found = _unpack(cls, value)
    for name in cls.model_fields:
        number = getattr(found, name)
        if isinstance(number, int) and not isinstance(number, bool) and (
                number > (MAX_PAGE if name == "page" else MAX_ID)):
            raise ValueError(f"{cls.__name__}.{name}: {number} is too large")
        allowed = actions_of(cls, name)
        if allowed is not None and number not in allowed:
            raise ValueError(f"{cls.__name__}.{name}: {number!r} is not an action Birge makes")
    return found


CallbackData.unpack = classmethod(read_button)  # type: ignore[assignment,method-assign]


class Pick(CallbackData, prefix="p"):
    """A choice in a guided flow: `step` names the question, `value` the answer."""

    step: str
    value: str


NavAction = Annotated[str, Actions("back", "cancel", "done", "skip")]
_STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,29}")


def _step_name(value: object) -> str:
    if isinstance(value, str) and (value == "" or _STEP_NAME.fullmatch(value)):
        return value
    raise ValueError("not a flow or step Birge puts on a button")


StepName = Annotated[str, BeforeValidator(_step_name)]


class Nav(CallbackData, prefix="n"):
    """Back / cancel / done / skip inside a flow; `flow` and `step` name the step the button
    was shown for (its FSM state "Flow:step"), stamped as it is sent (bot/flows/steps.py)."""

    action: NavAction
    flow: StepName = ""
    step: StepName = ""


DecideAction = Annotated[str, Actions("approve", "reject")]


class Decide(CallbackData, prefix="d"):
    """Approve or reject a newcomer."""

    action: DecideAction
    member_id: ButtonId


BcAction = Annotated[str, Actions(
    "ack", "approve", "ask", "cancel", "comment", "comments", "copy", "csv", "reject", "report",
)]


class Bc(CallbackData, prefix="b"):
    """A broadcast: a member's ack/ask/copy/comment, or staff's approve/reject/report/cancel."""

    action: BcAction
    broadcast_id: ButtonId


MenuAction = Annotated[str, Actions(
    "ask", "decisions", "edit_communities", "edit_name", "edit_place", "edit_position",
    "events", "groups", "help", "home", "invite", "issues", "language", "legal", "library",
    "mine", "people", "profile", "raise", "search", "settings",
)]


class Menu(CallbackData, prefix="m"):
    """Main menu and profile actions."""

    item: MenuAction


QnAction = Annotated[str, Actions("answer", "dup", "files", "follow", "hide", "open", "resolve")]


class Qn(CallbackData, prefix="q"):
    """A question: open, answer, follow up, files, and moderators' resolve / duplicate / hide."""

    action: QnAction
    question_id: ButtonId


AnAction = Annotated[str, Actions("accept", "files", "hide", "useful")]


class An(CallbackData, prefix="a"):
    """An answer: the asker accepts it, a member marks it useful, a moderator hides it."""

    action: AnAction
    answer_id: ButtonId


GrAction = Annotated[str, Actions(
    "addmod", "archive", "ask", "join", "leave", "mods", "new", "open", "rename",
)]


class Gr(CallbackData, prefix="g"):
    """A topic group: open, join, leave, ask here; staff rename, archive, moderators."""

    action: GrAction
    group_id: ButtonId


class GrPage(CallbackData, prefix="gpg"):
    """A page of the list of topic groups (/groups)."""

    page: int


class GrMod(CallbackData, prefix="gm"):
    """Staff remove one moderator from a group."""

    group_id: ButtonId
    member_id: ButtonId


class Kb(CallbackData, prefix="k"):
    """A page of knowledge-base search results (the query is in the conversation state)."""

    page: ButtonPage


IssAction = Annotated[str, Actions(
    "c", "cv", "d", "dc", "ds", "fb", "fr", "fs", "ft", "l", "mg", "o", "rp", "rs", "rv", "xl",
)]


class Iss(CallbackData, prefix="i"):
    """A national issue: open, co-sign, documents, list filters and pages (`value` carries the
    list's filters), and staff's triage actions."""

    action: IssAction
    issue_id: ButtonId = 0
    value: str = ""


DosAction = Annotated[str, Actions("a", "l", "n", "o", "r", "s", "sv", "w")]


class Dos(CallbackData, prefix="x"):
    """A dossier (staff): open, add an issue, exports, record sending and the response."""

    action: DosAction
    dossier_id: ButtonId = 0
    value: str = ""


LcAction = Annotated[str, Actions(
    "all", "answer", "assign", "close", "comment", "docs", "info", "keep", "open", "publish",
    "pubno", "pubyes", "rate", "reopen", "reply", "take", "to",
)]


class Lc(CallbackData, prefix="l"):
    """A legal case: open, take, assign, answer, ask, close, reopen, rate, publish …; `value`
    is the stars, the colleague's member id or the document id an action needs."""

    action: LcAction
    case_id: ButtonId
    value: ButtonId = 0


LqAction = Annotated[str, Actions(
    "ask", "desk", "fig", "new", "mine", "waiting", "overdue", "knowledge",
)]


class Lq(CallbackData, prefix="lq"):
    """The legal desk's lists: a member's own requests, the lawyers' queue, monthly figures
    (`value` is the month as yyyymm)."""

    view: LqAction
    value: ButtonId = 0


PrefAction = Annotated[str, Actions("day", "freq", "hour", "kind", "open", "pick", "quiet")]


class Pref(CallbackData, prefix="s"):
    """/settings: `action` names what changes (freq, day, hour, quiet, kind, open), `value` to."""

    action: PrefAction
    value: str = ""


BulletinAction = Annotated[str, Actions("cancel", "edit", "month", "send")]


class Bulletin(CallbackData, prefix="u"):
    """The monthly bulletin draft: edit a language's text, send it as a broadcast, or drop it."""

    action: BulletinAction
    value: str = ""
