"""What apprise logs while it pushes, kept for the push that logged it: why a push failed.

apprise's plugins log a failed request as a warning that is the same for a refused connection
and a timeout ("A Connection error occurred ..."); the exception itself ("Socket Exception:
... Read timed out. (read timeout=4.0)") only at DEBUG, which the "apprise" logger (at the
root's WARNING unless set otherwise) never lets be made. `plugin_logger`, given to each
plugin, makes every record, keeps it for the push running in that thread (`kept_log`), and
passes it on only where the "apprise" logger would have taken it: the DEBUG lines hold URLs
with their tokens.

    plugin.logger = plugin_logger()
    with kept_log() as records:
        apprise_object.notify(...)       # records: what its plugins logged, DEBUG included
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

APPRISE_LOGGER = "apprise"
PLUGIN_LOGGER = "apprise.miserymeter"

_kept: ContextVar[list[logging.LogRecord] | None] = ContextVar(
    "miserymeter_apprise_log", default=None
)


def plugin_logger() -> logging.Logger:
    """The logger for an apprise plugin whose messages `kept_log` keeps."""
    logger = logging.getLogger(PLUGIN_LOGGER)
    if _keep not in logger.filters:
        logger.addFilter(_keep)
        logger.setLevel(logging.DEBUG)
    return logger


@contextmanager
def kept_log() -> Iterator[list[logging.LogRecord]]:
    """The records the plugins log meanwhile, in this thread (and apprise's workers for it)."""
    kept: list[logging.LogRecord] = []
    token = _kept.set(kept)
    try:
        yield kept
    finally:
        _kept.reset(token)


def _keep(record: logging.LogRecord) -> bool:
    kept = _kept.get()
    if kept is not None:
        kept.append(record)
    return logging.getLogger(APPRISE_LOGGER).isEnabledFor(record.levelno)
