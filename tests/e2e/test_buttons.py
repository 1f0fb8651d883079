"""Forged, huge, odd-digit, unknown-action and late buttons: a short answer like any stale button,
never an ERROR in the log, never a change in the database.

Every `CallbackData` class in bot/ is found by introspection, so a new kind of button is pressed
here the day it is added."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import text

import bot
from bot.services import members
from bot.views.callbacks import Qn, actions_of, parse_id
from storage.db import Database
from storage.enums import MemberStatus, OutboxStatus
from storage.models import SQLModel
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    decide,
    nav,
    outbox_rows,
    pick,
    press,
    said,
    t,
)

# Values a member's app can send where Birge put an id: beyond SQLite's and PostgreSQL's
# 64-bit integer, superscript and Arabic-Indic digits, negative, padded.
ROOT = Path(__file__).resolve().parents[2]
BAD_IDS = ["99999999999999999999999999", str(2**63), "²", "١٢", "-1", " 7"]
UNKNOWN = "zz"
FORGED_ID = "987654321"  # looks right, names nothing


def button_classes() -> list[type[CallbackData]]:
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if ".sandbox" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: list[type[CallbackData]] = []
    todo = list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__prefix__)


def _choices(cls: type[CallbackData], name: str) -> list[str] | None:
    """The actions a field takes (None for a free field)."""
    found = actions_of(cls, name)
    return sorted(found) if found is not None else None


def _is_id(cls: type[CallbackData], name: str) -> bool:
    return cls.model_fields[name].annotation is int


def payloads(cls: type[CallbackData]) -> list[tuple[str, str]]:
    """(kind, raw callback data) for one class: every action with every bad id, an unknown
    action, and every action with an id that looks right but names nothing."""
    names = list(cls.model_fields)
    actions = {n: _choices(cls, n) for n in names}
    out: list[tuple[str, str]] = []

    def raw(values: dict[str, str]) -> str:
        return cls.__separator__.join([cls.__prefix__, *(values[n] for n in names)])

    options = [dict(zip([n for n in names if actions[n]], combo, strict=True))
               for combo in _product([a for a in actions.values() if a])] or [{}]
    free = [n for n in names if not actions[n]]
    for chosen in options if free else []:
        for bad in BAD_IDS:
            kind = "odd" if any(_is_id(cls, n) for n in free) else "odd text"
            out.append((kind, raw({n: chosen.get(n, bad) for n in names})))
        if any(_is_id(cls, n) for n in names):
            out.append(("forged", raw({n: chosen.get(n, FORGED_ID if _is_id(cls, n) else "")
                                       for n in names})))
    for n in names:
        if actions[n] or n in ("step", "action", "item", "view"):
            unknown = {m: (options[0].get(m, "1")) for m in names}
            unknown[n] = UNKNOWN
            out.append(("unknown", raw(unknown)))
    return out


def _product(lists: list[list[str]]) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = [()]
    for values in lists:
        result = [(*r, v) for r in result for v in values]
    return result


async def snapshot(db: Database, forged: bool = False) -> dict[str, list[Any]]:
    """Every row of every table (but the scheduler's lease, which the clock moves). A forged
    button that looks right may be refused with a "denied" audit row, or start a flow."""
    rows: dict[str, list[Any]] = {}
    async with db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            # The machinery of several replicas (the lease, Telegram's shared sending slots,
            # scheduled runs) changes with time, not with what a member pressed; every update
            # is logged as it arrives (the press itself), whatever it does.
            if table.name in ("scheduler_lease", "send_pace", "job_run", "update_log") or (
                    forged and table.name == "fsm_record"):
                continue
            query = f"SELECT * FROM {table.name}"
            if forged and table.name == "audit_log":
                query += " WHERE action != 'denied'"
            found = (await s.exec(text(query))).all()  # type: ignore[call-overload]
            rows[table.name] = sorted(map(tuple, found), key=repr)
    return rows


async def settled(db: Database) -> dict[str, list[Any]]:
    """The database once the outbox has sent (or given up on) the notices of the set-up, the
    delayed ones too (a decision's "settled" edits wait a second before they go)."""
    last = await snapshot(db)
    for _ in range(60):
        await asyncio.sleep(0.3)
        now = await snapshot(db)
        if now == last and not [r for r in await outbox_rows(db) if r.status in OPEN]:
            return now
        last = now
    raise AssertionError("the database never settled")


OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> dict[str, Any]:
    """The rows that differ, per table (the whole database is too long to read in a failure)."""
    return {name: {"gone": [r for r in rows if r not in after.get(name, [])],
                   "new": [r for r in after.get(name, []) if r not in rows]}
            for name, rows in before.items() if after.get(name) != rows}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_button_class_is_found_and_the_shared_ones_list_their_actions() -> None:
    """Unknown actions reach no default branch: the shared buttons declare their actions (a
    feature's own button class is held to the same by the presses below)."""
    classes = button_classes()
    assert {c.__name__ for c in classes} >= {"Decide", "Bc", "Qn", "Iss", "Lc", "Pick", "Nav"}
    for cls in classes:
        for name in cls.model_fields:
            if name in ("action", "item", "view") and cls.__module__ == "bot.views.callbacks":
                assert _choices(cls, name), f"{cls.__name__}.{name} takes any string"


def test_every_action_the_code_puts_on_a_button_is_one_its_class_takes() -> None:
    """A button built with an action its class does not list would be answered as stale."""
    classes = {c.__name__: c for c in button_classes()}
    pattern = re.compile(r"\b(\w+)\((action|item|view)=\"([^\"]+)\"")
    unknown = []
    for path in (ROOT / "bot").rglob("*.py"):
        for cls_name, field, value in pattern.findall(path.read_text(encoding="utf-8")):
            cls = classes.get(cls_name)
            allowed = actions_of(cls, field) if cls is not None else None
            if allowed is not None and value not in allowed:
                unknown.append(f"{path.name}: {cls_name}({field}={value!r})")
    assert not unknown, unknown


def test_one_place_reads_a_button_id() -> None:
    assert parse_id("42") == 42
    assert parse_id(str(2**63 - 1)) == 2**63 - 1
    for bad in [*BAD_IDS, "", "1_000", "+5", "0x10", "٣"]:
        assert parse_id(bad) is None, bad
    assert parse_id("120", most=100) is None


async def test_every_button_pressed_with_forged_huge_odd_or_unknown_data(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture
) -> None:
    db = birge.db
    caplog.set_level(logging.INFO)
    # Staff may do the most; a newcomer waits for a decision; a question and an issue exist.
    person = await people("Aida", "ru")
    admin = await f.staff(db, telegram_id=person.user_id, language="ru")
    newcomer = await f.applicant(db, "Айгерим Садыкова", district="leylek")
    asker = await f.member(db, "Нурлан Абдылдаев", district="leylek")
    await f.national_issue(db, asker.id)
    await person.send("/help")
    message_id = int((await said(person, t("ru", "What you can do in Birge:")))["message_id"])
    stale = (t("ru", "This button is no longer active."),
             t("ru", "That choice is not available. Please try again."))
    before = {False: await settled(db), True: await snapshot(db, forged=True)}
    pressed = 0
    for cls in button_classes():
        for kind, data in payloads(cls):
            await person.press_data(message_id, data)
            answer = await person.answer()
            pressed += 1
            assert answer is not None, f"{data!r} was never answered"
            if kind in ("odd", "unknown"):
                assert str(answer.get("text")) in stale, (data, answer)
            assert not errors(caplog), (data, errors(caplog))
            forged = kind == "forged"
            after = await snapshot(db, forged)
            assert after == before[forged], (f"{data!r} changed the database",
                                              changed(before[forged], after))
            if forged:  # a flow it started would take the next presses
                await person.send("/cancel")
                await person.replies(timeout=0.3)
                before = {False: await snapshot(db), True: await snapshot(db, forged=True)}
    assert pressed > 300
    found = await members.by_id(db, newcomer.id)
    assert found is not None and found.status == MemberStatus.PENDING
    assert admin


async def test_a_decide_button_with_an_unknown_action_leaves_the_newcomer_waiting(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture
) -> None:
    db = birge.db
    person = await people("Aida", "ru")
    await f.staff(db, telegram_id=person.user_id, language="ru")
    newcomer = await f.applicant(db, "Айгерим Садыкова", district="leylek")
    await person.send("/help")
    message_id = int((await said(person, t("ru", "What you can do in Birge:")))["message_id"])
    for action in ("approved", "delete", "REJECT", ""):
        await person.press_data(message_id, f"d:{action}:{newcomer.id}")
        assert t("ru", "This button is no longer active.") in str(await person.answer())
    found = await members.by_id(db, newcomer.id)
    assert found is not None and found.status == MemberStatus.PENDING
    await person.press_data(message_id, decide("approve", newcomer.id))
    await person.answer()
    found = await members.by_id(db, newcomer.id)
    assert found is not None and found.status == MemberStatus.ACTIVE
    assert not errors(caplog)


async def test_odd_ids_in_the_ask_group_pick_and_the_raise_state_body_pick(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture
) -> None:
    db = birge.db
    person = await people("Asel", "ru")
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    not_available = t("ru", "That choice is not available. Please try again.")
    await person.send("/ask")
    asked = await said(person, t("ru", "In which group do you want to ask?"))
    for bad in BAD_IDS:
        await person.press_data(int(asked["message_id"]), pick("qg", bad))
        assert not_available in str(await person.answer())
    await person.send("/cancel")
    await person.send("/raise")
    await said(person, t("ru", "Raise a problem to the national level."))
    await person.send("Земельный налог на пастбища")
    await said(person, t("ru", "Which topic is it?"))
    await person.press(pick("it", "land"))
    await said(person, t("ru", "What is the problem?"))
    await person.send("Налог на пастбища собирают дважды: район и айыл окмоту.")
    await said(person, t("ru", "Which law, rule or practice causes it?"))
    await press(person, nav("skip"))
    await said(person, t("ru", "What do you propose?"))
    await person.send("Оставить сбор только айыл окмоту и вернуть переплату.")
    body_step = await said(person, t("ru", "Which state body should act?"))
    for bad in BAD_IDS:
        await person.press_data(int(body_step["message_id"]), pick("ib", bad))
        assert not_available in str(await person.answer())
    assert not errors(caplog)


async def test_a_late_press_whose_query_expired_is_logged_at_info(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture, tg: Any
) -> None:
    db = birge.db
    caplog.set_level(logging.INFO)
    person = await people("Asel", "ru")
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    await person.send("/help")
    message_id = int((await said(person, t("ru", "What you can do in Birge:")))["message_id"])
    await tg.config(callback_query_ttl=0.001)
    await person.press_data(message_id, Qn(action="open", question_id=5).pack())
    await person.press_data(message_id, "b:zz:1")
    await person.send("/help")
    await said(person, t("ru", "What you can do in Birge:"))
    assert not errors(caplog)
    assert any("expired" in r.getMessage() and r.levelno == logging.INFO
               for r in caplog.records)


async def test_open_on_a_question_the_member_may_not_see_answers_once(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture, tg: Any
) -> None:
    db = birge.db
    person = await people("Asel", "ru")
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    await person.send("/help")
    message_id = int((await said(person, t("ru", "What you can do in Birge:")))["message_id"])
    await person.press_data(message_id, Qn(action="open", question_id=424242).pack())
    answer = await person.answer()
    assert answer is not None and answer.get("text")
    calls = await tg.calls("answerCallbackQuery")
    assert [c["status"] for c in calls] == [200], calls
    assert not errors(caplog)
