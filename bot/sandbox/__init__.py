"""Sandbox: a Telegram Bot API emulator and a client to drive it, for tests and benchmarks."""
