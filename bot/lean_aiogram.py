"""Import aiogram without building every Telegram type's validator at start-up.

aiogram's `types/__init__.py` calls `model_rebuild()` on all ~300 types, which makes pydantic build
every validator at import: about 100 MB of resident memory on aiogram 3.31, most of it for types
Birge never sees. aiogram already declares its models `defer_build=True`; this module lets that
deferral happen by giving each type (and each API method) the namespace aiogram would have passed,
so pydantic builds a validator on first use instead. Measured by scripts/bench_updates.py: idle
memory falls from ~200 MB to ~110 MB. If aiogram or pydantic change in a way this does not
expect, it falls back to the normal eager import. It must run before anything imports aiogram;
`bot/__init__.py` imports it first.

It also keeps the parametrised response models (`Response[Message]` …) alive. aiogram builds one
per API call and pydantic caches them only weakly, so under load they were collected and rebuilt
again and again — about 15 ms of schema building each time, the largest single cost in a profile
of Birge under the benchmark.

Two smaller savings at import (issue 20, idle memory): aiogram's API methods that need no forward
reference were built eagerly as each class was defined (134 validators, ~1.7 MB): they are now
deferred like the types (`_DeferMethods`). And aiogram takes its three sentinel objects (UNSET,
UNHANDLED, REJECTED) from `unittest.mock`, which imports the whole `unittest` framework (~1.3 MB);
while aiogram is imported, `unittest.mock` is a small module with the same `sentinel`, and it is
taken out again afterwards, so `import unittest.mock` anywhere later gets the real one.

And it runs plain (synchronous) filters inline (`filters_inline`). aiogram calls every filter
that is not a coroutine — each `F.text`, `F.chat.type == "private"` — through
`asyncio.to_thread`, so one update checked against a few dozen handlers made a few dozen thread
hops. A py-spy profile of `scripts/bench_surveys.py` at 85 answers/s showed the process pinned at
one core with a fifth of its samples in the thread pool; these filters are attribute reads that
take microseconds, so they now run on the event loop.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel


class _Sentinel:
    """`unittest.mock.sentinel.NAME`: one object per name, kept by copy and pickle."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"sentinel.{self.name}"

    def __copy__(self) -> _Sentinel:
        return self

    def __deepcopy__(self, memo: Any) -> _Sentinel:
        return self


class _Sentinels:
    def __init__(self) -> None:
        self._made: dict[str, _Sentinel] = {}

    def __getattr__(self, name: str) -> _Sentinel:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._made.setdefault(name, _Sentinel(name))


@contextmanager
def _light_mock() -> Iterator[None]:
    """While aiogram is imported: `unittest.mock` is a module holding only `sentinel`."""
    if "unittest.mock" in sys.modules:
        yield
        return
    light = types.ModuleType("unittest.mock")
    light.sentinel = _Sentinels()  # type: ignore[attr-defined]
    sys.modules["unittest.mock"] = light
    try:
        yield
    finally:
        if sys.modules.get("unittest.mock") is light:
            del sys.modules["unittest.mock"]


class _DeferMethods(importlib.abc.MetaPathFinder):
    """Makes `aiogram.methods.base.TelegramMethod` defer its subclasses' validators (as
    aiogram's types already do) right after that module runs, before any method is defined."""

    NAME = "aiogram.methods.base"

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.NAME:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            module.TelegramMethod.model_config["defer_build"] = True

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def import_lazily() -> bool:
    """Import aiogram with deferred validators; False if aiogram was imported normally."""
    if "aiogram.types" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    namespace: dict[str, Any] = {}

    def deferred(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
                 _parent_namespace_depth: int = 2,
                 _types_namespace: dict[str, Any] | None = None) -> bool | None:
        if _types_namespace is None or force:
            return original.__func__(cls, force=force, raise_errors=raise_errors,
                                     _parent_namespace_depth=_parent_namespace_depth,
                                     _types_namespace=_types_namespace)
        namespace.update(_types_namespace)
        cls.__pydantic_parent_namespace__ = namespace
        return None

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    finder = _DeferMethods()
    sys.meta_path.insert(0, finder)
    try:
        with _light_mock():
            import aiogram.dispatcher.event.bases
            import aiogram.methods
            import aiogram.types
    finally:
        sys.meta_path.remove(finder)
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    if not namespace:
        return False
    for name in aiogram.methods.__all__:
        cls = getattr(aiogram.methods, name)
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            cls.__pydantic_parent_namespace__ = namespace
    return True


def keep_response_models() -> None:
    from aiogram.methods.base import Response

    build = BaseModel.__dict__["__class_getitem__"].__func__
    made: dict[object, Any] = {}

    def cached(cls: type[BaseModel], params: Any) -> Any:
        key = (cls, params)
        found = made.get(key)
        if found is None:
            found = made[key] = build(cls, params)
        return found

    Response.__class_getitem__ = classmethod(cached)  # type: ignore[method-assign,assignment]


