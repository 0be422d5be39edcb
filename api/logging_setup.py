"""Log records of the review service carry the request id; `studio.*` loggers print it.

`request_id_var` is set by api/middleware/request_context.py for the time a request runs; a record
made outside a request has `-`. The record factory adds the attribute to every record of the
process, so any formatter may use `%(request_id)s`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_installed = False


class DropQueryString(logging.Filter):
    """uvicorn's access line carries the path with its query string, where a token may be: cut it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def install_request_id_logging() -> None:
    """Idempotent: the record factory once per process, a handler on `studio` if nothing logs yet."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    logging.setLogRecordFactory(factory)
    # A logger's filters survive uvicorn's logging set-up (it replaces handlers, not filters).
    logging.getLogger("uvicorn.access").addFilter(DropQueryString())
    studio = logging.getLogger("studio")
    # Where logging is configured already (a test runner, a host's config) that configuration rules.
    if not studio.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        studio.addHandler(handler)
        studio.setLevel(logging.INFO)
