"""Webhooks: setWebhook, deleteWebhook, getWebhookInfo, and delivering updates by POST.

With a webhook set, the emulator posts each update to its URL as Telegram does: JSON body, the
`X-Telegram-Bot-Api-Secret-Token` header when a secret was set, up to `max_connections` requests
at once, one update of a user at a time (the next waits for the answer to the previous), and a
failed delivery (no answer, or not 2xx) is retried later with its error shown in getWebhookInfo.
getUpdates refuses while a webhook is set, like Telegram.

As a stand-in for a load balancer, the control `config` with `webhook_backends: [url, ...]`
spreads the deliveries over several addresses in turn (a failed address is skipped for the next
try), so tests and benchmarks can run several Birge replicas behind "one" webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any

import aiohttp

from bot.sandbox.emulator.methods.updates import set_allowed_updates
from bot.sandbox.emulator.protocol import JSON, Params, bad
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_CONNECTIONS = 40
RETRY_SECONDS = 0.5
POST_TIMEOUT = 30.0


@bot_method("setWebhook")
def set_webhook(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    url = p.string("url") or ""
    if url and not url.startswith(("http://", "https://")):
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.string("secret_token") or ""
    if secret and (len(secret) > 256 or not all(c.isalnum() or c in "_-" for c in secret)):
        raise bad("secret token contains unallowed characters")
    connections = p.integer("max_connections") or DEFAULT_CONNECTIONS
    emu._webhook = {"url": url, "secret_token": secret,
                    "max_connections": min(max(connections, 1), 100)}
    if p.has("allowed_updates"):
        set_allowed_updates(emu, p.json("allowed_updates"))
    if p.flag("drop_pending_updates"):
        emu._updates.clear()
    if url:
        _delivery(emu).start()
    return True


@bot_method("deleteWebhook")
def delete_webhook(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    emu._webhook = {"url": ""}
    if p.flag("drop_pending_updates"):
        emu._updates.clear()
    emu._updates_signal.notify()  # the delivery loop sees the webhook gone and stops
    return True


@bot_method("getWebhookInfo")
def get_webhook_info(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    delivery = _delivery(emu)
    info: JSON = {
        "url": emu._webhook["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(emu._updates) + len(delivery.in_flight),
    }
    if emu._webhook["url"]:
        info["max_connections"] = emu._webhook.get("max_connections", DEFAULT_CONNECTIONS)
        info["allowed_updates"] = sorted(emu._allowed_updates)
    if delivery.last_error is not None:
        info["last_error_date"], info["last_error_message"] = delivery.last_error
    return info


def _delivery(emu: EmulatorState) -> WebhookDelivery:
    found = getattr(emu, "_webhook_delivery", None)
    if found is None:
        found = WebhookDelivery(emu)
        emu._webhook_delivery = found  # type: ignore[attr-defined]
    return found


def _sender(update: JSON) -> int | None:
    """Whose update this is: one user's updates are delivered one at a time, in order."""
    for value in update.values():
        if isinstance(value, dict):
            who = value.get("from") or value.get("user") or {}
            if isinstance(who, dict) and isinstance(who.get("id"), int):
                return int(who["id"])
            chat = value.get("chat") or {}
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


class WebhookDelivery:
    """Posts pending updates to the webhook (or spreads them over `webhook_backends`)."""

    def __init__(self, emu: EmulatorState) -> None:
        self.emu = emu
        self.in_flight: dict[int, int | None] = {}  # update_id -> sender
        self.last_error: tuple[int, str] | None = None
        self.delivered = 0
        self.by_backend: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._turn = itertools.count()

    def backends(self) -> list[str]:
        return list(self.emu.webhook_backends) or [str(self.emu._webhook["url"])]

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="webhook-delivery")

    def _next(self) -> tuple[int, str, JSON] | None:
        """The oldest update whose sender has nothing in flight."""
        busy = {s for s in self.in_flight.values() if s is not None}
        for item in self.emu._updates:
            sender = _sender(item[2])
            if sender is None or sender not in busy:
                self.emu._updates.remove(item)
                return item
        return None

    async def _run(self) -> None:
        emu = self.emu
        limit = asyncio.Semaphore(int(emu._webhook.get("max_connections", DEFAULT_CONNECTIONS)))
        posts: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT),
                                         connector=aiohttp.TCPConnector(limit=0)) as http:
            try:
                while emu._webhook["url"] and not emu._closing:
                    item = self._next()
                    if item is None:
                        await emu._updates_signal.wait(0.25)
                        continue
                    await limit.acquire()
                    self.in_flight[item[0]] = _sender(item[2])
                    task = asyncio.create_task(self._post(http, item, limit))
                    posts.add(task)
                    task.add_done_callback(posts.discard)
            finally:
                for task in list(posts):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _post(self, http: aiohttp.ClientSession, item: tuple[int, str, JSON],
                    limit: asyncio.Semaphore) -> None:
        update_id, _kind, update = item
        headers = {}
        if self.emu._webhook.get("secret_token"):
            headers[SECRET_HEADER] = str(self.emu._webhook["secret_token"])
        error: str | None = None
        backends = self.backends()
        url = backends[next(self._turn) % len(backends)]
        try:
            async with http.post(url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                else:
                    await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        try:
            if error is None:
                self.delivered += 1
                self.by_backend[url] = self.by_backend.get(url, 0) + 1
                return
            self.last_error = (int(time.time()), error)
            await asyncio.sleep(RETRY_SECONDS)
            self.emu._updates.appendleft(item)  # tried again, before anything newer
            self.emu._updates_signal.notify()
        finally:
            self.in_flight.pop(update_id, None)
            limit.release()
            self.emu._updates_signal.notify()


def delivery_stats(emu: EmulatorState) -> dict[str, Any]:
    delivery = _delivery(emu)
    return {"delivered": delivery.delivered, "by_backend": dict(delivery.by_backend),
            "in_flight": len(delivery.in_flight), "pending": len(emu._updates)}