def filters_inline(router: Any) -> int:
    """Make every synchronous filter of `router` and its sub-routers run on the event loop
    instead of in a thread. Returns how many were changed (a test checks it is not zero)."""
    from aiogram.dispatcher.event.handler import CallableObject

    def inline(obj: CallableObject) -> int:
        if obj.awaitable:
            return 0
        sync = obj.callback

        async def call(*args: Any, **kwargs: Any) -> Any:
            return sync(*args, **kwargs)

        obj.callback = call
        obj.awaitable = True
        return 1

    changed = 0
    for observer in router.observers.values():
        handlers = list(getattr(observer, "handlers", []))
        root = getattr(observer, "_handler", None)
        if root is not None:
            handlers.append(root)
        for handler in handlers:
            for flt in handler.filters or []:
                changed += inline(flt)
    for sub in router.sub_routers:
        changed += filters_inline(sub)
    return changed


def button_prefixes(router: Any) -> frozenset[str] | None:
    """The callback-data prefixes some handler of `router` (or of its sub-routers) accepts;
    None when a handler accepts presses without a typed button filter (it may take any)."""
    from aiogram.filters.callback_data import CallbackQueryFilter

    found: set[str] = set()
    for handler in router.callback_query.handlers:
        typed = [f.callback for f in handler.filters or []
                 if isinstance(f.callback, CallbackQueryFilter)]
        if not typed:
            return None
        found.update(t.callback_data.__prefix__ for t in typed)
    for sub in router.sub_routers:
        inner = button_prefixes(sub)
        if inner is None:
            return None
        found |= inner
    return frozenset(found)


def message_keys(router: Any) -> tuple[frozenset[str], frozenset[str | None]] | None:
    """The commands (casefolded) and conversation states in which some message handler of
    `router` (or of its sub-routers) can match; None when a handler could take any message
    (no command or state filter, a command pattern, a state wildcard)."""
    from aiogram.filters import Command, StateFilter
    from aiogram.fsm.state import State, StatesGroup

    commands: set[str] = set()
    states: set[str | None] = set()
    for handler in router.message.handlers:
        filters = [f.callback for f in handler.filters or []]
        command = next((f for f in filters if isinstance(f, Command)), None)
        state = next((f for f in filters if isinstance(f, StateFilter)), None)
        if command is not None:
            if command.prefix != "/" or not all(isinstance(c, str) for c in command.commands):
                return None
            commands.update(str(c).casefold() for c in command.commands)
        elif state is not None:
            for allowed in state.states:
                if allowed is None or (isinstance(allowed, str) and allowed != "*"):
                    states.add(allowed)
                elif isinstance(allowed, State) and allowed.state not in (None, "*"):
                    states.add(allowed.state)
                elif isinstance(allowed, type) and issubclass(allowed, StatesGroup):
                    states.update(allowed.__all_states_names__)
                else:
                    return None
        else:
            return None
    for sub in router.sub_routers:
        inner = message_keys(sub)
        if inner is None:
            return None
        commands |= inner[0]
        states |= inner[1]
    return frozenset(commands), frozenset(states)


def _command(message: Any) -> str | None:
    """The command a message starts with ("/help@birge_bot x" → "help"), casefolded."""
    text = getattr(message, "text", None) or getattr(message, "caption", None) or ""
    if not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].partition("@")[0].casefold()


def gate_routers(dispatcher: Any) -> int:
    """Offer a button press or a message only to the routers that have a handler for it.

    aiogram offers each update to every router in turn, and each runs its middlewares and
    checks each of its handlers' filters until one matches: with 37 routers and about a hundred
    handlers per kind, a py-spy profile of scripts/bench_surveys.py found a fifth of Birge's time
    per answer spent there. A router whose every button handler names its button class
    (Birge's rule) cannot take a press with another prefix; one whose every message handler
    needs a command or a conversation state cannot take a message that is neither. Such a
    router is skipped at once for those updates; a router with a handler that could take
    anything is always asked. Returns how many (router, kind of update) pairs are gated."""
    from aiogram.dispatcher.event.bases import UNHANDLED

    gated = 0
    for router in dispatcher.sub_routers:
        prefixes = button_prefixes(router)
        keys = message_keys(router)
        if prefixes is None and keys is None:
            continue
        gated += (prefixes is not None) + (keys is not None)
        propagate = router.propagate_event

        async def gate(update_type: str, event: Any, *,
                       _prefixes: frozenset[str] | None = prefixes,
                       _keys: tuple[frozenset[str], frozenset[str | None]] | None = keys,
                       _propagate: Any = propagate, **kwargs: Any) -> Any:
            if update_type == "callback_query" and _prefixes is not None:
                data = getattr(event, "data", None) or ""
                if data.split(":", 1)[0] not in _prefixes:
                    return UNHANDLED
            elif update_type == "message" and _keys is not None:
                if _command(event) not in _keys[0] and kwargs.get("raw_state") not in _keys[1]:
                    return UNHANDLED
            return await _propagate(update_type=update_type, event=event, **kwargs)

        router.propagate_event = gate
    return gated


LAZY = import_lazily()
keep_response_models()
