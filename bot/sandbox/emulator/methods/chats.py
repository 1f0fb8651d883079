"""Chats and members: getChat, getChatMember, sendChatAction."""

from __future__ import annotations

from bot.sandbox.emulator.limits import check_blocked
from bot.sandbox.emulator.methods.messages import thread_for
from bot.sandbox.emulator.protocol import CHAT_ACTIONS, JSON, Params, bad
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState


@bot_method("sendChatAction")
def send_chat_action(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    chat = emu._chat_for(p)
    action = p.string("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    thread_for(chat, p)
    check_blocked(emu, chat)
    return True


@bot_method("getChat")
def get_chat(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    chat = emu._chat_for(p)
    info = dict(emu._chat_json(chat))
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
    )
    return info


@bot_method("getChatMember")
def get_chat_member(emu: EmulatorState, ctx: BotCtx, p: Params) -> JSON:
    chat = emu._chat_for(p)
    user_id = p.integer("user_id")
    if user_id is None:
        raise bad("user_id is empty")
    if user_id == ctx.bot_id:
        user = ctx.user
        admin = chat.type != "private" and chat.bot_is_admin
    else:
        known = emu._users.get(user_id)
        if known is None:
            raise bad("user not found")
        user = known.json()
        if chat.type == "private":
            if user_id != chat.id:
                raise bad("user not found")
            return {"status": "member", "user": user}
        if user_id == chat.owner_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if chat.members is not None and user_id not in chat.members and user_id not in chat.admins:
            return {"status": "left", "user": user}
        admin = user_id in chat.admins
    if not admin:
        return {"status": "member", "user": user}
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": True,
        "can_edit_stories": True,
        "can_delete_stories": True,
        "can_send_welcome_messages": True,
        "can_pin_messages": True,
        "can_manage_topics": True,
    }
