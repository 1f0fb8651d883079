"""Fault injection: ``/control/fail`` makes the next calls fail with an HTTP status, a 429
with ``retry_after``, or a held request that times out ("timeout"), optionally only for
some methods and only for calls to one chat (``chat_id``). ``getUpdates`` is only failed when
listed.
"""

from __future__ import annotations

import time

from bot.sandbox.emulator.protocol import (
    HTTP_REASONS,
    JSON,
    ApiError,
    ControlError,
    HeldError,
    Params,
)
from bot.sandbox.emulator.state import EmulatorState, FailRule


class FaultInjection(EmulatorState):
    """Failure rules, checked by ``core`` before each Bot API call while any are pending."""

    def control_fail(self, body: JSON) -> JSON:
        count = int(body.get("count", 1))
        kind = str(body.get("kind", "500"))
        methods = body.get("methods")
        if kind == "timeout":
            code = 0
        else:
            try:
                code = int(kind)
            except ValueError:
                raise ControlError(
                    400, "kind must be '429', '500', 'timeout' or an HTTP code"
                ) from None
        rule = FailRule(
            code=code,
            remaining=count,
            retry_after=max(1, int(body.get("retry_after") or 1)),
            methods=frozenset(str(m).lower() for m in methods) if methods else None,
            hold_seconds=float(body.get("hold_seconds") or self.hold_seconds),
            description=body.get("description"),
            chat_id=int(body["chat_id"]) if body.get("chat_id") is not None else None,
        )
        if count > 0:
            self._fail_rules.append(rule)
        return {"pending_rules": len(self._fail_rules)}

    async def _maybe_fail(self, lname: str, method: str, params: Params) -> None:
        for rule in self._fail_rules:
            if rule.methods is None:
                if lname == "getupdates":
                    continue
            elif lname not in rule.methods:
                continue
            if rule.chat_id is not None and params.integer("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._fail_rules.remove(rule)
            self._counters["injected_failures"] += 1
            if rule.code == 0:
                self._log_call(method, params, 0, "held (injected timeout)")
                deadline = time.monotonic() + rule.hold_seconds
                while not self._closing and (left := deadline - time.monotonic()) > 0:
                    await self._shutdown_signal.wait(left)
                raise HeldError(504, rule.description or "Gateway Timeout")
            if rule.code == 429:
                raise ApiError(
                    429,
                    rule.description or f"Too Many Requests: retry after {rule.retry_after}",
                    retry_after=rule.retry_after,
                )
            raise ApiError(rule.code, rule.description or HTTP_REASONS.get(rule.code, "Error"))
