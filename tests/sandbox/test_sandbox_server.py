"""The sandbox without a browser: its demo data, its JSON API, `--fresh`, and `birge run` with no
BOT_TOKEN starting it (and Ctrl-C stopping it cleanly)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import ConfigError, Settings
from bot.sandbox import demo
from bot.sandbox.server import PAGE, Sandbox, SandboxConfig
from bot.services import members
from storage.enums import MemberStatus, Role

JSON = dict[str, Any]
FAST = {"outbox_poll_seconds": 0.1, "send_rate_per_second": 1000,
        "send_rate_per_chat_per_second": 100}


def config(path: Path | str, fresh: bool = False) -> SandboxConfig:
    return SandboxConfig(port=0, database=path, fresh=fresh, settings=FAST)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox(config(tmp_path / "sandbox.db")) as running:
        yield running


async def call(sandbox: Sandbox, method: str, path: str, body: JSON | None = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
        method, sandbox.url + path, json=body
    ) as response:
        payload = await response.json()
    assert payload["ok"], payload
    return payload["result"]


async def bot_says(sandbox: Sandbox, chat_id: int, fragment: str, after: int = 0,
                   timeout: float = 6.0) -> JSON:
    """Long-poll the page's /api/wait until the bot shows `fragment` in `chat_id`."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        result = await call(sandbox, "GET", f"/api/wait?after={after}&timeout={left:.2f}")
        for event in result["events"]:
            message = event.get("message") or {}
            text = str(message.get("text") or message.get("caption") or "")
            if event["chat_id"] == chat_id and event["kind"] in ("message", "edit"):
                seen.append(text)
                if fragment in text:
                    return message
        after = result["seq"]
    raise AssertionError(f"the bot never said {fragment!r} in {chat_id}; it said {seen!r}")


async def test_demo_members_are_active_across_districts_with_their_roles(sandbox: Sandbox) -> None:
    db = sandbox.birge.db
    found = {p.key: await members.by_telegram(db, p.telegram_id) for p in demo.PEOPLE}
    assert found["visitor"] is None
    assert found["talas_applicant"] is not None
    assert found["talas_applicant"].status == MemberStatus.PENDING
    active = [m for m in found.values() if m is not None and m.active]
    assert len(active) >= 12
    assert len({m.district_id for m in active if m.district_id}) >= 6
    roles = {key: m.roles for key, m in found.items() if m is not None}
    assert Role.DISTRICT_LEADER in roles["talas_leader"]
    assert Role.UNION_STAFF in roles["staff"]
    assert Role.EXPERT in roles["lawyer"] and Role.MODERATOR in roles["moderator"]
    assert roles["leylek_finance"] == {Role.MEMBER}
    assert await demo.open_invite(db) is not None
    assert sandbox.created


async def test_the_state_lists_every_persona_in_three_languages(sandbox: Sandbox) -> None:
    state = await call(sandbox, "GET", "/api/state")
    personas = {p["key"]: p for p in state["personas"]}
    assert list(personas) == [p.key for p in demo.PERSONAS]
    for persona in personas.values():
        assert set(persona["title"]) == set(persona["about"]) == {"ky", "ru", "en"}
    assert personas["visitor"]["status"] is None and personas["visitor"]["invite"]
    assert personas["staff"]["status"] == "active" and personas["staff"]["invite"] is None
    assert state["bot"]["username"] == "birge_sandbox_bot"
    assert state["forum"]["title"] == demo.FORUM_TITLE
    assert state["commands"], "Birge registered its commands with the emulator"


