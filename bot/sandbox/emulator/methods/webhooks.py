"""Webhooks: setWebhook, deleteWebhook, getWebhookInfo (the URL is kept; updates are still
only polled, and getUpdates refuses while a webhook is set, like Telegram)."""

from __future__ import annotations

from bot.sandbox.emulator.methods.updates import set_allowed_updates
from bot.sandbox.emulator.protocol import JSON, Params
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState


@bot_method("setWebhook")
def set_webhook(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    url = p.string("url") or ""
    emu._webhook = {"url": url}
    if p.has("allowed_updates"):
        set_allowed_updates(emu, p.json("allowed_updates"))
    if p.flag("drop_pending_updates"):
        emu._updates.clear()
    return True


@bot_method("deleteWebhook")
def delete_webhook(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    emu._webhook = {"url": ""}
    if p.flag("drop_pending_updates"):
        emu._updates.clear()
    return True


@bot_method("getWebhookInfo")
def get_webhook_info(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    info: JSON = {
        "url": emu._webhook["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(emu._updates),
    }
    if emu._webhook["url"]:
        info["max_connections"] = 40
        info["allowed_updates"] = sorted(emu._allowed_updates)
    return info
