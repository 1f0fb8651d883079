"""Sending what services put in the outbox: rendering per recipient, then rate-limited delivery."""