async def test_the_page_is_served_with_a_strict_content_policy(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as http, http.get(sandbox.url + "/") as response:
        body = await response.text()
        assert response.status == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'id="labels"' in body and "/api/wait" in body


async def test_the_newcomer_waiting_reaches_the_talas_leader_and_staff(sandbox: Sandbox) -> None:
    applicant = next(p for p in demo.PEOPLE if p.pending)
    for person in (demo.TALAS_LEADER, demo.STAFF):
        notice = await bot_says(sandbox, person.telegram_id, applicant.full_name)
        data = [b["callback_data"] for row in notice["reply_markup"]["inline_keyboard"]
                for b in row]
        assert any(d.startswith("d:approve:") for d in data), data


async def test_send_press_and_wait_through_the_api(sandbox: Sandbox) -> None:
    chat = demo.LEYLEK_FINANCE.telegram_id
    sent = await call(sandbox, "POST", "/api/send",
                      {"persona": "leylek_finance", "text": "/start"})
    assert sent["text"] == "/start" and sent["entities"][0]["type"] == "bot_command"
    home = await bot_says(sandbox, chat, demo.LEYLEK_FINANCE.full_name)
    profile = next(b["callback_data"] for row in home["reply_markup"]["inline_keyboard"]
                   for b in row if b["callback_data"] == "m:profile")
    pressed = await call(sandbox, "POST", "/api/press", {
        "persona": "leylek_finance", "message_id": home["message_id"],
        "callback_data": profile})
    assert pressed["data_present"]
    profile_card = await bot_says(sandbox, chat, "Катран")
    history = await call(sandbox, "GET", "/api/chat?persona=leylek_finance")
    shown = {m["message_id"]: m for m in history["messages"]}
    assert sent["message_id"] in shown and "Катран" in shown[profile_card["message_id"]]["text"]
    # Shown in place while the menu is the chat's last message; the demo's invitations may
    # arrive meanwhile, and then the profile comes anew at the bottom (never edited far up).
    newer = [m for m in shown if m > home["message_id"] and m != profile_card["message_id"]]
    assert profile_card["message_id"] == home["message_id"] or newer


async def test_a_persona_registers_for_the_demo_webinar_on_the_page(sandbox: Sandbox) -> None:
    """The demo's upcoming webinar invites everyone: the Leylek finance officer registers from
    the invitation and gets the online link and the calendar file; the past exchange visit's
    slides reach its attendees."""
    chat = demo.LEYLEK_FINANCE.telegram_id
    invite = await bot_says(sandbox, chat, "Публичные слушания по местному бюджету")
    register = next(b["callback_data"] for row in invite["reply_markup"]["inline_keyboard"]
                    for b in row if b["callback_data"].startswith("ev:reg:"))
    await call(sandbox, "POST", "/api/press", {
        "persona": "leylek_finance", "message_id": invite["message_id"],
        "callback_data": register})
    await bot_says(sandbox, chat, "meet.jit.si/birge-budget-hearings")

    async def sent_to(chat_id: int, suffix: str) -> bool:
        deadline = time.monotonic() + 6
        while True:
            history = sandbox.emulator.transcript(chat_id)
            if any(str((m.get("document") or {}).get("file_name", "")).endswith(suffix)
                   for m in history):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)

    assert await sent_to(chat, ".ics")
    attendee = next(p for p in demo.PEOPLE if p.key == "leylek_heads_leader").telegram_id
    assert await sent_to(attendee, demo.EXCHANGE_SLIDES.name)


async def test_upload_and_download_a_document(sandbox: Sandbox) -> None:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("persona", "lawyer")
    form.add_field("caption", "Проект решения")
    form.add_field("file", "Статья 1.".encode(), filename="решение.txt",
                   content_type="text/plain")
    async with aiohttp.ClientSession() as http:
        async with http.post(sandbox.url + "/api/upload", data=form) as response:
            message = (await response.json())["result"]
        assert message["document"]["file_name"] == "решение.txt"
        file_id = message["document"]["file_id"]
        async with http.get(sandbox.url + f"/api/file?id={file_id}") as response:
            assert await response.read() == "Статья 1.".encode()
            assert response.headers["Content-Type"] == "application/octet-stream"
            assert response.headers["Content-Disposition"].startswith("attachment;")
        async with http.get(sandbox.url + "/api/file?id=nope") as response:
            assert response.status == 404


async def test_the_forum_has_threads_and_takes_new_ones(sandbox: Sandbox) -> None:
    forum = await call(sandbox, "GET", "/api/forum")
    assert forum["chat"]["is_forum"] and forum["chat"]["title"] == demo.FORUM_TITLE
    # Birge made one thread per topic group open to all members (named in the default language,
    # Kyrgyz); the practice communities' own groups are never mirrored in the shared forum.
    names = [t["name"] for t in forum["chat"]["topics"]]
    assert "Жергиликтүү бюджет жана каржы" in names and len(names) == 7
    created = await call(sandbox, "POST", "/api/topic",
                         {"persona": "moderator", "name": "Бюджет 2026"})
    thread = created["topic"]["message_thread_id"]
    posted = await call(sandbox, "POST", "/api/send",
                        {"persona": "moderator", "forum": True, "thread": thread,
                         "text": "Кто уже утвердил бюджет?"})
    assert posted["message_thread_id"] == thread
    forum = await call(sandbox, "GET", "/api/forum")
    assert forum["chat"]["topics"][-1]["name"] == "Бюджет 2026"


