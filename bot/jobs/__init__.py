"""Every scheduled job Birge has: importing this package registers them (`bot.scheduler` does).

Each feature declares its jobs with `@scheduled` (from `bot.jobs.registry`, never from
`bot.scheduler`) in its own module; list the module here.
"""

from bot.jobs import (
    digests,  # noqa: F401
    events,  # noqa: F401
    legal,  # noqa: F401
    positions,  # noqa: F401
    privacy,  # noqa: F401
    pruning,  # noqa: F401
    questions,  # noqa: F401
    surveys,  # noqa: F401
)
