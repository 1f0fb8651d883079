"""The bot's command menu: setMyCommands, getMyCommands, deleteMyCommands (per scope, language)."""

from __future__ import annotations

from bot.sandbox.emulator.protocol import COMMAND_RE, JSON, Params, bad, dumps
from bot.sandbox.emulator.registry import bot_method
from bot.sandbox.emulator.state import BotCtx, EmulatorState


def commands_key(p: Params) -> tuple[str, str]:
    scope = p.json("scope")
    scope_key = "default"
    if isinstance(scope, dict) and scope.get("type", "default") != "default":
        scope_key = dumps({k: scope[k] for k in sorted(scope)})
    return scope_key, p.string("language_code") or ""


@bot_method("setMyCommands")
def set_my_commands(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    commands = p.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad("can't parse commands JSON object")
    normalized: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not COMMAND_RE.match(command):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad("command description is empty" if not description else "BOT_COMMAND_INVALID")
        normalized.append({"command": command, "description": description})
    emu._commands[commands_key(p)] = normalized
    return True


@bot_method("getMyCommands")
def get_my_commands(emu: EmulatorState, ctx: BotCtx, p: Params) -> list[JSON]:
    return list(emu._commands.get(commands_key(p), []))


@bot_method("deleteMyCommands")
def delete_my_commands(emu: EmulatorState, ctx: BotCtx, p: Params) -> bool:
    emu._commands.pop(commands_key(p), None)
    return True
