"""Configuration from the environment and `.env`, validated once at start-up.

A missing or malformed value must stop the program with one line naming the variable, so
`load_settings` turns pydantic's validation error into `ConfigError` with that line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES = ("ky", "ru", "en")
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{2,}$")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: str | None = None
    database_url: str = "sqlite+aiosqlite:///./data/birge.db"
    telegram_api_url: str = "https://api.telegram.org"
    timezone: str = "Asia/Bishkek"
    log_level: str = "INFO"
    default_language: str = "ky"
    webhook_url: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    # Delivery engine limits (Telegram: ~30 msg/s overall, 1 msg/s per chat).
    send_rate_per_second: float = 30.0
    send_rate_per_chat_per_second: float = 1.0
    send_rate_per_group_per_minute: float = 20.0
    outbox_poll_seconds: float = 1.0
    # Several replicas: a replica's claim on the outbox rows it is sending lasts this long unless
    # renewed; rows of a replica that died are sent by another once their claim expires.
    outbox_claim_seconds: float = Field(default=30.0, ge=2.0, le=600.0)
    # Each update is logged before Telegram is told it arrived; the process handling it claims
    # it this long (renewed while it works). An update a crash cut short is handled again by
    # the next start (SQLite: at once) or by any replica once the claim runs out.
    update_claim_seconds: float = Field(default=30.0, ge=1.0, le=600.0)
    # PostgreSQL connections per replica: the pool keeps DATABASE_POOL_SIZE open and opens up to
    # DATABASE_MAX_OVERFLOW more under load; conversations' locks take DATABASE_POOL_SIZE more
    # (README, "Running past one machine").
    database_pool_size: int = Field(default=5, ge=1, le=200)
    database_max_overflow: int = Field(default=5, ge=0, le=200)
    # A supergroup with topics where the bot is an admin: each topic group gets a thread there.
    forum_chat_id: int | None = None
    # A practice community's own forum chat (only its members sit there): "heads=-1001,
    # finance=-1002". A community's group is mirrored only there, never to FORUM_CHAT_ID.
    forum_chat_ids: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    # A deleted member's legal cases are kept this long, then erased by a scheduled job.
    legal_retention_days: int = Field(default=3 * 365, ge=1, le=36500)
    # Pruning (bot/jobs/pruning.py, daily): finished outbox rows, finished conversation states and
    # audit rows older than these ages are deleted, PRUNE_BATCH_SIZE rows per transaction.
    prune_outbox_days: int = Field(default=90, ge=1, le=36500)
    prune_conversation_days: int = Field(default=30, ge=1, le=36500)
    prune_audit_days: int = Field(default=365, ge=1, le=36500)
    prune_update_days: int = Field(default=2, ge=1, le=36500)
    prune_batch_size: int = Field(default=5000, ge=100, le=100000)
    # "Write to them" in /people: how many new people a member may write to in a day.
    people_new_per_day: int = Field(default=10, ge=1, le=1000)
    # An unanswered question reminds its group's moderators, then Union staff.
    question_remind_hours: float = 24.0
    question_escalate_hours: float = 72.0
    # Legal help desk: a lawyer's first response is due this many hours after a request; the
    # assignee is reminded this many hours before, Union staff are told after.
    legal_first_response_hours: int = 48
    legal_reminder_before_hours: int = 8
    legal_document_max_mb: int = 20
    # Quiet hours (local time): non-urgent notifications wait from START until END. Equal values
    # switch quiet hours off for everyone.
    quiet_hours_start: int = Field(default=21, ge=0, le=23)
    quiet_hours_end: int = Field(default=8, ge=0, le=23)
    # How often the digest job looks for members whose chosen time has come.
    digest_check_minutes: int = Field(default=10, ge=1, le=60)
    # The morning summary of waiting work for moderators (local hour), and how old an
    # unanswered question must be to count as waiting.
    queues_hour: int = Field(default=8, ge=0, le=23)
    queue_waiting_hours: int = Field(default=24, ge=1, le=720)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not _TOKEN_RE.match(value):
            raise ValueError("expected the form 123456789:ABC... given by @BotFather")
        return value

    @field_validator("forum_chat_ids", mode="before")
    @classmethod
    def _forum_chat_ids(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        found: dict[str, int] = {}
        for part in str(value or "").replace(";", ",").split(","):
            if not part.strip():
                continue
            code, sep, chat = part.partition("=")
            if not sep or not code.strip() or not re.fullmatch(r"-?\d+", chat.strip()):
                raise ValueError("expected community=chat_id pairs, e.g. heads=-1001,finance=-1002")
            found[code.strip()] = int(chat.strip())
        return found

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://", value):
            raise ValueError("expected sqlite+aiosqlite:///path or postgresql+asyncpg://...")
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None if value is None or value == "" else value
        assert value is not None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone; expected e.g. Asia/Bishkek") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError("expected ky, ru or en")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise `ConfigError` with one line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        reason = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {reason}") from None


def require_token(settings: Settings) -> str:
    if not settings.bot_token:
        raise ConfigError(
            "BOT_TOKEN: not set; get one from @BotFather and put BOT_TOKEN=... in .env"
        )
    return settings.bot_token
