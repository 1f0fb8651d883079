"""Sending what services put in the outbox: rendering per recipient, then rate-limited delivery.

- `render`: the table of renderers (notification kind -> function) and what one returns. It imports
  no feature, so every feature's renderer module can import it.
- `<feature>_notices`: a feature's renderers. A feature registers itself by decorating each
  renderer with `@renderer("kind")` and listing its module below; importing this package (as the
  worker does) registers them all. tests/test_layout.py fails when a `*notices.py` module is
  missing from the list.
- `attachments`: the one way a stored attachment (document or photo) is sent.
- `limits`: the bot's send gate (Telegram's rates); `worker`: the outbox worker.
"""

from bot.delivery import (
    broadcast_notices,  # noqa: F401
    digest_notices,  # noqa: F401
    event_notices,  # noqa: F401
    issue_notices,  # noqa: F401
    legal_notices,  # noqa: F401
    library_notices,  # noqa: F401
    notices,  # noqa: F401
    people_notices,  # noqa: F401
    question_notices,  # noqa: F401
    survey_notices,  # noqa: F401
    vertical_notices,  # noqa: F401
)
