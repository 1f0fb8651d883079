"""Real Birge replicas (separate processes, webhook mode) on one PostgreSQL database, behind the
emulator spreading its webhook deliveries over them (a load balancer's stand-in)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from storage.local_postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
MAIN = Path(__file__).with_name("replica_main.py")
TOKEN = "123456:REPLICAS"
SECRET = "replica-secret"
PUBLIC_URL = "https://birge.example.org"  # what Telegram is told; the emulator spreads it


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Cluster:
    db_url: str
    api_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)

    def environment(self, port: int) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.upper().startswith(("BOT_", "DATABASE_", "WEBHOOK_", "SEND_RATE",
                                             "OUTBOX_", "QUIET_", "TELEGRAM_"))}
        return {
            **keep, "PYTHONPATH": str(ROOT), "BOT_TOKEN": TOKEN, "DATABASE_URL": self.db_url,
            "TELEGRAM_API_URL": self.api_url, "WEBHOOK_URL": PUBLIC_URL,
            "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port), "WEBHOOK_SECRET": SECRET,
            "LOG_LEVEL": "WARNING", "OUTBOX_POLL_SECONDS": "0.2", "QUIET_HOURS_START": "0",
            "QUIET_HOURS_END": "0", "SEND_RATE_PER_SECOND": "1000",
            "SEND_RATE_PER_CHAT_PER_SECOND": "100", "OUTBOX_CLAIM_SECONDS": "3",
            "DATABASE_POOL_SIZE": "5", "DATABASE_MAX_OVERFLOW": "5", **self.env,
        }

    def start(self, *args: str, port: int | None = None) -> Replica:
        port = port or free_port()
        log = self.workdir / f"replica-{port}-{len(self.replicas)}.log"
        process = subprocess.Popen(
            [sys.executable, str(MAIN), *(args or ("run", "--no-migrate"))],
            cwd=self.workdir, env=self.environment(port), stdout=subprocess.DEVNULL,
            stderr=log.open("ab"))
        replica = Replica(port, process, log)
        self.replicas.append(replica)
        return replica

    async def ready(self, *replicas: Replica, timeout: float = 60.0) -> None:
        """Wait until each replica answers on its webhook port."""
        async with aiohttp.ClientSession() as http:
            for replica in replicas:
                for _ in range(int(timeout / 0.1)):
                    if not replica.alive():
                        raise AssertionError(f"replica exited: {replica.log.read_text()[-2000:]}")
                    try:
                        async with http.post(replica.url, json={}) as response:
                            if response.status in (200, 401, 403):
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError(f"replica on {replica.port} did not start")

    def backends(self) -> list[str]:
        return [r.url for r in self.replicas if r.alive()]

    def stop_all(self) -> None:
        for replica in self.replicas:
            if replica.alive():
                replica.terminate()
        for replica in self.replicas:
            try:
                replica.wait(30)
            except subprocess.TimeoutExpired:
                replica.kill()
