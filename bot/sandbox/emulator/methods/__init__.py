"""The Bot API methods, one module per area; each registers its methods in ``registry``.

Importing this package imports every module in it, so a new area (``polls.py``) needs no
other change: write the function, decorate it with ``@bot_method("sendPoll")``, add its test.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
