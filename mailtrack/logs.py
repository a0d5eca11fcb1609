"""Logging setup: human-readable lines, or JSON lines for log collectors.

JSON lines (``--log-format json`` or ``[logging] format = "json"``) carry one
object per event: ``time`` (UTC, ISO 8601 with milliseconds), ``level``,
``logger``, ``message``, ``worker`` (the process's worker name, which also
holds its host and pid) and, with ``--debug``, ``traceback``. journald,
Loki, Elastic and friends index them without a parsing rule. Messages are
the same as in text form: never a mail body, a token or a secret.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from mailtrack.cluster.identity import worker_name

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "worker": worker_name(),
        }
        if record.exc_info and self.tracebacks:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = f"{type(error).__name__}: {error}"
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str | int, log_format: str = "text", stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` or above to ``stream`` (stderr) in ``log_format``.

    Replaces whatever handlers the root logger had, so it may be called again
    once the configuration file says more than the command line did.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(tracebacks=level in ("DEBUG", logging.DEBUG)))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
