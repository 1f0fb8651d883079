"""Every scheduled job Birge has: importing this package registers them (`bot.scheduler`).

Each feature declares its jobs with `@scheduled` in its own module; list the module here.
"""

from bot.jobs import (
    digests,  # noqa: F401
    legal,  # noqa: F401
    privacy,  # noqa: F401
    questions,  # noqa: F401
)