async def test_bad_requests_get_a_short_error(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(sandbox.url + "/api/send",
                             json={"persona": "nobody", "text": "hi"}) as response:
            assert response.status == 404
            assert "unknown persona" in (await response.json())["error"]
        async with http.post(sandbox.url + "/api/send", data=b"not json") as response:
            assert response.status == 400


async def test_new_visitors_get_their_own_accounts(sandbox: Sandbox) -> None:
    first = await call(sandbox, "POST", "/api/personas")
    second = await call(sandbox, "POST", "/api/personas")
    assert first["user_id"] != second["user_id"] and first["status"] is None
    state = await call(sandbox, "GET", "/api/state")
    assert {first["key"], second["key"]} <= {p["key"] for p in state["personas"]}


async def test_data_is_kept_between_starts_and_fresh_starts_clean(empty_db_url: str) -> None:
    path = empty_db_url  # SQLite, and PostgreSQL: the sandbox takes either
    extra = 700_555_001
    async with Sandbox(config(path)) as first:
        assert first.created
        app = await demo.Demo(first.birge.db).application(demo.LEYLEK_FINANCE)
        app.full_name = "Бермет Алиева"
        await members.submit_application(first.birge.db, extra, None, app)
    async with Sandbox(config(path)) as again:
        assert not again.created
        assert await members.by_telegram(again.birge.db, extra) is not None
    async with Sandbox(config(path, fresh=True)) as fresh:
        assert fresh.created
        assert await members.by_telegram(fresh.birge.db, extra) is None
        assert await members.by_telegram(fresh.birge.db, demo.STAFF.telegram_id) is not None


# --- the page's own words -------------------------------------------------------------------

ALLOWED_LATIN = re.compile(r"Birge|Telegram|/start|\{[a-z_]+\}")  # {mb}: filled in by the page


def labels() -> dict[str, dict[str, str]]:
    html = PAGE.read_text("utf-8")
    found = re.search(r'<script type="application/json" id="labels">(.*?)</script>', html, re.S)
    assert found
    parsed: dict[str, dict[str, str]] = json.loads(found.group(1))
    return parsed


def test_the_page_labels_exist_in_kyrgyz_russian_and_english() -> None:
    found = labels()
    assert set(found) == {"ky", "ru", "en"}
    assert set(found["ky"]) == set(found["ru"]) == set(found["en"])
    html = PAGE.read_text("utf-8")
    used = set(re.findall(r'data-i18n(?:-label|-title|-placeholder)?="([a-z_]+)"', html))
    used |= set(re.findall(r'\bt\("([a-z_]+)"\)', html))
    assert used <= set(found["en"]), used - set(found["en"])


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_no_english_is_left_in_kyrgyz_or_russian(lang: str) -> None:
    texts = list(labels()[lang].values())
    for persona in demo.PERSONAS:
        texts += [persona.title[lang], persona.about[lang]]
    leftovers = [text for text in texts if re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", text))]
    assert not leftovers


# --- the command line -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    settings = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    env.update(extra)
    return env


async def test_run_without_a_token_starts_the_sandbox_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path,
        env=environment(SANDBOX_PORT=str(port), LOG_LEVEL="WARNING"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        lines: list[str] = []
        while not any("open http://" in line for line in lines):
            raw = await asyncio.wait_for(process.stdout.readline(), 60)
            assert raw, f"the sandbox ended early: {lines} {await process.stderr.read()!r}"
            lines.append(raw.decode())
        assert f"open http://127.0.0.1:{port}" in "".join(lines)
        assert "BOT_TOKEN is not set" in lines[0]
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/api/state"
        ) as response:
            assert len((await response.json())["result"]["personas"]) == len(demo.PERSONAS)
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 20)
        err = (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, err
    assert "Traceback" not in err
    assert (tmp_path / "data" / "sandbox.db").exists()
    assert not (tmp_path / "data" / "birge.db").exists()


def test_the_sandbox_refuses_to_use_the_real_database(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", "data/birge.db"], cwd=tmp_path,
        env=environment(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--db" in done.stderr and "Traceback" not in done.stderr


async def test_a_busy_port_is_one_line_and_nothing_is_started(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        sandbox = Sandbox(SandboxConfig(port=port, database=tmp_path / "sandbox.db"))
        with pytest.raises(ConfigError, match=f"--port: cannot listen on 127.0.0.1:{port}"):
            await sandbox.start()
    assert not (tmp_path / "sandbox.db").exists()
